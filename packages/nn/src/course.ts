/**
 * @file The course's one-hidden-layer network ("Gradient Descent for Neural Networks"), column layout:
 * X is (n0, m) — one example per column — W1 (n1, n0), b1 (n1, 1), W2 (n2, n1), b2 (n2, 1).
 *
 * Gradients are computed twice: `backwardPropagation` writes the six backward equations by hand with the
 * course's names, `autogradBackward` lets the tape differentiate the cost. `checkBackprop` compares them.
 */
import {
  add,
  addmm,
  detectAnomaly,
  div,
  enableGrad,
  formatShape,
  greater,
  log,
  matmul,
  mul,
  neg,
  noGrad,
  pairwiseSum,
  RandomState,
  relu,
  sigmoid,
  sigmoidCrossEntropy,
  sigmoidGrad,
  square,
  sub,
  sum,
  Tensor,
  tanh,
  tanhGrad,
  where,
  zeros,
} from "@tapegrad/autograd";
import { checkFinite, checkMatrix, checkParams, checkXY, PARAM_NAMES } from "./validate.js";

/** The hidden-layer activation g: the course uses tanh. */
export type Activation = "tanh" | "relu" | "sigmoid" | "leakyRelu";

/** The negative slope of the `"leakyRelu"` activation: g(z) = z for z > 0, 0.01·z otherwise. */
export const LEAKY_RELU_SLOPE = 0.01;

/** The parameters of the network, in the course's shapes: W1 (nH, nX), b1 (nH, 1), W2 (nY, nH), b2 (nY, 1). */
export interface Params {
  W1: Tensor;
  b1: Tensor;
  W2: Tensor;
  b2: Tensor;
}

/**
 * What forward propagation keeps for the backward pass, each (units, m). `activation` records which g made
 * A1 from Z1, so that `backwardPropagation` uses the matching g′ (optional: a hand-built cache means tanh).
 */
export interface Cache {
  Z1: Tensor;
  A1: Tensor;
  Z2: Tensor;
  A2: Tensor;
  activation?: Activation;
}

/**
 * The gradients, named as in the course. dW1, db1, dW2, db2 are ∂J/∂θ (shaped like θ); dZ2 and dZ1 follow
 * the course's convention dZ = m·∂J/∂Z (so dZ2 = A2 − Y although J carries a 1/m), each (units, m).
 */
export interface Grads {
  dZ2: Tensor;
  dW2: Tensor;
  db2: Tensor;
  dZ1: Tensor;
  dW1: Tensor;
  db1: Tensor;
}

/** The four parameter gradients of `Grads` (what `updateParameters` reads): dW1, db1, dW2, db2. */
export type ParamGrads = Pick<Grads, "dW1" | "db1" | "dW2" | "db2">;

/** Options naming the hidden activation. */
export interface ActivationOptions {
  /** The hidden activation g; default `"tanh"` (the course). */
  activation?: Activation;
}

/** One hidden activation of the course network, as `activations` lists them. */
export interface ActivationRule {
  /** g, with tape ops (differentiable). */
  g: (Z: Tensor) => Tensor;
  /** g′(Z1), written by hand from Z1 and A1 = g(Z1). */
  gPrime: (Z1: Tensor, A1: Tensor) => Tensor;
  /**
   * dA ⊙ g′(Z1): equation (4)'s product. For tanh and sigmoid it is one fused pass (`tanhGrad`,
   * `sigmoidGrad`) that rounds exactly as `mul(dA, gPrime(Z1, A1))`, with two passes and two
   * allocations less; for the others it is that product.
   */
  chain: (dA: Tensor, Z1: Tensor, A1: Tensor) => Tensor;
}

/** An activation without a fused backward: its `chain` is the product dA ⊙ g′ as written. */
function unfused(g: ActivationRule["g"], gPrime: ActivationRule["gPrime"]): ActivationRule {
  return { g, gPrime, chain: (dA, Z1, A1) => mul(dA, gPrime(Z1, A1)) };
}

/**
 * Each hidden activation: g with tape ops (differentiable), g′ written by hand from Z1 and A1 = g(Z1)
 * for the manual backward pass, and dA ⊙ g′ (fused where it can be).
 */
export const activations: Record<Activation, ActivationRule> = {
  // tanh′(z) = 1 − tanh²(z) = 1 − A1², exactly the course's `1 - np.power(A1, 2)`
  tanh: { g: tanh, gPrime: (_Z1, A1) => sub(1, square(A1)), chain: (dA, _Z1, A1) => tanhGrad(dA, A1) },
  // σ′(z) = σ(z)(1 − σ(z)) = A1 ⊙ (1 − A1)
  sigmoid: {
    g: sigmoid,
    gPrime: (_Z1, A1) => mul(A1, sub(1, A1)),
    chain: (dA, _Z1, A1) => sigmoidGrad(dA, A1),
  },
  // relu′(z) = [z > 0]; 0 at z = 0, as the tape's relu rule
  relu: unfused(relu, (Z1) => greater(Z1, 0)),
  // leakyRelu′(z) = 1 for z > 0, else the slope (the tape's `where` sends z = 0 to the slope branch too)
  leakyRelu: unfused(
    (Z) => where(greater(Z, 0), Z, mul(Z, LEAKY_RELU_SLOPE)),
    (Z1) => where(greater(Z1, 0), 1, LEAKY_RELU_SLOPE),
  ),
};

/** Throw unless `activation` is one of the four names. */
export function checkActivation(fn: string, activation: unknown): Activation {
  if (typeof activation === "string" && Object.hasOwn(activations, activation)) {
    return activation as Activation;
  }
  throw new Error(
    `${fn}: unknown activation ${JSON.stringify(activation)}; expected one of ${Object.keys(activations)
      .map((a) => `"${a}"`)
      .join(", ")}`,
  );
}

// ---------------------------------------------------------------- sizes and initialisation

/**
 * The layer sizes of the course: nX = rows of X, nH = 4 (fixed, as in the course), nY = rows of Y.
 * @param X (nX, m) features, one example per column. @param Y (nY, m) labels.
 * @throws Error if X or Y is not a matrix or they have different numbers of columns.
 */
export function layerSizes(X: Tensor, Y: Tensor): { nX: number; nH: 4; nY: number } {
  checkMatrix("layerSizes", "X", X, " (features × examples)");
  checkMatrix("layerSizes", "Y", Y, " (outputs × examples)");
  if (X.shape[1] !== Y.shape[1]) {
    throw new Error(
      `layerSizes: X has ${X.shape[1]} columns (examples) but Y has ${Y.shape[1]}; expected Y of shape [${Y.shape[0]}, ${X.shape[1]}]`,
    );
  }
  return { nX: X.shape[0]!, nH: 4, nY: Y.shape[0]! };
}

function checkSize(fn: string, name: string, n: unknown): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
    throw new Error(`${fn}: ${name} must be a positive integer, got ${String(n)}`);
  }
  return n;
}

/**
 * The course's `initialize_parameters`: W = randn·0.01 (small, to break symmetry and keep tanh out of its
 * flat tails), b = 0, drawn in numpy's order from `np.random.seed(seed)`: W1 = randn(nH, nX)·0.01, then
 * W2 = randn(nY, nH)·0.01. With the default seed 2 and sizes 2-4-1 this reproduces the course's printout.
 * @returns W1 (nH, nX), b1 (nH, 1), W2 (nY, nH), b2 (nY, 1).
 * @throws Error if a size is not a positive integer.
 */
export function initializeParameters(
  nX: number,
  nH: number,
  nY: number,
  options: { seed?: number } = {},
): Params {
  checkSize("initializeParameters", "nX", nX);
  checkSize("initializeParameters", "nH", nH);
  checkSize("initializeParameters", "nY", nY);
  const rng = new RandomState(options.seed ?? 2);
  return noGrad(() => {
    const W1 = mul(rng.randn(nH, nX), 0.01);
    const W2 = mul(rng.randn(nY, nH), 0.01);
    return { W1, b1: zeros([nH, 1]), W2, b2: zeros([nY, 1]) };
  });
}

// ---------------------------------------------------------------- forward and cost

/** Forward pass, unchecked: Z1 = W1·X + b1, A1 = g(Z1), Z2 = W2·A1 + b2, A2 = σ(Z2). */
function forward(X: Tensor, params: Params, activation: Activation): Cache {
  // addmm(b, W, A) = W·A + b in one op (the bias added in the product's output, same rounding as numpy's
  // np.dot(W, A) + b, one pass and one allocation less)
  const Z1 = addmm(params.b1, params.W1, X);
  const A1 = activations[activation].g(Z1);
  const Z2 = addmm(params.b2, params.W2, A1);
  const A2 = sigmoid(Z2);
  return { Z1, A1, Z2, A2, activation };
}

/**
 * The course's `forward_propagation`, column layout:
 * Z1 = W1·X + b1, A1 = g(Z1), Z2 = W2·A1 + b2, A2 = σ(Z2).
 * Records on the tape when a parameter requires grad (and grad mode is on).
 * @param X (nX, m), finite. @param params W1 (nH, nX), b1 (nH, 1), W2 (nY, nH), b2 (nY, 1).
 * @returns A2 (nY, m) and the cache { Z1, A1, Z2, A2, activation }.
 * @throws Error naming the shapes when a parameter does not fit X, a key is missing, or X has NaN/Infinity.
 */
export function forwardPropagation(
  X: Tensor,
  params: Params,
  options: ActivationOptions = {},
): { A2: Tensor; cache: Cache } {
  const cache = checkedForward("forwardPropagation", X, params, options);
  return { A2: cache.A2, cache };
}

/** The forward pass with its input checked, errors naming `fn` (forwardPropagation, predict, TwoLayerNet). */
export function checkedForward(
  fn: string,
  X: Tensor,
  params: Params,
  options: ActivationOptions = {},
): Cache {
  const activation = checkActivation(fn, options.activation ?? "tanh");
  checkMatrix(fn, "X", X, " (features × examples)");
  checkFinite(fn, "X", X);
  checkParams(fn, params, X.shape[0]);
  return forward(X, params, activation);
}

/** Scratch for the cost's elementwise terms (reused: `cost` is synchronous and keeps no reference). */
let logprobs = new Float64Array(0);

/**
 * One term of the course's cost, `log(a)·y + log(1 − a)·(1 − y)`, to the last bit and NaN for NaN, with one
 * logarithm instead of two when y is a label. For y = 1 the second product is ±0 — which leaves log(a)
 * unchanged — unless log(1 − a) is not finite, i.e. unless a ≥ 1 or a is NaN, where the course's
 * expression is NaN (−∞·0); symmetrically for y = 0 with a ≤ 0. Any other y takes the formula as written.
 */
export function costTerm(a: number, y: number): number {
  if (y === 1) return a < 1 ? Math.log(a) : Number.NaN;
  if (y === 0) return a > 0 && a < Number.POSITIVE_INFINITY ? Math.log(1 - a) : Number.NaN;
  // np.multiply(np.log(A2), Y) + np.multiply(np.log(1 - A2), 1 - Y); no guard on log(0), as the course
  return Math.log(a) * y + Math.log(1 - a) * (1 - y);
}

/** The cross-entropy cost, unchecked, in the course's exact order of operations (numpy's pairwise sum). */
function cost(A2: Float64Array, Y: Float64Array, m: number): number {
  const n = A2.length;
  if (logprobs.length < n) logprobs = new Float64Array(n);
  for (let k = 0; k < n; k++) logprobs[k] = costTerm(A2[k]!, Y[k]!);
  return -pairwiseSum(logprobs, 0, n) / m;
}

/**
 * The course's `compute_cost`: J = −(1/m) Σ [Y log A2 + (1 − Y) log(1 − A2)], computed exactly as the course's
 * numpy code — elementwise `log(A2)·Y + log(1 − A2)·(1 − Y)`, numpy's pairwise sum, then `−sum / m` — so
 * the numbers match numpy's to the last bits. Like the course it does not guard log(0): a saturated A2
 * gives Infinity or NaN.
 * @param A2 (nY, m) probabilities. @param Y (nY, m) labels 0/1.
 * @throws Error if the shapes differ or Y is not 0/1.
 */
export function computeCost(A2: Tensor, Y: Tensor): number {
  checkMatrix("computeCost", "A2", A2, " (outputs × examples)");
  checkMatrix("computeCost", "Y", Y, " (outputs × examples)");
  if (A2.shape[0] !== Y.shape[0] || A2.shape[1] !== Y.shape[1]) {
    throw new Error(
      `computeCost: A2 has shape ${formatShape(A2.shape)} but Y has shape ${formatShape(Y.shape)}; expected the same shape (outputs × examples)`,
    );
  }
  checkXY("computeCost", A2, Y);
  return cost(A2.data, Y.data, Y.shape[1]!);
}

/** The same cost with tape ops (differentiable; checked by anomaly mode): −Σ(Y log A2 + (1−Y) log(1−A2)) / m. */
export function costTensor(A2: Tensor, Y: Tensor): Tensor {
  const logprobs = add(mul(log(A2), Y), mul(log(sub(1, A2)), sub(1, Y)));
  return div(neg(sum(logprobs)), Y.shape[1]!);
}

// ---------------------------------------------------------------- the six backward equations

/** The six equations, unchecked and untaped. */
function backward(params: Params, cache: Cache, X: Tensor, Y: Tensor, activation: Activation): Grads {
  const m = X.shape[1]!;
  const { W2 } = params;
  const { Z1, A1, A2 } = cache;
  const dZ2 = sub(A2, Y); // (1) dZ2 = A2 − Y
  const dW2 = mul(1 / m, matmul(dZ2, A1, { transposeB: true })); // (2) dW2 = (1/m) dZ2·A1ᵀ
  const db2 = mul(1 / m, sum(dZ2, 1, true)); // (3) db2 = (1/m) Σ dZ2 over examples
  const dZ1 = activations[activation].chain(matmul(W2, dZ2, { transposeA: true }), Z1, A1); // (4) dZ1 = W2ᵀdZ2 ⊙ g′(Z1)
  const dW1 = mul(1 / m, matmul(dZ1, X, { transposeB: true })); // (5) dW1 = (1/m) dZ1·Xᵀ
  const db1 = mul(1 / m, sum(dZ1, 1, true)); // (6) db1 = (1/m) Σ dZ1 over examples
  return { dZ2, dW2, db2, dZ1, dW1, db1 };
}

function checkCache(fn: string, cache: unknown, params: Params, m: number): asserts cache is Cache {
  if (cache === null || typeof cache !== "object") {
    throw new Error(`${fn}: cache must be the object { Z1, A1, Z2, A2 } returned by forwardPropagation`);
  }
  const c = cache as Record<string, unknown>;
  const nH = params.W1.shape[0]!;
  const nY = params.W2.shape[0]!;
  for (const [key, rows] of [
    ["Z1", nH],
    ["A1", nH],
    ["Z2", nY],
    ["A2", nY],
  ] as const) {
    if (c[key] === undefined) {
      throw new Error(`${fn}: cache is missing ${key} (expected { Z1, A1, Z2, A2 } from forwardPropagation)`);
    }
    checkMatrix(fn, `cache.${key}`, c[key]);
    const t = c[key] as Tensor;
    if (t.shape[0] !== rows || t.shape[1] !== m) {
      throw new Error(
        `${fn}: cache.${key} has shape ${formatShape(t.shape)}, expected [${rows}, ${m}] (units × examples, from these parameters and X)`,
      );
    }
  }
}

/**
 * The course's `backward_propagation`: the six equations written by hand, with the course's names.
 * ```
 * dZ2 = A2 − Y                 dW2 = (1/m) dZ2·A1ᵀ     db2 = (1/m) Σ dZ2 (over examples, keepdims)
 * dZ1 = W2ᵀdZ2 ⊙ g′(Z1)        dW1 = (1/m) dZ1·Xᵀ      db1 = (1/m) Σ dZ1 (keepdims)
 * ```
 * Runs under `noGrad` (no tape). g′ matches the activation: `options.activation`, else the one recorded in
 * the cache by forwardPropagation, else tanh.
 * @returns dZ2 (nY, m), dW2 (nY, nH), db2 (nY, 1), dZ1 (nH, m), dW1 (nH, nX), db1 (nH, 1).
 * @throws Error naming the shapes when params, cache, X and Y do not fit together, or Y is not 0/1.
 */
export function backwardPropagation(
  params: Params,
  cache: Cache,
  X: Tensor,
  Y: Tensor,
  options: ActivationOptions = {},
): Grads {
  const fn = "backwardPropagation";
  const m = checkXY(fn, X, Y);
  checkParams(fn, params, X.shape[0], Y.shape[0]);
  checkCache(fn, cache, params, m);
  const activation = checkActivation(fn, options.activation ?? cache.activation ?? "tanh");
  return noGrad(() => backward(params, cache, X, Y, activation));
}

/**
 * d J/d everything by the tape, unchecked; also returns the forward pass it differentiated. J is the same
 * cross-entropy, recorded as one fused op on the logits, −Σ sigmoidCrossEntropy(Z2, Y) / m, whose rule is
 * σ(Z2) − Y: one node instead of the eight of the course's log formula (`costTensor`), and finite for any
 * logits. `courseFormula` records the course's formula instead (anomaly mode uses it to name the op that
 * makes a NaN, as the course's own code would).
 */
function tapeBackward(
  params: Params,
  X: Tensor,
  Y: Tensor,
  activation: Activation,
  courseFormula = false,
): Grads & { A2: Tensor } {
  const m = X.shape[1]!;
  return enableGrad(() => {
    const leaves = {} as Params;
    for (const key of PARAM_NAMES) leaves[key] = new Tensor(params[key].data, params[key].shape, true);
    const { Z1, Z2, A2 } = forward(X, leaves, activation);
    Z1.retainGrad();
    Z2.retainGrad();
    const J = courseFormula ? costTensor(A2, Y) : div(sum(sigmoidCrossEntropy(Z2, Y)), m);
    J.backward();
    // The tape gives ∂J/∂Z; the course's dZ is m·∂J/∂Z (its dZ2 = A2 − Y has no 1/m).
    return noGrad(() => ({
      dZ2: mul(Z2.grad!, m),
      dW2: leaves.W2.grad!,
      db2: leaves.b2.grad!,
      dZ1: mul(Z1.grad!, m),
      dW1: leaves.W1.grad!,
      db1: leaves.b1.grad!,
      A2: A2.detach(),
    }));
  });
}

/**
 * The same gradients as `backwardPropagation`, by the tape: runs the forward pass and the cost J with
 * recorded ops on fresh leaf copies of the parameters and calls `backward()`. dW/db are the leaves'
 * gradients; dZ2, dZ1 are m·∂J/∂Z (retained gradients of Z2, Z1) to follow the course's convention.
 * @throws Error as forwardPropagation, or if Y is not 0/1 or has a different number of columns than X.
 */
export function autogradBackward(
  params: Params,
  X: Tensor,
  Y: Tensor,
  options: ActivationOptions = {},
): Grads {
  const fn = "autogradBackward";
  const activation = checkActivation(fn, options.activation ?? "tanh");
  checkXY(fn, X, Y);
  checkParams(fn, params, X.shape[0], Y.shape[0]);
  const { A2: _, ...grads } = tapeBackward(params, X, Y, activation);
  return grads;
}

// ---------------------------------------------------------------- update, training, prediction

function update(params: Params, grads: ParamGrads, learningRate: number): Params {
  // θ ← θ − α·dθ (the notes print α·θ: a typo)
  return {
    W1: sub(params.W1, mul(learningRate, grads.dW1)),
    b1: sub(params.b1, mul(learningRate, grads.db1)),
    W2: sub(params.W2, mul(learningRate, grads.dW2)),
    b2: sub(params.b2, mul(learningRate, grads.db2)),
  };
}

/**
 * The course's `update_parameters`: θ ← θ − α·dθ for each of W1, b1, W2, b2 (new tensors; the inputs are
 * not modified). Untaped. Reads only dW1, db1, dW2, db2, so `Grads` or gradients from `valueAndGrad` do.
 * @throws Error if a key is missing, a gradient's shape differs from its parameter's, or α is not finite.
 */
export function updateParameters(params: Params, grads: ParamGrads, learningRate = 1.2): Params {
  const fn = "updateParameters";
  checkParams(fn, params);
  if (typeof learningRate !== "number" || !Number.isFinite(learningRate)) {
    throw new Error(`${fn}: learningRate must be a finite number, got ${String(learningRate)}`);
  }
  for (const key of PARAM_NAMES) {
    const dKey = `d${key}` as keyof ParamGrads;
    const g = grads?.[dKey];
    checkMatrix(fn, `grads.${dKey}`, g);
    const p = params[key];
    if (g.shape[0] !== p.shape[0] || g.shape[1] !== p.shape[1]) {
      throw new Error(
        `${fn}: grads.${dKey} has shape ${formatShape(g.shape)} but ${key} has shape ${formatShape(p.shape)}; expected the same shape`,
      );
    }
  }
  return noGrad(() => update(params, grads, learningRate));
}

/** Options of `nnModel`. */
export interface NnModelOptions extends ActivationOptions {
  /** Gradient steps; default 10 000 (the course). */
  numIterations?: number;
  /** α; default 1.2 (the course). */
  learningRate?: number;
  /** Seed of the initial parameters (`initializeParameters`); default 2 (the course). */
  seed?: number;
  /** Which backward pass computes the gradients: the six equations (default) or the tape. */
  gradients?: "manual" | "autograd";
  /** Called after the cost of iteration i (before its update) is computed. */
  onIteration?: (i: number, cost: number) => void;
  /**
   * When the cost becomes NaN or ±Infinity: `"throw"` (default) stops with an Error naming the iteration
   * and the first op that produced a non-finite value (found by re-running that iteration under
   * `detectAnomaly`); `"warn"` prints that once with `console.warn` and goes on.
   */
  onNonFinite?: "throw" | "warn";
}

/** Re-run one iteration under anomaly mode and describe the first op that made a non-finite value. */
function findAnomaly(
  params: Params,
  X: Tensor,
  Y: Tensor,
  activation: Activation,
  gradients: "manual" | "autograd",
): string {
  try {
    detectAnomaly(() => {
      if (gradients === "autograd") tapeBackward(params, X, Y, activation, true);
      else
        noGrad(() => {
          const cache = forward(X, params, activation);
          costTensor(cache.A2, Y);
          backward(params, cache, X, Y, activation);
        });
    });
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return "re-running the iteration under detectAnomaly found no op with a non-finite output";
}

/**
 * The course's `nn_model`: initialise (seeded), then `numIterations` times forward → cost → backward →
 * update. The manual path runs under `noGrad` with the unchecked kernels (inputs are checked once here).
 * @param X (nX, m) finite features. @param Y (nY, m) labels 0/1. @param nH hidden units.
 * @returns the trained parameters and one cost per iteration (the cost before that iteration's update).
 * @throws Error for bad input, or (onNonFinite "throw") when the cost becomes non-finite.
 */
export function nnModel(
  X: Tensor,
  Y: Tensor,
  nH: number,
  options: NnModelOptions = {},
): { parameters: Params; costs: number[] } {
  const fn = "nnModel";
  const {
    numIterations = 10000,
    learningRate = 1.2,
    seed = 2,
    gradients = "manual",
    onIteration,
    onNonFinite = "throw",
  } = options;
  const activation = checkActivation(fn, options.activation ?? "tanh");
  const m = checkXY(fn, X, Y);
  checkSize(fn, "nH", nH);
  if (!Number.isInteger(numIterations) || numIterations < 0) {
    throw new Error(`${fn}: numIterations must be a non-negative integer, got ${String(numIterations)}`);
  }
  if (typeof learningRate !== "number" || !Number.isFinite(learningRate)) {
    throw new Error(`${fn}: learningRate must be a finite number, got ${String(learningRate)}`);
  }
  if (gradients !== "manual" && gradients !== "autograd") {
    throw new Error(`${fn}: gradients must be "manual" or "autograd", got ${JSON.stringify(gradients)}`);
  }
  if (onNonFinite !== "throw" && onNonFinite !== "warn") {
    throw new Error(`${fn}: onNonFinite must be "throw" or "warn", got ${JSON.stringify(onNonFinite)}`);
  }
  let parameters = initializeParameters(X.shape[0]!, nH, Y.shape[0]!, { seed });
  const costs: number[] = [];
  let warned = false;
  noGrad(() => {
    for (let i = 0; i < numIterations; i++) {
      let grads: Grads;
      let A2: Tensor;
      if (gradients === "manual") {
        const cache = forward(X, parameters, activation);
        A2 = cache.A2;
        grads = backward(parameters, cache, X, Y, activation);
      } else {
        ({ A2, ...grads } = tapeBackward(parameters, X, Y, activation));
      }
      const J = cost(A2.data, Y.data, m);
      costs.push(J);
      onIteration?.(i, J);
      if (!Number.isFinite(J) && !warned) {
        const cause = findAnomaly(parameters, X, Y, activation, gradients);
        const message = `${fn}: the cost became ${J} at iteration ${i} (learning rate ${learningRate}, ${activation}, ${gradients} gradients); first non-finite value: ${cause}`;
        if (onNonFinite === "throw") throw new Error(message);
        console.warn(`${message}\n(onNonFinite: "warn" — training continues; later costs may be NaN)`);
        warned = true;
      }
      parameters = update(parameters, grads, learningRate);
    }
  });
  return { parameters, costs };
}

/**
 * The course's `predict`: 1 where A2 > 0.5, else 0.
 * @param X (nX, m). @returns (nY, m) of 0/1.
 * @throws Error as forwardPropagation.
 */
export function predict(params: Params, X: Tensor, options: ActivationOptions = {}): Tensor {
  return noGrad(() => greater(checkedForward("predict", X, params, options).A2, 0.5));
}

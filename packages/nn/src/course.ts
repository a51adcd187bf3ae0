/**
 * @file The course's one-hidden-layer network ("Gradient Descent for Neural Networks"), column layout:
 * X is (n0, m) — one example per column — W1 (n1, n0), b1 (n1, 1), W2 (n2, n1), b2 (n2, 1).
 *
 * The course's API, each function checking its input once: the equations themselves (forward, the six
 * backward equations, the update) are in six-equations.ts. Gradients are computed twice:
 * `backwardPropagation` runs the six equations written by hand with the course's names, `autogradBackward`
 * lets the tape differentiate the cost. `checkBackprop` compares them.
 */
import {
  add,
  detectAnomaly,
  div,
  enableGrad,
  formatShape,
  greater,
  log,
  mul,
  neg,
  noGrad,
  pairwiseSum,
  RandomState,
  sigmoidCrossEntropy,
  sub,
  sum,
  Tensor,
  zeros,
} from "@tapegrad/autograd";
import { expectFinite, expectInteger, expectNumber, expectOneOf } from "@tapegrad/autograd/validate";
import {
  type Activation,
  activations,
  type Cache,
  forwardEquations,
  type Grads,
  gradientDescentStep,
  type ParamGrads,
  type Params,
  sixEquations,
} from "./six-equations.js";
import { checkMatrix, checkParams, checkXY, PARAM_NAMES } from "./validate.js";

// The course's vocabulary lives in six-equations.ts; its public half is re-exported from here, where the
// course's API (and check-backprop.ts, two-layer-net.ts) import it.
export {
  type Activation,
  type ActivationRule,
  activations,
  type Cache,
  type Grads,
  LEAKY_RELU_SLOPE,
  type ParamGrads,
  type Params,
} from "./six-equations.js";

const ACTIVATION_NAMES = Object.keys(activations) as Activation[];

/** Options naming the hidden activation. */
export interface ActivationOptions {
  /** The hidden activation g; default `"tanh"` (the course). */
  activation?: Activation;
}

/** Throw unless `activation` is one of the four names (`tanh`, `relu`, `sigmoid`, `leakyRelu`); returns it. */
export function checkActivation(fn: string, activation: unknown): Activation {
  return expectOneOf(fn, "activation", activation, ACTIVATION_NAMES);
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
  expectInteger("initializeParameters", "nX", nX);
  expectInteger("initializeParameters", "nH", nH);
  expectInteger("initializeParameters", "nY", nY);
  const rng = new RandomState(options.seed ?? 2);
  return noGrad(() => {
    const W1 = mul(rng.randn(nH, nX), 0.01);
    const W2 = mul(rng.randn(nY, nH), 0.01);
    return { W1, b1: zeros([nH, 1]), W2, b2: zeros([nY, 1]) };
  });
}

// ---------------------------------------------------------------- forward and cost

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
  expectFinite(fn, "X", X);
  checkParams(fn, params, X.shape[0]);
  return forwardEquations(X, params, activation);
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

// ---------------------------------------------------------------- backward: by hand and by the tape

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
 * The course's `backward_propagation`: the six equations written by hand, with the course's names
 * (`sixEquations` in six-equations.ts), after checking that params, cache, X and Y fit together.
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
  return noGrad(() => sixEquations(params, cache, X, Y, activation));
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
    const { Z1, Z2, A2 } = forwardEquations(X, leaves, activation);
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

/**
 * The course's `update_parameters`: θ ← θ − α·dθ for each of W1, b1, W2, b2 (new tensors; the inputs are
 * not modified). Untaped. Reads only dW1, db1, dW2, db2, so `Grads` or gradients from `valueAndGrad` do.
 * @throws Error if a key is missing, a gradient's shape differs from its parameter's, or α is not finite.
 */
export function updateParameters(params: Params, grads: ParamGrads, learningRate = 1.2): Params {
  const fn = "updateParameters";
  checkParams(fn, params);
  expectNumber(fn, "learningRate", learningRate);
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
  return noGrad(() => gradientDescentStep(params, grads, learningRate));
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
          const cache = forwardEquations(X, params, activation);
          costTensor(cache.A2, Y);
          sixEquations(params, cache, X, Y, activation);
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
  expectInteger(fn, "nH", nH);
  expectInteger(fn, "numIterations", numIterations, 0);
  expectNumber(fn, "learningRate", learningRate);
  expectOneOf(fn, "gradients", gradients, ["manual", "autograd"]);
  expectOneOf(fn, "onNonFinite", onNonFinite, ["throw", "warn"]);
  let parameters = initializeParameters(X.shape[0]!, nH, Y.shape[0]!, { seed });
  const costs: number[] = [];
  let warned = false;
  noGrad(() => {
    for (let i = 0; i < numIterations; i++) {
      let grads: Grads;
      let A2: Tensor;
      if (gradients === "manual") {
        const cache = forwardEquations(X, parameters, activation);
        A2 = cache.A2;
        grads = sixEquations(parameters, cache, X, Y, activation);
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
      parameters = gradientDescentStep(parameters, grads, learningRate);
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

/**
 * @file The course's gradient-checking exercise with tapegrad: the 1-D check of J(θ) = θx, the N-D check of
 * a 3-layer network whose hand-written backward has two planted bugs, and the two typos of the course
 * notes (dZ1 with g instead of g′; the update with α·w instead of α·dw) caught and explained.
 *
 * Usage: `tsx src/gradient-check.ts`.
 */
import {
  add,
  defineOp,
  diagnoseMismatch,
  gradcheck,
  greater,
  log as logOp,
  matmul,
  mul,
  neg,
  noGrad,
  numericGradient,
  RandomState,
  relativeDifference,
  relu,
  sigmoid,
  sub,
  sum,
  Tensor,
  tanh,
  tensor,
} from "@tapegrad/autograd";
import {
  autogradBackward,
  type Cache,
  checkBackprop,
  costTensor,
  type Grads,
  initializeParameters,
  loadPlanarDataset,
  type Params,
  updateParameters,
} from "@tapegrad/nn";
import { isMain, type Log } from "./main.js";

/** The course's threshold for "the gradient is correct" with ε = 1e-7. */
export const THRESHOLD = 2e-7;

// ---------------------------------------------------------------- 1-D: J(θ) = θ·x

/**
 * The 1-D check: J(θ) = θ·x at x = 2, θ = 4. The tape gives dJ/dθ = x; the two-sided difference
 * (J(θ+ε) − J(θ−ε))/2ε with ε = 1e-7 should agree to about 1e-10 (round-off in J(θ±ε)).
 */
export function oneDimensional(
  x = 2,
  theta = 4,
  eps = 1e-7,
): { grad: number; gradApprox: number; difference: number } {
  const th = tensor(theta, { requiresGrad: true });
  mul(th, x).backward();
  const grad = th.grad!.item();
  const gradApprox = numericGradient((t) => mul(t, x), theta, { eps }).item();
  return { grad, gradApprox, difference: relativeDifference(grad, gradApprox) };
}

// ---------------------------------------------------------------- N-D: the course's 3-layer network

/** LINEAR → RELU → LINEAR → RELU → LINEAR → SIGMOID, column layout, as in the course's N-D exercise. */
export interface DeepParams {
  W1: Tensor; // (5, 4)
  b1: Tensor; // (5, 1)
  W2: Tensor; // (3, 5)
  b2: Tensor; // (3, 1)
  W3: Tensor; // (1, 3)
  b3: Tensor; // (1, 1)
}

const DEEP_NAMES = ["W1", "b1", "W2", "b2", "W3", "b3"] as const;

/** The course's `gradient_check_n_test_case`: seed 1, x (4, 3), y = [1, 1, 0], then W1 … b3 from randn. */
export function deepTestCase(): { X: Tensor; Y: Tensor; params: DeepParams } {
  const rng = new RandomState(1);
  const X = rng.randn(4, 3);
  const Y = tensor([[1, 1, 0]]);
  const params = {
    W1: rng.randn(5, 4),
    b1: rng.randn(5, 1),
    W2: rng.randn(3, 5),
    b2: rng.randn(3, 1),
    W3: rng.randn(1, 3),
    b3: rng.randn(1, 1),
  };
  return { X, Y, params };
}

/** The forward pass and the cross-entropy cost, with tape ops (so the tape can differentiate it too). */
function deepForward(X: Tensor, Y: Tensor, p: DeepParams) {
  const Z1 = add(matmul(p.W1, X), p.b1);
  const A1 = relu(Z1);
  const Z2 = add(matmul(p.W2, A1), p.b2);
  const A2 = relu(Z2);
  const Z3 = add(matmul(p.W3, A2), p.b3);
  const A3 = sigmoid(Z3);
  const m = X.shape[1]!;
  // J = −(1/m) Σ [y log a + (1−y) log(1−a)]
  const cost = mul(neg(sum(add(mul(Y, logOp(A3)), mul(sub(1, Y), logOp(sub(1, A3)))))), 1 / m);
  return { Z1, A1, Z2, A2, Z3, A3, cost };
}

/**
 * The course's `backward_propagation_n`, by hand. With `planted` the two bugs of the exercise are in:
 * dW2 carries a factor 2, and db1 uses 4/m instead of 1/m.
 */
export function deepBackward(X: Tensor, Y: Tensor, p: DeepParams, planted: boolean): DeepParams {
  return noGrad(() => {
    const m = X.shape[1]!;
    const { Z1, A1, Z2, A2, A3 } = deepForward(X, Y, p);
    const dZ3 = sub(A3, Y);
    const dW3 = mul(1 / m, matmul(dZ3, A2, { transposeB: true }));
    const db3 = mul(1 / m, sum(dZ3, 1, true));
    const dZ2 = mul(matmul(p.W3, dZ3, { transposeA: true }), greater(Z2, 0));
    const dW2 = mul((planted ? 2 : 1) / m, matmul(dZ2, A1, { transposeB: true })); // planted: × 2
    const db2 = mul(1 / m, sum(dZ2, 1, true));
    const dZ1 = mul(matmul(p.W2, dZ2, { transposeA: true }), greater(Z1, 0));
    const dW1 = mul(1 / m, matmul(dZ1, X, { transposeB: true }));
    const db1 = mul((planted ? 4 : 1) / m, sum(dZ1, 1, true)); // planted: 4/m
    return { W1: dW1, b1: db1, W2: dW2, b2: db2, W3: dW3, b3: db3 };
  });
}

/** Flatten parameters into one column θ, in the course's order (`dictionary_to_vector`). */
function toVector(p: DeepParams): Tensor {
  const parts = DEEP_NAMES.map((k) => p[k].data);
  const out = new Float64Array(parts.reduce((n, d) => n + d.length, 0));
  let at = 0;
  for (const d of parts) {
    out.set(d, at);
    at += d.length;
  }
  return new Tensor(out, [out.length, 1]);
}

/** The inverse of `toVector` (`vector_to_dictionary`), shaped like `like`. */
function fromVector(theta: Tensor, like: DeepParams): DeepParams {
  const out = {} as DeepParams;
  let at = 0;
  for (const k of DEEP_NAMES) {
    const n = like[k].size;
    out[k] = new Tensor(theta.data.slice(at, at + n), like[k].shape);
    at += n;
  }
  return out;
}

/** One parameter's check in the N-D exercise. */
export interface ParamCheck {
  name: string;
  relativeDifference: number;
  diagnosis: string | null;
}

/**
 * The course's `gradient_check_n`: the hand-written gradient, flattened, against the two-sided difference
 * of J over every component of θ (ε = 1e-7); then, beyond the course, each parameter's block diagnosed.
 */
export function nDimensional(planted: boolean): { difference: number; perParameter: ParamCheck[] } {
  const { X, Y, params } = deepTestCase();
  const grads = deepBackward(X, Y, params, planted);
  const J = (theta: Tensor) => deepForward(X, Y, fromVector(theta, params)).cost;
  const gradApprox = numericGradient(J, toVector(params), { eps: 1e-7 });
  const grad = toVector(grads);
  const approx = fromVector(gradApprox, params);
  return {
    difference: relativeDifference(grad, gradApprox),
    perParameter: DEEP_NAMES.map((k) => ({
      name: `d${k}`,
      relativeDifference: relativeDifference(grads[k], approx[k]),
      // finite differences with ε = 1e-7 are only good to ~1e-7 (worse on a single element): diagnose clear misses
      diagnosis:
        relativeDifference(grads[k], approx[k]) < 1e-5
          ? null
          : diagnoseMismatch(grads[k], approx[k], { name: `d${k}`, sizes: [X.shape[1]!] }),
    })),
  };
}

// ---------------------------------------------------------------- the notes' typos

/**
 * The six equations as the first set of notes prints them: (4) dZ1 = W2ᵀdZ2 ⊙ g(Z1), with g where g′
 * belongs (tanh network: A1 instead of 1 − A1²).
 */
export function notesBackward(params: Params, cache: Cache, X: Tensor, Y: Tensor): Grads {
  return noGrad(() => {
    const m = X.shape[1]!;
    const { A1, A2 } = cache;
    const dZ2 = sub(A2, Y);
    const dW2 = mul(1 / m, matmul(dZ2, A1, { transposeB: true }));
    const db2 = mul(1 / m, sum(dZ2, 1, true));
    const dZ1 = mul(matmul(params.W2, dZ2, { transposeA: true }), A1); // the typo: g(Z1) = A1, not g′(Z1)
    const dW1 = mul(1 / m, matmul(dZ1, X, { transposeB: true }));
    const db1 = mul(1 / m, sum(dZ1, 1, true));
    return { dZ2, dW2, db2, dZ1, dW1, db1 };
  });
}

/** The update as the notes print it: θ ← θ − α·θ (α·w where α·dw belongs). */
export function notesUpdate(params: Params, _grads: Grads, learningRate: number): Params {
  return noGrad(() => ({
    W1: sub(params.W1, mul(learningRate, params.W1)),
    b1: sub(params.b1, mul(learningRate, params.b1)),
    W2: sub(params.W2, mul(learningRate, params.W2)),
    b2: sub(params.b2, mul(learningRate, params.b2)),
  }));
}

/**
 * Check an update rule: gradient descent moves θ by −α·∇J, so (θ − update(θ, dθ, α))/α must equal the
 * gradient — here the tape's (`autogradBackward`), independent of any hand-written equation.
 */
export function checkUpdateRule(
  update: (params: Params, grads: Grads, learningRate: number) => Params,
  params: Params,
  X: Tensor,
  Y: Tensor,
  learningRate = 1.2,
): { name: string; relativeDifference: number; diagnosis: string | null }[] {
  const grads = autogradBackward(params, X, Y);
  const next = update(params, grads, learningRate);
  return (["W1", "b1", "W2", "b2"] as const).map((k) => {
    const step = noGrad(() => mul(sub(params[k], next[k]), 1 / learningRate));
    const tape = grads[`d${k}`];
    const diagnosis = diagnoseMismatch(step, tape, { name: `(${k} − ${k}′)/α`, sizes: [X.shape[1]!] });
    // The notes' typo has a signature of its own: the step is the parameter itself, not its gradient.
    const stepsByTheta = diagnosis !== null && relativeDifference(step, params[k]) <= 1e-12;
    return {
      name: `d${k}`,
      relativeDifference: relativeDifference(step, tape),
      diagnosis: stepsByTheta
        ? `(${k} − ${k}′)/α equals ${k} itself: the update subtracts α·${k} where α·d${k} belongs (the notes' typo)`
        : diagnosis,
    };
  });
}

// ---------------------------------------------------------------- the program

/** What `run` found, for tests. */
export interface GradientCheckResult {
  oneD: ReturnType<typeof oneDimensional>;
  nDBuggy: ReturnType<typeof nDimensional>;
  nDFixed: ReturnType<typeof nDimensional>;
  notesBackprop: ReturnType<typeof checkBackprop>;
  notesUpdate: ReturnType<typeof checkUpdateRule>;
  correctUpdate: ReturnType<typeof checkUpdateRule>;
  typoGradcheck: ReturnType<typeof gradcheck>;
}

/** tanh whose hand-written backward has the notes' typo: g·tanh(z) where g·(1 − tanh²(z)) belongs. */
export const tanhNotes = defineOp({
  name: "tanh with the notes' typo",
  forward: (z) => tanh(z),
  backward: (g, _inputs, out) => [mul(g, out)],
});

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}

function verdict(difference: number): string {
  return difference < THRESHOLD
    ? `The gradient is correct! difference = ${difference}`
    : `There is a mistake in the backward propagation! difference = ${difference}`;
}

/** Run the exercise, printing as the course does, plus the diagnoses. */
export function run(options: { log?: Log } = {}): GradientCheckResult {
  const log = options.log ?? console.log;

  log("1-D gradient check: J(θ) = θ·x at x = 2, θ = 4, ε = 1e-7");
  const oneD = oneDimensional();
  log(`  tape dJ/dθ = ${oneD.grad}, two-sided difference ${oneD.gradApprox}`);
  log(`  ${verdict(oneD.difference)}`);
  log("");

  log(
    "N-D gradient check: the course's 3-layer network (seed 1), backward_propagation_n with its two planted bugs",
  );
  const nDBuggy = nDimensional(true);
  log(`  ${verdict(nDBuggy.difference)}`);
  log("  which parameters (each block of θ against its finite differences):");
  for (const p of nDBuggy.perParameter) {
    log(`    ${p.name.padEnd(4)} ${p.relativeDifference.toExponential(2)}  ${p.diagnosis ?? "ok"}`);
  }
  const nDFixed = nDimensional(false);
  log(`  bugs fixed (dW2 without × 2, db1 with 1/m): ${verdict(nDFixed.difference)}`);
  log("");

  const { X, Y } = loadPlanarDataset();
  const params = initializeParameters(2, 4, 1, { seed: 2 });
  log("The notes' typo in (4): dZ1 = W2ᵀdZ2 ⊙ g(Z1) instead of g′(Z1) — checkBackprop on the planar data:");
  const notesBackprop = checkBackprop(params, X, Y, notesBackward);
  for (const [name, eq] of Object.entries(notesBackprop.equations)) {
    log(`    ${name.padEnd(4)} ${eq.relativeDifference.toExponential(2)}  ${eq.ok ? "ok" : eq.diagnosis}`);
  }
  log(`  ${notesBackprop.summary}`);
  log("");

  log("The notes' typo in the update: θ ← θ − α·θ instead of θ − α·dθ. Gradient descent steps by −α·∇J, so");
  log("(θ − θ′)/α is compared with the tape's gradient:");
  const notesUpdateCheck = checkUpdateRule(notesUpdate, params, X, Y);
  for (const c of notesUpdateCheck) {
    log(`    ${c.name.padEnd(4)} ${c.relativeDifference.toExponential(2)}  ${c.diagnosis ?? "ok"}`);
  }
  const correctUpdate = checkUpdateRule(updateParameters, params, X, Y);
  log(
    `  updateParameters (θ − α·dθ): largest relative difference ${Math.max(...correctUpdate.map((c) => c.relativeDifference)).toExponential(2)} — ${correctUpdate.every((c) => c.diagnosis === null) ? "gradient descent" : "WRONG"}`,
  );
  log("");

  log(
    "The same typo at the level of an op: tanh defined with defineOp whose backward multiplies by g, not g′;",
  );
  log("gradcheck of the course's cost through it against finite differences:");
  const typoGradcheck = gradcheck(
    (W1, b1, W2, b2) => costTensor(sigmoid(add(matmul(W2!, tanhNotes(add(matmul(W1!, X), b1!))), b2!)), Y),
    [params.W1, params.b1, params.W2, params.b2],
    { names: ["W1", "b1", "W2", "b2"], sizes: [X.shape[1]!] },
  );
  log(indent(typoGradcheck.toString()));
  return {
    oneD,
    nDBuggy,
    nDFixed,
    notesBackprop,
    notesUpdate: notesUpdateCheck,
    correctUpdate,
    typoGradcheck,
  };
}

if (isMain(import.meta.url)) run();

/**
 * @file The course's L-layer deep network ("Building your Deep Neural Network: Step by Step"), its
 * backward written the course's way — `linearBackward`, `reluBackward`, `sigmoidBackward`,
 * `linearActivationBackward`, `lModelBackward` (linear_backward, relu_backward, … in the course) with the
 * course's cache layout, each layer's cache `[[A_prev, W, b], Z]` — checked by `checkDerivation`, then with
 * the classic slip planted: sigmoid_backward returning dA·s instead of dA·s·(1 − s).
 *
 * Usage: `tsx src/derivations/deep-network.ts`.
 */
import {
  add,
  checkDerivation,
  type DerivationReport,
  div,
  greater,
  log,
  matmul,
  mul,
  type NameFn,
  RandomState,
  relu,
  sigmoid,
  sub,
  sum,
  type Tensor,
  tensor,
} from "@tapegrad/autograd";
import { isMain, type Log } from "../main.js";

/** The course's linear cache `(A_prev, W, b)`. */
export type LinearCache = [A_prev: Tensor, W: Tensor, b: Tensor];
/** The course's layer cache `(linear_cache, activation_cache)`, the activation cache being Z. */
export type LayerCache = [linear: LinearCache, Z: Tensor];
/** Parameters `W1, b1, …, WL, bL`. */
export type DeepParams = Record<string, Tensor>;

const keep = (_label: string, t: Tensor): Tensor => t;

/** linear_forward: Z = W·A_prev + b. */
export function linearForward(A_prev: Tensor, W: Tensor, b: Tensor): [Tensor, LinearCache] {
  return [add(matmul(W, A_prev), b), [A_prev, W, b]];
}

/**
 * L_model_forward: [LINEAR → RELU] × (L − 1) → LINEAR → SIGMOID. `name` (checkDerivation's) labels A0 = X,
 * every Z and every A; by default it does nothing.
 */
export function lModelForward(
  X: Tensor,
  parameters: DeepParams,
  name: NameFn = keep,
): { AL: Tensor; caches: LayerCache[] } {
  const L = Object.keys(parameters).length / 2;
  const caches: LayerCache[] = [];
  let A = name("A0", X);
  for (let l = 1; l <= L; l++) {
    const [Zl, linearCache] = linearForward(A, parameters[`W${l}`]!, parameters[`b${l}`]!);
    const Z = name(`Z${l}`, Zl);
    A = name(`A${l}`, l < L ? relu(Z) : sigmoid(Z));
    caches.push([linearCache, Z]);
  }
  return { AL: A, caches };
}

/** compute_cost: the cross-entropy −(1/m) Σ (Y log AL + (1 − Y) log(1 − AL)). */
export function computeCost(AL: Tensor, Y: Tensor): Tensor {
  const m = Y.shape[1]!;
  return mul(sum(add(mul(Y, log(AL)), mul(sub(1, Y), log(sub(1, AL))))), -1 / m);
}

/** linear_backward: dW = (1/m) dZ·A_prevᵀ, db = (1/m) Σ dZ (axis 1), dA_prev = Wᵀ·dZ. */
export function linearBackward(
  dZ: Tensor,
  [A_prev, W]: LinearCache,
): [dA_prev: Tensor, dW: Tensor, db: Tensor] {
  const m = A_prev.shape[1]!;
  return [matmul(W.T, dZ), mul(matmul(dZ, A_prev.T), 1 / m), mul(sum(dZ, 1, true), 1 / m)];
}

/** relu_backward: dZ = dA where Z > 0, else 0. */
export function reluBackward(dA: Tensor, Z: Tensor): Tensor {
  return mul(dA, greater(Z, 0));
}

/** sigmoid_backward: dZ = dA · s · (1 − s), s = σ(Z). `slip` plants the classic dA · s. */
export function sigmoidBackward(dA: Tensor, Z: Tensor, slip = false): Tensor {
  const s = sigmoid(Z);
  return slip ? mul(dA, s) : mul(dA, mul(s, sub(1, s)));
}

/** linear_activation_backward, also returning the dZ the course computes and drops. */
export function linearActivationBackward(
  dA: Tensor,
  [linearCache, Z]: LayerCache,
  activation: "relu" | "sigmoid",
  slip = false,
): [dA_prev: Tensor, dW: Tensor, db: Tensor, dZ: Tensor] {
  const dZ = activation === "relu" ? reluBackward(dA, Z) : sigmoidBackward(dA, Z, slip);
  return [...linearBackward(dZ, linearCache), dZ];
}

/**
 * L_model_backward: grads["dA" + l], grads["dW" + l], grads["db" + l] as the course fills them, plus
 * dA{L} (the course's dAL) and each dZ{l}, so that checkDerivation checks every step on its own.
 * The course's dA and dZ are m·∂J/∂A, m·∂J/∂Z (its J carries the 1/m that linear_backward applies).
 */
export function lModelBackward(
  AL: Tensor,
  Y: Tensor,
  caches: readonly LayerCache[],
  slip = false,
): Record<string, Tensor> {
  const grads: Record<string, Tensor> = {};
  const L = caches.length;
  const dAL = mul(sub(div(Y, AL), div(sub(1, Y), sub(1, AL))), -1);
  grads[`dA${L}`] = dAL;
  let [dA, dW, db, dZ] = linearActivationBackward(dAL, caches[L - 1]!, "sigmoid", slip);
  Object.assign(grads, { [`dZ${L}`]: dZ, [`dA${L - 1}`]: dA, [`dW${L}`]: dW, [`db${L}`]: db });
  for (let l = L - 2; l >= 0; l--) {
    [dA, dW, db, dZ] = linearActivationBackward(grads[`dA${l + 1}`]!, caches[l]!, "relu");
    Object.assign(grads, { [`dZ${l + 1}`]: dZ, [`dA${l}`]: dA, [`dW${l + 1}`]: dW, [`db${l + 1}`]: db });
  }
  return grads;
}

/** A small problem: layer sizes [4, 5, 3, 1], m = 8 examples, weights randn/√n_prev (seeded). */
export function deepProblem(dims: readonly number[] = [4, 5, 3, 1], m = 8) {
  const rng = new RandomState(1);
  const X = rng.randn(dims[0]!, m);
  const Y = tensor([Array.from({ length: m }, (_, i) => ((i * 5) % 3 === 0 ? 1 : 0))]);
  const parameters: DeepParams = {};
  for (let l = 1; l < dims.length; l++) {
    parameters[`W${l}`] = rng.randn(dims[l]!, dims[l - 1]!).mul(1 / Math.sqrt(dims[l - 1]!));
    parameters[`b${l}`] = rng.randn(dims[l]!, 1).mul(0.1);
  }
  return { X, Y, parameters, L: dims.length - 1, m };
}

/** Check the course's backward with checkDerivation: the correct one, then with sigmoid_backward's slip. */
export function run(options: { log?: Log } = {}): { right: DerivationReport; planted: DerivationReport } {
  const log = options.log ?? console.log;
  const { X, Y, parameters, L, m } = deepProblem();
  // The course's dA and dZ are m × the true gradients: say so once, for every layer.
  const scale: Record<string, number> = {};
  for (let l = 0; l <= L; l++) scale[`A${l}`] = m;
  for (let l = 1; l <= L; l++) scale[`Z${l}`] = m;
  const check = (slip: boolean) =>
    checkDerivation(
      (p, name) => computeCost(lModelForward(X, p, name).AL, Y),
      parameters,
      () => {
        const { AL, caches } = lModelForward(X, parameters);
        return lModelBackward(AL, Y, caches, slip);
      },
      { scale },
    );
  const right = check(false);
  log("The course's L_model_backward, checked equation by equation:");
  log(String(right));
  const planted = check(true);
  log("\nWith sigmoid_backward returning dA·s (the slip: s·(1 − s) is σ′):");
  log(String(planted));
  return { right, planted };
}

if (isMain(import.meta.url)) run();

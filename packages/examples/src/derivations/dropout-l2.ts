/**
 * @file The same L-layer network with the course's two regularisers ("Regularization"): inverted dropout
 * on the hidden layers (masks D, keep_prob) and an L2 cost term (λ/2m)·Σ‖Wₗ‖². The backward reuses the
 * course's linear_backward, relu_backward and sigmoid_backward and adds the two changes the course makes:
 * dAₗ ⊙ Dₗ / keep_prob, and (λ/m)·Wₗ in every dWₗ. Checked by `checkDerivation`, then with the classic
 * slip planted: the L2 term forgotten in the backward.
 *
 * Usage: `tsx src/derivations/dropout-l2.ts`.
 */
import {
  add,
  checkDerivation,
  type DerivationReport,
  div,
  less,
  mul,
  type NameFn,
  RandomState,
  relu,
  sigmoid,
  square,
  sub,
  sum,
  type Tensor,
} from "@tapegrad/autograd";
import { isMain, type Log } from "../main.js";
import {
  computeCost,
  type DeepParams,
  deepProblem,
  type LayerCache,
  linearActivationBackward,
  linearForward,
} from "./deep-network.js";

/** The course's constants: λ = 0.7, keep_prob = 0.86. With m = 5 examples, λ/m = 0.14. */
export const LAMBDA = 0.7;
export const KEEP_PROB = 0.86;

/** Dropout masks for the hidden layers, drawn once (the check must see the same network twice). */
export function dropoutMasks(dims: readonly number[], m: number, seed = 2): Tensor[] {
  const rng = new RandomState(seed);
  return dims.slice(1, -1).map((n) => less(rng.rand(n, m), KEEP_PROB));
}

/**
 * forward_propagation_with_dropout, L layers: Aₗ = relu(Zₗ), then Aₗ ⊙ Dₗ / keep_prob on the hidden layers.
 * `name` labels Aₗ *before* dropout: the course's dAₗ (after `dA * D / keep_prob`) is its gradient.
 */
export function lModelForwardDropout(
  X: Tensor,
  parameters: DeepParams,
  D: readonly Tensor[],
  name: NameFn = (_l, t) => t,
) {
  const L = Object.keys(parameters).length / 2;
  const caches: LayerCache[] = [];
  let A = name("A0", X);
  for (let l = 1; l <= L; l++) {
    const [Zl, linearCache] = linearForward(A, parameters[`W${l}`]!, parameters[`b${l}`]!);
    const Z = name(`Z${l}`, Zl);
    A = l < L ? mul(mul(name(`A${l}`, relu(Z)), D[l - 1]!), 1 / KEEP_PROB) : name(`A${l}`, sigmoid(Z));
    caches.push([linearCache, Z]);
  }
  return { AL: A, caches };
}

/** compute_cost_with_regularization: cross-entropy + (λ/2m)·Σ‖Wₗ‖². */
export function costWithRegularization(AL: Tensor, Y: Tensor, parameters: DeepParams): Tensor {
  const m = Y.shape[1]!;
  let l2: Tensor | null = null;
  for (const [key, W] of Object.entries(parameters)) {
    if (!key.startsWith("W")) continue;
    const term = sum(square(W));
    l2 = l2 === null ? term : add(l2, term);
  }
  return add(computeCost(AL, Y), mul(l2!, LAMBDA / (2 * m)));
}

/**
 * The backward with both regularisers: each dWₗ gets (λ/m)·Wₗ (unless `forgetL2`), each hidden dAₗ is
 * masked and scaled as the forward was. Same keys as lModelBackward.
 */
export function lModelBackwardRegularized(
  AL: Tensor,
  Y: Tensor,
  caches: readonly LayerCache[],
  D: readonly Tensor[],
  forgetL2 = false,
): Record<string, Tensor> {
  const m = Y.shape[1]!;
  const L = caches.length;
  const grads: Record<string, Tensor> = {};
  grads[`dA${L}`] = mul(sub(div(Y, AL), div(sub(1, Y), sub(1, AL))), -1);
  for (let l = L; l >= 1; l--) {
    const [dAPrev, dW, db, dZ] = linearActivationBackward(
      grads[`dA${l}`]!,
      caches[l - 1]!,
      l === L ? "sigmoid" : "relu",
    );
    const [[, W]] = caches[l - 1]!;
    grads[`dZ${l}`] = dZ;
    grads[`dW${l}`] = forgetL2 ? dW : add(dW, mul(W, LAMBDA / m));
    grads[`db${l}`] = db;
    // dropout's backward: the same mask and scale as the forward (the input X is not dropped)
    grads[`dA${l - 1}`] = l > 1 ? mul(mul(dAPrev, D[l - 2]!), 1 / KEEP_PROB) : dAPrev;
  }
  return grads;
}

/** Check the regularised backward with checkDerivation: correct, then with the L2 term forgotten. */
export function run(options: { log?: Log } = {}): { right: DerivationReport; planted: DerivationReport } {
  const log = options.log ?? console.log;
  const dims = [4, 5, 3, 1];
  const { X, Y, parameters, L, m } = deepProblem(dims, 5);
  const D = dropoutMasks(dims, m);
  const scale: Record<string, number> = {};
  for (let l = 0; l <= L; l++) scale[`A${l}`] = m;
  for (let l = 1; l <= L; l++) scale[`Z${l}`] = m;
  const check = (forgetL2: boolean) =>
    checkDerivation(
      (p, name) => costWithRegularization(lModelForwardDropout(X, p, D, name).AL, Y, p),
      parameters,
      () => {
        const { AL, caches } = lModelForwardDropout(X, parameters, D);
        return lModelBackwardRegularized(AL, Y, caches, D, forgetL2);
      },
      { scale },
    );
  const right = check(false);
  log(`Dropout (keep_prob ${KEEP_PROB}) and L2 (λ = ${LAMBDA}, m = ${m}), checked equation by equation:`);
  log(String(right));
  const planted = check(true);
  log("\nWith the L2 term forgotten in the backward (dW = (1/m) dZ·A_prevᵀ only):");
  log(String(planted));
  return { right, planted };
}

if (isMain(import.meta.url)) run();

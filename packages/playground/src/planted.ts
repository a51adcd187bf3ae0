/**
 * @file The course's backward pass and update with the notes' classic mistakes planted on demand: g instead
 * of g′ in dZ1, dW2 without its 1/m, and the printed update θ ← θ − α·θ. With no typo planted they are the
 * six equations and the update of @tapegrad/nn, bit for bit.
 */
import { matmul, mul, noGrad, sub, sum } from "@tapegrad/autograd";
import {
  type Activation,
  activations,
  type Cache,
  type Grads,
  gradientDescentStep,
  type ManualBackward,
  type ParamGrads,
  type Params,
} from "@tapegrad/nn";

/** Which of the notes' mistakes are planted (each a checkbox on the page). */
export interface Typos {
  /** (4) dZ1 = W2ᵀdZ2 ⊙ g(Z1): the activation where its derivative belongs. */
  gPrime: boolean;
  /** The update θ ← θ − α·θ (the parameter where its gradient belongs). */
  update: boolean;
  /** (2) dW2 = dZ2·A1ᵀ: the 1/m dropped. */
  dW2: boolean;
}

/** No mistake planted. */
export const NO_TYPOS: Readonly<Typos> = { gPrime: false, update: false, dW2: false };

/**
 * The six equations, line by line as in the notes, with the chosen typos planted (untaped).
 * @param typos which mistakes to plant; only `gPrime` and `dW2` touch the backward pass.
 * @returns a backward pass with `backwardPropagation`'s signature, for training and for `checkBackprop`;
 *   its g′ follows `options.activation`, else the cache's activation, else tanh. Shapes: dZ2 (nY, m),
 *   dW2 (nY, nH), db2 (nY, 1), dZ1 (nH, m), dW1 (nH, nX), db1 (nH, 1).
 */
export function plantedBackward(typos: Readonly<Typos>): ManualBackward {
  const { gPrime: typoGPrime, dW2: typoDW2 } = typos;
  return (params: Params, cache: Cache, X, Y, options = {}): Grads =>
    noGrad(() => {
      const activation: Activation = options.activation ?? cache.activation ?? "tanh";
      const m = X.shape[1]!;
      const { W2 } = params;
      const { Z1, A1, A2 } = cache;
      const dZ2 = sub(A2, Y); // (1) dZ2 = A2 − Y
      const dZ2A1T = matmul(dZ2, A1, { transposeB: true });
      const dW2 = typoDW2 ? dZ2A1T : mul(1 / m, dZ2A1T); // (2) dW2 = (1/m) dZ2·A1ᵀ — planted: no 1/m
      const db2 = mul(1 / m, sum(dZ2, 1, true)); // (3) db2 = (1/m) Σ dZ2
      const W2TdZ2 = matmul(W2, dZ2, { transposeA: true });
      // (4) dZ1 = W2ᵀdZ2 ⊙ g′(Z1) — planted: ⊙ g(Z1) = A1, the notes' typo
      const dZ1 = typoGPrime ? mul(W2TdZ2, A1) : activations[activation].chain(W2TdZ2, Z1, A1);
      const dW1 = mul(1 / m, matmul(dZ1, X, { transposeB: true })); // (5) dW1 = (1/m) dZ1·Xᵀ
      const db1 = mul(1 / m, sum(dZ1, 1, true)); // (6) db1 = (1/m) Σ dZ1
      return { dZ2, dW2, db2, dZ1, dW1, db1 };
    });
}

/**
 * One step of gradient descent, θ ← θ − α·dθ, or with `typos.update` the notes' printed θ ← θ − α·θ, which
 * shrinks every parameter by (1 − α) and never looks at the gradients (untaped; new tensors).
 */
export function plantedUpdate(
  params: Params,
  grads: ParamGrads,
  learningRate: number,
  typos: Readonly<Typos>,
): Params {
  const { W1, b1, W2, b2 } = params;
  const used: ParamGrads = typos.update ? { dW1: W1, db1: b1, dW2: W2, db2: b2 } : grads;
  return noGrad(() => gradientDescentStep(params, used, learningRate));
}

/**
 * @file The course's equations, with the course's names, in the order a reader checks them against the
 * notes ("Gradient Descent for Neural Networks"), column layout: X is (n0, m), one example per column.
 *
 * ```
 * forward   Z1 = W1·X + b1      A1 = g(Z1)      Z2 = W2·A1 + b2      A2 = σ(Z2)
 * backward  (1) dZ2 = A2 − Y             (2) dW2 = (1/m) dZ2·A1ᵀ    (3) db2 = (1/m) Σ dZ2
 *           (4) dZ1 = W2ᵀdZ2 ⊙ g′(Z1)    (5) dW1 = (1/m) dZ1·Xᵀ     (6) db1 = (1/m) Σ dZ1
 * update    θ ← θ − α·dθ
 * ```
 * The functions here are unchecked and untaped: course.ts checks the input once, at its public functions
 * (forwardPropagation, backwardPropagation, updateParameters, nnModel), and calls these. g and g′ of each
 * hidden activation are in `activations`.
 */
import {
  addmm,
  greater,
  matmul,
  mul,
  relu,
  sigmoid,
  sigmoidGrad,
  square,
  sub,
  sum,
  type Tensor,
  tanh,
  tanhGrad,
  where,
} from "@tapegrad/autograd";

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

/**
 * The forward equations, unchecked: Z1 = W1·X + b1, A1 = g(Z1), Z2 = W2·A1 + b2, A2 = σ(Z2).
 * Recorded on the tape when a parameter requires grad and grad mode is on.
 * @param X (nX, m). @returns the cache: Z1, A1 (nH, m), Z2, A2 (nY, m), and the activation.
 */
export function forwardEquations(X: Tensor, params: Params, activation: Activation): Cache {
  // addmm(b, W, A) = W·A + b in one op (the bias added in the product's output, same rounding as numpy's
  // np.dot(W, A) + b, one pass and one allocation less)
  const Z1 = addmm(params.b1, params.W1, X);
  const A1 = activations[activation].g(Z1);
  const Z2 = addmm(params.b2, params.W2, A1);
  const A2 = sigmoid(Z2);
  return { Z1, A1, Z2, A2, activation };
}

/**
 * The six backward equations, written by hand, unchecked (callers run them under `noGrad`).
 * dZ2 and dZ1 follow the course's convention dZ = m·∂J/∂Z; dW, db are ∂J/∂θ.
 * @returns dZ2 (nY, m), dW2 (nY, nH), db2 (nY, 1), dZ1 (nH, m), dW1 (nH, nX), db1 (nH, 1).
 */
export function sixEquations(
  params: Params,
  cache: Cache,
  X: Tensor,
  Y: Tensor,
  activation: Activation,
): Grads {
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

/**
 * One step of gradient descent, unchecked: θ ← θ − α·dθ for W1, b1, W2, b2 (new tensors).
 * (The notes print θ ← θ − α·θ: a typo, which would shrink the weights instead of descending.)
 */
export function gradientDescentStep(params: Params, grads: ParamGrads, learningRate: number): Params {
  return {
    W1: sub(params.W1, mul(learningRate, grads.dW1)),
    b1: sub(params.b1, mul(learningRate, grads.db1)),
    W2: sub(params.W2, mul(learningRate, grads.dW2)),
    b2: sub(params.b2, mul(learningRate, grads.db2)),
  };
}

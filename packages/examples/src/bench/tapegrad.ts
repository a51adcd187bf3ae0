/**
 * @file tapegrad under test: the autograd path (the network and its cost J written with tapegrad's ops,
 * `valueAndGrad` differentiates J, as the tfjs and jax-js runners do with their own libraries) and the six
 * hand-written equations of @tapegrad/nn (`backwardPropagation`), both followed by `updateParameters`; plus its
 * matrix multiply and the check that both paths agree.
 */
import {
  addmm,
  div,
  matmul,
  noGrad,
  relativeDifference,
  sigmoidCrossEntropy,
  sum,
  Tensor,
  tanh,
  valueAndGrad,
} from "@tapegrad/autograd";
import {
  backwardPropagation,
  computeCost,
  forwardPropagation,
  type Grads,
  type ParamGrads,
  type Params,
  updateParameters,
} from "@tapegrad/nn";
import {
  benchMatrix,
  type Implementation,
  type MatmulImplementation,
  type MatmulVariant,
  type StepRunner,
} from "./implementation.js";
import { LEARNING_RATE, type Problem, paramShapes } from "./problem.js";

/** Fresh tensors of a problem (copies: runners update their parameters, the problem stays as made). */
function tensorsOf(problem: Problem): { X: Tensor; Y: Tensor; params: Params } {
  const { size } = problem;
  const shapes = paramShapes(size);
  const param = (key: keyof Params): Tensor => new Tensor(problem.params[key].slice(), shapes[key]);
  return {
    X: new Tensor(problem.X.slice(), [size.nX, size.m]),
    Y: new Tensor(problem.Y.slice(), [size.nY, size.m]),
    params: { W1: param("W1"), b1: param("b1"), W2: param("W2"), b2: param("b2") },
  };
}

/**
 * The autograd path's gradients: J = −(1/m) Σ [Y log A2 + (1 − Y) log(1 − A2)] with A2 = σ(Z2), written
 * as a user of the tape writes it — the loss on the logits Z2 (`sigmoidCrossEntropy`, one op) — and
 * differentiated by `valueAndGrad` with respect to the four parameters.
 */
export function tapeGrads(params: Params, X: Tensor, Y: Tensor): ParamGrads {
  const m = X.shape[1]!;
  const J = (W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor): Tensor =>
    div(sum(sigmoidCrossEntropy(addmm(b2, W2, tanh(addmm(b1, W1, X))), Y)), m);
  const [, [dW1, db1, dW2, db2]] = valueAndGrad(J, [0, 1, 2, 3])(params.W1, params.b1, params.W2, params.b2);
  return { dW1: dW1!, db1: db1!, dW2: dW2!, db2: db2! };
}

/** The six equations' gradients: forward, cost (as the course's loop computes it), backward. */
export function sixEquationGrads(params: Params, X: Tensor, Y: Tensor): Grads {
  const { A2, cache } = forwardPropagation(X, params);
  computeCost(A2, Y);
  return backwardPropagation(params, cache, X, Y);
}

function runner(problem: Problem, train: (params: Params, X: Tensor, Y: Tensor) => Params): StepRunner {
  const t = tensorsOf(problem);
  let params = t.params;
  return {
    step() {
      params = train(params, t.X, t.Y);
    },
    cost: () => noGrad(() => computeCost(forwardPropagation(t.X, params).A2, t.Y)),
    dispose() {},
  };
}

/**
 * The autograd path: `valueAndGrad` of J (recorded on the tape, one backward walk) with respect to the
 * four parameters, then θ − α·dθ (`updateParameters`) — the work the tfjs (`variableGrads`) and jax-js
 * (`valueAndGrad`) runners do.
 */
export const tapegradAutograd: Implementation = {
  id: "tapegrad-autograd",
  label: "tapegrad, tape backward (valueAndGrad of J + updateParameters)",
  dtype: "float64",
  tapegrad: true,
  createRunner: (problem) =>
    runner(problem, (params, X, Y) => updateParameters(params, tapeGrads(params, X, Y), LEARNING_RATE)),
};

/** The six-equation path: forwardPropagation, computeCost, backwardPropagation, updateParameters, untaped. */
export const tapegradSixEquations: Implementation = {
  id: "tapegrad-six-eq",
  label: "tapegrad, six hand-written equations (backwardPropagation), in noGrad",
  dtype: "float64",
  tapegrad: true,
  createRunner: (problem) =>
    runner(problem, (params, X, Y) =>
      noGrad(() => updateParameters(params, sixEquationGrads(params, X, Y), LEARNING_RATE)),
    ),
};

/** tapegrad's matmul with `{ transposeA, transposeB }`: transposed operands are read with strides. */
export const tapegradMatmul: MatmulImplementation = {
  id: "tapegrad",
  dtype: "float64",
  create(n: number, variant: MatmulVariant) {
    const a = new Tensor(benchMatrix(n, 1), [n, n]);
    const b = new Tensor(benchMatrix(n, 2), [n, n]);
    const options = { transposeA: variant === "TN", transposeB: variant === "NT" };
    return {
      run: () => {
        noGrad(() => matmul(a, b, options));
      },
      dispose() {},
    };
  },
};

/** How far the two paths' gradients are apart, per parameter (‖a − b‖ / (‖a‖ + ‖b‖)), and the largest. */
export interface PathAgreement {
  relativeDifference: Record<"dW1" | "db1" | "dW2" | "db2", number>;
  max: number;
}

/**
 * Compare the autograd path's gradients with the six equations' on a problem, at its initial parameters
 * and again after a few training steps (where the gradients are no longer those of a near-zero network).
 * `manual` replaces the six equations (a test passes a deliberately wrong one).
 */
export function comparePaths(
  problem: Problem,
  options: { steps?: number; manual?: (params: Params, X: Tensor, Y: Tensor) => ParamGrads } = {},
): PathAgreement {
  const { steps = 5, manual = sixEquationGrads } = options;
  const t = tensorsOf(problem);
  let params = t.params;
  const worst = { dW1: 0, db1: 0, dW2: 0, db2: 0 };
  for (let i = 0; i <= steps; i++) {
    const tape = tapeGrads(params, t.X, t.Y);
    const hand = noGrad(() => manual(params, t.X, t.Y));
    for (const key of ["dW1", "db1", "dW2", "db2"] as const) {
      worst[key] = Math.max(worst[key], relativeDifference(tape[key], hand[key]));
    }
    params = updateParameters(params, tape, LEARNING_RATE);
  }
  return { relativeDifference: worst, max: Math.max(...Object.values(worst)) };
}

/**
 * @file The course's baseline, logistic regression, trained with tapegrad: A = σ(w·X + b) on the raw
 * features, the cross-entropy cost differentiated by the tape, plain gradient descent (nn's SGD).
 */
import { add, greater, matmul, noGrad, sigmoid, type Tensor, zeros } from "@tapegrad/autograd";
import { costTensor, SGD } from "@tapegrad/nn";

/** A trained logistic regression: w (1, nX), b (1, 1). */
export interface LogisticModel {
  w: Tensor;
  b: Tensor;
}

/** Options of `trainLogisticRegression`. */
export interface LogisticOptions {
  /** Gradient steps (default 2000). */
  numIterations?: number;
  /** α (default 0.1). */
  learningRate?: number;
  /** Called with each iteration's cost, before its update. */
  onIteration?: (i: number, cost: number) => void;
}

/** σ(w·X + b), column layout: X (nX, m) → (1, m). Recorded on the tape when w, b require grad. */
function probabilities(model: LogisticModel, X: Tensor): Tensor {
  return sigmoid(add(matmul(model.w, X), model.b));
}

/**
 * Train logistic regression by gradient descent from w = 0, b = 0 (the cost is convex: no random start).
 * @param X (nX, m) features, one example per column. @param Y (1, m) labels 0/1.
 * @returns the model and the cost before each step.
 */
export function trainLogisticRegression(
  X: Tensor,
  Y: Tensor,
  options: LogisticOptions = {},
): { model: LogisticModel; costs: number[] } {
  const { numIterations = 2000, learningRate = 0.1, onIteration } = options;
  const model = {
    w: zeros([1, X.shape[0]!], { requiresGrad: true }),
    b: zeros([1, 1], { requiresGrad: true }),
  };
  const optimizer = new SGD([model.w, model.b], { lr: learningRate });
  const costs: number[] = [];
  for (let i = 0; i < numIterations; i++) {
    optimizer.zeroGrad();
    const J = costTensor(probabilities(model, X), Y);
    J.backward();
    costs.push(J.item());
    onIteration?.(i, J.item());
    optimizer.step();
  }
  return { model, costs };
}

/** 1 where σ(w·X + b) > 0.5, else 0. @param X (nX, m). @returns (1, m). */
export function predictLogistic(model: LogisticModel, X: Tensor): Tensor {
  return noGrad(() => greater(probabilities(model, X), 0.5));
}

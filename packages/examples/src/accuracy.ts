/** @file Classification accuracy, computed as the course computes it. */
import { add, formatShape, matmul, noGrad, sub, type Tensor } from "@tapegrad/autograd";

/**
 * The course's accuracy in percent:
 * `float((np.dot(Y, predictions.T) + np.dot(1 - Y, 1 - predictions.T)) / Y.size * 100)` — the count of
 * correct 1s plus correct 0s, over the number of examples, times 100.
 * @param Y (1, m) labels 0/1. @param predictions (1, m) predictions 0/1.
 * @throws Error if the shapes are not both (1, m).
 */
export function courseAccuracy(Y: Tensor, predictions: Tensor): number {
  if (Y.ndim !== 2 || Y.shape[0] !== 1 || predictions.ndim !== 2 || predictions.shape[0] !== 1) {
    throw new Error(
      `courseAccuracy: Y ${formatShape(Y.shape)} and predictions ${formatShape(predictions.shape)} must both be (1, m)`,
    );
  }
  if (Y.shape[1] !== predictions.shape[1]) {
    throw new Error(
      `courseAccuracy: Y has shape ${formatShape(Y.shape)} but predictions ${formatShape(predictions.shape)}; expected the same`,
    );
  }
  return noGrad(() => {
    const correct = add(
      matmul(Y, predictions, { transposeB: true }),
      matmul(sub(1, Y), sub(1, predictions), { transposeB: true }),
    );
    return (correct.item() / Y.size) * 100;
  });
}

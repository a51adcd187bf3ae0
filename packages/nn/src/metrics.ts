/**
 * @file Metrics computed outside the tape (plain numbers, no gradient): accuracy.
 */
import { formatShape, Tensor } from "@tapegrad/autograd";
import { describeValue, expectTensor } from "@tapegrad/autograd/validate";

/**
 * The fraction of examples whose predicted class equals the label, in [0, 1]. The prediction of a row of
 * (N, C) scores (logits or probabilities) is its argmax (the first one at ties, as torch.argmax); with a
 * single score per example — (N, 1) or (N) logits — it is 1 when the logit is > 0, else 0.
 * @param logits (N, C), (N, 1) or (N). @param labels N class indices: number[], Int32Array or a tensor.
 * @throws Error starting with `accuracy` for a non-Tensor, a label count that is not N, or no examples.
 * @example accuracy(model.forward(Xtest), yTest) // 0.9731
 */
export function accuracy(logits: Tensor, labels: readonly number[] | Int32Array | Tensor): number {
  const fn = "accuracy";
  expectTensor(fn, "logits", logits);
  if (logits.ndim !== 1 && logits.ndim !== 2) {
    throw new Error(`${fn}: logits must be (N, C) or (N), got shape ${formatShape(logits.shape)}`);
  }
  const n = logits.shape[0]!;
  const c = logits.ndim === 2 ? logits.shape[1]! : 1;
  let y: ArrayLike<number>;
  if (labels instanceof Tensor) y = labels.data;
  else if (Array.isArray(labels) || labels instanceof Int32Array) y = labels;
  else
    throw new Error(
      `${fn}: labels must be a number[], an Int32Array or a Tensor, got ${describeValue(labels)}`,
    );
  if (y.length !== n) {
    throw new Error(
      `${fn}: logits has ${n} rows (examples) but there are ${y.length} labels; expected ${n} (logits shape ${formatShape(logits.shape)})`,
    );
  }
  if (n === 0 || c === 0)
    throw new Error(`${fn}: no examples or no classes (logits shape ${formatShape(logits.shape)})`);
  const d = logits.data;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let predicted = 0;
    if (c === 1) predicted = d[i]! > 0 ? 1 : 0;
    else {
      for (let j = 1; j < c; j++) if (d[i * c + j]! > d[i * c + predicted]!) predicted = j;
    }
    if (predicted === y[i]) correct++;
  }
  return correct / n;
}

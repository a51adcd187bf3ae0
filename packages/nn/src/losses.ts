/**
 * @file Losses (PyTorch semantics, mean reduction), built from tape ops so they are differentiable.
 */
import {
  abs,
  add,
  exp,
  formatShape,
  log,
  logSoftmax,
  maximum,
  mean,
  mul,
  neg,
  square,
  sub,
  sum,
  Tensor,
  tensor,
} from "@tapegrad/autograd";
import { describeValue, expectTensor } from "@tapegrad/autograd/validate";

function sameShape(fn: string, a: Tensor, b: Tensor, names: [string, string]): void {
  expectTensor(fn, names[0], a);
  expectTensor(fn, names[1], b);
  if (a.ndim !== b.ndim || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(
      `${fn}: ${names[0]} has shape ${formatShape(a.shape)} but ${names[1]} has shape ${formatShape(b.shape)}; expected the same shape`,
    );
  }
  if (a.size === 0) throw new Error(`${fn}: cannot average a loss over zero elements`);
}

/**
 * Binary cross-entropy on probabilities (PyTorch's BCELoss): mean of −[y·log p + (1−y)·log(1−p)], each log
 * clamped at −100 as PyTorch does, so p = 0 or 1 gives a large finite loss instead of Infinity.
 * On a (1, m) course-layout A2 it equals the course's cost J.
 * @param probs any shape, values in [0, 1]. @param targets same shape.
 * @returns a 0-d tensor. @throws Error if the shapes differ.
 */
export function bceLoss(probs: Tensor, targets: Tensor): Tensor {
  sameShape("bceLoss", probs, targets, ["probs", "targets"]);
  const logP = maximum(log(probs), -100);
  const log1mP = maximum(log(sub(1, probs)), -100);
  return neg(mean(add(mul(targets, logP), mul(sub(1, targets), log1mP))));
}

/**
 * Binary cross-entropy on logits (PyTorch's BCEWithLogitsLoss): mean of log(1 + eˣ) − x·y, computed as
 * max(x, 0) − x·y + log(1 + e^−|x|), which never overflows (e^−|x| ≤ 1), so logits of ±1000 are fine.
 * max(x, 0) is written (x + |x|)/2 so that its gradient at x = 0 is ½ and the total gradient is σ(x) − y
 * everywhere, the kink included.
 * @param logits any shape. @param targets same shape, in [0, 1].
 * @returns a 0-d tensor. @throws Error if the shapes differ.
 */
export function bceWithLogitsLoss(logits: Tensor, targets: Tensor): Tensor {
  sameShape("bceWithLogitsLoss", logits, targets, ["logits", "targets"]);
  const absX = abs(logits);
  const positivePart = mul(0.5, add(logits, absX));
  return mean(add(sub(positivePart, mul(logits, targets)), log(add(1, exp(neg(absX))))));
}

/**
 * Mean squared error (PyTorch's MSELoss): mean((pred − target)²).
 * @returns a 0-d tensor. @throws Error if the shapes differ.
 */
export function mseLoss(pred: Tensor, target: Tensor): Tensor {
  sameShape("mseLoss", pred, target, ["pred", "target"]);
  return mean(square(sub(pred, target)));
}

/**
 * Cross-entropy on logits with class-index targets (PyTorch's CrossEntropyLoss): the mean over the batch of
 * −logSoftmax(logits)[n, targets[n]]. logSoftmax is stable for large logits.
 * @param logits (N, C), batch-first. @param targets N class indices in [0, C): an array, Int32Array or 1-D tensor.
 * @returns a 0-d tensor.
 * @throws Error if logits is not 2-D, the number of targets is not N, or a target is not an integer in [0, C).
 */
export function crossEntropyLoss(logits: Tensor, targets: readonly number[] | Int32Array | Tensor): Tensor {
  const fn = "crossEntropyLoss";
  if (!(logits instanceof Tensor) || logits.ndim !== 2) {
    throw new Error(
      `${fn}: logits must be a 2-D tensor (N, C), got ${logits instanceof Tensor ? `shape ${formatShape(logits.shape)}` : describeValue(logits)}`,
    );
  }
  const [N, C] = logits.shape as [number, number];
  const t: ArrayLike<number> = targets instanceof Tensor ? targets.data : targets;
  if (t.length !== N) {
    throw new Error(
      `${fn}: logits has ${N} rows (examples) but there are ${t.length} targets; expected ${N}`,
    );
  }
  if (N === 0) throw new Error(`${fn}: cannot average over an empty batch`);
  // A constant one-hot mask picks logSoftmax[n, t_n]; its gradient is softmax − onehot, divided by N.
  const onehot = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    const c = t[n]!;
    if (!Number.isInteger(c) || c < 0 || c >= C) {
      throw new Error(`${fn}: target ${n} is ${c}, expected a class index in [0, ${C})`);
    }
    onehot[n * C + c] = 1;
  }
  return mul(-1 / N, sum(mul(logSoftmax(logits, 1), tensor(onehot, { shape: [N, C] }))));
}

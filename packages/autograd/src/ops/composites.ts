/**
 * @file Ops composed from primitives, with no rule of their own: mean, logsumexp, softmax, logSoftmax.
 * Their gradients follow from the primitives they call.
 */
import { inner } from "../primitives/index.js";
import { formatShape, normalizeAxes, normalizeAxis } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { toTensor } from "./convert.js";

/** Mean over `axis` (all axes when omitted). @throws Error when averaging over zero elements. */
export function mean(x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor {
  const t = toTensor(x, "mean");
  const axes = normalizeAxes(axis, t.ndim, "mean");
  const count = axes.reduce((p, a) => p * t.shape[a]!, 1);
  if (count === 0)
    throw new Error(`mean: cannot average over zero elements of a tensor of shape ${formatShape(t.shape)}`);
  return inner.mul(inner.sum(t, axes, keepdims === true), 1 / count);
}

/**
 * log Σ exp(x) over `axis`, computed stably as m + log Σ exp(x − m) with m the (detached) maximum, so
 * inputs of ±1000 neither overflow nor underflow. Its gradient is the softmax.
 */
export function logsumexp(x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor {
  const t = toTensor(x, "logsumexp");
  const axes = normalizeAxes(axis, t.ndim, "logsumexp");
  if (axes.some((a) => t.shape[a] === 0)) {
    throw new Error(`logsumexp: cannot reduce an empty axis of a tensor of shape ${formatShape(t.shape)}`);
  }
  return logsumexpOf(t, axes, keepdims === true);
}

/** softmax along `axis` (default last): exp(x − logsumexp(x)), stable for large inputs. */
export function softmax(x: Tensor, axis = -1): Tensor {
  const t = toTensor(x, "softmax");
  return inner.exp(inner.sub(t, logsumexpOf(t, [normalizeAxis(axis, t.ndim, "softmax")], true)));
}

/** log-softmax along `axis` (default last): x − logsumexp(x), stable for large inputs. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const t = toTensor(x, "logSoftmax");
  return inner.sub(t, logsumexpOf(t, [normalizeAxis(axis, t.ndim, "logSoftmax")], true));
}

/** log Σ exp over sorted distinct non-empty `axes`, shifted by the detached maximum (unchecked). */
function logsumexpOf(t: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
  const m = inner.max(t.detach(), axes, true);
  // A row of all −∞ (or +∞) would give ∞ − ∞; shifting by 0 there yields the right −∞ (or +∞).
  const shift = inner.where(inner.compare(inner.abs(m), Number.POSITIVE_INFINITY, "<"), m, 0);
  const lse = inner.add(inner.log(inner.sum(inner.exp(inner.sub(t, shift)), axes, true)), shift);
  return keepdims
    ? lse
    : inner.reshape(
        lse,
        t.shape.filter((_, i) => !axes.includes(i)),
      );
}

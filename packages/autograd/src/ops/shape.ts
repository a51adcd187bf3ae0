/**
 * @file Shape ops, validated at the door: reshape, transpose, broadcastTo, sumTo, take, scatterAdd, concat,
 * stack. Their derivatives: primitives/shape.ts.
 */
import { inner } from "../primitives/index.js";
import {
  assertShape,
  broadcastShapes,
  formatShape,
  normalizeAxis,
  type Shape,
  shapeSize,
  shapesEqual,
} from "../shape.js";
import { Tensor } from "../tensor.js";
import { describeValue } from "../validate.js";
import { toTensor } from "./convert.js";

/** Indices for `take`: a list of integers, an Int32Array, or a 1-D tensor of integers. */
export type Indices = readonly number[] | Int32Array | Tensor;

/**
 * The same data with a new shape (no copy); one entry may be −1 (inferred).
 * @throws Error `reshape: cannot reshape [2, 3] (6 elements) to [4]`.
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const t = toTensor(x, "reshape");
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= -1)) {
    throw new Error(
      `reshape: the new shape must be an array of non-negative integers (one may be -1), got ${String(shape)}`,
    );
  }
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1) throw new Error(`reshape: only one axis may be -1, got ${formatShape(shape)}`);
  let target = shape;
  if (unknown === 1) {
    const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
    if (known === 0 || t.size % known !== 0) {
      throw new Error(
        `reshape: cannot reshape ${formatShape(t.shape)} (${t.size} elements) to ${formatShape(shape)}`,
      );
    }
    target = shape.map((d) => (d === -1 ? t.size / known : d));
  }
  if (shapeSize(target) !== t.size) {
    throw new Error(
      `reshape: cannot reshape ${formatShape(t.shape)} (${t.size} elements) to ${formatShape(shape)} (${shapeSize(target)} elements)`,
    );
  }
  if (shapesEqual(target, t.shape)) return t;
  return inner.reshape(t, target);
}

/**
 * Permute axes; the default reverses them (`x.T` for a matrix).
 * @throws Error if `axes` is not a permutation of the tensor's axes.
 */
export function transpose(x: Tensor, axes?: readonly number[]): Tensor {
  const t = toTensor(x, "transpose");
  const r = t.ndim;
  const perm =
    axes === undefined
      ? Array.from({ length: r }, (_, i) => r - 1 - i)
      : axes.map((a) => normalizeAxis(a, r, "transpose"));
  if (perm.length !== r || new Set(perm).size !== r) {
    throw new Error(
      `transpose: axes [${axes?.join(", ")}] are not a permutation of the ${r} axes of a tensor of shape ${formatShape(t.shape)}`,
    );
  }
  if (perm.every((a, i) => a === i)) return t;
  return inner.transpose(t, perm);
}

/** Broadcast `x` to `shape` (numpy rules); its gradient sums back. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  const t = toTensor(x, "broadcastTo");
  assertShape(shape, "broadcastTo");
  const s = broadcastShapes(t.shape, shape, "broadcastTo");
  if (!shapesEqual(s, shape))
    throw new Error(`broadcastTo: cannot broadcast ${formatShape(t.shape)} to ${formatShape(shape)}`);
  if (shapesEqual(t.shape, shape)) return t;
  return inner.broadcastTo(t, shape);
}

/**
 * Sum `x` down to `shape` — the adjoint of broadcasting, used by every binary op's gradient: leading axes
 * are summed away, axes where `shape` has 1 are summed with keepdims.
 * @throws Error if `shape` does not broadcast to `x.shape`.
 */
export function sumTo(x: Tensor, shape: Shape): Tensor {
  const t = toTensor(x, "sumTo");
  assertShape(shape, "sumTo");
  if (shapesEqual(t.shape, shape)) return t;
  const s = t.ndim < shape.length ? null : broadcastShapes(shape, t.shape, "sumTo");
  if (s === null || !shapesEqual(s, t.shape))
    throw new Error(`sumTo: cannot sum ${formatShape(t.shape)} to ${formatShape(shape)}`);
  return inner.sumTo(t, shape);
}

function normalizeIndices(indices: Indices, n: number, op: string, axis: number): Int32Array {
  const list: ArrayLike<number> = indices instanceof Tensor ? indices.data : indices;
  if (indices instanceof Tensor && indices.ndim !== 1) {
    throw new Error(`${op}: indices must be 1-D, got shape ${formatShape(indices.shape)}`);
  }
  if (!(list instanceof Int32Array) && !Array.isArray(list) && !(list instanceof Float64Array)) {
    throw new Error(
      `${op}: indices must be an array of integers, an Int32Array or a 1-D tensor, got ${describeValue(indices)}`,
    );
  }
  const out = new Int32Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const v = list[i]!;
    if (!Number.isInteger(v) || v < -n || v >= n) {
      throw new Error(
        `${op}: index ${String(v)} (position ${i}) is out of range for axis ${axis} of size ${n}`,
      );
    }
    out[i] = v < 0 ? v + n : v;
  }
  return out;
}

/**
 * Select entries along `axis` (default 0): `take(X, batch, 1)` picks the columns of a minibatch.
 * Indices may repeat (their gradients add up) and be negative (counting from the end).
 * @throws Error for an out-of-range axis or index.
 */
export function take(x: Tensor, indices: Indices, axis = 0): Tensor {
  const t = toTensor(x, "take");
  const ax = normalizeAxis(axis, t.ndim, "take");
  return inner.take(t, normalizeIndices(indices, t.shape[ax]!, "take", ax), ax);
}

/** Adjoint of `take`: a zero tensor of `shape` with the slices of `x` added at `indices` along `axis`. */
export function scatterAdd(x: Tensor, indices: Indices, axis: number, shape: readonly number[]): Tensor {
  const t = toTensor(x, "scatterAdd");
  assertShape(shape, "scatterAdd");
  const ax = normalizeAxis(axis, shape.length, "scatterAdd");
  const idx = normalizeIndices(indices, shape[ax]!, "scatterAdd", ax);
  const expected = shape.slice();
  expected[ax] = idx.length;
  if (!shapesEqual(expected, t.shape)) {
    throw new Error(
      `scatterAdd: values have shape ${formatShape(t.shape)}, expected ${formatShape(expected)}`,
    );
  }
  return inner.scatterAdd(t, idx, ax, shape);
}

/**
 * Join tensors along an existing axis (default 0).
 * @throws Error for an empty list, different ranks, or shapes that differ off `axis`.
 */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new Error("concat: expected a non-empty array of tensors");
  const ts = xs.map((x, i) => toTensor(x, "concat", i + 1));
  const first = ts[0]!;
  if (first.ndim === 0) throw new Error("concat: cannot concatenate 0-d tensors (use stack)");
  const ax = normalizeAxis(axis, first.ndim, "concat");
  for (const [i, t] of ts.entries()) {
    if (t.ndim !== first.ndim || t.shape.some((d, k) => k !== ax && d !== first.shape[k])) {
      throw new Error(
        `concat: tensor ${i} has shape ${formatShape(t.shape)}, which does not match ${formatShape(first.shape)} except along axis ${ax}`,
      );
    }
  }
  if (ts.length === 1) return first;
  return inner.concat(ts, ax);
}

/**
 * Join same-shaped tensors along a new axis (default 0).
 * @throws Error for an empty list or different shapes.
 */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new Error("stack: expected a non-empty array of tensors");
  const ts = xs.map((x, i) => toTensor(x, "stack", i + 1));
  const first = ts[0]!;
  for (const [i, t] of ts.entries()) {
    if (!shapesEqual(t.shape, first.shape)) {
      throw new Error(
        `stack: tensor ${i} has shape ${formatShape(t.shape)}, expected ${formatShape(first.shape)} like tensor 0`,
      );
    }
  }
  const ax = normalizeAxis(axis, first.ndim + 1, "stack");
  const shape = [...first.shape.slice(0, ax), 1, ...first.shape.slice(ax)];
  return inner.concat(
    ts.map((t) => inner.reshape(t, shape)),
    ax,
  );
}

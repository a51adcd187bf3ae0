/**
 * @file The reduction loops: sum (pairwise, so rounding grows like log n), max and min (NaN propagates
 * like numpy) over sorted distinct axes. Kernels trust their input and allocate only their result.
 */
import { type Shape, shapeSize, stridesOf } from "../shape.js";

/** Which reduction a `reduce` call performs. */
export type ReduceKind = "sum" | "max" | "min";

/**
 * Reduce `src` (shape `shape`) over the sorted, distinct `axes`; the result is laid out as the input
 * shape with the reduced axes removed (keepdims is only a reshape). max/min propagate NaN like numpy.
 */
export function reduce(
  kind: ReduceKind,
  src: Float64Array,
  shape: Shape,
  axes: readonly number[],
): Float64Array {
  const rank = shape.length;
  const reduced = new Array<boolean>(rank).fill(false);
  for (const a of axes) reduced[a] = true;
  const outShape = shape.filter((_, i) => !reduced[i]);
  const out = new Float64Array(shapeSize(outShape));
  const init = kind === "sum" ? 0 : kind === "max" ? -Infinity : Infinity;
  out.fill(init);
  const n = src.length;
  if (n === 0) return out;
  if (outShape.length === 0) {
    out[0] = reduceRun(kind, src, 0, n, init);
    return out;
  }
  // Output strides seen from the input's axes: 0 on reduced axes.
  const own = stridesOf(outShape);
  const ostr = new Array<number>(rank).fill(0);
  for (let i = 0, k = 0; i < rank; i++) if (!reduced[i]) ostr[i] = own[k++]!;
  const last = shape[rank - 1]!;
  const lastReduced = reduced[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  let obase = 0;
  for (let s = 0; s < n; s += last) {
    if (lastReduced) {
      out[obase] = reduceRun(kind, src, s, s + last, out[obase]!);
    } else if (kind === "sum") {
      for (let j = 0; j < last; j++) out[obase + j]! += src[s + j]!;
    } else {
      for (let j = 0; j < last; j++) out[obase + j] = pick(kind, out[obase + j]!, src[s + j]!);
    }
    for (let ax = rank - 2; ax >= 0; ax--) {
      obase += ostr[ax]!;
      if (++idx[ax]! < shape[ax]!) break;
      obase -= ostr[ax]! * shape[ax]!;
      idx[ax] = 0;
    }
  }
  return out;
}

function pick(kind: "max" | "min", acc: number, v: number): number {
  if (Number.isNaN(acc)) return acc; // NaN sticks
  if (Number.isNaN(v)) return v;
  return kind === "max" ? (v > acc ? v : acc) : v < acc ? v : acc;
}

function reduceRun(kind: ReduceKind, src: Float64Array, from: number, to: number, acc: number): number {
  if (kind === "sum") return acc + pairwiseSum(src, from, to - from);
  for (let i = from; i < to; i++) acc = pick(kind, acc, src[i]!);
  return acc;
}

/**
 * numpy's pairwise summation (`pairwise_sum_DOUBLE`), which `np.sum` uses along a contiguous axis: below 8
 * elements a plain loop; up to 128 eight interleaved partial sums combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))
 * plus the remainder; above, split in two halves (the first a multiple of 8) and add the halves.
 * More accurate than a running sum (error grows like log n, not n), and reproducing it makes our sums round
 * like numpy's. `sum` uses it along contiguous runs.
 */
export function pairwiseSum(a: Float64Array, from = 0, n = a.length - from): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[from + i]!;
    return res;
  }
  if (n <= 128) {
    let r0 = a[from]!;
    let r1 = a[from + 1]!;
    let r2 = a[from + 2]!;
    let r3 = a[from + 3]!;
    let r4 = a[from + 4]!;
    let r5 = a[from + 5]!;
    let r6 = a[from + 6]!;
    let r7 = a[from + 7]!;
    const end = n - (n % 8);
    let i = 8;
    for (; i < end; i += 8) {
      const k = from + i;
      r0 += a[k]!;
      r1 += a[k + 1]!;
      r2 += a[k + 2]!;
      r3 += a[k + 3]!;
      r4 += a[k + 4]!;
      r5 += a[k + 5]!;
      r6 += a[k + 6]!;
      r7 += a[k + 7]!;
    }
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) res += a[from + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, from, n2) + pairwiseSum(a, from + n2, n - n2);
}

/**
 * @file Loops that move values without arithmetic: strided gathers (broadcast, transpose), take,
 * scatter-add and concatenation. Kernels trust their input (the public ops check shapes once) and allocate
 * only their result.
 */
import { broadcastStrides, type Shape, shapeSize } from "../shape.js";

/**
 * Copy `src` read with per-axis `strides` (starting at `offset`) into a new contiguous array of `shape`.
 * Broadcasting is stride 0; transposition is permuted strides. The innermost axis is a tight loop.
 */
export function gatherStrided(
  src: Float64Array,
  offset: number,
  shape: Shape,
  strides: readonly number[],
): Float64Array {
  const n = shapeSize(shape);
  const out = new Float64Array(n);
  const rank = shape.length;
  if (n === 0) return out;
  if (rank === 0) {
    out[0] = src[offset]!;
    return out;
  }
  const last = shape[rank - 1]!;
  const ls = strides[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  let base = offset;
  for (let o = 0; o < n; o += last) {
    if (ls === 1) out.set(src.subarray(base, base + last), o);
    else if (ls === 0) out.fill(src[base]!, o, o + last);
    else for (let j = 0, s = base; j < last; j++, s += ls) out[o + j] = src[s]!;
    for (let ax = rank - 2; ax >= 0; ax--) {
      base += strides[ax]!;
      if (++idx[ax]! < shape[ax]!) break;
      base -= strides[ax]! * shape[ax]!;
      idx[ax] = 0;
    }
  }
  return out;
}

/** `src` (of shape `from`) broadcast to `to`, as a new contiguous array; `src` itself if no copy is needed. */
export function expandData(src: Float64Array, from: Shape, to: Shape): Float64Array {
  if (src.length === shapeSize(to)) return src;
  if (src.length === 1) return new Float64Array(shapeSize(to)).fill(src[0]!);
  return gatherStrided(src, 0, to, broadcastStrides(from, to));
}

/**
 * Select `indices` along `axis`: `shape[axis]` becomes `indices.length`. When `scatter` is given, the
 * adjoint instead: adds each slice of `src` (shaped like the take result) into `scatter` at its index.
 */
export function takeAlong(src: Float64Array, shape: Shape, indices: Int32Array, axis: number): Float64Array {
  const outer = shapeSize(shape.slice(0, axis));
  const inner = shapeSize(shape.slice(axis + 1));
  const n = shape[axis]!;
  const k = indices.length;
  const out = new Float64Array(outer * k * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      const from = (o * n + indices[j]!) * inner;
      const to = (o * k + j) * inner;
      if (inner === 1) out[to] = src[from]!;
      else out.set(src.subarray(from, from + inner), to);
    }
  }
  return out;
}

/** Adjoint of `takeAlong`: zeros of `shape`, with each slice of `src` added at its index along `axis`. */
export function scatterAddAlong(
  src: Float64Array,
  shape: Shape,
  indices: Int32Array,
  axis: number,
): Float64Array {
  const outer = shapeSize(shape.slice(0, axis));
  const inner = shapeSize(shape.slice(axis + 1));
  const n = shape[axis]!;
  const k = indices.length;
  const out = new Float64Array(shapeSize(shape));
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      const to = (o * n + indices[j]!) * inner;
      const from = (o * k + j) * inner;
      for (let i = 0; i < inner; i++) out[to + i]! += src[from + i]!;
    }
  }
  return out;
}

/** Concatenate contiguous arrays along `axis` (each given with its shape; all agree off `axis`). */
export function concatAlong(
  parts: readonly { data: Float64Array; shape: Shape }[],
  axis: number,
  outShape: Shape,
): Float64Array {
  const out = new Float64Array(shapeSize(outShape));
  const outer = shapeSize(outShape.slice(0, axis));
  const inner = shapeSize(outShape.slice(axis + 1));
  const rowOut = outShape[axis]! * inner;
  let col = 0;
  for (const p of parts) {
    const row = p.shape[axis]! * inner;
    for (let o = 0; o < outer; o++) out.set(p.data.subarray(o * row, (o + 1) * row), o * rowOut + col);
    col += row;
  }
  return out;
}

/**
 * @file The loops of 2-D max and average pooling (NCHW) and of argmax / argmin along an axis.
 *
 * Windows follow PyTorch with ceil_mode=False: output row oh covers input rows oh·s − p … oh·s − p + k − 1.
 * Max pooling pads with −∞ (padding never wins) and scans each window row-major, keeping the first maximum;
 * average pooling counts the padding (count_include_pad=True), so every window divides by kH·kW.
 */

/** Sizes, kernel, stride and padding of a pooling. */
export interface PoolGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
  kH: number;
  kW: number;
  OH: number;
  OW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
}

/**
 * Max pooling: the maximum of each window and, in `argmax`, the flat index (into x) of the first maximum
 * in row-major window order. NaN wins over numbers, as in PyTorch.
 */
export function maxPool2dForward(
  x: Float64Array,
  g: PoolGeometry,
): { out: Float64Array; argmax: Int32Array } {
  const { N, C, H, W, kH, kW, OH, OW, strideH, strideW, padH, padW } = g;
  const out = new Float64Array(N * C * OH * OW);
  const argmax = new Int32Array(out.length);
  let o = 0;
  for (let plane = 0; plane < N * C; plane++) {
    const base = plane * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = Math.max(0, oh * strideH - padH);
      const h1 = Math.min(H, oh * strideH - padH + kH);
      for (let ow = 0; ow < OW; ow++, o++) {
        const w0 = Math.max(0, ow * strideW - padW);
        const w1 = Math.min(W, ow * strideW - padW + kW);
        let best = Number.NEGATIVE_INFINITY;
        let at = base + h0 * W + w0;
        for (let h = h0; h < h1; h++) {
          for (let w = w0; w < w1; w++) {
            const v = x[base + h * W + w]!;
            if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) {
              best = v;
              at = base + h * W + w;
            }
          }
        }
        out[o] = best;
        argmax[o] = at;
      }
    }
  }
  return { out, argmax };
}

/** Average pooling with count_include_pad: the sum of each window's real elements over kH·kW. */
export function avgPool2dForward(x: Float64Array, g: PoolGeometry): Float64Array {
  const { N, C, H, W, kH, kW, OH, OW, strideH, strideW, padH, padW } = g;
  const out = new Float64Array(N * C * OH * OW);
  const scale = 1 / (kH * kW);
  let o = 0;
  for (let plane = 0; plane < N * C; plane++) {
    const base = plane * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = Math.max(0, oh * strideH - padH);
      const h1 = Math.min(H, oh * strideH - padH + kH);
      for (let ow = 0; ow < OW; ow++, o++) {
        const w0 = Math.max(0, ow * strideW - padW);
        const w1 = Math.min(W, ow * strideW - padW + kW);
        let s = 0;
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) s += x[base + h * W + w]!;
        out[o] = s * scale;
      }
    }
  }
  return out;
}

/** The adjoint of `avgPool2dForward`: each output gradient spread evenly (÷ kH·kW) over its window. */
export function avgPool2dBackward(gy: Float64Array, g: PoolGeometry): Float64Array {
  const { N, C, H, W, kH, kW, OH, OW, strideH, strideW, padH, padW } = g;
  const dx = new Float64Array(N * C * H * W);
  const scale = 1 / (kH * kW);
  let o = 0;
  for (let plane = 0; plane < N * C; plane++) {
    const base = plane * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = Math.max(0, oh * strideH - padH);
      const h1 = Math.min(H, oh * strideH - padH + kH);
      for (let ow = 0; ow < OW; ow++, o++) {
        const w0 = Math.max(0, ow * strideW - padW);
        const w1 = Math.min(W, ow * strideW - padW + kW);
        const v = gy[o]! * scale;
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) dx[base + h * W + w]! += v;
      }
    }
  }
  return dx;
}

/**
 * Index of the first maximum (or minimum) along the middle axis of an (outer, len, inner) layout, as
 * float64 values. NaN counts as the extremum, like numpy and PyTorch. `len` must be at least 1.
 */
export function argReduce(
  x: Float64Array,
  outer: number,
  len: number,
  inner: number,
  kind: "max" | "min",
): Float64Array {
  const out = new Float64Array(outer * inner);
  const sign = kind === "max" ? 1 : -1;
  for (let a = 0; a < outer; a++) {
    for (let b = 0; b < inner; b++) {
      const base = a * len * inner + b;
      let best = sign * x[base]!;
      let at = 0;
      if (!Number.isNaN(best)) {
        for (let i = 1; i < len; i++) {
          const v = sign * x[base + i * inner]!;
          if (v > best || Number.isNaN(v)) {
            best = v;
            at = i;
            if (Number.isNaN(v)) break;
          }
        }
      }
      out[a * inner + b] = at;
    }
  }
  return out;
}

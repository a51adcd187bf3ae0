/**
 * @file The loops of conv2d and of its two backward products: im2col / col2im around the WASM GEMM.
 *
 * A convolution of one group is the product W_g (Og × K) · cols (K × P), with K = Cg·kH·kW the length of a
 * receptive field and P = (images of the chunk) · OH·OW the output positions; `im2col` lays the receptive
 * fields out as the columns of `cols`. The three products (forward, d/dx, d/dW) each run as one GEMM per
 * group over a whole chunk of images, so the small matrices of a first layer (Og = 6, K = 25) still make
 * wide products. Kernels trust their arguments: the public ops validate shapes once.
 */
import { gemm } from "./gemm.js";

/**
 * Everything a convolution's loops need. Padding is given as the zeros before the first row / column
 * (`padTop`, `padLeft`); the output size (OH, OW) fixes how many there are after, so PyTorch's asymmetric
 * `padding="same"` needs nothing special.
 */
export interface ConvGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  kH: number;
  kW: number;
  OH: number;
  OW: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  dilationH: number;
  dilationW: number;
  groups: number;
}

/** Largest im2col buffer (elements) before a batch is split into chunks of images: 256 KB, so that cols stays in L2 between im2col and the GEMM (measured: 1.2–1.4× faster than 16 MB chunks on a LeNet layer). */
const COLS_LIMIT = 1 << 15;

/** Images per chunk so that cols (K × nb·OH·OW) stays under COLS_LIMIT (at least one image). */
function chunkSize(g: ConvGeometry, K: number): number {
  return Math.max(1, Math.min(g.N, Math.floor(COLS_LIMIT / Math.max(1, K * g.OH * g.OW))));
}

/** First and one-past-last output column whose input column ow·s − p + j·d lies inside [0, W). */
function validRange(j: number, d: number, s: number, p: number, size: number, out: number): [number, number] {
  const off = j * d - p;
  const lo = Math.max(0, Math.ceil(-off / s));
  const hi = Math.min(out, Math.floor((size - 1 - off) / s) + 1);
  return [lo, Math.max(lo, hi)];
}

/**
 * cols[(c·kH + i)·kW + j, n·OH·OW + oh·OW + ow] = x[n0 + n, group·Cg + c, oh·sH − pT + i·dH, ow·sW − pL + j·dW]
 * (0 in the padding), for the `nb` images from n0; the row stride of cols is P = nb·OH·OW.
 */
export function im2col(
  x: Float64Array,
  g: ConvGeometry,
  group: number,
  n0: number,
  nb: number,
  cols: Float64Array,
): void {
  const { C, H, W, kH, kW, OH, OW, strideH, strideW, padTop, padLeft, dilationH, dilationW } = g;
  const Cg = C / g.groups;
  const OHW = OH * OW;
  const P = nb * OHW;
  for (let c = 0; c < Cg; c++) {
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++) {
        const row = ((c * kH + i) * kW + j) * P;
        const [lo, hi] = validRange(j, dilationW, strideW, padLeft, W, OW);
        const colOff = j * dilationW - padLeft;
        for (let n = 0; n < nb; n++) {
          const plane = ((n0 + n) * C + group * Cg + c) * H * W;
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * strideH - padTop + i * dilationH;
            const o = row + n * OHW + oh * OW;
            if (ih < 0 || ih >= H) {
              cols.fill(0, o, o + OW);
              continue;
            }
            const src = plane + ih * W + colOff;
            for (let ow = 0; ow < lo; ow++) cols[o + ow] = 0;
            for (let ow = lo; ow < hi; ow++) cols[o + ow] = x[src + ow * strideW]!;
            for (let ow = hi; ow < OW; ow++) cols[o + ow] = 0;
          }
        }
      }
    }
  }
}

/** The adjoint of `im2col`: dx[…] += cols[…] over the same index map (padding entries are dropped). */
export function col2imAdd(
  cols: Float64Array,
  g: ConvGeometry,
  group: number,
  n0: number,
  nb: number,
  dx: Float64Array,
): void {
  const { C, H, W, kH, kW, OH, OW, strideH, strideW, padTop, padLeft, dilationH, dilationW } = g;
  const Cg = C / g.groups;
  const OHW = OH * OW;
  const P = nb * OHW;
  for (let c = 0; c < Cg; c++) {
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++) {
        const row = ((c * kH + i) * kW + j) * P;
        const [lo, hi] = validRange(j, dilationW, strideW, padLeft, W, OW);
        const colOff = j * dilationW - padLeft;
        for (let n = 0; n < nb; n++) {
          const plane = ((n0 + n) * C + group * Cg + c) * H * W;
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * strideH - padTop + i * dilationH;
            if (ih < 0 || ih >= H) continue;
            const o = row + n * OHW + oh * OW;
            const dst = plane + ih * W + colOff;
            for (let ow = lo; ow < hi; ow++) dx[dst + ow * strideW]! += cols[o + ow]!;
          }
        }
      }
    }
  }
}

/**
 * Gather the rows of one group from an (N, O, OH·OW) tensor into an (Og × nb·OH·OW) matrix, or (with
 * `back`) scatter such a matrix into it: the GEMMs work on (channel × position) matrices, tensors are NCHW.
 */
function groupRows(
  t: Float64Array,
  m: Float64Array,
  g: ConvGeometry,
  group: number,
  n0: number,
  nb: number,
  back: boolean,
): void {
  const OHW = g.OH * g.OW;
  const Og = g.O / g.groups;
  const P = nb * OHW;
  for (let o = 0; o < Og; o++) {
    for (let n = 0; n < nb; n++) {
      const ti = ((n0 + n) * g.O + group * Og + o) * OHW;
      const mi = o * P + n * OHW;
      if (back) t.set(m.subarray(mi, mi + OHW), ti);
      else m.set(t.subarray(ti, ti + OHW), mi);
    }
  }
}

/**
 * out (N, O, OH, OW) = conv2d(x, w) + bias: per chunk of images and group, im2col then
 * out_g = W_g · cols through the GEMM.
 */
export function conv2dForward(
  x: Float64Array,
  w: Float64Array,
  bias: Float64Array | null,
  g: ConvGeometry,
): Float64Array {
  const { N, O, OH, OW, groups } = g;
  const OHW = OH * OW;
  const Og = O / groups;
  const K = (g.C / groups) * g.kH * g.kW;
  const out = new Float64Array(N * O * OHW);
  const nb = chunkSize(g, K);
  const cols = new Float64Array(K * nb * OHW);
  const prod = new Float64Array(Og * nb * OHW);
  for (let n0 = 0; n0 < N; n0 += nb) {
    const m = Math.min(nb, N - n0);
    for (let group = 0; group < groups; group++) {
      im2col(x, g, group, n0, m, cols);
      // one image: its group's output rows are contiguous in out, so the GEMM writes them in place
      if (m === 1)
        gemm(false, false, Og, OHW, K, w, group * Og * K, cols, 0, out, (n0 * O + group * Og) * OHW);
      else {
        gemm(false, false, Og, m * OHW, K, w, group * Og * K, cols, 0, prod, 0);
        groupRows(out, prod, g, group, n0, m, true);
      }
    }
  }
  if (bias !== null) {
    for (let n = 0; n < N; n++) {
      for (let o = 0; o < O; o++) {
        const b = bias[o]!;
        const base = (n * O + o) * OHW;
        for (let p = base; p < base + OHW; p++) out[p]! += b;
      }
    }
  }
  return out;
}

/**
 * dx (N, C, H, W) of conv2d from the output gradient gy (N, O, OH, OW) and the weight: per group,
 * dcols = W_gᵀ · gy_g through the GEMM (transpose read by strides), then col2im.
 */
export function conv2dBackwardInput(gy: Float64Array, w: Float64Array, g: ConvGeometry): Float64Array {
  const { N, C, H, W, O, OH, OW, groups } = g;
  const OHW = OH * OW;
  const Og = O / groups;
  const K = (C / groups) * g.kH * g.kW;
  const dx = new Float64Array(N * C * H * W);
  const nb = chunkSize(g, K);
  const dcols = new Float64Array(K * nb * OHW);
  const gyg = new Float64Array(Og * nb * OHW);
  for (let n0 = 0; n0 < N; n0 += nb) {
    const m = Math.min(nb, N - n0);
    for (let group = 0; group < groups; group++) {
      if (m === 1)
        gemm(true, false, K, OHW, Og, w, group * Og * K, gy, (n0 * O + group * Og) * OHW, dcols, 0);
      else {
        groupRows(gy, gyg, g, group, n0, m, false);
        gemm(true, false, K, m * OHW, Og, w, group * Og * K, gyg, 0, dcols, 0);
      }
      col2imAdd(dcols, g, group, n0, m, dx);
    }
  }
  return dx;
}

/**
 * dW (O, C/groups, kH, kW) of conv2d from the input x and the output gradient gy: per group,
 * dW_g = gy_g · colsᵀ through the GEMM, summed over chunks of images.
 */
export function conv2dBackwardWeight(x: Float64Array, gy: Float64Array, g: ConvGeometry): Float64Array {
  const { N, O, OH, OW, groups } = g;
  const OHW = OH * OW;
  const Og = O / groups;
  const K = (g.C / groups) * g.kH * g.kW;
  const dw = new Float64Array(O * K);
  const nb = chunkSize(g, K);
  const cols = new Float64Array(K * nb * OHW);
  const gyg = new Float64Array(Og * nb * OHW);
  const part = new Float64Array(Og * K);
  for (let n0 = 0; n0 < N; n0 += nb) {
    const m = Math.min(nb, N - n0);
    for (let group = 0; group < groups; group++) {
      im2col(x, g, group, n0, m, cols);
      if (m === 1) gemm(false, true, Og, K, OHW, gy, (n0 * O + group * Og) * OHW, cols, 0, part, 0);
      else {
        groupRows(gy, gyg, g, group, n0, m, false);
        gemm(false, true, Og, K, m * OHW, gyg, 0, cols, 0, part, 0);
      }
      const base = group * Og * K;
      for (let k = 0; k < Og * K; k++) dw[base + k]! += part[k]!;
    }
  }
  return dw;
}

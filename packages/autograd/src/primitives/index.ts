/**
 * @file The table of primitives, assembled from one file per kind, and the inner ops: unchecked calls of
 * the primitives that the gradient rules, the composites and (after validating) the public ops use.
 *
 * Every derivative of the library lives in this folder, in the file of its kind: `tanh`'s in unary.ts,
 * `mul`'s in binary.ts, `matmul`'s in linalg.ts, `transpose`'s in shape.ts, `sum`'s in reduce.ts.
 * Everything else (mean, softmax, logsumexp, stack, …) is composed from these primitives. The table is
 * typed as a mapped type over the primitive names, so a primitive without a forward or a gradient rule
 * fails to compile. Each kind's file receives the inner ops as an argument (`o`) instead of importing
 * them: the imports stay free of cycles while the rules are written in the library's own ops, so
 * gradients of gradients come for free.
 */
import type { CompareOp } from "../kernels/binary.js";
import { type Shape, shapesEqual } from "../shape.js";
import { Tensor } from "../tensor.js";
import { apply } from "./apply.js";
import { binaryPrimitives } from "./binary.js";
import { type ArgReduceAttrs, type ConvAttrs, convPrimitives, type PoolAttrs } from "./conv.js";
import { linalgPrimitives } from "./linalg.js";
import { reducePrimitives } from "./reduce.js";
import { shapePrimitives } from "./shape.js";
import type { PrimitiveTable } from "./types.js";
import { unaryPrimitives } from "./unary.js";

export { apply } from "./apply.js";
export type { CompareOp } from "./binary.js";
export type { ArgReduceAttrs, ConvAttrs, PoolAttrs } from "./conv.js";
export type { ReduceAttrs } from "./reduce.js";
export type { Primitive, PrimitiveAttrs, PrimitiveName, PrimitiveTable } from "./types.js";

/** A number as a 0-d tensor; a tensor unchanged. */
const lift = (v: Tensor | number): Tensor =>
  typeof v === "number" ? new Tensor(new Float64Array([v]), []) : v;

type T = Tensor;
type N = Tensor | number;

/**
 * The inner ops: each runs one primitive (or, for `sumTo`, two) on arguments it trusts — shapes that
 * broadcast, axes normalised and sorted, indices in range. Numbers stand for 0-d tensors.
 */
export const inner = {
  neg: (x: T): T => apply(primitives.neg, [x], undefined),
  square: (x: T): T => apply(primitives.square, [x], undefined),
  sqrt: (x: T): T => apply(primitives.sqrt, [x], undefined),
  exp: (x: T): T => apply(primitives.exp, [x], undefined),
  log: (x: T): T => apply(primitives.log, [x], undefined),
  abs: (x: T): T => apply(primitives.abs, [x], undefined),
  tanh: (x: T): T => apply(primitives.tanh, [x], undefined),
  sigmoid: (x: T): T => apply(primitives.sigmoid, [x], undefined),
  relu: (x: T): T => apply(primitives.relu, [x], undefined),
  sign: (x: T): T => apply(primitives.sign, [x], undefined),
  clip: (x: T, lo: number, hi: number): T => apply(primitives.clip, [x], { lo, hi }),
  tanhGrad: (g: T, y: T): T => apply(primitives.tanhGrad, [g, y], undefined),
  sigmoidGrad: (g: T, y: T): T => apply(primitives.sigmoidGrad, [g, y], undefined),
  reluGrad: (g: T, x: T): T => apply(primitives.reluGrad, [g, x], undefined),
  add: (x: N, y: N): T => apply(primitives.add, [lift(x), lift(y)], undefined),
  sub: (x: N, y: N): T => apply(primitives.sub, [lift(x), lift(y)], undefined),
  mul: (x: N, y: N): T => apply(primitives.mul, [lift(x), lift(y)], undefined),
  div: (x: N, y: N): T => apply(primitives.div, [lift(x), lift(y)], undefined),
  pow: (x: N, y: N): T => apply(primitives.pow, [lift(x), lift(y)], undefined),
  maximum: (x: N, y: N): T => apply(primitives.maximum, [lift(x), lift(y)], undefined),
  minimum: (x: N, y: N): T => apply(primitives.minimum, [lift(x), lift(y)], undefined),
  sigmoidCrossEntropy: (z: N, y: N): T =>
    apply(primitives.sigmoidCrossEntropy, [lift(z), lift(y)], undefined),
  compare: (x: N, y: N, op: CompareOp): T => apply(primitives.compare, [lift(x), lift(y)], { op }),
  where: (c: N, x: N, y: N): T => apply(primitives.where, [lift(c), lift(x), lift(y)], undefined),
  /** op(x)·op(y) for ≥ 2-D operands. */
  matmul: (x: T, y: T, transA: boolean, transB: boolean): T =>
    apply(primitives.matmul, [x, y], { transA, transB }),
  addmm: (c: T, x: T, y: T, transA: boolean, transB: boolean): T =>
    apply(primitives.addmm, [c, x, y], { transA, transB }),
  /** The same data with `shape` (same size); x itself when the shape is unchanged. */
  reshape: (x: T, shape: Shape): T =>
    shapesEqual(x.shape, shape) ? x : apply(primitives.reshape, [x], { shape: [...shape] }),
  /** x with its axes permuted by `axes` (a permutation); x itself for the identity. */
  transpose: (x: T, axes: readonly number[]): T =>
    axes.every((a, i) => a === i) ? x : apply(primitives.transpose, [x], { axes }),
  broadcastTo: (x: T, shape: Shape): T =>
    shapesEqual(x.shape, shape) ? x : apply(primitives.broadcastTo, [x], { shape: [...shape] }),
  take: (x: T, indices: Int32Array, axis: number): T => apply(primitives.take, [x], { indices, axis }),
  scatterAdd: (x: T, indices: Int32Array, axis: number, shape: Shape): T =>
    apply(primitives.scatterAdd, [x], { indices, axis, shape: [...shape] }),
  concat: (xs: readonly T[], axis: number): T =>
    xs.length === 1 ? xs[0]! : apply(primitives.concat, xs, { axis }),
  /** Reductions over sorted distinct `axes`. */
  sum: (x: T, axes: readonly number[], keepdims: boolean): T =>
    apply(primitives.sum, [x], { axes, keepdims }),
  max: (x: T, axes: readonly number[], keepdims: boolean): T =>
    apply(primitives.max, [x], { axes, keepdims }),
  min: (x: T, axes: readonly number[], keepdims: boolean): T =>
    apply(primitives.min, [x], { axes, keepdims }),
  /** The convolution (cross-correlation) of x (N, C, H, W) with w (O, C/groups, kH, kW), plus b (O). */
  conv2d: (x: T, w: T, b: T | undefined, attrs: ConvAttrs): T =>
    apply(primitives.conv2d, b === undefined ? [x, w] : [x, w, b], attrs),
  /** conv2d's gradient with respect to x, for the output gradient gy (the transposed convolution). */
  conv2dBackwardInput: (gy: T, w: T, attrs: ConvAttrs): T =>
    apply(primitives.conv2dBackwardInput, [gy, w], attrs),
  /** conv2d's gradient with respect to w, for the output gradient gy. */
  conv2dBackwardWeight: (x: T, gy: T, attrs: ConvAttrs): T =>
    apply(primitives.conv2dBackwardWeight, [x, gy], attrs),
  maxPool2d: (x: T, attrs: PoolAttrs): T => apply(primitives.maxPool2d, [x], attrs),
  avgPool2d: (x: T, attrs: PoolAttrs): T => apply(primitives.avgPool2d, [x], attrs),
  /** avgPool2d's adjoint: g spread evenly over each window. */
  avgPool2dBackward: (g: T, attrs: PoolAttrs): T => apply(primitives.avgPool2dBackward, [g], attrs),
  argmax: (x: T, attrs: ArgReduceAttrs): T => apply(primitives.argmax, [x], attrs),
  argmin: (x: T, attrs: ArgReduceAttrs): T => apply(primitives.argmin, [x], attrs),
  /**
   * Sum x down to `shape`, which broadcasts to x's — the adjoint of broadcasting, used by every binary
   * op's gradient: leading axes are summed away, axes where `shape` has 1 are summed with keepdims.
   */
  sumTo(x: T, shape: Shape): T {
    if (shapesEqual(x.shape, shape)) return x;
    const lead = x.ndim - shape.length;
    const axes: number[] = [];
    for (let i = 0; i < x.ndim; i++)
      if (i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1)) axes.push(i);
    return inner.reshape(inner.sum(x, axes, true), shape);
  },
};

/** The inner ops' type, as the kinds' files receive them. */
export type InnerOps = typeof inner;

/** Every primitive: forward beside vjp, with the derivative each rule implements, one file per kind. */
export const primitives: PrimitiveTable = {
  ...unaryPrimitives(inner),
  ...binaryPrimitives(inner),
  ...linalgPrimitives(inner),
  ...shapePrimitives(inner),
  ...reducePrimitives(inner),
  ...convPrimitives(inner),
};

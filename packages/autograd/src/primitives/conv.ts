/**
 * @file The primitives of convolution and pooling (and argmax / argmin): forward beside vjp, a derivative
 * comment on each. The loops are kernels/conv.ts (im2col + the GEMM) and kernels/pool.ts.
 *
 * conv2d's two backward products are primitives themselves (transposed convolution and the weight
 * correlation), each with its own vjp written with these three, so gradients of gradients work. Rules call
 * the inner ops (`o`); the public, validated functions live in ops/conv.ts.
 */
import {
  type ConvGeometry,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dForward,
} from "../kernels/conv.js";
import {
  argReduce,
  avgPool2dBackward,
  avgPool2dForward,
  maxPool2dForward,
  type PoolGeometry,
} from "../kernels/pool.js";
import type { Shape } from "../shape.js";
import { Tensor } from "../tensor.js";
import type { InnerOps } from "./index.js";
import type { Primitive, PrimitiveTable } from "./types.js";

/**
 * Attributes shared by conv2d and its two backward primitives: the full spatial geometry; batch and channel
 * counts come from the tensors. `padding` is [top, left]: the output size fixes the padding after.
 */
export interface ConvAttrs {
  stride: readonly [number, number];
  padding: readonly [number, number];
  dilation: readonly [number, number];
  groups: number;
  /** Spatial size of the input x: [H, W]. */
  inputSize: readonly [number, number];
  /** Spatial size of the kernel: [kH, kW]. */
  kernelSize: readonly [number, number];
  /** Spatial size of the output: [OH, OW]. */
  outputSize: readonly [number, number];
}

/** Attributes of maxPool2d, avgPool2d and avgPool2d's backward: the full spatial geometry. */
export interface PoolAttrs {
  kernelSize: readonly [number, number];
  stride: readonly [number, number];
  padding: readonly [number, number];
  /** Spatial size of the input x: [H, W]. */
  inputSize: readonly [number, number];
  /** Spatial size of the output: [OH, OW]. */
  outputSize: readonly [number, number];
}

/** Attributes of argmax / argmin: a normalised axis (null: over the flattened tensor) and keepdims. */
export interface ArgReduceAttrs {
  axis: number | null;
  keepdims: boolean;
}

/** The attributes of the convolution and pooling primitives (part of `PrimitiveAttrs`). */
export interface ConvolutionAttrs {
  conv2d: ConvAttrs;
  conv2dBackwardInput: ConvAttrs;
  conv2dBackwardWeight: ConvAttrs;
  maxPool2d: PoolAttrs;
  avgPool2d: PoolAttrs;
  avgPool2dBackward: PoolAttrs;
  argmax: ArgReduceAttrs;
  argmin: ArgReduceAttrs;
}

type ConvPrimitiveName =
  | "conv2d"
  | "conv2dBackwardInput"
  | "conv2dBackwardWeight"
  | "maxPool2d"
  | "avgPool2d"
  | "avgPool2dBackward"
  | "argmax"
  | "argmin";

/** The geometry of the kernels, from the attributes and the batch / channel counts. */
export function convGeometry(a: ConvAttrs, N: number, C: number, O: number): ConvGeometry {
  return {
    N,
    C,
    H: a.inputSize[0],
    W: a.inputSize[1],
    O,
    kH: a.kernelSize[0],
    kW: a.kernelSize[1],
    OH: a.outputSize[0],
    OW: a.outputSize[1],
    strideH: a.stride[0],
    strideW: a.stride[1],
    padTop: a.padding[0],
    padLeft: a.padding[1],
    dilationH: a.dilation[0],
    dilationW: a.dilation[1],
    groups: a.groups,
  };
}

function poolGeometry(a: PoolAttrs, shape: Shape): PoolGeometry {
  return {
    N: shape[0]!,
    C: shape[1]!,
    H: a.inputSize[0],
    W: a.inputSize[1],
    kH: a.kernelSize[0],
    kW: a.kernelSize[1],
    OH: a.outputSize[0],
    OW: a.outputSize[1],
    strideH: a.stride[0],
    strideW: a.stride[1],
    padH: a.padding[0],
    padW: a.padding[1],
  };
}

/** The first-maximum indices of each max-pool output, kept beside the output for its vjp. */
const poolArgmax = new WeakMap<Tensor, Int32Array>();

/** Shape of an argmax / argmin result. */
function argReducedShape(shape: Shape, { axis, keepdims }: ArgReduceAttrs): number[] {
  if (axis === null) return keepdims ? shape.map(() => 1) : [];
  return keepdims ? shape.map((d, i) => (i === axis ? 1 : d)) : shape.filter((_, i) => i !== axis);
}

function argReducePrim(kind: "max" | "min"): Primitive<ArgReduceAttrs> {
  return {
    name: kind === "max" ? "argmax" : "argmin",
    forward: ([x], attrs) => {
      const shape = x!.shape;
      const outer = attrs.axis === null ? 1 : shape.slice(0, attrs.axis).reduce((p, d) => p * d, 1);
      const len = attrs.axis === null ? x!.size : shape[attrs.axis]!;
      const inner = attrs.axis === null ? 1 : shape.slice(attrs.axis + 1).reduce((p, d) => p * d, 1);
      return new Tensor(argReduce(x!.data, outer, len, inner, kind), argReducedShape(shape, attrs));
    },
    // an index is piecewise constant in x: no gradient
    vjp: () => [null],
    differentiable: false,
  };
}

/** conv2d's output tensor (N, O, OH, OW) from its kernel's flat result. */
const convOut = (data: Float64Array, N: number, O: number, a: ConvAttrs): Tensor =>
  new Tensor(data, [N, O, a.outputSize[0], a.outputSize[1]]);

/** The convolution and pooling rows of the primitive table, their rules written with the inner ops `o`. */
export const convPrimitives = (o: InnerOps): PrimitiveTable<ConvPrimitiveName> => ({
  // y = x ⋆ W + b (cross-correlation): dx = the transposed convolution of g with W, dW = the correlation of
  // x with g, db = Σ_{n, oh, ow} g
  conv2d: {
    name: "conv2d",
    forward: ([x, w, b], a) => {
      const g = convGeometry(a, x!.shape[0]!, x!.shape[1]!, w!.shape[0]!);
      return convOut(conv2dForward(x!.data, w!.data, b?.data ?? null, g), g.N, g.O, a);
    },
    vjp: (g, [x, w, b], _, a) => [
      x!.requiresGrad ? o.conv2dBackwardInput(g, w!, a) : null,
      w!.requiresGrad ? o.conv2dBackwardWeight(x!, g, a) : null,
      ...(b === undefined ? [] : [b.requiresGrad ? o.sum(g, [0, 2, 3], false) : null]),
    ],
  },
  // dx = Bᵢ(gy, W), bilinear, the adjoint of x ↦ conv2d(x, W): ⟨G, Bᵢ(gy, W)⟩ = ⟨conv2d(G, W), gy⟩, so
  // d/dgy = conv2d(G, W) and d/dW = B_w(G, gy)
  conv2dBackwardInput: {
    name: "conv2dBackwardInput",
    forward: ([gy, w], a) => {
      const g = convGeometry(a, gy!.shape[0]!, w!.shape[1]! * a.groups, w!.shape[0]!);
      return new Tensor(conv2dBackwardInput(gy!.data, w!.data, g), [g.N, g.C, g.H, g.W]);
    },
    vjp: (G, [gy, w], _, a) => [
      gy!.requiresGrad ? o.conv2d(G, w!, undefined, a) : null,
      w!.requiresGrad ? o.conv2dBackwardWeight(G, gy!, a) : null,
    ],
  },
  // dW = B_w(x, gy), bilinear, the adjoint of W ↦ conv2d(x, W): ⟨G, B_w(x, gy)⟩ = ⟨conv2d(x, G), gy⟩, so
  // d/dx = Bᵢ(gy, G) and d/dgy = conv2d(x, G)
  conv2dBackwardWeight: {
    name: "conv2dBackwardWeight",
    forward: ([x, gy], a) => {
      const g = convGeometry(a, x!.shape[0]!, x!.shape[1]!, gy!.shape[1]!);
      return new Tensor(conv2dBackwardWeight(x!.data, gy!.data, g), [g.O, g.C / g.groups, g.kH, g.kW]);
    },
    vjp: (G, [x, gy], _, a) => [
      x!.requiresGrad ? o.conv2dBackwardInput(gy!, G, a) : null,
      gy!.requiresGrad ? o.conv2d(x!, G, undefined, a) : null,
    ],
  },
  // y = max over each window: dx = g scattered to the first maximum of each window (PyTorch's choice on
  // ties; overlapping windows add up), i.e. scatterAdd at the argmax indices, whose own vjp is take
  maxPool2d: {
    name: "maxPool2d",
    forward: ([x], a) => {
      const g = poolGeometry(a, x!.shape);
      const { out, argmax } = maxPool2dForward(x!.data, g);
      const y = new Tensor(out, [g.N, g.C, g.OH, g.OW]);
      poolArgmax.set(y, argmax);
      return y;
    },
    vjp: (g, [x], out, a) => {
      const indices = poolArgmax.get(out) ?? maxPool2dForward(x!.data, poolGeometry(a, x!.shape)).argmax;
      const dx = o.scatterAdd(o.reshape(g, [g.size]), indices, 0, [x!.size]);
      return [o.reshape(dx, x!.shape)];
    },
  },
  // y = (Σ window) / (kH·kW), linear: dx = avgPool2dBackward(g), the adjoint spreading g over each window
  avgPool2d: {
    name: "avgPool2d",
    forward: ([x], a) => {
      const g = poolGeometry(a, x!.shape);
      return new Tensor(avgPool2dForward(x!.data, g), [g.N, g.C, g.OH, g.OW]);
    },
    vjp: (g, _, __, a) => [o.avgPool2dBackward(g, a)],
  },
  // the adjoint of avgPool2d, linear; its own adjoint is avgPool2d: dg = avgPool2d(G)
  avgPool2dBackward: {
    name: "avgPool2dBackward",
    forward: ([gy], a) => {
      const g = poolGeometry(a, gy!.shape);
      return new Tensor(avgPool2dBackward(gy!.data, g), [g.N, g.C, g.H, g.W]);
    },
    vjp: (G, _, __, a) => [o.avgPool2d(G, a)],
  },
  argmax: argReducePrim("max"),
  argmin: argReducePrim("min"),
});

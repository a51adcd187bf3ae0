/**
 * @file The public conv2d, maxPool2d, avgPool2d, argmax and argmin: PyTorch's names, semantics and NCHW
 * layout. Each validates its arguments once, here, with a message naming the op and the shapes, then runs a
 * primitive of `primitives/conv.ts`.
 */

import { type ConvAttrs, inner, type PoolAttrs } from "../primitives/index.js";
import { formatShape, normalizeAxis } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { describeValue, expectInteger, expectIntegerPair, expectTensor } from "../validate.js";

/** A size given once for both spatial axes, or as an [h, w] pair. */
export type Size2d = number | readonly [number, number];

/** Options of `conv2d`, as in `torch.nn.functional.conv2d`. */
export interface Conv2dOptions {
  /** Step between windows; default 1. */
  stride?: Size2d;
  /**
   * Zeros added on each side; default 0. `"valid"` is 0; `"same"` (stride 1 only) pads so that the output
   * has the input's size, the odd extra zero going after (bottom / right), as PyTorch does.
   */
  padding?: Size2d | "same" | "valid";
  /** Spacing between kernel taps; default 1. */
  dilation?: Size2d;
  /** Channel groups: input and output channels split into `groups` independent convolutions; default 1. */
  groups?: number;
}

/** Options of `maxPool2d` and `avgPool2d`, as in PyTorch (ceil_mode=False). */
export interface Pool2dOptions {
  /** Step between windows; default the kernel size. */
  stride?: Size2d | null;
  /** Padding on each side (−∞ for max, zeros counted in the average for avg); at most half the kernel. */
  padding?: Size2d;
}

function expectOptions(fn: string, options: unknown): void {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new Error(`${fn}: options must be an object such as { stride: 2 }, got ${describeValue(options)}`);
  }
}

/** Throw unless x is 4-D (N, C, H, W) or, unbatched as PyTorch also accepts, 3-D (C, H, W). */
function expectImages(fn: string, x: unknown): asserts x is Tensor {
  expectTensor(fn, "x", x);
  if (x.ndim !== 4 && x.ndim !== 3) {
    throw new Error(
      `${fn}: x must have 4 axes (N, C, H, W) or 3 (C, H, W), got shape ${formatShape(x.shape)}`,
    );
  }
}

/** Run `f` on an unbatched (C, H, W) x as a batch of one, and drop the batch axis of its result. */
function unbatched(x: Tensor, f: (x4: Tensor) => Tensor): Tensor {
  const y = f(inner.reshape(x, [1, ...x.shape]));
  return inner.reshape(y, y.shape.slice(1));
}

/** floor((size + padding − extent) / stride) + 1, or an error when no window fits. */
function outputSize(
  fn: string,
  x: Tensor,
  extent: readonly [number, number],
  totalPad: readonly [number, number],
  stride: readonly [number, number],
  what: string,
): [number, number] {
  const [H, W] = [x.shape[2]!, x.shape[3]!];
  const OH = Math.floor((H + totalPad[0] - extent[0]) / stride[0]) + 1;
  const OW = Math.floor((W + totalPad[1] - extent[1]) / stride[1]) + 1;
  if (OH < 1 || OW < 1) {
    throw new Error(
      `${fn}: ${what} spans ${extent[0]}×${extent[1]} but the padded input is only ` +
        `${H + totalPad[0]}×${W + totalPad[1]} (x ${formatShape(x.shape)}); the output would be empty`,
    );
  }
  return [OH, OW];
}

/**
 * 2-D convolution (cross-correlation, like PyTorch): x (N, C, H, W) — or unbatched (C, H, W) — ⋆ weight (O, C/groups, kH, kW) + bias (O),
 * giving (N, O, OH, OW) with OH = ⌊(H + 2·padding − dilation·(kH − 1) − 1) / stride⌋ + 1. Runs through the
 * WASM GEMM (im2col) forward and backward; differentiable in x, weight and bias, to any order.
 * @throws Error naming conv2d and the shapes for a wrong rank, mismatched channels, a bias not of shape [O],
 *   bad options, or an output that would be empty.
 * @example conv2d(images, weight, bias, { stride: 2, padding: 1 }) // (64, 1, 28, 28) ⋆ (6, 1, 5, 5) → …
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  const fn = "conv2d";
  expectImages(fn, x);
  if (x.ndim === 3) return unbatched(x, (x4) => conv2d(x4, weight, bias, options));
  expectTensor(fn, "weight", weight);
  if (weight.ndim !== 4) {
    throw new Error(
      `${fn}: weight must have 4 axes (O, C/groups, kH, kW), got shape ${formatShape(weight.shape)}`,
    );
  }
  expectOptions(fn, options);
  const C = x.shape[1]!;
  const [O, Cg, kH, kW] = weight.shape as [number, number, number, number];
  const groups = expectInteger(fn, "groups", options.groups ?? 1);
  if (C % groups !== 0 || O % groups !== 0) {
    throw new Error(
      `${fn}: groups = ${groups} must divide the input channels (${C}, x ${formatShape(x.shape)}) and the ` +
        `output channels (${O}, weight ${formatShape(weight.shape)})`,
    );
  }
  if (Cg * groups !== C) {
    throw new Error(
      `${fn}: weight has ${Cg} input channels per group but x has ${C} channels and groups = ${groups}; ` +
        `expected weight of shape [O, ${C / groups}, kH, kW], got weight ${formatShape(weight.shape)} and x ${formatShape(x.shape)}`,
    );
  }
  if (bias !== undefined && bias !== null) {
    expectTensor(fn, "bias", bias);
    if (bias.ndim !== 1 || bias.shape[0] !== O) {
      throw new Error(
        `${fn}: bias must have shape [${O}] (one value per output channel of weight ${formatShape(weight.shape)}), got shape ${formatShape(bias.shape)}`,
      );
    }
  }
  const stride = expectIntegerPair(fn, "stride", options.stride ?? 1, 1);
  const dilation = expectIntegerPair(fn, "dilation", options.dilation ?? 1, 1);
  const extent: [number, number] = [dilation[0] * (kH - 1) + 1, dilation[1] * (kW - 1) + 1];
  let before: [number, number];
  let total: [number, number];
  if (options.padding === "same") {
    if (stride[0] !== 1 || stride[1] !== 1) {
      throw new Error(
        `${fn}: padding "same" needs stride 1 (as in PyTorch), got stride ${formatShape(stride)}`,
      );
    }
    total = [extent[0] - 1, extent[1] - 1];
    before = [Math.floor(total[0] / 2), Math.floor(total[1] / 2)];
  } else {
    before = options.padding === "valid" ? [0, 0] : expectIntegerPair(fn, "padding", options.padding ?? 0, 0);
    total = [2 * before[0], 2 * before[1]];
  }
  const what = `the kernel ${formatShape([kH, kW])} with dilation ${formatShape(dilation)}`;
  const attrs: ConvAttrs = {
    stride,
    padding: before,
    dilation,
    groups,
    inputSize: [x.shape[2]!, x.shape[3]!],
    kernelSize: [kH, kW],
    outputSize: outputSize(fn, x, extent, total, stride, what),
  };
  return inner.conv2d(x, weight, bias ?? undefined, attrs);
}

function poolAttrs(fn: string, x: unknown, kernelSize: unknown, options: Pool2dOptions): PoolAttrs {
  expectImages(fn, x);
  expectOptions(fn, options);
  const kernel = expectIntegerPair(fn, "kernelSize", kernelSize, 1);
  const stride =
    options.stride === undefined || options.stride === null
      ? kernel
      : expectIntegerPair(fn, "stride", options.stride, 1);
  const padding = expectIntegerPair(fn, "padding", options.padding ?? 0, 0);
  if (2 * padding[0] > kernel[0] || 2 * padding[1] > kernel[1]) {
    throw new Error(
      `${fn}: padding ${formatShape(padding)} must be at most half the kernel size ${formatShape(kernel)} (as in PyTorch)`,
    );
  }
  const total: [number, number] = [2 * padding[0], 2 * padding[1]];
  return {
    kernelSize: kernel,
    stride,
    padding,
    inputSize: [x.shape[2]!, x.shape[3]!],
    outputSize: outputSize(fn, x, kernel, total, stride, `the window ${formatShape(kernel)}`),
  };
}

/**
 * 2-D max pooling of x (N, C, H, W) or (C, H, W), like `torch.nn.functional.max_pool2d` (ceil_mode=False): padding is
 * −∞; the gradient goes to the first maximum of each window in row-major order, exactly as PyTorch.
 * @throws Error naming maxPool2d for an x not 3-D or 4-D, bad sizes, padding over half the kernel, or an empty output.
 * @example maxPool2d(x, 2) // (N, C, 24, 24) → (N, C, 12, 12)
 */
export function maxPool2d(x: Tensor, kernelSize: Size2d, options: Pool2dOptions = {}): Tensor {
  expectImages("maxPool2d", x);
  if (x.ndim === 3) return unbatched(x, (x4) => maxPool2d(x4, kernelSize, options));
  return inner.maxPool2d(x, poolAttrs("maxPool2d", x, kernelSize, options));
}

/**
 * 2-D average pooling of x (N, C, H, W) or (C, H, W), like `torch.nn.functional.avg_pool2d` with its defaults
 * (count_include_pad=True, ceil_mode=False): every window divides by kH·kW, padding zeros included.
 * @throws Error naming avgPool2d for an x not 3-D or 4-D, bad sizes, padding over half the kernel, or an empty output.
 * @example avgPool2d(x, 3, { stride: 2, padding: 1 })
 */
export function avgPool2d(x: Tensor, kernelSize: Size2d, options: Pool2dOptions = {}): Tensor {
  expectImages("avgPool2d", x);
  if (x.ndim === 3) return unbatched(x, (x4) => avgPool2d(x4, kernelSize, options));
  return inner.avgPool2d(x, poolAttrs("avgPool2d", x, kernelSize, options));
}

function argReduceOp(
  fn: "argmax" | "argmin",
  x: Tensor,
  axis: number | null | undefined,
  keepdims: boolean,
): Tensor {
  expectTensor(fn, "x", x);
  if (typeof keepdims !== "boolean") {
    throw new Error(`${fn}: keepdims must be a boolean, got ${describeValue(keepdims)}`);
  }
  const ax = axis === undefined || axis === null ? null : normalizeAxis(axis, x.ndim, fn);
  if (ax === null ? x.size === 0 : x.shape[ax] === 0) {
    throw new Error(
      `${fn}: cannot take the ${fn} of an empty ${ax === null ? "tensor" : `axis ${ax}`} (x ${formatShape(x.shape)}); expected at least one element`,
    );
  }
  return inner[fn](x, { axis: ax, keepdims });
}

/**
 * Index of the largest element, like `torch.argmax` / `numpy.argmax`: over the flattened tensor when `axis`
 * is undefined (a flat row-major index), else along `axis`. The first occurrence wins ties; NaN counts as
 * the largest. Indices come back as float64 integers; the result is not differentiable.
 * @throws Error naming argmax for an axis out of range or an empty tensor / axis.
 * @example argmax(logits, 1) // predicted class of each row
 */
export function argmax(x: Tensor, axis?: number | null, keepdims = false): Tensor {
  return argReduceOp("argmax", x, axis, keepdims);
}

/**
 * Index of the smallest element, like `torch.argmin`; see `argmax` for the conventions.
 * @throws Error naming argmin for an axis out of range or an empty tensor / axis.
 * @example argmin(distances, -1)
 */
export function argmin(x: Tensor, axis?: number | null, keepdims = false): Tensor {
  return argReduceOp("argmin", x, axis, keepdims);
}

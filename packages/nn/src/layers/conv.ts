/**
 * @file Convolution and pooling layers with PyTorch's names, layouts (NCHW), initialisation and repr:
 * Conv2d, MaxPool2d and AvgPool2d, on the `conv2d`, `maxPool2d` and `avgPool2d` primitives of
 * @tapegrad/autograd. An input is (N, C, H, W), or (C, H, W) for one unbatched image, as in PyTorch.
 */
import {
  avgPool2d,
  conv2d,
  formatShape,
  maxPool2d,
  reshape,
  type Size2d,
  type Tensor,
  zeros,
} from "@tapegrad/autograd";
import { expectInteger, expectIntegerPair, expectTensor } from "@tapegrad/autograd/validate";
import { type RngOptions, resolveRng, uniform } from "../init.js";
import { Module, pyBool } from "../module.js";

/** Options of `Conv2d` (PyTorch's keyword arguments, plus where its initial weights come from). */
export interface Conv2dLayerOptions extends RngOptions {
  /** Step between windows; default 1. */
  stride?: Size2d;
  /**
   * Zeros added on each side; default 0. `"valid"` is no padding; `"same"` (stride 1 only) keeps H and W.
   */
  padding?: Size2d | "same" | "valid";
  /** Spacing between kernel taps; default 1. */
  dilation?: Size2d;
  /** Channel groups (both channel counts must be multiples of it); default 1. */
  groups?: number;
  /** Learn a per-output-channel bias; default true. */
  bias?: boolean;
}

/** Python's repr of a tuple of ints: `(5, 5)`. */
const pyTuple = (p: readonly number[]): string => `(${p.join(", ")})`;

/**
 * Check an image batch and run `body` on it as (N, C, H, W): a 3-D (C, H, W) input is treated as a batch of
 * one and its result returned without the batch axis, as PyTorch does.
 * @param channels the expected C, or null for any.
 */
function onImages(fn: string, x: unknown, channels: number | null, body: (x4: Tensor) => Tensor): Tensor {
  expectTensor(fn, "input", x);
  if (x.ndim !== 4 && x.ndim !== 3) {
    throw new Error(
      `${fn}: input must have 4 axes (N, C, H, W) or 3 (C, H, W), got shape ${formatShape(x.shape)}`,
    );
  }
  const c = x.shape[x.ndim - 3]!;
  if (channels !== null && c !== channels) {
    throw new Error(
      `${fn}: input has ${c} channels (shape ${formatShape(x.shape)}, channels on axis ${x.ndim - 3}) but the layer expects ${channels}`,
    );
  }
  if (x.ndim === 4) return body(x);
  const y = body(reshape(x, [1, ...x.shape]));
  return reshape(y, y.shape.slice(1));
}

/**
 * 2-D convolution (PyTorch's nn.Conv2d): y = conv2d(x, weight, bias) with weight (outChannels,
 * inChannels/groups, kH, kW) and bias (outChannels). Initialised as PyTorch does: weight
 * kaiming_uniform(a = √5), which is U(−1/√fanIn, 1/√fanIn) with fanIn = inChannels/groups·kH·kW, and bias
 * U(−1/√fanIn, 1/√fanIn), drawn (weight first, row-major) from `rng`, a fresh `RandomState(seed)` or the
 * package's default generator (`manualSeed`).
 * @example
 * const conv = new Conv2d(1, 6, 5, { padding: 2 });
 * conv.forward(images).shape; // (64, 1, 28, 28) → [64, 6, 28, 28]
 * String(conv);               // "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))"
 */
export class Conv2d extends Module {
  /** C, the channels of the input. */
  readonly inChannels: number;
  /** O, the channels of the output. */
  readonly outChannels: number;
  /** [kH, kW] */
  readonly kernelSize: [number, number];
  /** [sH, sW] */
  readonly stride: [number, number];
  /** [pH, pW], or "same" / "valid" as given. */
  readonly padding: [number, number] | "same" | "valid";
  /** [dH, dW] */
  readonly dilation: [number, number];
  /** Channel groups. */
  readonly groups: number;
  /** (outChannels, inChannels/groups, kH, kW) */
  readonly weight: Tensor;
  /** (outChannels), or null when constructed with `bias: false`. */
  readonly bias: Tensor | null;

  /**
   * @throws Error naming Conv2d for a size or option that is not a positive integer (padding: non-negative)
   *   or pair of them, channels that `groups` does not divide, or padding "same" with a stride other than 1.
   */
  constructor(inChannels: number, outChannels: number, kernelSize: Size2d, options: Conv2dLayerOptions = {}) {
    super();
    const fn = "Conv2d";
    this.inChannels = expectInteger(fn, "inChannels", inChannels);
    this.outChannels = expectInteger(fn, "outChannels", outChannels);
    this.kernelSize = expectIntegerPair(fn, "kernelSize", kernelSize, 1);
    this.stride = expectIntegerPair(fn, "stride", options.stride ?? 1, 1);
    const padding = options.padding ?? 0;
    this.padding =
      padding === "same" || padding === "valid" ? padding : expectIntegerPair(fn, "padding", padding, 0);
    this.dilation = expectIntegerPair(fn, "dilation", options.dilation ?? 1, 1);
    this.groups = expectInteger(fn, "groups", options.groups ?? 1);
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new Error(
        `${fn}: groups = ${this.groups} must divide inChannels (${inChannels}) and outChannels (${outChannels})`,
      );
    }
    if (this.padding === "same" && (this.stride[0] !== 1 || this.stride[1] !== 1)) {
      throw new Error(
        `${fn}: padding "same" needs stride 1 (as in PyTorch), got stride ${pyTuple(this.stride)}`,
      );
    }
    const [kH, kW] = this.kernelSize;
    const fanIn = (inChannels / this.groups) * kH * kW;
    // kaiming_uniform(a = √5): gain √(2/(1 + 5)), bound gain·√3/√fanIn = 1/√fanIn; the bias uses the same bound
    const bound = 1 / Math.sqrt(fanIn);
    const rng = { rng: resolveRng(options) };
    const shape = [outChannels, inChannels / this.groups, kH, kW];
    this.weight = this.registerParameter(
      "weight",
      uniform(zeros(shape, { requiresGrad: true }), -bound, bound, rng),
    );
    this.bias =
      options.bias === false
        ? null
        : this.registerParameter(
            "bias",
            uniform(zeros([outChannels], { requiresGrad: true }), -bound, bound, rng),
          );
  }

  /**
   * @param x (N, inChannels, H, W) or (inChannels, H, W).
   * @returns (N, outChannels, OH, OW) with OH = ⌊(H + 2·pH − dH·(kH − 1) − 1)/sH⌋ + 1 (likewise OW), or
   *   (outChannels, OH, OW).
   * @throws Error naming Conv2d and the shape for a non-Tensor, a wrong rank or channel count, or an image
   *   smaller than the kernel.
   */
  forward(x: Tensor): Tensor {
    return onImages("Conv2d", x, this.inChannels, (x4) =>
      conv2d(x4, this.weight, this.bias, {
        stride: this.stride,
        padding: this.padding,
        dilation: this.dilation,
        groups: this.groups,
      }),
    );
  }

  /** PyTorch's: `1, 6, kernel_size=(5, 5), stride=(1, 1)`, then padding, dilation, groups, bias if not default. */
  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyTuple(this.kernelSize)}, stride=${pyTuple(this.stride)}`;
    const p = this.padding;
    if (typeof p === "string") s += `, padding=${p}`;
    else if (p[0] !== 0 || p[1] !== 0) s += `, padding=${pyTuple(p)}`;
    if (this.dilation[0] !== 1 || this.dilation[1] !== 1) s += `, dilation=${pyTuple(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += `, bias=${pyBool(false)}`;
    return s;
  }
}

/** Options of `MaxPool2d` and `AvgPool2d`. */
export interface Pool2dLayerOptions {
  /** Step between windows; default the kernel size. */
  stride?: Size2d;
  /** Padding on each side, at most half the kernel; default 0 (−∞ for max, zeros counted in the average). */
  padding?: Size2d;
}

/** What the two pools share: the sizes, their checks and their PyTorch repr. */
abstract class Pool2d extends Module {
  /** As given: a number or [h, w]. */
  readonly kernelSize: Size2d;
  /** As given, or the kernel size when not given (PyTorch's default). */
  readonly stride: Size2d;
  /** As given; default 0. */
  readonly padding: Size2d;

  constructor(fn: string, kernelSize: Size2d, options: Pool2dLayerOptions) {
    super();
    const kernel = expectIntegerPair(fn, "kernelSize", kernelSize, 1);
    expectIntegerPair(fn, "stride", options.stride ?? kernelSize, 1);
    const padding = expectIntegerPair(fn, "padding", options.padding ?? 0, 0);
    if (2 * padding[0] > kernel[0] || 2 * padding[1] > kernel[1]) {
      throw new Error(
        `${fn}: padding ${pyTuple(padding)} must be at most half the kernel size ${pyTuple(kernel)} (as in PyTorch)`,
      );
    }
    this.kernelSize = kernelSize;
    this.stride = options.stride ?? kernelSize;
    this.padding = options.padding ?? 0;
  }

  /** `kernel_size=2, stride=2, padding=0`: PyTorch prints an int as an int and a pair as a tuple. */
  protected sizesRepr(): string {
    const show = (v: Size2d): string => (typeof v === "number" ? String(v) : pyTuple(v));
    return `kernel_size=${show(this.kernelSize)}, stride=${show(this.stride)}, padding=${show(this.padding)}`;
  }
}

/**
 * 2-D max pooling (PyTorch's nn.MaxPool2d with ceil_mode=False and dilation 1): the largest value of each
 * window, padding counting as −∞; the gradient goes to the first maximum of the window in row-major order.
 * @example new MaxPool2d(2).forward(x) // (N, C, 24, 24) → (N, C, 12, 12)
 */
export class MaxPool2d extends Pool2d {
  /**
   * @param kernelSize the window, a number or [h, w]. @param options stride (default kernelSize), padding.
   * @throws Error naming MaxPool2d for sizes that are not positive integers, or padding over half the kernel.
   */
  constructor(kernelSize: Size2d, options: Pool2dLayerOptions = {}) {
    super("MaxPool2d", kernelSize, options);
  }

  /**
   * @param x (N, C, H, W) or (C, H, W). @returns (N, C, OH, OW) with OH = ⌊(H + 2·pH − kH)/sH⌋ + 1, or (C, OH, OW).
   * @throws Error naming MaxPool2d and the shape for a non-Tensor, a wrong rank or a too small image.
   */
  forward(x: Tensor): Tensor {
    const { kernelSize, stride, padding } = this;
    return onImages("MaxPool2d", x, null, (x4) => maxPool2d(x4, kernelSize, { stride, padding }));
  }

  /** `kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False` */
  override extraRepr(): string {
    return `${this.sizesRepr()}, dilation=1, ceil_mode=${pyBool(false)}`;
  }
}

/**
 * 2-D average pooling (PyTorch's nn.AvgPool2d with its defaults: ceil_mode=False, count_include_pad=True):
 * the mean of each window, every window dividing by kH·kW, padding zeros included.
 * @example new AvgPool2d(2).forward(x) // (N, C, 8, 8) → (N, C, 4, 4)
 */
export class AvgPool2d extends Pool2d {
  /**
   * @param kernelSize the window, a number or [h, w]. @param options stride (default kernelSize), padding.
   * @throws Error naming AvgPool2d for sizes that are not positive integers, or padding over half the kernel.
   */
  constructor(kernelSize: Size2d, options: Pool2dLayerOptions = {}) {
    super("AvgPool2d", kernelSize, options);
  }

  /**
   * @param x (N, C, H, W) or (C, H, W). @returns (N, C, OH, OW) with OH = ⌊(H + 2·pH − kH)/sH⌋ + 1, or (C, OH, OW).
   * @throws Error naming AvgPool2d and the shape for a non-Tensor, a wrong rank or a too small image.
   */
  forward(x: Tensor): Tensor {
    const { kernelSize, stride, padding } = this;
    return onImages("AvgPool2d", x, null, (x4) => avgPool2d(x4, kernelSize, { stride, padding }));
  }

  /** `kernel_size=2, stride=2, padding=0` */
  override extraRepr(): string {
    return this.sizesRepr();
  }
}

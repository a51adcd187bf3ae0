/**
 * @file Normalisation layers with PyTorch's semantics, parameter and buffer names: BatchNorm1d,
 * BatchNorm2d (batch statistics in training, running statistics in eval) and LayerNorm. Built from
 * autograd ops (mean, sub, square, sqrt, div), so their gradients come from the tape.
 */
import {
  add,
  div,
  formatShape,
  mean,
  mul,
  neg,
  ones,
  reshape,
  sqrt,
  square,
  sub,
  type Tensor,
  zeros,
} from "@tapegrad/autograd";
import { expectInteger, expectNumber, expectTensor } from "@tapegrad/autograd/validate";
import { Module, pyBool, pyFloat } from "../module.js";

/** Options of `BatchNorm1d` and `BatchNorm2d` (PyTorch's defaults). */
export interface BatchNormOptions {
  /** Added to the variance before the square root; default 1e-5. */
  eps?: number;
  /**
   * Weight of the new batch in the running statistics, in [0, 1]; default 0.1. `null`: a cumulative
   * average (weight 1/num_batches_tracked), as PyTorch's `momentum=None`.
   */
  momentum?: number | null;
  /** Learn a per-channel scale `weight` (init 1) and shift `bias` (init 0); default true. */
  affine?: boolean;
  /** Keep running statistics for eval mode; default true. When false, batch statistics are always used. */
  trackRunningStats?: boolean;
}

/**
 * Batch normalisation over the channel axis 1 (PyTorch's `_BatchNorm`). Training mode normalises with the
 * batch's mean and biased variance over every axis but 1, and updates the running statistics:
 * `running = (1 − momentum)·running + momentum·batch`, with the *unbiased* variance for `running_var`.
 * Eval mode normalises with the running statistics. y = (x − mean)/√(var + eps)·weight + bias.
 */
abstract class BatchNorm extends Module {
  /** C, the number of channels (axis 1 of the input). */
  readonly numFeatures: number;
  /** ε */
  readonly eps: number;
  /** Weight of the new batch in the running statistics; null for a cumulative average. */
  readonly momentum: number | null;
  /** Whether `weight` and `bias` exist. */
  readonly affine: boolean;
  /** Whether running statistics are kept (and used in eval mode). */
  readonly trackRunningStats: boolean;
  /** (C), initialised to 1; null without `affine`. */
  readonly weight: Tensor | null;
  /** (C), initialised to 0; null without `affine`. */
  readonly bias: Tensor | null;
  /** Buffer (C), initialised to 0; null without `trackRunningStats`. */
  readonly running_mean: Tensor | null;
  /** Buffer (C), initialised to 1; null without `trackRunningStats`. */
  readonly running_var: Tensor | null;
  /** Buffer, 0-d: the number of training batches seen; null without `trackRunningStats`. */
  readonly num_batches_tracked: Tensor | null;

  /** The class name for messages. */
  private readonly layerName: string;
  /** The input ranks this layer accepts, and how the message describes them. */
  protected abstract readonly layout: { ranks: readonly number[]; text: string };

  constructor(name: string, numFeatures: number, options: BatchNormOptions) {
    super();
    this.layerName = name;
    this.numFeatures = expectInteger(name, "numFeatures", numFeatures);
    this.eps = expectNumber(name, "eps", options.eps ?? 1e-5, { min: 0 });
    this.momentum =
      options.momentum === null
        ? null
        : expectNumber(name, "momentum", options.momentum ?? 0.1, { min: 0, max: 1 });
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    const C = this.numFeatures;
    this.weight = this.affine ? this.registerParameter("weight", ones([C], { requiresGrad: true })) : null;
    this.bias = this.affine ? this.registerParameter("bias", zeros([C], { requiresGrad: true })) : null;
    const track = this.trackRunningStats;
    this.running_mean = track ? this.registerBuffer("running_mean", zeros([C])) : null;
    this.running_var = track ? this.registerBuffer("running_var", ones([C])) : null;
    this.num_batches_tracked = track ? this.registerBuffer("num_batches_tracked", zeros([])) : null;
  }

  /**
   * @param x (N, C, …) as the subclass accepts. @returns the same shape.
   * @throws Error naming the layer and the shape for a non-Tensor, a wrong rank or channel count, or a
   *   training batch with one value per channel (its variance is undefined).
   */
  forward(x: Tensor): Tensor {
    const name = this.layerName;
    expectTensor(name, "input", x);
    const C = this.numFeatures;
    if (!this.layout.ranks.includes(x.ndim) || x.shape[1] !== C) {
      throw new Error(
        `${name}: input has shape ${formatShape(x.shape)}, expected ${this.layout.text} with C = ${C} (channels on axis 1)`,
      );
    }
    const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
    const channelShape = x.shape.map((d, i) => (i === 1 ? d : 1));
    // One scale and one shift per channel, computed on (1, C, 1, …) tensors, so that the full-size input
    // goes through as few broadcasting ops as possible: y = (x − mean)·(weight/√(var + eps)) + bias.
    const weight = this.weight === null ? null : reshape(this.weight, channelShape);
    const bias = this.bias === null ? null : reshape(this.bias, channelShape);
    if (this.training || this.running_mean === null || this.running_var === null) {
      const count = x.size / C;
      if (count <= 1 && this.training) {
        throw new Error(
          `${name}: expected more than 1 value per channel when training, got input of shape ${formatShape(x.shape)}`,
        );
      }
      const mu = mean(x, axes, true);
      const centered = sub(x, mu);
      const variance = mean(square(centered), axes, true); // biased, for normalising (as PyTorch)
      if (this.training) this.updateRunningStats(mu.data, variance.data, count);
      const invStd = div(1, sqrt(add(variance, this.eps)));
      const y = mul(centered, weight === null ? invStd : mul(weight, invStd));
      return bias === null ? y : add(y, bias);
    }
    // eval: x·scale + (bias − running_mean·scale) with scale = weight/√(running_var + eps), PyTorch's form
    const invStd = div(1, sqrt(add(reshape(this.running_var, channelShape), this.eps)));
    const scale = weight === null ? invStd : mul(weight, invStd);
    const meanScaled = mul(reshape(this.running_mean, channelShape), scale);
    return add(mul(x, scale), bias === null ? neg(meanScaled) : sub(bias, meanScaled));
  }

  /** PyTorch's update, in place (not on the tape): the running variance takes the unbiased variance. */
  private updateRunningStats(mu: Float64Array, biasedVar: Float64Array, count: number): void {
    if (this.running_mean === null || this.running_var === null || this.num_batches_tracked === null) return;
    const tracked = this.num_batches_tracked.data;
    tracked[0] = tracked[0]! + 1;
    const factor = this.momentum ?? 1 / tracked[0];
    const rm = this.running_mean.data;
    const rv = this.running_var.data;
    for (let c = 0; c < rm.length; c++) {
      const unbiased = (biasedVar[c]! * count) / (count - 1);
      rm[c] = factor * mu[c]! + (1 - factor) * rm[c]!;
      rv[c] = factor * unbiased + (1 - factor) * rv[c]!;
    }
  }

  /** `4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True` */
  override extraRepr(): string {
    const momentum = this.momentum === null ? "None" : pyFloat(this.momentum);
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${momentum}, affine=${pyBool(this.affine)}, track_running_stats=${pyBool(this.trackRunningStats)}`;
  }
}

/**
 * Batch normalisation of (N, C) or (N, C, L) inputs (PyTorch's nn.BatchNorm1d): statistics per channel C,
 * over N (and L). Parameters `weight`, `bias`; buffers `running_mean`, `running_var`, `num_batches_tracked`.
 * @example
 * const bn = new BatchNorm1d(4);
 * bn.forward(x);      // training: batch statistics, running statistics updated
 * bn.eval().forward(x); // eval: running statistics
 */
export class BatchNorm1d extends BatchNorm {
  protected readonly layout = { ranks: [2, 3], text: "(N, C) or (N, C, L)" };

  /** @throws Error for a numFeatures that is not a positive integer, a negative eps, a momentum outside [0, 1]. */
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super("BatchNorm1d", numFeatures, options);
  }
}

/**
 * Batch normalisation of (N, C, H, W) inputs (PyTorch's nn.BatchNorm2d): statistics per channel C, over
 * N, H and W. Parameters `weight`, `bias`; buffers `running_mean`, `running_var`, `num_batches_tracked`.
 */
export class BatchNorm2d extends BatchNorm {
  protected readonly layout = { ranks: [4], text: "(N, C, H, W)" };

  /** @throws Error for a numFeatures that is not a positive integer, a negative eps, a momentum outside [0, 1]. */
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super("BatchNorm2d", numFeatures, options);
  }
}

/** Options of `LayerNorm` (PyTorch's defaults). */
export interface LayerNormOptions {
  /** Added to the variance before the square root; default 1e-5. */
  eps?: number;
  /** Learn an elementwise `weight` (init 1) and `bias` (init 0) of shape normalizedShape; default true. */
  elementwiseAffine?: boolean;
}

/**
 * Layer normalisation (PyTorch's nn.LayerNorm): each example is normalised over its last
 * `normalizedShape.length` axes with their mean and biased variance, y = (x − mean)/√(var + eps)·weight + bias.
 * No running statistics: training and eval modes compute the same thing.
 * @example
 * const ln = new LayerNorm(8);          // normalise the last axis of (N, 8) or (N, L, 8)
 * const ln2 = new LayerNorm([4, 4]);   // the last two axes
 */
export class LayerNorm extends Module {
  /** The trailing shape normalised over. */
  readonly normalizedShape: readonly number[];
  /** ε */
  readonly eps: number;
  /** Whether `weight` and `bias` exist. */
  readonly elementwiseAffine: boolean;
  /** normalizedShape, initialised to 1; null without `elementwiseAffine`. */
  readonly weight: Tensor | null;
  /** normalizedShape, initialised to 0; null without `elementwiseAffine`. */
  readonly bias: Tensor | null;

  /**
   * @param normalizedShape a size or a list of sizes: the input's trailing axes.
   * @throws Error for a size that is not a positive integer or a negative eps.
   */
  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    const shape = typeof normalizedShape === "number" ? [normalizedShape] : normalizedShape;
    if (!Array.isArray(shape) || shape.length === 0) {
      throw new Error(
        `LayerNorm: normalizedShape must be a positive integer or a non-empty list of them, got ${JSON.stringify(normalizedShape)}`,
      );
    }
    this.normalizedShape = shape.map((d, i) => expectInteger("LayerNorm", `normalizedShape[${i}]`, d));
    this.eps = expectNumber("LayerNorm", "eps", options.eps ?? 1e-5, { min: 0 });
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    const affine = this.elementwiseAffine;
    this.weight = affine
      ? this.registerParameter("weight", ones(this.normalizedShape, { requiresGrad: true }))
      : null;
    this.bias = affine
      ? this.registerParameter("bias", zeros(this.normalizedShape, { requiresGrad: true }))
      : null;
  }

  /**
   * @param x (…, ...normalizedShape). @returns the same shape.
   * @throws Error naming the shapes when x's trailing axes are not normalizedShape.
   */
  forward(x: Tensor): Tensor {
    expectTensor("LayerNorm", "input", x);
    const k = this.normalizedShape.length;
    const trailing = x.shape.slice(x.ndim - k);
    if (x.ndim < k || trailing.some((d, i) => d !== this.normalizedShape[i])) {
      throw new Error(
        `LayerNorm: input has shape ${formatShape(x.shape)}, expected its last ${k === 1 ? "axis" : `${k} axes`} to be ${formatShape(this.normalizedShape)} (normalizedShape)`,
      );
    }
    const axes = this.normalizedShape.map((_, i) => x.ndim - k + i);
    const centered = sub(x, mean(x, axes, true));
    const variance = mean(square(centered), axes, true);
    const y = div(centered, sqrt(add(variance, this.eps)));
    if (this.weight === null || this.bias === null) return y;
    return add(mul(y, this.weight), this.bias);
  }

  /** `(4,), eps=1e-05, elementwise_affine=True` */
  override extraRepr(): string {
    const dims = this.normalizedShape;
    const tuple = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(", ")})`;
    return `${tuple}, eps=${pyFloat(this.eps)}, elementwise_affine=${pyBool(this.elementwiseAffine)}`;
  }
}

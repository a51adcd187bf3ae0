/**
 * @file Flatten (PyTorch's nn.Flatten): merge a range of axes into one, e.g. (N, C, H, W) → (N, C·H·W).
 */
import { formatShape, reshape, type Tensor } from "@tapegrad/autograd";
import { describeValue, expectTensor } from "@tapegrad/autograd/validate";
import { Module } from "../module.js";

/**
 * Merge axes startDim…endDim (inclusive; negative counts from the end) into one. The defaults, 1 and −1,
 * keep the batch axis and flatten the rest, as between a convolution and a Linear layer.
 * @example new Flatten().forward(zeros([64, 16, 4, 4])).shape // [64, 256]
 */
export class Flatten extends Module {
  /** First axis merged. */
  readonly startDim: number;
  /** Last axis merged (inclusive). */
  readonly endDim: number;

  /** @throws Error if an axis is not an integer. */
  constructor(startDim = 1, endDim = -1) {
    super();
    this.startDim = axis("startDim", startDim);
    this.endDim = axis("endDim", endDim);
  }

  /**
   * @param x a tensor with the axes startDim…endDim. @returns x with those axes merged.
   * @throws Error naming the shape when an axis is out of range or startDim comes after endDim.
   */
  forward(x: Tensor): Tensor {
    expectTensor("Flatten", "input", x);
    const rank = Math.max(x.ndim, 1); // PyTorch treats a 0-d tensor as 1-d here
    const start = this.startDim < 0 ? this.startDim + rank : this.startDim;
    const end = this.endDim < 0 ? this.endDim + rank : this.endDim;
    if (start < 0 || start >= rank || end < 0 || end >= rank || start > end) {
      throw new Error(
        `Flatten: cannot flatten axes ${this.startDim}…${this.endDim} of an input of shape ${formatShape(x.shape)}`,
      );
    }
    const s = x.ndim === 0 ? [1] : x.shape;
    const merged = s.slice(start, end + 1).reduce((p, d) => p * d, 1);
    return reshape(x, [...s.slice(0, start), merged, ...s.slice(end + 1)]);
  }

  /** `start_dim=1, end_dim=-1` */
  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

function axis(name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new Error(
      `Flatten: ${name} must be an integer (negative counts from the end), got ${describeValue(v)}`,
    );
  }
  return v;
}

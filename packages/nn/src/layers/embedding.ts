/**
 * @file Embedding (PyTorch's nn.Embedding): a lookup table of learned vectors, indexed by integers.
 */
import { reshape, Tensor, take, zeros } from "@tapegrad/autograd";
import { describeValue, expectInteger } from "@tapegrad/autograd/validate";
import { normal, type RngOptions } from "../init.js";
import { Module } from "../module.js";

/**
 * A table of `numEmbeddings` vectors of length `embeddingDim`; `forward(indices)` picks rows. The weight
 * (numEmbeddings, embeddingDim) is initialised N(0, 1) as PyTorch does, drawn from `rng`, a fresh
 * `RandomState(seed)` or the package's default generator. An index used twice gets both gradients (they
 * add up, through `take`'s adjoint).
 * @example
 * const emb = new Embedding(10, 3);
 * emb.forward([1, 4, 1]);                      // (3, 3)
 * emb.forward(tensor([[0, 2], [9, 9]]));       // (2, 2, 3)
 */
export class Embedding extends Module {
  /** The table, (numEmbeddings, embeddingDim). */
  readonly weight: Tensor;
  /** Number of rows of the table. */
  readonly numEmbeddings: number;
  /** Length of each vector. */
  readonly embeddingDim: number;

  /** @throws Error if a size is not a positive integer. */
  constructor(numEmbeddings: number, embeddingDim: number, options: RngOptions = {}) {
    super();
    this.numEmbeddings = expectInteger("Embedding", "numEmbeddings", numEmbeddings);
    this.embeddingDim = expectInteger("Embedding", "embeddingDim", embeddingDim);
    const table = zeros([numEmbeddings, embeddingDim], { requiresGrad: true });
    this.weight = this.registerParameter("weight", normal(table, 1, options));
  }

  /**
   * @param indices integers in [0, numEmbeddings): a `number[]`, an `Int32Array` (both 1-D) or a tensor of
   *   any shape (holding integers). @returns (…indices.shape, embeddingDim).
   * @throws Error naming the position of an index that is not an integer in range, or for other input.
   */
  forward(indices: Tensor | readonly number[] | Int32Array): Tensor {
    const n = this.numEmbeddings;
    let list: ArrayLike<number>;
    let shape: readonly number[];
    if (indices instanceof Tensor) [list, shape] = [indices.data, indices.shape];
    else if (Array.isArray(indices) || indices instanceof Int32Array)
      [list, shape] = [indices, [indices.length]];
    else {
      throw new Error(
        `Embedding: indices must be a number[], an Int32Array or a Tensor of integers, got ${describeValue(indices)}`,
      );
    }
    const flat = new Int32Array(list.length);
    for (let i = 0; i < list.length; i++) {
      const k = list[i]!;
      // PyTorch refuses negative indices here (unlike take's counting from the end)
      if (!Number.isInteger(k) || k < 0 || k >= n) {
        throw new Error(
          `Embedding: index ${describeValue(k)} at position ${i} is out of range: expected an integer in [0, ${n})`,
        );
      }
      flat[i] = k;
    }
    return reshape(take(this.weight, flat, 0), [...shape, this.embeddingDim]);
  }

  /** `10, 3` */
  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}`;
  }
}

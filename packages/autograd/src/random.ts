/**
 * @file numpy's legacy `np.random.RandomState`, bit for bit: the MT19937 stream, 53-bit uniform doubles,
 * the polar Box–Muller gaussian (through glibc's exact `log`, see glibc-log.ts), masked-rejection integers
 * and Fisher–Yates shuffles.
 */
import { glibcLog } from "./glibc-log.js";
import { formatShape, shapeSize } from "./shape.js";
import { Tensor } from "./tensor.js";
import { describeValue, expectInteger } from "./validate.js";

// ---------------------------------------------------------------------------------------------------------
// MT19937, as numpy's randomkit seeds and twists it.

const MT_N = 624;
const MT_M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const TWO_POW_32 = 4294967296;

/** The Mersenne Twister state and its raw 32-bit outputs. */
class MT19937 {
  private readonly key = new Uint32Array(MT_N);
  private pos = MT_N;

  /** numpy's `mt19937_seed`: Knuth's linear recurrence from a 32-bit seed; the first draw twists. */
  seed(seed: number): void {
    const key = this.key;
    key[0] = seed;
    for (let i = 1; i < MT_N; i++) {
      const prev = key[i - 1]!;
      key[i] = Math.imul(1812433253, prev ^ (prev >>> 30)) + i;
    }
    this.pos = MT_N;
  }

  /** Regenerate all 624 words at once (numpy's `mt19937_gen`). */
  private twist(): void {
    const key = this.key;
    let i = 0;
    let y: number;
    for (; i < MT_N - MT_M; i++) {
      y = (key[i]! & UPPER_MASK) | (key[i + 1]! & LOWER_MASK);
      key[i] = key[i + MT_M]! ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    for (; i < MT_N - 1; i++) {
      y = (key[i]! & UPPER_MASK) | (key[i + 1]! & LOWER_MASK);
      key[i] = key[i + MT_M - MT_N]! ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    y = (key[MT_N - 1]! & UPPER_MASK) | (key[0]! & LOWER_MASK);
    key[MT_N - 1] = key[MT_M - 1]! ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    this.pos = 0;
  }

  /**
   * The next tempered 32-bit output, as a signed int32 (its bits are the output; `>>> 0` reads it unsigned).
   * Signed so that it stays a small integer for V8 instead of a boxed double.
   */
  nextInt32(): number {
    if (this.pos === MT_N) this.twist();
    let y = this.key[this.pos++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    return y ^ (y >>> 18);
  }

  /** A uniform double in [0, 1) with 53 random bits: 27 from one output, 26 from the next. */
  nextDouble(): number {
    const a = this.nextInt32() >>> 5;
    const b = this.nextInt32() >>> 6;
    return (a * 67108864 + b) * 1.1102230246251565e-16; // 2^-53, exactly as dividing by 2^53
  }

  /** numpy's `random_interval`: uniform in [0, max] by masking to the next power of two and rejecting. */
  interval(max: number): number {
    if (max === 0) return 0;
    const mask = bitMask(max);
    let v: number;
    do v = (this.nextInt32() & mask) >>> 0;
    while (v > max);
    return v;
  }
}

/** The smallest 2^k - 1 that is >= `n`, for 0 <= n < 2^32. */
function bitMask(n: number): number {
  let m = n >>> 0;
  m |= m >>> 1;
  m |= m >>> 2;
  m |= m >>> 4;
  m |= m >>> 8;
  m |= m >>> 16;
  return m >>> 0;
}

// ---------------------------------------------------------------------------------------------------------
// The user-facing generator.

const MAX_SEED = 4294967295;

function checkSeed(seed: unknown): number {
  if (typeof seed !== "number" || !Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new Error(`RandomState: seed must be an integer in [0, ${MAX_SEED}], got ${describeValue(seed)}`);
  }
  return seed;
}

function checkShape(method: string, shape: readonly number[]): number[] {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(
        `RandomState.${method}: shape entries must be non-negative integers, got ${formatShape(shape)}`,
      );
    }
  }
  return [...shape];
}

/** Integers that float64 holds exactly, with all their neighbours: |x| <= 2^53. */
function isIntegerUpTo2p53(x: number): boolean {
  return Number.isInteger(x) && Math.abs(x) <= 2 ** 53;
}

/** `shape` arguments given as `undefined` (a scalar), one length, or a list of lengths. */
function shapeArg(method: string, shape: number | readonly number[] | undefined): number[] {
  if (shape === undefined) return [];
  return checkShape(method, typeof shape === "number" ? [shape] : shape);
}

/**
 * numpy's legacy random generator `np.random.RandomState`, reproduced bit for bit: with the same seed, every
 * method below returns exactly the numbers numpy 1.x (and numpy 2's `np.random.RandomState`, which keeps the
 * legacy streams) returns, and consumes the stream the same way, so calls can be interleaved as in numpy.
 *
 * The one platform caveat is numpy's own: gaussians go through the C library's `log`. This class replays
 * glibc's x86-64 FMA build (see `glibcLog`); numpy linked to another `log` can differ from it in the last
 * bits of a few gaussians in 10 000.
 *
 * ```ts
 * const rs = new RandomState(1);
 * rs.randn(5); // [1.6243453636632417, -0.6117564136500754, -0.5281717522634557, ...] as in numpy
 * ```
 */
export class RandomState {
  private readonly mt = new MT19937();
  /** The polar method makes gaussians in pairs; the second waits here for the next call. */
  private hasGauss = false;
  private gaussCache = 0;

  /**
   * @param seed an integer in [0, 2^32 - 1], seeded as numpy's `RandomState(seed)` does.
   * @throws Error if `seed` is not such an integer.
   */
  constructor(seed = 0) {
    this.seed(seed);
  }

  /**
   * Restart the stream from `seed`, as numpy's `RandomState.seed(seed)` (which also drops a cached gaussian).
   * @throws Error if `seed` is not an integer in [0, 2^32 - 1].
   */
  seed(seed: number): void {
    this.mt.seed(checkSeed(seed));
    this.hasGauss = false;
    this.gaussCache = 0;
  }

  /**
   * Uniform doubles in [0, 1), as numpy's `rand(*shape)`.
   * @param shape lengths of the axes; none gives a 0-d tensor (shape `[]`).
   * @returns a tensor of shape `shape`.
   * @throws Error if a length is not a non-negative integer.
   */
  rand(...shape: number[]): Tensor {
    const s = checkShape("rand", shape);
    const data = new Float64Array(shapeSize(s));
    for (let i = 0; i < data.length; i++) data[i] = this.mt.nextDouble();
    return new Tensor(data, s);
  }

  /**
   * Standard normal draws, as numpy's legacy `randn(*shape)`: polar Box–Muller, one pair per accepted
   * point, the second kept for the next draw (also across calls).
   * @param shape lengths of the axes; none gives a 0-d tensor (shape `[]`).
   * @returns a tensor of shape `shape`.
   * @throws Error if a length is not a non-negative integer.
   */
  randn(...shape: number[]): Tensor {
    const s = checkShape("randn", shape);
    const data = new Float64Array(shapeSize(s));
    for (let i = 0; i < data.length; i++) data[i] = this.gauss();
    return new Tensor(data, s);
  }

  /**
   * Uniform integers in [low, high), as numpy's legacy `randint(low, high, size)` with its default int64
   * dtype: masked rejection sampling on 32-bit draws when the range fits in 32 bits, on 64-bit draws (high
   * word first) otherwise; a range of one value draws nothing. With `high` omitted the range is [0, low).
   * @param shape `undefined` for a 0-d tensor, a length, or the lengths of the axes.
   * @returns a tensor of shape `shape` holding the integers as float64.
   * @throws Error if `low` or `high` is not an integer in [-2^53, 2^53], `low >= high`,
   *   `high - low > 2^53`, or a length is not a non-negative integer.
   */
  randint(low: number, high?: number, shape?: number | number[]): Tensor {
    if (high === undefined) {
      high = low;
      low = 0;
    }
    if (!isIntegerUpTo2p53(low) || !isIntegerUpTo2p53(high)) {
      throw new Error(
        `RandomState.randint: low and high must be integers in [-2^53, 2^53], got low ${low}, high ${high}`,
      );
    }
    if (low >= high) throw new Error(`RandomState.randint: need low < high, got low ${low}, high ${high}`);
    if (high - low > 2 ** 53) {
      throw new Error(`RandomState.randint: high - low must be at most 2^53, got low ${low}, high ${high}`);
    }
    const s = shapeArg("randint", shape);
    const data = new Float64Array(shapeSize(s));
    const rng = high - 1 - low; // exact: at most 2^53 - 1
    const mt = this.mt;
    if (rng === 0) {
      data.fill(low);
    } else if (rng < TWO_POW_32) {
      const mask = bitMask(rng);
      for (let i = 0; i < data.length; i++) {
        let v: number;
        do v = (mt.nextInt32() & mask) >>> 0;
        while (v > rng);
        data[i] = low + v;
      }
    } else {
      // mask = 2^k - 1 >= rng with k > 32: all ones in the low word
      const maskHi = bitMask(Math.floor(rng / TWO_POW_32));
      for (let i = 0; i < data.length; i++) {
        let v: number;
        do {
          const h = (mt.nextInt32() & maskHi) >>> 0;
          v = h * TWO_POW_32 + (mt.nextInt32() >>> 0);
        } while (v > rng);
        data[i] = low + v;
      }
    }
    return new Tensor(data, s);
  }

  /**
   * Uniform doubles `low + (high - low) * u`, u in [0, 1), as numpy's legacy `uniform(low, high, size)`.
   * @param shape `undefined` for a 0-d tensor, a length, or the lengths of the axes.
   * @returns a tensor of shape `shape`.
   * @throws Error if `high - low` is not finite or a length is not a non-negative integer.
   */
  uniform(low = 0, high = 1, shape?: number | number[]): Tensor {
    const range = high - low;
    if (!Number.isFinite(range)) {
      throw new Error(`RandomState.uniform: high - low must be finite, got low ${low}, high ${high}`);
    }
    const s = shapeArg("uniform", shape);
    const data = new Float64Array(shapeSize(s));
    for (let i = 0; i < data.length; i++) data[i] = low + range * this.mt.nextDouble();
    return new Tensor(data, s);
  }

  /**
   * Gaussian draws `loc + scale * randn()`, as numpy's legacy `normal(loc, scale, size)`.
   * @param shape `undefined` for a 0-d tensor, a length, or the lengths of the axes.
   * @returns a tensor of shape `shape`.
   * @throws Error if `scale` is negative or NaN, or a length is not a non-negative integer.
   */
  normal(loc = 0, scale = 1, shape?: number | number[]): Tensor {
    if (!(scale >= 0)) throw new Error(`RandomState.normal: scale must be >= 0, got ${scale}`);
    const s = shapeArg("normal", shape);
    const data = new Float64Array(shapeSize(s));
    for (let i = 0; i < data.length; i++) data[i] = loc + scale * this.gauss();
    return new Tensor(data, s);
  }

  /**
   * A random permutation, as numpy's legacy `permutation(x)`: for a number `n`, `arange(n)` shuffled (shape
   * `[n]`); for a tensor, a new tensor with the slices along axis 0 shuffled (same shape).
   * @throws Error if `n` is not a non-negative integer, or the tensor is 0-d.
   */
  permutation(x: number | Tensor): Tensor {
    if (typeof x === "number") {
      expectInteger("RandomState.permutation", "n", x, 0);
      const data = new Float64Array(x);
      for (let i = 0; i < x; i++) data[i] = i;
      this.shuffle(data);
      return new Tensor(data, [x]);
    }
    if (x.shape.length === 0) {
      throw new Error(
        `RandomState.permutation: need a tensor with at least 1 axis, got shape ${formatShape(x.shape)}`,
      );
    }
    const n = x.shape[0]!;
    const order = new Float64Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    this.shuffle(order);
    const row = n === 0 ? 0 : x.data.length / n;
    const data = new Float64Array(x.data.length);
    for (let i = 0; i < n; i++) data.set(x.data.subarray(order[i]! * row, (order[i]! + 1) * row), i * row);
    return new Tensor(data, [...x.shape]);
  }

  /**
   * Shuffle `x` in place, as numpy's legacy `shuffle`: Fisher–Yates from the last element down, swapping
   * element i with a uniform j in [0, i] drawn by masked rejection.
   */
  shuffle(x: number[] | Float64Array): void {
    const mt = this.mt;
    for (let i = x.length - 1; i > 0; i--) {
      const j = mt.interval(i);
      const t = x[i]!;
      x[i] = x[j]!;
      x[j] = t;
    }
  }

  /** numpy's `legacy_gauss`: the polar method, returning the second of each pair first. */
  private gauss(): number {
    if (this.hasGauss) {
      this.hasGauss = false;
      return this.gaussCache;
    }
    const mt = this.mt;
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2 * mt.nextDouble() - 1;
      x2 = 2 * mt.nextDouble() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * glibcLog(r2)) / r2);
    this.gaussCache = f * x1;
    this.hasGauss = true;
    return f * x2;
  }
}

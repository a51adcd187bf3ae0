/**
 * @file The one validation vocabulary of tapegrad's packages: how a bad argument is described, and the
 * checks every public function runs at its door.
 *
 * Every message has the form `fn: what must be what, got what`, where the value is described by
 * `describeValue` so that the *kind* of a wrong value is never hidden: `new Linear("2", 100)` reads
 * `Linear: inFeatures must be a positive integer, got the string "2"`, not `got 2`.
 * Exported as `@tapegrad/autograd/validate` for @tapegrad/nn and for authors of layers and ops.
 */
import { formatShape } from "./shape.js";
import { Tensor } from "./tensor.js";

/**
 * A value, described for an error message so that its kind is visible: `the number 2.5`, `the string "2"`,
 * `NaN`, `undefined`, `null`, `an array of length 3 (wrap it with tensor(...))`, `a Tensor of shape [2, 3]`,
 * `a Float64Array of length 4`, `a function`, `an object of class Foo`, `an object`.
 */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  switch (typeof v) {
    case "number":
      return Number.isNaN(v) ? "NaN" : `the number ${v}`;
    case "string":
      return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
    case "boolean":
      return `the boolean ${v}`;
    case "bigint":
      return `the bigint ${v}n`;
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
  }
  if (v instanceof Tensor) return `a Tensor of shape ${formatShape(v.shape)}`;
  if (Array.isArray(v)) return `an array of length ${v.length} (wrap it with tensor(...))`;
  if (ArrayBuffer.isView(v)) {
    const length = (v as unknown as { length?: number }).length ?? v.byteLength;
    return `a ${v.constructor.name} of length ${length}`;
  }
  const name = (v as object).constructor?.name;
  return name && name !== "Object" ? `an object of class ${name}` : "an object";
}

/** Throw `fn: name must be a Tensor, got …` unless `v` is a Tensor. */
export function expectTensor(fn: string, name: string, v: unknown): asserts v is Tensor {
  if (!(v instanceof Tensor)) throw new Error(`${fn}: ${name} must be a Tensor, got ${describeValue(v)}`);
}

/**
 * Throw unless `v` is an integer number ≥ `min` (default 1: a positive integer); returns it.
 * @example expectInteger("Linear", "inFeatures", "2") // throws: …must be a positive integer, got the string "2"
 */
export function expectInteger(fn: string, name: string, v: unknown, min = 1): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    const what =
      min === 1 ? "a positive integer" : min === 0 ? "a non-negative integer" : `an integer ≥ ${min}`;
    throw new Error(`${fn}: ${name} must be ${what}, got ${describeValue(v)}`);
  }
  return v;
}

/**
 * Throw unless `v` is an integer ≥ `min` or a pair [h, w] of them (PyTorch's `int or tuple` sizes: kernel,
 * stride, padding, dilation); returns [h, w].
 * @example expectIntegerPair("conv2d", "stride", 2, 1) // [2, 2]
 */
export function expectIntegerPair(fn: string, name: string, v: unknown, min = 1): [number, number] {
  if (typeof v === "number") {
    expectInteger(fn, name, v, min);
    return [v, v];
  }
  if (Array.isArray(v) && v.length === 2) {
    return [expectInteger(fn, `${name}[0]`, v[0], min), expectInteger(fn, `${name}[1]`, v[1], min)];
  }
  const what =
    min === 1 ? "a positive integer" : min === 0 ? "a non-negative integer" : `an integer ≥ ${min}`;
  throw new Error(`${fn}: ${name} must be ${what} or a pair [h, w] of them, got ${describeValue(v)}`);
}

/** Bounds of `expectNumber`: an interval, each end closed unless marked open. */
export interface NumberRange {
  /** Lower bound; default −∞. */
  min?: number;
  /** Upper bound; default +∞. */
  max?: number;
  /** Exclude `min` itself (e.g. a learning rate > 0). */
  minOpen?: boolean;
  /** Exclude `max` itself (e.g. a dropout probability < 1). */
  maxOpen?: boolean;
}

/**
 * Throw unless `v` is a finite number in the given range (closed by default); returns it.
 * The message shows the interval in mathematical notation: `lr must be a number in (0, ∞), got the number -1`.
 */
export function expectNumber(fn: string, name: string, v: unknown, range: NumberRange = {}): number {
  const {
    min = Number.NEGATIVE_INFINITY,
    max = Number.POSITIVE_INFINITY,
    minOpen = false,
    maxOpen = false,
  } = range;
  const inRange =
    typeof v === "number" &&
    Number.isFinite(v) &&
    (minOpen ? v > min : v >= min) &&
    (maxOpen ? v < max : v <= max);
  if (!inRange) {
    const lo = min === Number.NEGATIVE_INFINITY ? "(−∞" : `${minOpen ? "(" : "["}${min}`;
    const hi = max === Number.POSITIVE_INFINITY ? "∞)" : `${max}${maxOpen ? ")" : "]"}`;
    const what =
      min === Number.NEGATIVE_INFINITY && max === Number.POSITIVE_INFINITY
        ? "a finite number"
        : `a number in ${lo}, ${hi}`;
    throw new Error(`${fn}: ${name} must be ${what}, got ${describeValue(v)}`);
  }
  return v as number;
}

/** Throw unless `v` is one of `choices`; returns it. Message: `activation must be one of "tanh", "relu", got …`. */
export function expectOneOf<T extends string>(
  fn: string,
  name: string,
  v: unknown,
  choices: readonly T[],
): T {
  if (typeof v !== "string" || !(choices as readonly string[]).includes(v)) {
    const list = choices.map((c) => JSON.stringify(c)).join(", ");
    throw new Error(`${fn}: ${name} must be one of ${list}, got ${describeValue(v)}`);
  }
  return v as T;
}

/**
 * Throw at the first NaN or ±Infinity of `t`, naming its position: `X contains NaN at [2, 0] (shape [2, 400])`.
 * The fast path (sums of x − x, which are 0 for finite x and NaN otherwise) costs a fraction of the ops that
 * follow, so it can run on every call of a public function.
 */
export function expectFinite(fn: string, name: string, t: Tensor): void {
  const d = t.data;
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let i = 0;
  // four independent sums keep the adds in flight together
  for (; i + 3 < d.length; i += 4) {
    a0 += d[i]! - d[i]!;
    a1 += d[i + 1]! - d[i + 1]!;
    a2 += d[i + 2]! - d[i + 2]!;
    a3 += d[i + 3]! - d[i + 3]!;
  }
  for (; i < d.length; i++) a0 += d[i]! - d[i]!;
  if (a0 + a1 + a2 + a3 === 0) return;
  for (let k = 0; k < d.length; k++) {
    if (!Number.isFinite(d[k]!)) {
      throw new Error(
        `${fn}: ${name} contains ${d[k]} at ${formatPosition(k, t.shape)} (shape ${formatShape(t.shape)}); expected finite values`,
      );
    }
  }
}

/** `[2, 0]`: the position of flat index `k` in `shape` (row-major), as messages print it. */
export function formatPosition(k: number, shape: readonly number[]): string {
  const pos = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    const n = shape[i]!;
    pos[i] = n === 0 ? 0 : k % n;
    k = n === 0 ? 0 : Math.floor(k / n);
  }
  return `[${pos.join(", ")}]`;
}

/**
 * @file Creating tensors: `tensor` from numbers and nested arrays, `full`, `zeros`, `ones`, `arange`, `eye`.
 */
import { assertShape, formatShape, shapeSize } from "../shape.js";
import { Tensor } from "../tensor.js";
import { describeValue, expectNumber } from "../validate.js";
import { toTensor } from "./convert.js";

/** Options of `tensor`. */
export interface TensorOptions {
  /** Shape of the data; required to give a flat `Float64Array` a shape other than 1-D. */
  shape?: readonly number[];
  /** Whether gradients should be computed for this tensor (a leaf). Default false. */
  requiresGrad?: boolean;
}

/** Nested arrays of numbers, as accepted by `tensor`. */
export type NestedNumbers = number | readonly NestedNumbers[];

/**
 * Create a float64 tensor from a number, nested arrays of numbers, or a `Float64Array` (copied; give
 * `options.shape` for more than one axis).
 * @throws Error for ragged arrays, non-numbers, or a data/shape size mismatch.
 * @example tensor([[1, 2], [3, 4]], { requiresGrad: true })
 */
export function tensor(
  data: NestedNumbers | Float64Array | readonly number[],
  options: TensorOptions = {},
): Tensor {
  let values: Float64Array;
  let shape: number[];
  if (data instanceof Float64Array) {
    values = data.slice();
    shape = options.shape === undefined ? [data.length] : [...options.shape];
  } else if (typeof data === "number") {
    values = new Float64Array([data]);
    shape = options.shape === undefined ? [] : [...options.shape];
  } else if (Array.isArray(data)) {
    shape = [];
    for (let level: unknown = data; Array.isArray(level); level = level[0]) shape.push(level.length);
    values = new Float64Array(shapeSize(shape));
    let k = 0;
    const walk = (v: unknown, axis: number, path: number[]): void => {
      if (axis === shape.length) {
        if (typeof v !== "number") {
          throw new Error(
            `tensor: element at [${path.join(", ")}] is ${describeValue(v)}, expected a number`,
          );
        }
        values[k++] = v;
        return;
      }
      if (!Array.isArray(v) || v.length !== shape[axis]) {
        throw new Error(
          `tensor: ragged nested array: the entry at [${path.join(", ")}] has ${Array.isArray(v) ? `length ${v.length}` : `a ${typeof v}`}, expected an array of length ${shape[axis]} (as its first sibling)`,
        );
      }
      for (let i = 0; i < v.length; i++) walk(v[i], axis + 1, [...path, i]);
    };
    walk(data, 0, []);
    if (options.shape !== undefined) shape = [...options.shape];
  } else {
    throw new Error(
      `tensor: data must be a number, nested arrays of numbers or a Float64Array, got ${describeValue(data)}`,
    );
  }
  assertShape(shape, "tensor");
  if (shapeSize(shape) !== values.length) {
    throw new Error(
      `tensor: data has ${values.length} elements but shape ${formatShape(shape)} has ${shapeSize(shape)}`,
    );
  }
  return new Tensor(values, shape, options.requiresGrad ?? false);
}

/** A tensor of `shape` filled with `value`. */
export function full(
  shape: readonly number[],
  value: number,
  options: { requiresGrad?: boolean } = {},
): Tensor {
  assertShape(shape, "full");
  if (typeof value !== "number") throw new Error(`full: value must be a number, got ${describeValue(value)}`);
  return new Tensor(
    new Float64Array(shapeSize(shape)).fill(value),
    [...shape],
    options.requiresGrad ?? false,
  );
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], options: { requiresGrad?: boolean } = {}): Tensor {
  assertShape(shape, "zeros");
  return new Tensor(new Float64Array(shapeSize(shape)), [...shape], options.requiresGrad ?? false);
}

/** A tensor of ones. */
export function ones(shape: readonly number[], options: { requiresGrad?: boolean } = {}): Tensor {
  assertShape(shape, "ones");
  return full(shape, 1, options);
}

/** Zeros with the shape of `x`. */
export function zerosLike(x: Tensor): Tensor {
  return zeros(toTensor(x, "zerosLike").shape);
}

/** Ones with the shape of `x`. */
export function onesLike(x: Tensor): Tensor {
  return ones(toTensor(x, "onesLike").shape);
}

/**
 * Evenly spaced values in [start, stop) (numpy's arange): `arange(5)` is 0…4, `arange(1, 2, 0.25)`.
 * @throws Error if step is 0 or an argument is not a finite number.
 */
export function arange(start: number, stop?: number, step = 1): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  expectNumber("arange", "start", start);
  expectNumber("arange", "stop", stop);
  expectNumber("arange", "step", step);
  if (step === 0) throw new Error("arange: step must not be 0");
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  return new Tensor(out, [n]);
}

/** The n×m identity matrix (m defaults to n). */
export function eye(n: number, m = n): Tensor {
  assertShape([n, m], "eye");
  const out = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) out[i * m + i] = 1;
  return new Tensor(out, [n, m]);
}

/**
 * @file Arguments at the public door: a `TensorLike` (a tensor or a number) made a Tensor, or an error that
 * names the op, the argument's position and what it was.
 */
import { Tensor } from "../tensor.js";
import { describeValue } from "../validate.js";

/** A tensor argument: a Tensor, or a number (treated as a 0-d tensor that broadcasts). */
export type TensorLike = Tensor | number;

/** Convert a `TensorLike` argument, or throw naming the op and the argument position. */
export function toTensor(v: unknown, op: string, position = 1): Tensor {
  if (v instanceof Tensor) return v;
  if (typeof v === "number") return new Tensor(new Float64Array([v]), []);
  throw new Error(`${op}: argument ${position} must be a Tensor or a number, got ${describeValue(v)}`);
}

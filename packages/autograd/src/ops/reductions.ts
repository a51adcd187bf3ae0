/**
 * @file Reductions, validated at the door: sum, max, min over any axes. Their derivatives:
 * primitives/reduce.ts.
 */
import { inner } from "../primitives/index.js";
import { formatShape, normalizeAxes } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { toTensor } from "./convert.js";

function reduction(
  name: "sum" | "max" | "min",
  x: Tensor,
  axis: number | readonly number[] | undefined,
  keepdims: boolean,
): Tensor {
  const t = toTensor(x, name);
  const axes = normalizeAxes(axis, t.ndim, name);
  if (name !== "sum" && axes.some((a) => t.shape[a] === 0)) {
    throw new Error(
      `${name}: cannot reduce an empty axis of a tensor of shape ${formatShape(t.shape)} (no identity element)`,
    );
  }
  return inner[name](t, axes, keepdims === true);
}

/** Sum over `axis` (a number, a list, or all axes when omitted); negative axes count from the end. */
export const sum = (x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor =>
  reduction("sum", x, axis, keepdims);
/** Maximum over `axis`; the gradient goes to the arg-max, split evenly between ties. */
export const max = (x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor =>
  reduction("max", x, axis, keepdims);
/** Minimum over `axis`; the gradient goes to the arg-min, split evenly between ties. */
export const min = (x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor =>
  reduction("min", x, axis, keepdims);

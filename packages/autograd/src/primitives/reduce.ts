/**
 * @file The reductions — sum, max, min over sorted distinct axes — whose gradients broadcast g back over
 * the reduced axes. Loops in kernels/reduce.ts.
 */
import { type ReduceKind, reduce } from "../kernels/reduce.js";
import type { Shape } from "../shape.js";
import { Tensor } from "../tensor.js";
import type { InnerOps } from "./index.js";
import type { Primitive, PrimitiveTable } from "./types.js";

/** Attributes of a reduction: sorted distinct non-negative axes. */
export interface ReduceAttrs {
  axes: readonly number[];
  keepdims: boolean;
}

/** The attributes of the reduction primitives. */
export interface ReductionAttrs {
  sum: ReduceAttrs;
  max: ReduceAttrs;
  min: ReduceAttrs;
}

/** The shape of a reduction's result. */
export function reducedShape(shape: Shape, { axes, keepdims }: ReduceAttrs): number[] {
  return keepdims
    ? shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : shape.filter((_, i) => !axes.includes(i));
}

/** A reduction primitive: the `kind` loop forward, `vjp` backward. */
const reduction = (kind: ReduceKind, vjp: Primitive<ReduceAttrs>["vjp"]): Primitive<ReduceAttrs> => ({
  name: kind,
  forward: ([x], attrs) =>
    new Tensor(reduce(kind, x!.data, x!.shape, attrs.axes), reducedShape(x!.shape, attrs)),
  vjp,
});

/** The reduction primitives; vjps are written with the inner ops `o`. */
export function reducePrimitives(o: InnerOps): PrimitiveTable<keyof ReductionAttrs> {
  /** g of a reduction, reshaped with the reduced axes kept (size 1) and broadcast back to x's shape. */
  const expandReduced = (g: Tensor, x: Tensor, { axes }: ReduceAttrs): Tensor =>
    o.broadcastTo(o.reshape(g, reducedShape(x.shape, { axes, keepdims: true })), x.shape);
  /** max/min: the gradient goes to the extremal elements, split evenly between ties. */
  const extremumVjp = (g: Tensor, x: Tensor, out: Tensor, attrs: ReduceAttrs): Tensor => {
    const kept = reducedShape(x.shape, { axes: attrs.axes, keepdims: true });
    const mask = o.compare(x, o.reshape(out.detach(), kept), "==");
    const count = o.sum(mask, attrs.axes, true);
    return o.mul(expandReduced(g, x, attrs), o.div(mask, count));
  };
  return {
    // d Σx = g broadcast back over the reduced axes
    sum: reduction("sum", (g, [x], _, attrs) => [expandReduced(g, x!, attrs)]),
    // d max x = g at the arg-max (ties split evenly)
    max: reduction("max", (g, [x], out, attrs) => [extremumVjp(g, x!, out, attrs)]),
    // d min x = g at the arg-min (ties split evenly)
    min: reduction("min", (g, [x], out, attrs) => [extremumVjp(g, x!, out, attrs)]),
  };
}

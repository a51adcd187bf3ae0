/**
 * @file The types of the primitive table: what a primitive is, the attributes each one takes, and the
 * mapped type over the names that makes a missing forward or gradient rule a compile error.
 */
import type { VjpRule } from "../tape.js";
import type { Tensor } from "../tensor.js";
import type { BinaryAttrs } from "./binary.js";
import type { ConvolutionAttrs } from "./conv.js";
import type { LinalgAttrs } from "./linalg.js";
import type { ReductionAttrs } from "./reduce.js";
import type { ShapeAttrs } from "./shape.js";
import type { UnaryAttrs } from "./unary.js";

/**
 * The attributes (non-tensor arguments) of each primitive; its keys are the primitive names. Each kind's
 * file declares its own part (`UnaryAttrs` in unary.ts, …), beside its rules.
 */
export interface PrimitiveAttrs
  extends UnaryAttrs,
    BinaryAttrs,
    LinalgAttrs,
    ShapeAttrs,
    ReductionAttrs,
    ConvolutionAttrs {}

/** Names of the primitives. */
export type PrimitiveName = keyof PrimitiveAttrs;

/** A primitive: its forward computation and its gradient rule. */
export interface Primitive<A> extends VjpRule<A> {
  /** The result for validated inputs; kernels below it assume valid input. */
  forward(inputs: readonly Tensor[], attrs: A): Tensor;
  /** False for piecewise-constant ops (comparisons, sign): their results never require grad. */
  readonly differentiable?: false;
}

/** A table of primitives for the names `K`: every name needs a forward and a vjp. */
export type PrimitiveTable<K extends PrimitiveName = PrimitiveName> = {
  [P in K]: Primitive<PrimitiveAttrs[P]>;
};

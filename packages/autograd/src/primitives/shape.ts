/**
 * @file The shape primitives — reshape, transpose, broadcastTo, take, scatterAdd, concat: they move
 * values without arithmetic, so each one's vjp is the adjoint move. Loops in kernels/strided.ts.
 */
import { concatAlong, expandData, gatherStrided, scatterAddAlong, takeAlong } from "../kernels/strided.js";
import { stridesOf } from "../shape.js";
import { Tensor } from "../tensor.js";
import type { InnerOps } from "./index.js";
import type { PrimitiveTable } from "./types.js";

/** The attributes of the shape primitives (axes normalised, indices in range). */
export interface ShapeAttrs {
  reshape: { shape: readonly number[] };
  transpose: { axes: readonly number[] };
  broadcastTo: { shape: readonly number[] };
  take: { indices: Int32Array; axis: number };
  scatterAdd: { indices: Int32Array; axis: number; shape: readonly number[] };
  concat: { axis: number };
}

/** x with its axes permuted (a copy: the result is contiguous). */
function transposeForward(x: Tensor, axes: readonly number[]): Tensor {
  const strides = stridesOf(x.shape);
  const shape = axes.map((a) => x.shape[a]!);
  return new Tensor(
    gatherStrided(
      x.data,
      0,
      shape,
      axes.map((a) => strides[a]!),
    ),
    shape,
  );
}

function takeForward(x: Tensor, indices: Int32Array, axis: number): Tensor {
  const shape = x.shape.slice();
  shape[axis] = indices.length;
  return new Tensor(takeAlong(x.data, x.shape, indices, axis), shape);
}

function concatForward(xs: readonly Tensor[], axis: number): Tensor {
  const shape = xs[0]!.shape.slice();
  shape[axis] = xs.reduce((s, x) => s + x.shape[axis]!, 0);
  return new Tensor(concatAlong(xs, axis, shape), shape);
}

/** The shape primitives; vjps are written with the inner ops `o`. */
export function shapePrimitives(o: InnerOps): PrimitiveTable<keyof ShapeAttrs> {
  return {
    // reshape only relabels the data: d reshape(x) = reshape(g, x.shape)
    reshape: {
      name: "reshape",
      forward: ([x], { shape }) => new Tensor(x!.data, shape),
      vjp: (g, [x]) => [o.reshape(g, x!.shape)],
    },
    // d transpose(x, p) = transpose(g, p⁻¹)
    transpose: {
      name: "transpose",
      forward: ([x], { axes }) => transposeForward(x!, axes),
      vjp: (g, _, __, { axes }) => {
        const inverse = new Array<number>(axes.length);
        axes.forEach((a, i) => {
          inverse[a] = i;
        });
        return [o.transpose(g, inverse)];
      },
    },
    // d broadcastTo(x) = sumTo(g, x.shape)
    broadcastTo: {
      name: "broadcastTo",
      forward: ([x], { shape }) => new Tensor(expandData(x!.data, x!.shape, shape), shape),
      vjp: (g, [x]) => [o.sumTo(g, x!.shape)],
    },
    // d take(x, idx) = scatter-add of g at idx (repeated indices add up)
    take: {
      name: "take",
      forward: ([x], { indices, axis }) => takeForward(x!, indices, axis),
      vjp: (g, [x], _, { indices, axis }) => [o.scatterAdd(g, indices, axis, x!.shape)],
    },
    // scatterAdd is linear; its adjoint is take
    scatterAdd: {
      name: "scatterAdd",
      forward: ([x], { indices, axis, shape }) =>
        new Tensor(scatterAddAlong(x!.data, shape, indices, axis), shape),
      vjp: (g, _, __, { indices, axis }) => [o.take(g, indices, axis)],
    },
    // d concat(xs) = the slices of g that each input occupies
    concat: {
      name: "concat",
      forward: (xs, { axis }) => concatForward(xs, axis),
      vjp: (g, xs, _, { axis }) => {
        let start = 0;
        return xs.map((x) => {
          const n = x.shape[axis]!;
          const idx = Int32Array.from({ length: n }, (_, i) => start + i);
          start += n;
          return o.take(g, idx, axis);
        });
      },
    },
  };
}

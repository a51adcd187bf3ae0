/**
 * @file The binary primitives — add, sub, mul, div, pow, maximum, minimum, sigmoidCrossEntropy, compare,
 * where — with numpy broadcasting. Each entry: its forward (a named kernel of kernels/binary.ts) beside
 * its vjp, with the derivative the vjp implements. Broadcast gradients are reduced with `sumTo`, never by
 * hand.
 */
import {
  addKernel,
  type BinaryKernel,
  binaryInto,
  type CompareOp,
  compareKernel,
  divKernel,
  maximumKernel,
  minimumKernel,
  mulKernel,
  powKernel,
  sigmoidCrossEntropyKernel,
  sigmoidCrossEntropyWasm,
  subKernel,
  whereKernel,
} from "../kernels/binary.js";
import { expandData } from "../kernels/strided.js";
import { shapeSize, shapesEqual, tryBroadcastShapes } from "../shape.js";
import { Tensor } from "../tensor.js";
import type { InnerOps } from "./index.js";
import type { Primitive, PrimitiveTable } from "./types.js";

export type { CompareOp } from "../kernels/binary.js";

/** The attributes of the binary primitives. */
export interface BinaryAttrs {
  add: undefined;
  sub: undefined;
  mul: undefined;
  div: undefined;
  pow: undefined;
  maximum: undefined;
  minimum: undefined;
  sigmoidCrossEntropy: undefined;
  compare: { op: CompareOp };
  where: undefined;
}

/** The shape x and y broadcast to (they are known to broadcast). */
const broadcastOf = (x: Tensor, y: Tensor): readonly number[] =>
  shapesEqual(x.shape, y.shape) ? x.shape : tryBroadcastShapes(x.shape, y.shape)!;

/** x ⊙ y by `kernel`, broadcast, into a new tensor. */
export function binaryForward(x: Tensor, y: Tensor, kernel: BinaryKernel): Tensor {
  const shape = broadcastOf(x, y);
  const out = new Float64Array(shapeSize(shape));
  binaryInto(kernel, x.data, x.shape, y.data, y.shape, out, shape);
  return new Tensor(out, shape);
}

/** Binary cross-entropy of logits: the wasm tail when z is not broadcast, else the JS kernel. */
function sigmoidCrossEntropyForward(z: Tensor, y: Tensor): Tensor {
  const shape = broadcastOf(z, y);
  const out = new Float64Array(shapeSize(shape));
  if (sigmoidCrossEntropyWasm(z.data, y.data, out)) return new Tensor(out, shape);
  binaryInto(sigmoidCrossEntropyKernel, z.data, z.shape, y.data, y.shape, out, shape);
  return new Tensor(out, shape);
}

function compareForward(x: Tensor, y: Tensor, op: CompareOp): Tensor {
  const shape = broadcastOf(x, y);
  const out = new Float64Array(shapeSize(shape));
  compareKernel(op, expandData(x.data, x.shape, shape), expandData(y.data, y.shape, shape), out);
  return new Tensor(out, shape);
}

function whereForward(c: Tensor, x: Tensor, y: Tensor): Tensor {
  const shape = tryBroadcastShapes(tryBroadcastShapes(c.shape, x.shape)!, y.shape)!;
  const out = new Float64Array(shapeSize(shape));
  const expand = (t: Tensor) => expandData(t.data, t.shape, shape);
  whereKernel(expand(c), expand(x), expand(y), out);
  return new Tensor(out, shape);
}

type Vjp = Primitive<undefined>["vjp"];

/** A binary primitive without attributes: `kernel` forward, `vjp` backward. */
const binary = (name: string, kernel: BinaryKernel, vjp: Vjp): Primitive<undefined> => ({
  name,
  forward: ([x, y]) => binaryForward(x!, y!, kernel),
  vjp,
});

/** The binary primitives; vjps are written with the inner ops `o`, so they are differentiable again. */
export function binaryPrimitives(o: InnerOps): PrimitiveTable<keyof BinaryAttrs> {
  return {
    // d(x + y) = (g, g), each summed back to its input's shape
    add: binary("add", addKernel, (g, [x, y]) => [o.sumTo(g, x!.shape), o.sumTo(g, y!.shape)]),
    // d(x − y) = (g, −g)
    sub: binary("sub", subKernel, (g, [x, y]) => [o.sumTo(g, x!.shape), o.sumTo(o.neg(g), y!.shape)]),
    // d(x·y) = (g·y, g·x)
    mul: binary("mul", mulKernel, (g, [x, y]) => [
      x!.requiresGrad ? o.sumTo(o.mul(g, y!), x!.shape) : null,
      y!.requiresGrad ? o.sumTo(o.mul(g, x!), y!.shape) : null,
    ]),
    // d(x / y) = (g / y, −g·x / y²)
    div: binary("div", divKernel, (g, [x, y]) => [
      x!.requiresGrad ? o.sumTo(o.div(g, y!), x!.shape) : null,
      y!.requiresGrad ? o.sumTo(o.neg(o.div(o.mul(g, x!), o.square(y!))), y!.shape) : null,
    ]),
    // d xʸ = (g·y·xʸ⁻¹, g·xʸ·log x); the exponent's gradient is computed only when it requires grad
    pow: binary("pow", powKernel, (g, [x, y], out) => [
      x!.requiresGrad ? o.sumTo(o.mul(g, o.mul(y!, o.pow(x!, o.sub(y!, 1)))), x!.shape) : null,
      y!.requiresGrad ? o.sumTo(o.mul(g, o.mul(out, o.log(x!))), y!.shape) : null,
    ]),
    // d max(x, y) = (g·[x > y], g·[x < y]); ties split the gradient evenly (½ each)
    maximum: binary("maximum", maximumKernel, (g, [x, y]) => {
      const wx = o.add(o.compare(x!, y!, ">"), o.mul(0.5, o.compare(x!, y!, "==")));
      return [o.sumTo(o.mul(g, wx), x!.shape), o.sumTo(o.mul(g, o.sub(1, wx)), y!.shape)];
    }),
    // d min(x, y) = (g·[x < y], g·[x > y]); ties split evenly
    minimum: binary("minimum", minimumKernel, (g, [x, y]) => {
      const wx = o.add(o.compare(x!, y!, "<"), o.mul(0.5, o.compare(x!, y!, "==")));
      return [o.sumTo(o.mul(g, wx), x!.shape), o.sumTo(o.mul(g, o.sub(1, wx)), y!.shape)];
    }),
    // ℓ(z, y) = −[y log σ(z) + (1 − y) log(1 − σ(z))]: dℓ/dz = σ(z) − y, dℓ/dy = −z
    sigmoidCrossEntropy: {
      name: "sigmoidCrossEntropy",
      forward: ([z, y]) => sigmoidCrossEntropyForward(z!, y!),
      vjp: (g, [z, y]) => [
        z!.requiresGrad ? o.sumTo(o.mul(g, o.sub(o.sigmoid(z!), y!)), z!.shape) : null,
        y!.requiresGrad ? o.sumTo(o.neg(o.mul(g, z!)), y!.shape) : null,
      ],
    },
    // comparisons are piecewise constant: no gradient
    compare: {
      name: "compare",
      forward: ([x, y], { op }) => compareForward(x!, y!, op),
      vjp: () => [null, null],
      differentiable: false,
    },
    // d where(c, x, y) = (none, g·[c], g·[¬c])
    where: {
      name: "where",
      forward: ([c, x, y]) => whereForward(c!, x!, y!),
      vjp: (g, [c, x, y]) => [
        null,
        o.sumTo(o.where(c!, g, 0), x!.shape),
        o.sumTo(o.where(c!, 0, g), y!.shape),
      ],
    },
  };
}

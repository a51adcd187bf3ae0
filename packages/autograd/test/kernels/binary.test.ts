/**
 * @file The elementwise binary kernels (contiguous, tensor-and-scalar, matrix-and-column, general strided)
 * against a naive reference that broadcasts index by index, bit for bit, NaN and signed zeros included.
 */
import {
  add,
  broadcastShapes,
  div,
  maximum,
  minimum,
  mul,
  pow,
  shapeSize,
  sub,
  Tensor,
  type TensorLike,
} from "@tapegrad/autograd";
import { arbBroadcastableShapes } from "@tapegrad/autograd/testing";
import fc from "fast-check";
import { describe, expect, test } from "vitest";

const ops: Record<string, [(x: TensorLike, y: TensorLike) => Tensor, (p: number, q: number) => number]> = {
  add: [add, (p, q) => p + q],
  sub: [sub, (p, q) => p - q],
  mul: [mul, (p, q) => p * q],
  div: [div, (p, q) => p / q],
  pow: [pow, (p, q) => p ** q],
  maximum: [maximum, (p, q) => (p > q || Number.isNaN(p) ? p : q)],
  minimum: [minimum, (p, q) => (p < q || Number.isNaN(p) ? p : q)],
};

/** x ⊙ y by numpy's rules, one output index at a time: the index of each operand from the right. */
function naive(x: Tensor, y: Tensor, f: (p: number, q: number) => number): Float64Array {
  const shape = broadcastShapes(x.shape, y.shape);
  const out = new Float64Array(shapeSize(shape));
  const at = (t: Tensor, idx: number[]): number => {
    let flat = 0;
    const off = shape.length - t.ndim;
    for (let ax = 0; ax < t.ndim; ax++) flat = flat * t.shape[ax]! + (t.shape[ax] === 1 ? 0 : idx[ax + off]!);
    return t.data[flat]!;
  };
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = 0; k < out.length; k++) {
    out[k] = f(at(x, idx), at(y, idx));
    for (let ax = shape.length - 1; ax >= 0; ax--) {
      if (++idx[ax]! < shape[ax]!) break;
      idx[ax] = 0;
    }
  }
  return out;
}

/** Values with the awkward ones mixed in: zeros of both signs, infinities, NaN. */
const arbValue = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -4, max: 4, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, 1, Infinity, -Infinity, Number.NaN) },
);
const arbOf = (shape: number[]) =>
  fc
    .array(arbValue, { minLength: shapeSize(shape), maxLength: shapeSize(shape) })
    .map((v) => new Tensor(Float64Array.from(v), shape));

/** Shapes that hit each kernel: equal, scalar on either side, matrix and column or row, general. */
const arbPair = fc.oneof(
  arbBroadcastableShapes({ maxRank: 4, maxSide: 5 }),
  fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 9 })).chain(([m, n]) =>
    fc.constantFrom<[number[], number[]]>(
      [
        [m, n],
        [m, 1],
      ],
      [
        [m, 1],
        [m, n],
      ],
      [
        [m, n],
        [1, n],
      ],
      [[m, n], []],
      [[], [m, n]],
      [
        [m, n],
        [m, n],
      ],
    ),
  ),
);

describe("binary kernels equal a naive broadcast, bit for bit", () => {
  test.each(Object.keys(ops))("%s", (name) => {
    const [op, f] = ops[name]!;
    fc.assert(
      fc.property(
        arbPair.chain(([sa, sb]) => fc.tuple(arbOf(sa), arbOf(sb))),
        ([x, y]) => {
          const got = op(x, y).data;
          const want = naive(x, y, f);
          expect(got.length).toBe(want.length);
          want.forEach((w, k) => {
            if (!Object.is(got[k], w)) {
              expect.fail(`${name}([${x.shape}], [${y.shape}]) element ${k}: ${got[k]}, expected ${w}`);
            }
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

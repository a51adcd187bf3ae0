import { add, broadcastShapes, Tensor } from "@tapegrad/autograd";
import { arbBroadcastableShapes, arbShape, arbTensor } from "@tapegrad/autograd/testing";
import fc from "fast-check";
import { expect, test } from "vitest";

test("arbShape stays within its rank and side bounds", () => {
  fc.assert(
    fc.property(arbShape({ minRank: 1, maxRank: 2, minSide: 2, maxSide: 3 }), (shape) => {
      expect(shape.length).toBeGreaterThanOrEqual(1);
      expect(shape.length).toBeLessThanOrEqual(2);
      for (const d of shape) expect([2, 3]).toContain(d);
    }),
  );
});

test("arbBroadcastableShapes: every pair broadcasts, and size-1 axes and rank differences occur", () => {
  let sawOne = false;
  let sawRankDifference = false;
  fc.assert(
    fc.property(arbBroadcastableShapes(), ([a, b]) => {
      const out = broadcastShapes(a, b);
      expect(
        add(
          new Tensor(new Float64Array(a.reduce((p, d) => p * d, 1)), a),
          new Tensor(new Float64Array(b.reduce((p, d) => p * d, 1)), b),
        ).shape,
      ).toEqual(out);
      if ([...a, ...b].includes(1) && out.some((d) => d > 1)) sawOne = true;
      if (a.length !== b.length) sawRankDifference = true;
    }),
    { numRuns: 300 },
  );
  expect(sawOne).toBe(true);
  expect(sawRankDifference).toBe(true);
});

test("arbTensor: the given shape, finite values within bounds, away from the points to avoid", () => {
  fc.assert(
    fc.property(arbTensor({ shape: [3, 2], min: -1, max: 1, avoid: [0, 0.5], avoidRadius: 0.01 }), (x) => {
      expect(x.shape).toEqual([3, 2]);
      for (const v of x.data) {
        expect(Number.isFinite(v)).toBe(true);
        expect(Math.abs(v)).toBeLessThanOrEqual(1);
        expect(Math.abs(v)).toBeGreaterThanOrEqual(0.01);
        expect(Math.abs(v - 0.5)).toBeGreaterThanOrEqual(0.01);
      }
    }),
  );
  fc.assert(fc.property(arbTensor([2]), (x) => x.shape.length === 1 && x.shape[0] === 2));
  fc.assert(fc.property(arbTensor({ requiresGrad: true }), (x) => x.requiresGrad && x.isLeaf));
});

test("shrinking works: values shrink to the simplest failing ones, shapes to small ones", () => {
  const fixed = fc.check(
    fc.property(arbTensor({ shape: [2, 3], min: -10, max: 10 }), (x) => x.data[4]! < 1.5),
    { seed: 42 },
  );
  expect(fixed.failed).toBe(true);
  expect(Array.from(fixed.counterexample![0].data)).toEqual([0, 0, 0, 0, 1.5, 0]);
  // Through `chain`, a smaller shape is tried with fresh values, so the shape shrinks part of the way.
  const free = fc.check(
    fc.property(arbTensor({ shape: arbShape(), min: -10, max: 10 }), (x) => x.size < 3 || x.data[0]! < 1),
    { seed: 42, numRuns: 500 },
  );
  expect(free.failed).toBe(true);
  const [x] = free.counterexample!;
  expect(x.size).toBeGreaterThanOrEqual(3);
  expect(x.size).toBeLessThanOrEqual(8);
  expect(Array.from(x.data)).toEqual([1, ...new Array<number>(x.size - 1).fill(0)]);
});

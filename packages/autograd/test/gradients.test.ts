/**
 * Table-driven gradient checks: every primitive (the table is typed over the primitive names, so a new
 * primitive without a row is a compile error, and the runtime check below fails too) and every composite
 * op, against central differences, on fast-check inputs with broadcasting and size-1 axes, away from kinks.
 */

import * as ag from "@tapegrad/autograd";
import { type PrimitiveName, primitives, type Tensor } from "@tapegrad/autograd";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { convDifferentiated, convPrimitiveCases } from "./conv-cases.js";
import {
  broadcastPair,
  checkAgainstFiniteDifferences,
  distinctValues,
  smallShape,
  values,
} from "./helpers.js";

interface GradCase {
  /** Inputs to differentiate. */
  inputs: fc.Arbitrary<Tensor[]>;
  /** The op under test, applied to those inputs. */
  f: (...xs: Tensor[]) => Tensor;
}

const unaryCase = (f: (x: Tensor) => Tensor, opts: Parameters<typeof values>[1] = {}): GradCase => ({
  inputs: smallShape().chain((s) => values(s, opts).map((x) => [x])),
  f: (x) => f(x!),
});

const binaryCase = (
  f: (x: Tensor, y: Tensor) => Tensor,
  optsB: Parameters<typeof values>[1] = {},
  optsA = {},
): GradCase => ({
  inputs: broadcastPair().chain(([a, b]) => fc.tuple(values(a, optsA), values(b, optsB))),
  f: (x, y) => f(x!, y!),
});

/** Shape with its axes' subset for a reduction. */
const reductionInputs = (distinct: boolean): fc.Arbitrary<{ x: Tensor; axes: number[]; keepdims: boolean }> =>
  fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }).chain((s) =>
    fc.record({
      x: distinct ? distinctValues(s) : values(s),
      axes: fc.subarray([...s.keys()], { minLength: 1 }),
      keepdims: fc.boolean(),
    }),
  );

const matmulInputs: fc.Arbitrary<{ a: Tensor; b: Tensor; ta: boolean; tb: boolean }> = fc
  .record({
    m: fc.integer({ min: 1, max: 3 }),
    k: fc.integer({ min: 1, max: 3 }),
    n: fc.integer({ min: 1, max: 3 }),
    batchA: fc.constantFrom([], [2], [1], [2, 1]),
    batchB: fc.constantFrom([], [2], [1]),
    ta: fc.boolean(),
    tb: fc.boolean(),
  })
  .chain(({ m, k, n, batchA, batchB, ta, tb }) =>
    fc.record({
      a: values([...batchA, ...(ta ? [k, m] : [m, k])]),
      b: values([...batchB, ...(tb ? [n, k] : [k, n])]),
      ta: fc.constant(ta),
      tb: fc.constant(tb),
    }),
  );

/** One row per primitive. Non-differentiable primitives are checked to give no gradient. */
const primitiveCases: Record<PrimitiveName, GradCase | "not differentiable"> = {
  neg: unaryCase(ag.neg),
  square: unaryCase(ag.square),
  sqrt: unaryCase(ag.sqrt, { min: 0.2, max: 3 }),
  exp: unaryCase(ag.exp),
  log: unaryCase(ag.log, { min: 0.2, max: 3 }),
  abs: unaryCase(ag.abs, { kinks: [0] }),
  tanh: unaryCase(ag.tanh),
  sigmoid: unaryCase(ag.sigmoid, { min: -6, max: 6 }),
  relu: unaryCase(ag.relu, { kinks: [0] }),
  sign: "not differentiable",
  tanhGrad: {
    inputs: smallShape().chain((s) => fc.tuple(values(s), values(s, { min: -0.99, max: 0.99 }))),
    f: (g, y) => ag.tanhGrad(g!, y!),
  },
  reluGrad: {
    inputs: smallShape().chain((s) => fc.tuple(values(s), values(s, { kinks: [0] }))),
    f: (g, x) => ag.reluGrad(g!, x!),
  },
  sigmoidGrad: {
    inputs: smallShape().chain((s) => fc.tuple(values(s), values(s, { min: 0.01, max: 0.99 }))),
    f: (g, y) => ag.sigmoidGrad(g!, y!),
  },
  add: binaryCase(ag.add),
  sub: binaryCase(ag.sub),
  mul: binaryCase(ag.mul),
  div: binaryCase(ag.div, { min: 0.3, max: 2 }),
  pow: binaryCase(ag.pow, { min: -2, max: 2 }, { min: 0.3, max: 2 }),
  maximum: {
    inputs: broadcastPair()
      .chain(([a, b]) =>
        fc.tuple(values(a, { min: 0.2, max: 1 }), values(b, { min: -1, max: -0.2 }), fc.boolean()),
      )
      .map(([x, y, swap]) => (swap ? [y, x] : [x, y])),
    f: (x, y) => ag.maximum(x!, y!),
  },
  minimum: {
    inputs: broadcastPair()
      .chain(([a, b]) =>
        fc.tuple(values(a, { min: 0.2, max: 1 }), values(b, { min: -1, max: -0.2 }), fc.boolean()),
      )
      .map(([x, y, swap]) => (swap ? [y, x] : [x, y])),
    f: (x, y) => ag.minimum(x!, y!),
  },
  sigmoidCrossEntropy: binaryCase(ag.sigmoidCrossEntropy, { min: 0, max: 1 }, { min: -4, max: 4 }),
  compare: "not differentiable",
  where: {
    inputs: broadcastPair().chain(([a, b]) =>
      fc.tuple(
        values(a),
        values(b),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 1 }).chain(() => values(a, { min: -1, max: 1 })),
      ),
    ),
    f: (x, y, c) => ag.where(ag.greater(c!.detach(), 0), x!, y!),
  },
  clip: unaryCase((x) => ag.clip(x, -0.5, 0.7), { kinks: [-0.5, 0.7], gap: 0.05 }),
  matmul: {
    inputs: matmulInputs.map(({ a, b, ta, tb }) => [a, b, ag.tensor([ta ? 1 : 0, tb ? 1 : 0])]),
    f: (a, b, t) => ag.matmul(a!, b!, { transposeA: t!.data[0] === 1, transposeB: t!.data[1] === 1 }),
  },
  addmm: {
    inputs: matmulInputs.chain(({ a, b, ta, tb }) => {
      const out = ag.matmul(a, b, { transposeA: ta, transposeB: tb }).shape;
      const biasShape = fc.constantFrom(out, out.slice(-1), [out[out.length - 2]!, 1], []);
      return biasShape.chain((cs) => values(cs)).map((c) => [c, a, b, ag.tensor([ta ? 1 : 0, tb ? 1 : 0])]);
    }),
    f: (c, a, b, t) => ag.addmm(c!, a!, b!, { transposeA: t!.data[0] === 1, transposeB: t!.data[1] === 1 }),
  },
  reshape: unaryCase((x) => ag.reshape(x, [-1])),
  transpose: {
    inputs: smallShape()
      .chain((s) =>
        fc.tuple(values(s), fc.shuffledSubarray([...s.keys()], { minLength: s.length, maxLength: s.length })),
      )
      .map(([x, perm]) => [x, ag.tensor(perm)]),
    f: (x, perm) => ag.transpose(x!, Array.from(perm!.data)),
  },
  broadcastTo: unaryCase((x) => ag.broadcastTo(x, [2, ...x.shape])),
  sum: {
    inputs: reductionInputs(false).map(({ x, axes, keepdims }) => [
      x,
      ag.tensor(axes),
      ag.tensor(keepdims ? 1 : 0),
    ]),
    f: (x, axes, keep) => ag.sum(x!, Array.from(axes!.data), keep!.item() === 1),
  },
  max: {
    inputs: reductionInputs(true).map(({ x, axes, keepdims }) => [
      x,
      ag.tensor(axes),
      ag.tensor(keepdims ? 1 : 0),
    ]),
    f: (x, axes, keep) => ag.max(x!, Array.from(axes!.data), keep!.item() === 1),
  },
  min: {
    inputs: reductionInputs(true).map(({ x, axes, keepdims }) => [
      x,
      ag.tensor(axes),
      ag.tensor(keepdims ? 1 : 0),
    ]),
    f: (x, axes, keep) => ag.min(x!, Array.from(axes!.data), keep!.item() === 1),
  },
  take: {
    inputs: fc
      .array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 })
      .chain((s) =>
        fc
          .tuple(values(s), fc.integer({ min: 0, max: s.length - 1 }))
          .chain(([x, axis]) =>
            fc.tuple(
              fc.constant(x),
              fc.array(fc.integer({ min: 0, max: s[axis]! - 1 }), { minLength: 1, maxLength: 5 }),
              fc.constant(axis),
            ),
          ),
      )
      .map(([x, idx, axis]) => [x, ag.tensor(idx), ag.tensor(axis)]),
    f: (x, idx, axis) => ag.take(x!, Array.from(idx!.data), axis!.item()),
  },
  scatterAdd: {
    inputs: fc
      .tuple(values([3, 2]), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 3, maxLength: 3 }))
      .map(([x, idx]) => [x, ag.tensor(idx)]),
    f: (x, idx) => ag.scatterAdd(x!, Array.from(idx!.data), 0, [4, 2]),
  },
  concat: {
    inputs: fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
      .chain(([r, c1, c2]) => fc.tuple(values([r, c1]), values([r, c2]), values([r, 1]))),
    f: (a, b, c) => ag.concat([a!, b!, c!], 1),
  },
  ...convPrimitiveCases,
};

/** Composite ops (built from primitives): checked the same way. */
const compositeCases: Record<string, GradCase> = {
  mean: {
    inputs: reductionInputs(false).map(({ x, axes }) => [x, ag.tensor(axes)]),
    f: (x, axes) => ag.mean(x!, Array.from(axes!.data)),
  },
  logsumexp: {
    inputs: reductionInputs(false).map(({ x, axes }) => [x, ag.tensor(axes)]),
    f: (x, axes) => ag.logsumexp(x!, Array.from(axes!.data)),
  },
  softmax: unaryCase((x) => ag.softmax(ag.reshape(x, [1, -1]))),
  logSoftmax: unaryCase((x) => ag.logSoftmax(ag.reshape(x, [-1, 1]), 0)),
  stack: {
    inputs: smallShape(2).chain((s) => fc.tuple(values(s), values(s))),
    f: (a, b) => ag.stack([a!, b!], -1),
  },
  sumTo: {
    inputs: broadcastPair().chain(([a]) => values([2, ...a]).map((x) => [x])),
    f: (x) => ag.sumTo(x!, x!.shape.slice(1)),
  },
  "matmul 1-D": {
    inputs: fc.integer({ min: 1, max: 4 }).chain((k) => fc.tuple(values([k]), values([k, 2]), values([k]))),
    f: (v, m, w) => ag.add(ag.matmul(v!, m!), ag.matmul(ag.transpose(m!), w!)),
  },
  "batched matmul of transposes": {
    inputs: fc.tuple(values([2, 3, 2]), values([3, 2])),
    f: (a, b) => ag.matmul(ag.transpose(a!, [0, 2, 1]), b!),
  },
  "x.T": {
    inputs: fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
      .chain(([r, c]) => values([r, c]).map((x) => [x])),
    f: (x) => x!.T,
  },
};

/** Inputs that are only configuration (axes, indices, flags) are not differentiated. */
const differentiated = (name: string, xs: Tensor[]): number[] => {
  const configFrom: Record<string, number> = {
    transpose: 1,
    sum: 1,
    max: 1,
    min: 1,
    mean: 1,
    logsumexp: 1,
    take: 1,
    scatterAdd: 1,
    where: 2,
    matmul: 2,
    addmm: 3,
    ...convDifferentiated,
  };
  const n = configFrom[name] ?? xs.length;
  return [...Array(n).keys()];
};

describe.each(Object.entries({ ...primitiveCases, ...compositeCases }))("gradient of %s", (name, c) => {
  test("matches central differences", () => {
    if (c === "not differentiable") return;
    fc.assert(
      fc.property(c.inputs, (xs) => {
        const keep = differentiated(name, xs);
        const f = (...ds: Tensor[]): Tensor =>
          c.f(...xs.map((x, i) => (keep.includes(i) ? ds[keep.indexOf(i)]! : x)));
        const { worst, detail } = checkAgainstFiniteDifferences(
          f,
          keep.map((i) => xs[i]!),
        );
        expect(worst, detail).toBeLessThan(1e-6);
      }),
      { numRuns: 40 },
    );
  });
});

test("every primitive in the table has a gradient case", () => {
  expect(Object.keys(primitiveCases).sort()).toEqual(Object.keys(primitives).sort());
});

test("non-differentiable primitives give results that do not require grad", () => {
  const x = ag.tensor([-1, 0, 2], { requiresGrad: true });
  expect(ag.sign(x).requiresGrad).toBe(false);
  expect(ag.greater(x, 0).requiresGrad).toBe(false);
  expect(Array.from(ag.sign(x).data)).toEqual([-1, 0, 1]);
});

test("the finite-difference check catches a deliberately wrong vjp", () => {
  // Plant a bug in tanh's rule (forgets the square: 1 − tanh instead of 1 − tanh²) and expect a failure.
  const rule = primitives.tanh;
  const original = rule.vjp;
  try {
    (rule as { vjp: typeof original }).vjp = (g, _inputs, out) => [ag.mul(g, ag.sub(1, out))];
    const { worst } = checkAgainstFiniteDifferences((x) => ag.tanh(x), [ag.tensor([0.3, -0.8, 1.2])]);
    expect(worst).toBeGreaterThan(1e-2);
  } finally {
    (rule as { vjp: typeof original }).vjp = original;
  }
  const { worst } = checkAgainstFiniteDifferences((x) => ag.tanh(x), [ag.tensor([0.3, -0.8, 1.2])]);
  expect(worst).toBeLessThan(1e-8);
});

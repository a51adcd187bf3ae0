/**
 * Random-graph fuzzing (a reduced run with a fixed seed; `pnpm fuzz` runs 10 000 graphs): fast-check
 * generates expression graphs over every primitive — random shapes with broadcasting, reuse of the same
 * tensor, reductions, matmul chains — and checks reverse-mode gradients and Hessian-vector products
 * against finite differences.
 */

import * as ag from "@tapegrad/autograd";
import {
  arbGraph,
  checkGraph,
  type GraphProgram,
  graphLeaves,
  graphOps,
  runGraph,
} from "@tapegrad/autograd/testing";
import fc from "fast-check";
import { expect, test } from "vitest";

test("random graphs: gradients and Hessian-vector products match finite differences (300 graphs, fixed seed)", () => {
  fc.assert(
    fc.property(arbGraph(), (program) => {
      const r = checkGraph(program);
      expect(r.worst, r.detail).toBeLessThanOrEqual(1e-6);
    }),
    { numRuns: 300, seed: 20261123 },
  );
});

test("every graph op is reachable from the generator and runs", () => {
  for (const op of graphOps) {
    const program: GraphProgram = {
      leaves: [
        { shape: [2, 3], values: [0.3, -0.7, 1.1, 0.2, -1.4, 0.9] },
        { shape: [3], values: [0.5, -0.25, 1.25] },
      ],
      instructions: [{ op, a: 0, b: 1, choice: 5 }],
    };
    expect(runGraph(program, graphLeaves(program)).shape).toEqual([]);
  }
});

test("the fuzzer catches a wrong vjp planted in a primitive", () => {
  const rule = ag.primitives.sigmoid;
  const original = rule.vjp;
  (rule as { vjp: typeof original }).vjp = (g, _inputs, out) => [ag.mul(g, out)]; // forgets (1 − σ)
  try {
    const program: GraphProgram = {
      leaves: [{ shape: [3], values: [0.3, -0.7, 1.1] }],
      instructions: [{ op: "sigmoid", a: 0, b: 0, choice: 0 }],
    };
    expect(checkGraph(program).ok).toBe(false);
  } finally {
    (rule as { vjp: typeof original }).vjp = original;
  }
});

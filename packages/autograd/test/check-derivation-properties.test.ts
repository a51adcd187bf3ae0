/**
 * @file Property: for random MLPs (1–4 layers, random widths, activations and batch sizes), the correct
 * hand-derived backward agrees line by line, and a slip planted in any one returned gradient (×1.37) fails
 * exactly that line — the localisation claim, on graphs the other tests did not pick.
 */
import {
  add,
  checkDerivation,
  greater,
  matmul,
  mean,
  mul,
  type NameFn,
  RandomState,
  relu,
  sigmoid,
  square,
  sub,
  sum,
  type Tensor,
  tanh,
} from "@tapegrad/autograd";
import fc from "fast-check";
import { expect, test } from "vitest";

type Act = "tanh" | "sigmoid" | "relu";
const g: Record<Act, (z: Tensor) => Tensor> = { tanh, sigmoid, relu };
/** g′ written by hand from Z and A = g(Z). */
const gPrime: Record<Act, (z: Tensor, a: Tensor) => Tensor> = {
  tanh: (_z, a) => sub(1, square(a)),
  sigmoid: (_z, a) => mul(a, sub(1, a)),
  relu: (z) => greater(z, 0),
};

const problem = fc.record({
  widths: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 5 }),
  acts: fc.array(fc.constantFrom<Act>("tanh", "sigmoid", "relu"), { minLength: 4, maxLength: 4 }),
  m: fc.integer({ min: 1, max: 6 }),
  seed: fc.integer({ min: 0, max: 10_000 }),
  slip: fc.nat(),
});

test("correct backwards pass; one slipped line fails alone", () => {
  fc.assert(
    fc.property(problem, ({ widths, acts, m, seed, slip }) => {
      const rng = new RandomState(seed);
      const L = widths.length - 1;
      const X = rng.randn(widths[0]!, m);
      const T = rng.randn(widths[L]!, m);
      const params: Record<string, Tensor> = {};
      for (let l = 1; l <= L; l++) {
        params[`W${l}`] = rng.randn(widths[l]!, widths[l - 1]!);
        params[`b${l}`] = rng.randn(widths[l]!, 1).mul(0.1);
      }
      // J = mean over examples of ½‖A_L − T‖², every layer g_l(W_l·A + b_l).
      const forward = (p: Record<string, Tensor>, name: NameFn) => {
        let A = X;
        for (let l = 1; l <= L; l++) {
          const Z = name(`Z${l}`, add(matmul(p[`W${l}`]!, A), p[`b${l}`]!));
          A = name(`A${l}`, g[acts[l - 1]!](Z));
        }
        return mul(sum(mean(square(sub(A, T)), 1)), 0.5 * widths[L]!);
      };
      const backward = (factorFor: string | null) => (v: Record<string, Tensor>) => {
        const out: Record<string, Tensor> = {};
        const f = (key: string, t: Tensor) => {
          out[key] = key === factorFor ? mul(t, 1.37) : t;
          return out[key]!;
        };
        let dA = f(`dA${L}`, mul(sub(v[`A${L}`]!, T), widths[L]! / m));
        for (let l = L; l >= 1; l--) {
          const dZ = f(`dZ${l}`, mul(dA, gPrime[acts[l - 1]!](v[`Z${l}`]!, v[`A${l}`]!)));
          const Aprev = l === 1 ? X : v[`A${l - 1}`]!;
          f(`dW${l}`, matmul(dZ, Aprev.T));
          f(`db${l}`, sum(dZ, 1, true));
          if (l > 1) dA = f(`dA${l - 1}`, matmul(v[`W${l}`]!.T, dZ));
        }
        return out;
      };
      const right = checkDerivation(forward, params, backward(null));
      expect(right.ok).toBe(true);
      const keys = right.equations.map((e) => e.name);
      const planted = keys[slip % keys.length]!;
      const report = checkDerivation(forward, params, backward(planted));
      const bad = report.equations.filter((e) => !e.ok).map((e) => e.name);
      const e = report.equations.find((x) => x.name === planted)!;
      // A gradient that is exactly 0 (relu off everywhere) stays 0 when scaled: nothing to catch (1.37: not a ratio of the small axis lengths).
      if (e.expected.data.every((x) => x === 0)) return;
      expect(bad).toEqual([planted]);
      expect(report.firstMismatch).toBe(planted);
      expect(e.diagnosis).toContain("×1.37");
    }),
    { numRuns: 60, seed: 42 },
  );
});

/**
 * @file Test helpers independent of the code under test: a plain central-difference gradient and
 * small fast-check arbitraries for shapes and values.
 */

import { noGrad, type Tensor, tensor } from "@tapegrad/autograd";
import fc from "fast-check";

/** Shape with 0–3 axes of length 1–3. */
export const smallShape = (maxRank = 3): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: maxRank });

/** Two shapes that broadcast together: a base shape with axes set to 1 and leading axes dropped on either side. */
export const broadcastPair = (): fc.Arbitrary<[number[], number[]]> =>
  smallShape().chain((base) =>
    fc
      .tuple(
        fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }),
        fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }),
        fc.integer({ min: 0, max: base.length }),
        fc.boolean(),
      )
      .map(([onesA, onesB, drop, dropA]) => {
        // An axis may be 1 in a or in b, not both (keeps every pair of axes meaningful).
        let a = base.map((d, i) => (onesA[i] ? 1 : d));
        let b = base.map((d, i) => (onesB[i] && !onesA[i] ? 1 : d));
        if (dropA) a = a.slice(drop);
        else b = b.slice(drop);
        return [a, b] as [number[], number[]];
      }),
  );

/** Values for a tensor of `shape`, in [min, max], optionally kept at least `gap` away from each `kink`. */
export const values = (
  shape: readonly number[],
  { min = -2, max = 2, kinks = [] as number[], gap = 0.1 } = {},
): fc.Arbitrary<Tensor> => {
  const n = shape.reduce((p, d) => p * d, 1);
  return fc
    .array(
      fc.double({ min, max, noNaN: true }).filter((v) => kinks.every((k) => Math.abs(v - k) > gap)),
      { minLength: n, maxLength: n },
    )
    .map((vs) => tensor(Float64Array.from(vs), { shape: [...shape] }));
};

/** A tensor of `shape` whose values are distinct, at least `gap` apart (no ties for max/min). */
export const distinctValues = (shape: readonly number[], gap = 0.05): fc.Arbitrary<Tensor> => {
  const n = shape.reduce((p, d) => p * d, 1);
  return fc
    .tuple(
      fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
      fc.double({ min: -1, max: 1, noNaN: true }),
    )
    .map(([perm, offset]) =>
      tensor(
        Float64Array.from(perm, (p) => offset + p * gap * 2),
        { shape: [...shape] },
      ),
    );
};

/**
 * Check reverse-mode gradients of f at `inputs` against central differences of L = Σ f(x)·w, with w a
 * fixed pseudo-random weight (so every output element matters). Returns the worst mismatch.
 */
export function checkAgainstFiniteDifferences(
  f: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  h = 1e-6,
): { worst: number; detail: string } {
  const leaves = inputs.map((x) => tensor(x.data.slice(), { shape: [...x.shape], requiresGrad: true }));
  const out = f(...leaves);
  const w = Float64Array.from({ length: out.size }, (_, i) => Math.sin(1.7 * i + 0.3) + 1.5);
  const loss = (o: Tensor): number => o.data.reduce((s, v, i) => s + v * w[i]!, 0);
  out.backward(tensor(w, { shape: [...out.shape] }));
  let worst = 0;
  let detail = "";
  inputs.forEach((x, k) => {
    const analytic = leaves[k]!.grad?.data ?? new Float64Array(x.size);
    for (let i = 0; i < x.size; i++) {
      const plus = x.data.slice();
      const minus = x.data.slice();
      plus[i]! += h;
      minus[i]! -= h;
      const fp = noGrad(() =>
        loss(f(...inputs.map((t, j) => (j === k ? tensor(plus, { shape: [...x.shape] }) : t)))),
      );
      const fm = noGrad(() =>
        loss(f(...inputs.map((t, j) => (j === k ? tensor(minus, { shape: [...x.shape] }) : t)))),
      );
      const numeric = (fp - fm) / (2 * h);
      const err = Math.abs(analytic[i]! - numeric) / (1 + Math.abs(numeric));
      if (err > worst) {
        worst = err;
        detail = `input ${k} element ${i}: analytic ${analytic[i]} numeric ${numeric}`;
      }
    }
  });
  return { worst, detail };
}

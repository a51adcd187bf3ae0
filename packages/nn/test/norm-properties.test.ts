/**
 * @file Property tests: the tape's gradients of BatchNorm1d, BatchNorm2d (training and eval) and LayerNorm
 * equal central finite differences (`gradcheck`) on random shapes, values and eps; a planted bug (the mean
 * or the variance detached from the tape: forward unchanged, gradient wrong) makes the same property fail.
 * Dropout, being random, is checked by its statistics and its eval identity.
 */
import {
  add,
  div,
  gradcheck,
  mean,
  mul,
  ones,
  sqrt,
  square,
  sub,
  sum,
  type Tensor,
  tensor,
} from "@tapegrad/autograd";
import { BatchNorm1d, BatchNorm2d, Dropout, LayerNorm, manualSeed } from "@tapegrad/nn";
import fc from "fast-check";
import { describe, expect, test } from "vitest";

/** Uniform values in [min, max] (fc.double would favour extremes and equal values, i.e. zero variances). */
const uniform = (min: number, max: number) =>
  fc.noBias(fc.integer({ min: 0, max: 2 ** 30 })).map((u) => min + ((max - min) * u) / 2 ** 30);

const tensorOf = (shape: number[], min = -3, max = 3): fc.Arbitrary<Tensor> => {
  const n = shape.reduce((p, d) => p * d, 1);
  return fc
    .array(uniform(min, max), { minLength: n, maxLength: n })
    .map((v) => tensor(Float64Array.from(v), { shape }));
};

/** Every slice's variance over `axes` is at least `min`: finite differences stay well conditioned. */
function spread(x: Tensor, axes: number[], min: number): boolean {
  return mean(square(sub(x, mean(x, axes, true))), axes, true).data.every((v) => v >= min);
}

const eps = fc.constantFrom(1e-5, 1e-3, 0.1);

/** A batch-norm problem: input (N, C, …rest), weight, bias, running statistics, eps. */
const batchNormProblem = (rest: fc.Arbitrary<number[]>) =>
  fc.tuple(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 1, max: 3 }), rest).chain(([n, c, r]) =>
    fc.record({
      x: tensorOf([n, c, ...r]),
      weight: tensorOf([c], 0.5, 2),
      bias: tensorOf([c]),
      runningMean: tensorOf([c]),
      runningVar: tensorOf([c], 0.2, 3),
      eps,
    }),
  );

type BatchNormProblem = {
  x: Tensor;
  weight: Tensor;
  bias: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
  eps: number;
};

/** The layer as a function of (x, weight, bias), so gradcheck can vary the parameters too. */
function batchNormFn(p: BatchNormProblem, training: boolean): (x: Tensor, w: Tensor, b: Tensor) => Tensor {
  const C = p.weight.size;
  const layer = p.x.ndim === 4 ? new BatchNorm2d(C, { eps: p.eps }) : new BatchNorm1d(C, { eps: p.eps });
  layer.running_mean!.data.set(p.runningMean.data);
  layer.running_var!.data.set(p.runningVar.data);
  layer.train(training);
  return (x, w, b) => {
    // the parameters gradcheck perturbs, put where forward reads them (a test-only swap)
    Object.assign(layer, { weight: w, bias: b });
    return layer.forward(x);
  };
}

const statAxes = (x: Tensor) => x.shape.map((_, i) => i).filter((i) => i !== 1);

describe("batch norm: tape gradients equal central differences", () => {
  const cases = [
    ["BatchNorm1d (N, C)", fc.constant([] as number[])],
    ["BatchNorm1d (N, C, L)", fc.tuple(fc.integer({ min: 1, max: 3 })).map((r) => [...r])],
    [
      "BatchNorm2d (N, C, H, W)",
      fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })).map((r) => [...r]),
    ],
  ] as const;
  for (const [name, rest] of cases) {
    for (const training of [true, false]) {
      test(`${name}, ${training ? "training" : "eval"}`, () => {
        fc.assert(
          fc.property(batchNormProblem(rest), (p) => {
            fc.pre(!training || spread(p.x, statAxes(p.x), 0.05));
            const report = gradcheck(batchNormFn(p, training), [p.x, p.weight, p.bias]);
            expect(report.ok, report.toString()).toBe(true);
          }),
          { numRuns: 40 },
        );
      });
    }
  }
});

const layerNormProblem = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.constantFrom<number[]>([4], [2, 3], [3, 2]))
  .chain(([n, normalized]) =>
    fc.record({
      x: tensorOf([n, ...normalized]),
      weight: tensorOf(normalized, 0.5, 2),
      bias: tensorOf(normalized),
      normalized: fc.constant(normalized),
      eps,
    }),
  );

describe("layer norm: tape gradients equal central differences", () => {
  test("LayerNorm over the last one or two axes", () => {
    fc.assert(
      fc.property(layerNormProblem, (p) => {
        const axes = p.normalized.map((_, i) => i + 1);
        fc.pre(spread(p.x, axes, 0.05));
        const layer = new LayerNorm(p.normalized, { eps: p.eps });
        const f = (x: Tensor, w: Tensor, b: Tensor) => {
          Object.assign(layer, { weight: w, bias: b });
          return layer.forward(x);
        };
        const report = gradcheck(f, [p.x, p.weight, p.bias]);
        expect(report.ok, report.toString()).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});

describe("the finite-difference property catches planted gradient bugs", () => {
  /** Layer norm of the last axis written out; `detach` plants the classic bug of a statistic off the tape. */
  const layerNorm = (x: Tensor, epsilon: number, detach: "none" | "mean" | "variance") => {
    const mu = mean(detach === "mean" ? x.detach() : x, -1, true);
    const centered = sub(x, mu);
    const variance = mean(square(detach === "variance" ? centered.detach() : centered), -1, true);
    return div(centered, sqrt(add(variance, epsilon)));
  };
  const property = (detach: "none" | "mean" | "variance") =>
    fc.property(
      fc
        .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 2, max: 5 }))
        .chain(([n, d]) => tensorOf([n, d])),
      eps,
      (x, e) => {
        fc.pre(spread(x, [1], 0.05));
        const report = gradcheck((t: Tensor) => layerNorm(t, e, detach), [x]);
        expect(report.ok, report.toString()).toBe(true);
      },
    );

  test("the written-out formula passes, and agrees with LayerNorm", () => {
    fc.assert(property("none"), { numRuns: 30 });
    const x = tensor([
      [1, -2, 0.5, 3],
      [0, 4, -1, 2],
    ]);
    expect(layerNorm(x, 1e-5, "none")).toBeAllClose(new LayerNorm(4).forward(x), { rtol: 1e-14 });
  });
  test.each(["mean", "variance"] as const)(
    "the %s detached: same forward, and the property fails",
    (detach) => {
      const details = fc.check(property(detach), { numRuns: 30 });
      expect(details.failed).toBe(true);
      expect(details.errorInstance).toHaveProperty("name", "AssertionError");
    },
  );
});

describe("dropout: statistics in training, the identity in eval", () => {
  const n = 20_000;
  const p = 0.3;
  // 5 standard deviations of the fraction of zeros (binomial): a correct layer fails about once in 3·10⁶
  const tolerance = 5 * Math.sqrt((p * (1 - p)) / n);

  /** Fraction of zeros and mean of a dropout output on ones (the mean is 1 for inverted dropout). */
  const stats = (y: Tensor) => ({ zeros: y.data.filter((v) => v === 0).length / n, mean: sum(y).item() / n });

  test("about p of the elements are zeroed, the others scaled by 1/(1 − p); the gradient is the same mask", () => {
    const drop = new Dropout(p, { seed: 11 });
    const x = ones([n], { requiresGrad: true });
    const y = drop.forward(x);
    const { zeros, mean: m } = stats(y);
    expect(Math.abs(zeros - p)).toBeLessThan(tolerance);
    expect(Math.abs(m - 1)).toBeLessThan(tolerance / (1 - p));
    expect(new Set(y.data)).toEqual(new Set([0, 1 / (1 - p)]));
    sum(mul(y, 2)).backward();
    expect(x.grad).toBeAllClose(mul(y, 2), { rtol: 0, atol: 0 });
  });

  test("the statistics check catches non-inverted dropout (a planted bug: no 1/(1 − p))", () => {
    const y = mul(new Dropout(p, { seed: 11 }).forward(ones([n])), 1 - p);
    expect(Math.abs(stats(y).mean - 1)).toBeGreaterThan(tolerance / (1 - p));
  });

  test("eval returns the input itself; p = 0 is the identity, p = 1 zeroes everything", () => {
    const x = tensor([1, -2, 3]);
    expect(new Dropout(0.5).eval().forward(x)).toBe(x);
    expect(new Dropout(0).forward(x)).toBe(x);
    expect(new Dropout(1).forward(x)).toBeAllClose([0, 0, 0], { rtol: 0, atol: 0 }); // −2·0 is −0, as in PyTorch
  });

  test("reproducible: a seed fixes the masks, calls differ, manualSeed drives the default generator", () => {
    const masks = (drop: Dropout) => [0, 1].map(() => [...drop.forward(ones([64])).data]);
    const [a1, a2] = masks(new Dropout(0.5, { seed: 3 }));
    const [b1] = masks(new Dropout(0.5, { seed: 3 }));
    expect(a1).toEqual(b1);
    expect(a1).not.toEqual(a2);
    manualSeed(7);
    const c = masks(new Dropout(0.5));
    manualSeed(7);
    expect(masks(new Dropout(0.5))).toEqual(c);
  });
});

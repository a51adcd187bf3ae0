/**
 * maxPool2d, avgPool2d, argmax and argmin: forward and gradients against PyTorch float64 fixtures (written by
 * packages/nn/test/fixtures/make-layer-fixtures.py, including tied maxima), central differences on random
 * configurations away from ties, a planted wrong tie rule, bad input.
 */
import { readFileSync } from "node:fs";
import * as ag from "@tapegrad/autograd";
import { primitives, type Tensor } from "@tapegrad/autograd";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { poolConfig, poolOutputSize } from "./conv-cases.js";
import { checkAgainstFiniteDifferences, distinctValues, values } from "./helpers.js";

interface FixtureTensor {
  shape: number[];
  data: number[];
}
interface FixtureCase {
  call: string;
  op: string;
  options: {
    kernelSize: ag.Size2d;
    stride: ag.Size2d | null;
    padding: ag.Size2d;
    axis: number | null;
    keepdims: boolean;
  };
  inputs: { x: FixtureTensor };
  upstream?: FixtureTensor;
  output: FixtureTensor;
  grads?: { x: FixtureTensor };
}
const fixtures = JSON.parse(readFileSync(new URL("./fixtures/conv-pool.json", import.meta.url), "utf8")) as {
  cases: Record<string, FixtureCase>;
};
const cases = Object.entries(fixtures.cases);
const poolCases = cases.filter(([, c]) => c.op === "maxPool2d" || c.op === "avgPool2d");
const argCases = cases.filter(([, c]) => c.op === "argmax" || c.op === "argmin");

function runPoolCase(c: FixtureCase): { out: Tensor; x: Tensor } {
  const x = ag.tensor(Float64Array.from(c.inputs.x.data), { shape: c.inputs.x.shape, requiresGrad: true });
  const pool = c.op === "maxPool2d" ? ag.maxPool2d : ag.avgPool2d;
  const out = pool(x, c.options.kernelSize, { stride: c.options.stride, padding: c.options.padding });
  out.backward(ag.tensor(Float64Array.from(c.upstream!.data), { shape: c.upstream!.shape }));
  return { out, x };
}

describe.each(poolCases)("PyTorch fixture %s", (_name, c) => {
  test(`forward and gradient equal ${c.call}`, () => {
    const { out, x } = runPoolCase(c);
    expect(out).toBeAllClose(c.output, { rtol: 1e-12 });
    expect(x.grad).toBeAllClose(c.grads!.x, { rtol: 1e-12 });
  });
});

describe.each(argCases)("PyTorch fixture %s", (_name, c) => {
  test(`equals ${c.call}`, () => {
    const x = ag.tensor(Float64Array.from(c.inputs.x.data), { shape: c.inputs.x.shape, requiresGrad: true });
    const f = c.op === "argmax" ? ag.argmax : ag.argmin;
    const out = f(x, c.options.axis ?? undefined, c.options.keepdims);
    expect(out.shape).toEqual(c.output.shape);
    expect(Array.from(out.data)).toEqual(c.output.data);
    expect(out.requiresGrad).toBe(false);
  });
});

test("argmax / argmin: first occurrence on ties, NaN counts as the extremum (numpy, PyTorch)", () => {
  expect(ag.argmax(ag.tensor([1, 5, 5, 2])).item()).toBe(1);
  expect(ag.argmin(ag.tensor([4, 0, 3, 0])).item()).toBe(1);
  expect(ag.argmax(ag.tensor([1, Number.NaN, 9, Number.NaN])).item()).toBe(1);
  expect(ag.argmin(ag.tensor([1, -9, Number.NaN])).item()).toBe(2);
  expect(ag.argmax(ag.tensor(7)).item()).toBe(0);
  expect(ag.argmax(ag.tensor([[1, 2]]), undefined, true).shape).toEqual([1, 1]);
});

describe("random configurations (kernel, stride, padding)", () => {
  test("maxPool2d's gradient matches central differences (distinct values: no ties)", () => {
    fc.assert(
      fc.property(
        poolConfig.chain((c) => distinctValues([c.N, c.C, c.H, c.W]).map((x) => [c, x] as const)),
        ([c, x]) => {
          const f = (t: Tensor) => ag.maxPool2d(t, c.kernel, { stride: c.stride, padding: c.padding });
          expect(f(x).shape).toEqual([c.N, c.C, ...poolOutputSize(c)]);
          const { worst, detail } = checkAgainstFiniteDifferences(f, [x]);
          expect(worst, detail).toBeLessThan(1e-6);
        },
      ),
      { numRuns: 60 },
    );
  });

  test("avgPool2d equals a direct window sum over kH·kW, and its gradient matches central differences", () => {
    fc.assert(
      fc.property(
        poolConfig.chain((c) => values([c.N, c.C, c.H, c.W]).map((x) => [c, x] as const)),
        ([c, x]) => {
          const f = (t: Tensor) => ag.avgPool2d(t, c.kernel, { stride: c.stride, padding: c.padding });
          const [OH, OW] = poolOutputSize(c);
          const expected: number[] = [];
          for (let plane = 0; plane < c.N * c.C; plane++)
            for (let oh = 0; oh < OH; oh++)
              for (let ow = 0; ow < OW; ow++) {
                let s = 0;
                for (let i = 0; i < c.kernel[0]; i++)
                  for (let j = 0; j < c.kernel[1]; j++) {
                    const h = oh * c.stride[0] - c.padding[0] + i;
                    const w = ow * c.stride[1] - c.padding[1] + j;
                    if (h >= 0 && h < c.H && w >= 0 && w < c.W) s += x.data[(plane * c.H + h) * c.W + w]!;
                  }
                expected.push(s / (c.kernel[0] * c.kernel[1]));
              }
          expect(f(x)).toBeAllClose(expected, { rtol: 1e-12 });
          const { worst, detail } = checkAgainstFiniteDifferences(f, [x]);
          expect(worst, detail).toBeLessThan(1e-6);
        },
      ),
      { numRuns: 60 },
    );
  });

  test("second order through maxPool2d and avgPool2d: grad of a function of the input gradient", () => {
    // F(x) = Σ v ⊙ ∂/∂x Σ u ⊙ tanh(pool(x))² exercises the vjps of scatterAdd and avgPool2dBackward
    fc.assert(
      fc.property(
        poolConfig.chain((c) =>
          fc.tuple(
            fc.constant(c),
            distinctValues([c.N, c.C, c.H, c.W]),
            values([c.N, c.C, ...poolOutputSize(c)]),
            values([c.N, c.C, c.H, c.W]),
            fc.boolean(),
          ),
        ),
        ([c, x, u, v, max]) => {
          const pool = max ? ag.maxPool2d : ag.avgPool2d;
          const inner = ag.grad((t: Tensor) =>
            ag.sum(
              ag.mul(u, ag.square(ag.tanh(pool(t, c.kernel, { stride: c.stride, padding: c.padding })))),
            ),
          );
          const F = (t: Tensor) => ag.sum(ag.mul(v, inner(t)));
          const dx = ag.grad(F)(x);
          const h = 1e-6;
          for (let i = 0; i < x.size; i++) {
            const at = (d: number) => {
              const data = x.data.slice();
              data[i]! += d;
              return F(ag.tensor(data, { shape: [...x.shape] })).item();
            };
            const numeric = (at(h) - at(-h)) / (2 * h);
            expect(Math.abs(dx.data[i]! - numeric) / (1 + Math.abs(numeric))).toBeLessThan(1e-5);
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});

test("a planted wrong tie rule (gradient to the last maximum of a window) is caught by the ties fixture", () => {
  const [, c] = poolCases.find(([n]) => n.includes("ties"))!;
  const rule = primitives.maxPool2d;
  const original = rule.vjp;
  try {
    // the same routing, but on the mirrored input: ties resolve to the last maximum in row-major order
    (rule as { vjp: typeof original }).vjp = (g, [x], _out, attrs) => {
      const mirror = (t: Tensor) => {
        const [, , H, W] = t.shape as number[];
        const rev = (n: number) => Array.from({ length: n }, (_, i) => n - 1 - i);
        return ag.take(ag.take(t, rev(H!), 2), rev(W!), 3);
      };
      const y = ag.maxPool2d(mirror(x!.detach()), attrs.kernelSize, {
        stride: attrs.stride,
        padding: attrs.padding,
      });
      return [mirror(original(mirror(g), [mirror(x!.detach())], y, attrs)[0]!)];
    };
    const { x } = runPoolCase(c);
    expect(() => expect(x.grad).toBeAllClose(c.grads!.x, { rtol: 1e-12 })).toThrow();
  } finally {
    (rule as { vjp: typeof original }).vjp = original;
  }
  expect(runPoolCase(c).x.grad).toBeAllClose(c.grads!.x, { rtol: 1e-12 });
});

describe("bad input gets an error naming the op and the shapes", () => {
  const x = ag.zeros([1, 2, 4, 4]);
  test.each<[string, () => unknown, RegExp]>([
    [
      "rank",
      () => ag.maxPool2d(ag.zeros([4, 4]), 2),
      /^maxPool2d: x must have 4 axes \(N, C, H, W\) or 3 \(C, H, W\), got shape \[4, 4\]/,
    ],
    [
      "kernel 0",
      () => ag.avgPool2d(x, 0),
      /^avgPool2d: kernelSize must be a positive integer, got the number 0/,
    ],
    [
      "kernel missing",
      () => ag.maxPool2d(x, undefined as unknown as number),
      /^maxPool2d: kernelSize must be a positive integer or a pair \[h, w\] of them, got undefined/,
    ],
    [
      "padding over half",
      () => ag.maxPool2d(x, 2, { padding: 2 }),
      /^maxPool2d: padding \[2, 2\] must be at most half the kernel size \[2, 2\]/,
    ],
    [
      "window too large",
      () => ag.avgPool2d(x, [5, 2]),
      /^avgPool2d: the window \[5, 2\] spans 5×2 but the padded input is only 4×4 \(x \[1, 2, 4, 4\]\); the output would be empty/,
    ],
    [
      "stride pair",
      () => ag.avgPool2d(x, 2, { stride: [1, 0] }),
      /^avgPool2d: stride\[1\] must be a positive integer, got the number 0/,
    ],
    [
      "argmax axis",
      () => ag.argmax(ag.zeros([2, 3]), 2),
      /^argmax: axis 2 is out of range for a tensor of rank 2/,
    ],
    [
      "argmin empty",
      () => ag.argmin(ag.zeros([0, 3])),
      /^argmin: cannot take the argmin of an empty tensor \(x \[0, 3\]\)/,
    ],
    [
      "argmax empty axis",
      () => ag.argmax(ag.zeros([2, 0]), 1),
      /^argmax: cannot take the argmax of an empty axis 1 \(x \[2, 0\]\)/,
    ],
    [
      "argmax array",
      () => ag.argmax([1, 2] as unknown as Tensor),
      /^argmax: x must be a Tensor, got an array of length 2/,
    ],
  ])("%s", (_label, f, message) => {
    expect(f).toThrow(message);
  });
});

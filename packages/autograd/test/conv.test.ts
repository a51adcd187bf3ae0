/**
 * conv2d: forward and gradients against PyTorch float64 fixtures (written by
 * packages/nn/test/fixtures/make-layer-fixtures.py), against a direct seven-loop sum written here, against
 * central differences (first and second order) on random configurations, a planted wrong rule, bad input.
 */
import { readFileSync } from "node:fs";
import * as ag from "@tapegrad/autograd";
import { primitives, type Tensor } from "@tapegrad/autograd";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { type ConvConfig, convConfig, convInputs, convOptions, convOutputSize } from "./conv-cases.js";
import { checkAgainstFiniteDifferences, values } from "./helpers.js";

interface FixtureTensor {
  shape: number[];
  data: number[];
}
interface FixtureCase {
  call: string;
  op: string;
  options: ag.Conv2dOptions;
  inputs: Record<string, FixtureTensor>;
  upstream: FixtureTensor;
  output: FixtureTensor;
  grads: Record<string, FixtureTensor>;
}
const fixtures = JSON.parse(readFileSync(new URL("./fixtures/conv-pool.json", import.meta.url), "utf8")) as {
  cases: Record<string, FixtureCase>;
};
const convCases = Object.entries(fixtures.cases).filter(([, c]) => c.op === "conv2d");
const leaf = (t: FixtureTensor): Tensor =>
  ag.tensor(Float64Array.from(t.data), { shape: t.shape, requiresGrad: true });

/** Run a fixture case: forward, backward with its upstream gradient; returns output and leaves. */
function runConvCase(c: FixtureCase): { out: Tensor; leaves: Record<string, Tensor> } {
  const leaves: Record<string, Tensor> = { x: leaf(c.inputs.x!), weight: leaf(c.inputs.weight!) };
  if (c.inputs.bias) leaves.bias = leaf(c.inputs.bias);
  const out = ag.conv2d(leaves.x!, leaves.weight!, leaves.bias, c.options);
  out.backward(ag.tensor(Float64Array.from(c.upstream.data), { shape: c.upstream.shape }));
  return { out, leaves };
}

describe.each(convCases)("PyTorch fixture %s", (_name, c) => {
  test(`forward and gradients equal ${c.call}`, () => {
    const { out, leaves } = runConvCase(c);
    expect(out).toBeAllClose(c.output, { rtol: 1e-12 });
    expect(Object.keys(leaves).sort()).toEqual(Object.keys(c.grads).sort());
    for (const [k, g] of Object.entries(c.grads)) expect(leaves[k]!.grad).toBeAllClose(g, { rtol: 1e-12 });
  });
});

test("the fixtures cover stride, padding, dilation, groups, pairs, and conv with and without bias", () => {
  const opts = convCases.map(([, c]) => JSON.stringify(c.options));
  expect(opts.some((o) => /"stride":2/.test(o))).toBe(true);
  expect(opts.some((o) => /"padding":1/.test(o))).toBe(true);
  expect(opts.some((o) => /"dilation":\[2,3\]/.test(o))).toBe(true);
  expect(opts.some((o) => /"groups":3/.test(o))).toBe(true);
  expect(convCases.some(([, c]) => c.inputs.bias === undefined)).toBe(true);
  expect(convCases.some(([, c]) => c.inputs.bias !== undefined)).toBe(true);
});

/** conv2d written as the definition: a direct sum, independent of im2col and the GEMM. */
function directConv(x: Tensor, w: Tensor, b: Tensor | undefined, c: ConvConfig): Float64Array {
  const [OH, OW] = convOutputSize(c);
  const Cg = c.C / c.groups;
  const Og = c.O / c.groups;
  const out = new Float64Array(c.N * c.O * OH * OW);
  let k = 0;
  for (let n = 0; n < c.N; n++)
    for (let o = 0; o < c.O; o++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++, k++) {
          let s = b ? b.data[o]! : 0;
          const g = Math.floor(o / Og);
          for (let ci = 0; ci < Cg; ci++)
            for (let i = 0; i < c.kH; i++)
              for (let j = 0; j < c.kW; j++) {
                const ih = oh * c.sH - c.pH + i * c.dH;
                const iw = ow * c.sW - c.pW + j * c.dW;
                if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
                const xv = x.data[((n * c.C + g * Cg + ci) * c.H + ih) * c.W + iw]!;
                s += xv * w.data[((o * Cg + ci) * c.kH + i) * c.kW + j]!;
              }
          out[k] = s;
        }
  return out;
}

describe("random configurations (stride, padding, dilation, groups)", () => {
  test("forward equals the direct sum", () => {
    fc.assert(
      fc.property(
        convConfig.chain((c) => convInputs(c).map((xs) => [c, ...xs] as const)),
        ([c, x, w, b]) => {
          const out = ag.conv2d(x, w, c.bias ? b : undefined, convOptions(c));
          expect(out.shape).toEqual([c.N, c.O, ...convOutputSize(c)]);
          expect(out).toBeAllClose(directConv(x, w, c.bias ? b : undefined, c), { rtol: 1e-12 });
        },
      ),
      { numRuns: 100 },
    );
  });

  test("gradients of x, weight and bias match central differences", () => {
    fc.assert(
      fc.property(
        convConfig.chain((c) => convInputs(c).map((xs) => [c, ...xs] as const)),
        ([c, x, w, b]) => {
          const f = (xx: Tensor, ww: Tensor, bb: Tensor) =>
            ag.conv2d(xx, ww, c.bias ? bb : undefined, convOptions(c));
          const { worst, detail } = checkAgainstFiniteDifferences(f, [x, w, b]);
          expect(worst, detail).toBeLessThan(1e-6);
        },
      ),
      { numRuns: 40 },
    );
  });

  test("second order: the gradient of a function of the input gradient matches central differences", () => {
    // F(x, w) = Σ v ⊙ ∂/∂x Σ u ⊙ tanh(conv2d(x, w)): its gradient runs through the vjps of
    // conv2dBackwardInput and conv2dBackwardWeight as well as conv2d's
    fc.assert(
      fc.property(
        convConfig.chain((c) =>
          fc.tuple(
            fc.constant(c),
            convInputs(c),
            values([c.N, c.O, ...convOutputSize(c)]),
            values([c.N, c.C, c.H, c.W]),
          ),
        ),
        ([c, [x, w], u, v]) => {
          const inner = ag.grad((xx: Tensor, ww: Tensor) =>
            ag.sum(ag.mul(u, ag.tanh(ag.conv2d(xx, ww, undefined, convOptions(c))))),
          );
          const F = (xx: Tensor, ww: Tensor) => ag.sum(ag.mul(v, inner(xx, ww)));
          const [dx, dw] = ag.grad(F, [0, 1])(x, w);
          const h = 1e-5;
          [x, w].forEach((t, k) => {
            const analytic = (k === 0 ? dx : dw)!.data;
            for (let i = 0; i < t.size; i++) {
              const shifted = (d: number) => {
                const data = t.data.slice();
                data[i]! += d;
                const s = ag.tensor(data, { shape: [...t.shape] });
                return (k === 0 ? F(s, w) : F(x, s)).item();
              };
              const numeric = (shifted(h) - shifted(-h)) / (2 * h);
              expect(Math.abs(analytic[i]! - numeric) / (1 + Math.abs(numeric))).toBeLessThan(1e-5);
            }
          });
        },
      ),
      { numRuns: 15 },
    );
  });
});

test('padding "same" keeps the size, the odd extra zero after (PyTorch), and "valid" is no padding', () => {
  const x = ag.tensor(
    Float64Array.from({ length: 2 * 5 * 4 }, (_, i) => Math.sin(i)),
    { shape: [1, 2, 5, 4] },
  );
  const w = ag.tensor(
    Float64Array.from({ length: 3 * 2 * 2 * 3 }, (_, i) => Math.cos(i)),
    { shape: [3, 2, 2, 3] },
  );
  const same = ag.conv2d(x, w, undefined, { padding: "same", dilation: [1, 2] });
  expect(same.shape).toEqual([1, 3, 5, 4]);
  // kH = 2: total padding 1, all after; kW = 3 with dilation 2: extent 5, total 4, 2 before and 2 after
  const c: ConvConfig = {
    N: 1,
    C: 2,
    O: 3,
    H: 6,
    W: 8,
    kH: 2,
    kW: 3,
    sH: 1,
    sW: 1,
    pH: 0,
    pW: 0,
    dH: 1,
    dW: 2,
    groups: 1,
    bias: false,
  };
  const padded = new Float64Array(6 * 8 * 2);
  for (let ch = 0; ch < 2; ch++)
    for (let i = 0; i < 5; i++)
      for (let j = 0; j < 4; j++) padded[(ch * 6 + i) * 8 + j + 2] = x.data[(ch * 5 + i) * 4 + j]!;
  expect(same).toBeAllClose(directConv(ag.tensor(padded, { shape: [1, 2, 6, 8] }), w, undefined, c));
  expect(ag.conv2d(x, w, undefined, { padding: "valid" })).toBeAllClose(ag.conv2d(x, w));
});

test.each([
  // 8748 columns per image: chunks of 3 images (the last one of 2), each group's rows gathered
  { N: 5, C: 3, H: 20, O: 4, groups: 1, padding: 0 },
  // 28224 columns per image: one image per chunk, written in place; dW summed over chunks
  { N: 3, C: 4, H: 28, O: 4, groups: 2, padding: 1 },
])(
  "a batch split into chunks of images ($N×$C×$H×$H) equals the images one at a time",
  ({ N, C, H, O, groups, padding }) => {
    const wave = (n: number, a: number) => Float64Array.from({ length: n }, (_, i) => Math.sin(a * i + 0.5));
    const opts = { padding, groups };
    const x = ag.tensor(wave(N * C * H * H, 0.37), { shape: [N, C, H, H], requiresGrad: true });
    const w = ag.tensor(wave(O * (C / groups) * 9, 1.3), {
      shape: [O, C / groups, 3, 3],
      requiresGrad: true,
    });
    const b = ag.tensor(wave(O, 2.1), { requiresGrad: true });
    const y = ag.conv2d(x, w, b, opts);
    const per = y.size / N;
    const g = wave(y.size, 0.71);
    y.backward(ag.tensor(g, { shape: [...y.shape] }));
    const dw = new Float64Array(w.size);
    const db = new Float64Array(O);
    const xsz = x.size / N;
    for (let n = 0; n < N; n++) {
      const xn = ag.tensor(x.data.slice(n * xsz, (n + 1) * xsz), { shape: [1, C, H, H], requiresGrad: true });
      const wn = ag.tensor(w.data, { shape: [...w.shape], requiresGrad: true });
      const bn = ag.tensor(b.data, { requiresGrad: true });
      const yn = ag.conv2d(xn, wn, bn, opts);
      expect(yn).toBeAllClose(y.data.slice(n * per, (n + 1) * per));
      yn.backward(ag.tensor(g.slice(n * per, (n + 1) * per), { shape: [...yn.shape] }));
      expect(xn.grad).toBeAllClose(x.grad!.data.slice(n * xsz, (n + 1) * xsz));
      wn.grad!.data.forEach((v, i) => {
        dw[i]! += v;
      });
      bn.grad!.data.forEach((v, i) => {
        db[i]! += v;
      });
    }
    expect(w.grad).toBeAllClose(dw, { rtol: 1e-12, atol: 1e-12 });
    expect(b.grad).toBeAllClose(db, { rtol: 1e-12, atol: 1e-12 });
  },
);

test("an unbatched (C, H, W) input gives the batch-of-one result without the batch axis, gradients too", () => {
  const [, c] = convCases.find(([n]) => n.includes("groups2"))!;
  const xs = ag.tensor(c.inputs.x!.data.slice(0, c.inputs.x!.data.length / 2), {
    shape: c.inputs.x!.shape.slice(1),
    requiresGrad: true,
  });
  const w = leaf(c.inputs.weight!);
  const y = ag.conv2d(xs, w, undefined, c.options);
  const y4 = ag.conv2d(ag.reshape(xs.detach(), [1, ...xs.shape]), w.detach(), undefined, c.options);
  expect(y.shape).toEqual(y4.shape.slice(1));
  expect(y).toBeAllClose(y4.data);
  const p = ag.maxPool2d(ag.avgPool2d(y, 2, { stride: 1 }), 2);
  expect(p.shape).toEqual([y.shape[0], Math.floor((y.shape[1]! - 1) / 2), Math.floor((y.shape[2]! - 1) / 2)]);
  p.backward(ag.onesLike(p));
  expect(xs.grad!.shape).toEqual(xs.shape);
  expect(w.grad!.shape).toEqual(w.shape);
});

test("a planted wrong rule (kernel flipped in dx: convolution instead of cross-correlation) is caught", () => {
  const [name, c] = convCases.find(([n]) => n.includes("stride2_pad1"))!;
  const rule = primitives.conv2d;
  const original = rule.vjp;
  const flip = (w: Tensor) => {
    const [, , kH, kW] = w.shape as number[];
    const rev = (n: number) => Array.from({ length: n }, (_, i) => n - 1 - i);
    return ag.take(ag.take(w, rev(kH!), 2), rev(kW!), 3);
  };
  try {
    (rule as { vjp: typeof original }).vjp = (g, inputs, out, attrs) => {
      const grads = original(g, inputs, out, attrs);
      return [original(g, [inputs[0]!, flip(inputs[1]!)], out, attrs)[0]!, ...grads.slice(1)];
    };
    const { leaves } = runConvCase(c);
    expect(() => expect(leaves.x!.grad).toBeAllClose(c.grads.x!, { rtol: 1e-12 }), name).toThrow(
      /toBeAllClose|expected/i,
    );
    const f = (x: Tensor, w: Tensor) => ag.conv2d(x, w, undefined, c.options);
    const x = leaf(c.inputs.x!).detach();
    const w = leaf(c.inputs.weight!).detach();
    expect(checkAgainstFiniteDifferences(f, [x, w]).worst).toBeGreaterThan(1e-2);
  } finally {
    (rule as { vjp: typeof original }).vjp = original;
  }
  const { leaves } = runConvCase(c);
  expect(leaves.x!.grad).toBeAllClose(c.grads.x!, { rtol: 1e-12 });
});

describe("bad input gets an error naming conv2d and the shapes", () => {
  const x = ag.zeros([2, 4, 5, 5]);
  test.each<[string, () => unknown, RegExp]>([
    [
      "channels",
      () => ag.conv2d(x, ag.zeros([2, 3, 3, 3])),
      /^conv2d: weight has 3 input channels per group but x has 4 channels and groups = 1; expected weight of shape \[O, 4, kH, kW\], got weight \[2, 3, 3, 3\] and x \[2, 4, 5, 5\]/,
    ],
    [
      "channels with groups",
      () => ag.conv2d(x, ag.zeros([2, 4, 3, 3]), undefined, { groups: 2 }),
      /^conv2d: weight has 4 input channels per group but x has 4 channels and groups = 2; expected weight of shape \[O, 2, kH, kW\]/,
    ],
    [
      "groups not dividing",
      () => ag.conv2d(x, ag.zeros([3, 2, 3, 3]), undefined, { groups: 2 }),
      /^conv2d: groups = 2 must divide .* output channels \(3, weight \[3, 2, 3, 3\]\)/,
    ],
    [
      "x rank",
      () => ag.conv2d(ag.zeros([5, 5]), ag.zeros([2, 4, 3, 3])),
      /^conv2d: x must have 4 axes \(N, C, H, W\) or 3 \(C, H, W\), got shape \[5, 5\]/,
    ],
    [
      "weight rank",
      () => ag.conv2d(x, ag.zeros([2, 4, 3])),
      /^conv2d: weight must have 4 axes \(O, C\/groups, kH, kW\), got shape \[2, 4, 3\]/,
    ],
    [
      "bias shape",
      () => ag.conv2d(x, ag.zeros([2, 4, 3, 3]), ag.zeros([3])),
      /^conv2d: bias must have shape \[2\] .* got shape \[3\]/,
    ],
    [
      "array x",
      () => ag.conv2d([[1]] as unknown as Tensor, ag.zeros([1, 1, 1, 1])),
      /^conv2d: x must be a Tensor, got an array of length 1/,
    ],
    [
      "stride 0",
      () => ag.conv2d(x, ag.zeros([2, 4, 3, 3]), undefined, { stride: 0 }),
      /^conv2d: stride must be a positive integer, got the number 0/,
    ],
    [
      "padding -1",
      () => ag.conv2d(x, ag.zeros([2, 4, 3, 3]), undefined, { padding: [1, -1] }),
      /^conv2d: padding\[1\] must be a non-negative integer, got the number -1/,
    ],
    [
      "dilation string",
      () => ag.conv2d(x, ag.zeros([2, 4, 3, 3]), undefined, { dilation: "2" as unknown as number }),
      /^conv2d: dilation must be a positive integer or a pair \[h, w\] of them, got the string "2"/,
    ],
    [
      "same with stride",
      () => ag.conv2d(x, ag.zeros([2, 4, 3, 3]), undefined, { padding: "same", stride: 2 }),
      /^conv2d: padding "same" needs stride 1/,
    ],
    [
      "kernel too large",
      () => ag.conv2d(x, ag.zeros([2, 4, 3, 3]), undefined, { dilation: 3 }),
      /^conv2d: the kernel \[3, 3\] with dilation \[3, 3\] spans 7×7 but the padded input is only 5×5 \(x \[2, 4, 5, 5\]\); the output would be empty/,
    ],
  ])("%s", (_label, f, message) => {
    expect(f).toThrow(message);
  });
});

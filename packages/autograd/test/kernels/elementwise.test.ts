/**
 * @file Tests of the wasm elementwise kernels (exp, tanh, sigmoid, log(1 + e^−|x|)) through the public ops,
 * against Math.*: an ulp bound over ranges and awkward lengths, exact special values, and that the ops
 * really take the wasm path from the documented threshold (24 elements) on.
 */
import {
  backendInfo,
  exp,
  sigmoid,
  sigmoidCrossEntropy,
  type Tensor,
  tanh,
  tensor,
} from "@tapegrad/autograd";
import fc from "fast-check";
import { describe, expect, test } from "vitest";

/** The kernels' names; softplusNegAbs is log(1 + e^−|x|), sigmoidCrossEntropy's tail. */
type ElementwiseOp = "exp" | "tanh" | "sigmoid" | "softplusNegAbs";

/** Arrays of at least this many elements go to wasm (ELEMENTWISE_MIN in src/kernels/elementwise.ts). */
const WASM_FROM = 24;

/** The references, from the contract: Math.* and the two overflow-free branches of σ. */
const reference: Record<ElementwiseOp, (x: number) => number> = {
  exp: Math.exp,
  tanh: Math.tanh,
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  // sigmoidCrossEntropy's tail; both it and the kernel are 1.5 ulp from exact at worst (mpmath)
  softplusNegAbs: (x) => Math.log1p(Math.exp(-Math.abs(x))),
};
const OPS = Object.keys(reference) as ElementwiseOp[];

/** Math.* is within 1 ulp of the correctly rounded value, and so is the kernel: 2 ulps apart at most. */
const MAX_ULPS = 2;

const bits = new DataView(new ArrayBuffer(8));
/** Doubles mapped to integers in the order of the reals: neighbours differ by 1, −0 and +0 are both 0. */
function ordinal(x: number): bigint {
  bits.setFloat64(0, x);
  const b = bits.getBigInt64(0);
  return b < 0n ? -(b & 0x7fffffffffffffffn) : b;
}

/** Ulps between two doubles; 0 for two NaNs, Infinity for NaN against a number. */
function ulps(x: number, y: number): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y) ? 0 : Infinity;
  const d = ordinal(x) - ordinal(y);
  return Number(d < 0n ? -d : d);
}

/** The first element further than MAX_ULPS from the reference, described; null if none. */
function check(op: ElementwiseOp, x: Float64Array, got: Float64Array): string | null {
  for (let i = 0; i < x.length; i++) {
    const want = reference[op](x[i]!);
    const d = ulps(got[i]!, want);
    if (d > MAX_ULPS)
      return `${op}(${x[i]}) at [${i}] of ${x.length}: got ${got[i]}, Math ${want} (${d} ulps)`;
  }
  return null;
}

/** The public op that runs each kernel: sigmoidCrossEntropy(−|x|, 0) is exactly 0 − (−0) + log(1 + e^−|x|). */
const publicOp: Record<ElementwiseOp, (x: Tensor) => Tensor> = {
  exp,
  tanh,
  sigmoid,
  softplusNegAbs: (x) => sigmoidCrossEntropy(tensor(x.data.map((v) => -Math.abs(v))), 0),
};

/** The kernel's result for x: through the public op, x padded with zeros to the wasm threshold if shorter. */
function runWasm(op: ElementwiseOp, x: Float64Array): Float64Array {
  const padded = new Float64Array(Math.max(x.length, WASM_FROM));
  padded.set(x);
  return publicOp[op](tensor(padded)).data.slice(0, x.length);
}

test("wasm SIMD is available here (otherwise the tests below would test the JS loops)", () => {
  expect(backendInfo().simd).toBe(true);
});

/** Ranges of inputs, each with both signs where the function is defined for them. */
const RANGES: Record<string, { min: number; max: number }> = {
  tiny: { min: 1e-300, max: 1e-8 },
  unit: { min: -1, max: 1 },
  moderate: { min: -20, max: 20 },
  large: { min: -745, max: 709 },
  "near overflow": { min: 709, max: 710 },
  "near underflow (subnormal exp)": { min: -746, max: -708 },
  "tanh's 0.625 switch": { min: 0.62, max: 0.63 },
  huge: { min: -1e308, max: 1e308 },
};

/** Lengths that end a vector or an unrolled group in every way, lengths around the thresholds and the chunk (8192). */
const LENGTHS = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 400, 1601, 8191, 8192, 8193, 16387];

const signed = (r: { min: number; max: number }): fc.Arbitrary<number> =>
  fc
    .tuple(fc.double({ ...r, noNaN: true }), fc.boolean())
    .map(([v, negate]) => (negate && r.min >= 0 ? -v : v));

const arrays = (r: { min: number; max: number }): fc.Arbitrary<Float64Array> =>
  fc
    .oneof(fc.constantFrom(...LENGTHS), fc.integer({ min: 0, max: 100 }))
    .chain((n) => fc.array(signed(r), { minLength: n, maxLength: n }))
    .map((vs) => Float64Array.from(vs));

describe.each(OPS)("%s in wasm against Math.*", (op) => {
  test.each(Object.entries(RANGES))(`within ${MAX_ULPS} ulps: %s`, (_, range) => {
    fc.assert(
      fc.property(arrays(range), (x) => {
        expect(check(op, x, runWasm(op, x))).toBeNull();
      }),
      { numRuns: 60 },
    );
  });

  test("within the bound over 2¹⁸ inputs per range (fast-check draws them)", () => {
    for (const range of Object.values(RANGES)) {
      const x = fc.sample(
        fc.float64Array({ ...range, noNaN: true, minLength: 1 << 14, maxLength: 1 << 14 }),
        {
          numRuns: 16,
          seed: 42,
        },
      );
      for (const chunk of x) {
        const signedChunk = range.min >= 0 ? chunk.map((v, i) => (i % 2 ? -v : v)) : chunk;
        expect(check(op, signedChunk, runWasm(op, signedChunk))).toBeNull();
      }
    }
  });

  test("special values are exact, in every lane position", () => {
    const specials = [
      0,
      -0,
      Infinity,
      -Infinity,
      Number.NaN,
      5e-324,
      -5e-324,
      Number.MIN_VALUE * 3,
      1e-310,
      -1e-310,
      1e-300,
      709.782712893384,
      709.7827128933841,
      710,
      -708.3964185322641,
      -745.1332191019411,
      -745.1332191019412,
      -746,
      0.625,
      -0.625,
      19.0615,
      22,
      -22,
      400,
      -400,
      1e308,
      -1e308,
    ];
    // sigmoidCrossEntropy(−|x|, 0) has −∞·0 = NaN at x = ±∞: that kernel's infinities are not reachable here.
    const usable =
      op === "softplusNegAbs" ? specials.filter((v) => Number.isFinite(v) || Number.isNaN(v)) : specials;
    for (let shift = 0; shift < 4; shift++) {
      const x = Float64Array.from([...Array(shift).fill(0.5), ...usable]);
      const got = runWasm(op, x);
      x.forEach((v, i) => {
        const want = reference[op](v);
        // Exactly equal where Math.* is exact or saturates; within the ulp bound elsewhere.
        const exact = !Number.isFinite(v) || v === 0 || Math.abs(want) === 1 || want === 0;
        if (exact) expect(Object.is(got[i], want), `${op}(${v}) = ${got[i]}, Math ${want}`).toBe(true);
        else
          expect(ulps(got[i]!, want), `${op}(${v}) = ${got[i]}, Math ${want}`).toBeLessThanOrEqual(MAX_ULPS);
      });
    }
  });
});

test("tanh keeps the sign of zero and saturates to ±1; exp overflows to ∞ and underflows to subnormals and 0", () => {
  const t = runWasm("tanh", Float64Array.from([-0, 0, 20, -20, 1e300, -1e300]));
  expect([...t].map((v) => Object.is(v, -0))).toEqual([true, false, false, false, false, false]);
  expect([...t.subarray(2)]).toEqual([1, -1, 1, -1]);
  const e = runWasm("exp", Float64Array.from([710, -740, -745, -746, Number.NaN]));
  expect(e[0]).toBe(Infinity);
  expect(e[1]).toBeGreaterThan(0);
  expect(e[1]).toBeLessThan(2.2250738585072014e-308);
  expect(e[2]).toBe(5e-324);
  expect(e[3]).toBe(0);
  expect(e[4]).toBeNaN();
  const s = runWasm("sigmoid", Float64Array.from([-1000, 1000, -745, Number.NaN]));
  expect([...s.subarray(0, 3)]).toEqual([0, 1, 5e-324]);
  expect(s[3]).toBeNaN();
});

test("lengths across the memory's growth: a view cached before the memory grows is not reused", () => {
  const small = Float64Array.from({ length: 1601 }, (_, i) => Math.sin(i) * 3);
  const big = Float64Array.from({ length: 300_000 }, (_, i) => Math.cos(i) * 30);
  for (const x of [small, big, small]) {
    for (const op of OPS) expect(check(op, x, runWasm(op, x))).toBeNull();
  }
});

describe("unary() takes the wasm path from the threshold on", () => {
  // tanh(0.625): the kernel's value and Math.tanh's differ by one ulp (both within 1 ulp of the truth),
  // so the result shows which path ran.
  const x = 0.625;
  const viaWasm = (): number => runWasm("tanh", Float64Array.of(x))[0]!;

  test("the probe tells the paths apart", () => {
    expect(viaWasm()).not.toBe(Math.tanh(x));
  });

  test.each([1, 2, WASM_FROM - 1, WASM_FROM, 1600, 1601])("length %i", (n) => {
    const want = n >= WASM_FROM ? viaWasm() : Math.tanh(x);
    const out = tanh(tensor(new Float64Array(n).fill(x), { shape: [n] })).data;
    expect(out.every((v) => v === want)).toBe(true);
  });

  test("exp and sigmoid go through the kernel too", () => {
    const n = 1601;
    const probe = Float64Array.from({ length: n }, (_, i) => -30 + (60 * i) / n);
    for (const [op, f] of [
      ["exp", exp],
      ["sigmoid", sigmoid],
    ] as const) {
      // Some elements differ from the JS loop's (Math.*) by an ulp: the kernel ran.
      const got = f(tensor(probe, { shape: [n] })).data;
      expect(probe.some((v, i) => got[i] !== reference[op](v))).toBe(true);
      expect(check(op, probe, got)).toBeNull();
    }
  });
});

describe("the checks themselves", () => {
  test("the ulp distance counts neighbours and crosses zero", () => {
    expect(ulps(1, 1 + Number.EPSILON)).toBe(1);
    expect(ulps(5e-324, -5e-324)).toBe(2);
    expect(ulps(0, -0)).toBe(0);
    expect(ulps(Number.NaN, 1)).toBe(Infinity);
  });

  test("a result three ulps off, or a wrong formula, is caught", () => {
    const x = Float64Array.of(0.3, -2, 5);
    const out = runWasm("tanh", x);
    bits.setFloat64(0, out[1]!);
    bits.setBigInt64(0, bits.getBigInt64(0) + 3n);
    out[1] = bits.getFloat64(0);
    expect(check("tanh", x, out)).toMatch(/tanh\(-2\) at \[1\] of 3: .* \(3 ulps\)/);
    // σ as e^x/(1+e^x) for every x: ∞/∞ = NaN at x = 800.
    const wrong = Float64Array.from([800], (v) => Math.exp(v) / (1 + Math.exp(v)));
    expect(check("sigmoid", Float64Array.of(800), wrong)).toMatch(/sigmoid\(800\) .*Infinity ulps/);
  });
});

describe("sigmoidCrossEntropy takes log(1 + e^−|z|) from the kernel", () => {
  const z = Float64Array.from({ length: 401 }, (_, i) => -40 + (80 * i) / 400);
  const y = Float64Array.from({ length: 401 }, (_, i) => i % 2);
  const formula = (zi: number, yi: number, tail: number): number => Math.max(zi, 0) - zi * yi + tail;

  test("labels of z's shape, or one label: max(z, 0) − z·y + the kernel's tail, bit for bit", () => {
    const tail = runWasm("softplusNegAbs", z);
    const full = sigmoidCrossEntropy(tensor(z, { shape: [1, 401] }), tensor(y, { shape: [1, 401] })).data;
    const one = sigmoidCrossEntropy(tensor(z, { shape: [401] }), 1).data;
    z.forEach((zi, i) => {
      expect(Object.is(full[i], formula(zi, y[i]!, tail[i]!))).toBe(true);
      expect(Object.is(one[i], formula(zi, 1, tail[i]!))).toBe(true);
    });
  });

  test("broadcast logits take the JS loop, and agree with the kernel's path within the ulp bound", () => {
    const zCol = tensor(z.subarray(0, 5), { shape: [5, 1] });
    const labels = tensor([[0, 1, 1]]);
    const got = sigmoidCrossEntropy(zCol, labels);
    expect(got.shape).toEqual([5, 3]);
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 3; j++) {
        const want = formula(z[i]!, labels.data[j]!, Math.log1p(Math.exp(-Math.abs(z[i]!))));
        expect(got.data[i * 3 + j]).toBe(want);
      }
    }
  });
});

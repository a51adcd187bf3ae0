/**
 * @file RandomState against numpy's legacy `np.random.RandomState`, bit for bit.
 *
 * Reference numbers come from numpy, never from this code:
 * - the two checks at the top are numpy's published output (`np.random.seed(1); np.random.randn(5)`, and
 *   `np.random.seed(2); np.random.randn(4, 2) * 0.01` as the course prints it);
 * - fixtures/numpy-random.json was written by fixtures/make-random-fixture.py with Debian's numpy 1.24.2
 *   (python3-numpy 1:1.24.2-1+deb12u1, Python 3.11.2, glibc 2.36, x86-64 with AVX2/FMA). It holds, for
 *   seeds 1, 2, 3: 3000 `rand` and 3000 `randn` draws, `randint` over eleven ranges, permutations, `uniform`,
 *   `normal` and one mixed call sequence; plus glibc's `log` at 757 inputs, at 40 inputs where it is not
 *   correctly rounded, at 40 where its fused multiply-adds decide the last bit, and every gaussian among the
 *   first 10 000 per seed that a correctly rounded `log` would change.
 *
 * Gaussians go through glibc's log, which is not always correctly rounded: a correctly rounded log would
 * differ from numpy at draws 2176, 2177, 6457 (seed 1), 3248, 3249, 7934, 7935 (seed 2), 7394, 7395, 9502,
 * 9503 (seed 3), by 1 to 3 ulp (the log's 1-ulp error grows through the division and the square root).
 * `glibcLog` replays glibc exactly, so there are no exceptions to list: every draw is asserted equal.
 */

import { readFileSync } from "node:fs";
import { RandomState, tensor } from "@tapegrad/autograd";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { fma, glibcLog } from "../src/glibc-log.js";

interface SeedFixture {
  rand: number[];
  randn: number[];
  permutation10: number[];
  permutation1000: number[];
  /** rows of arange(15).reshape(5, 3) permuted, flattened */
  permutationRows: number[];
  /** uniform(-2, 3, 50) */
  uniform: number[];
  /** normal(1.5, 2, 50) */
  normal: number[];
  /** randint(low, high, 40) for each range in turn, on one generator */
  randint: { low: number; high: number | null; values: number[] }[];
  /** [method, argument, values] in call order, on one generator */
  sequence: [string, number, number[]][];
}

interface Fixture {
  made: string;
  seeds: Record<"1" | "2" | "3", SeedFixture>;
  /** per seed: [draw index, numpy's value, the value with a correctly rounded log] where the two differ */
  randnGlibcNotCr: Record<"1" | "2" | "3", [number, number, number][]>;
  /** [x, glibc log(x)] */
  log: [number, number][];
  /** [x, glibc log(x), correctly rounded log(x)] */
  logNotCr: [number, number, number][];
  /** [x, glibc log(x)] where glibc's formulas without fused multiply-adds would round differently */
  logFusedMatters: [number, number][];
}

const fixture: Fixture = JSON.parse(
  readFileSync(new URL("./fixtures/numpy-random.json", import.meta.url), "utf8"),
) as Fixture;
const SEEDS = ["1", "2", "3"] as const;

/** Distance in units in the last place between two finite doubles of the same sign. */
function ulpDistance(a: number, b: number): bigint {
  const view = new DataView(new ArrayBuffer(16));
  view.setFloat64(0, a);
  view.setFloat64(8, b);
  const d = view.getBigInt64(0) - view.getBigInt64(8);
  return d < 0n ? -d : d;
}

/** Assert bit-for-bit equality, naming the first differing element, both values and their ulp distance. */
function expectSame(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!Object.is(a, e)) {
      expect.fail(`${what}[${i}] is ${a}, numpy gives ${e} (${ulpDistance(a, e)} ulp apart)`);
    }
  }
}

describe("numpy's published output", () => {
  test("RandomState(1).randn(5)", () => {
    const x = new RandomState(1).randn(5);
    expect(x.shape).toEqual([5]);
    expectSame(
      x.data,
      [1.6243453636632417, -0.6117564136500754, -0.5281717522634557, -1.0729686221561705, 0.8654076293246785],
      "randn",
    );
  });

  test("RandomState(2).randn(4, 2) * 0.01", () => {
    const x = new RandomState(2).randn(4, 2);
    expect(x.shape).toEqual([4, 2]);
    expectSame(
      Array.from(x.data, (v) => v * 0.01),
      [
        -0.004167578474054706, -0.0005626682722632948, -0.02136196095668454, 0.016402708084049887,
        -0.017934355851948632, -0.00841747365656204, 0.005028814171580428, -0.012452880866072316,
      ],
      "randn * 0.01",
    );
  });
});

describe.each(SEEDS)("seed %s against numpy 1.24", (seed) => {
  const want = fixture.seeds[seed];
  const s = Number(seed);

  test("rand: 3000 uniform doubles", () => {
    expectSame(new RandomState(s).rand(3000).data, want.rand, "rand");
  });

  test("randn: 3000 gaussians", () => {
    expectSame(new RandomState(s).randn(3000).data, want.randn, "randn");
  });

  test("randn: the draws among the first 10 000 where glibc's log is not correctly rounded", () => {
    const x = new RandomState(s).randn(10000).data;
    const rows = fixture.randnGlibcNotCr[seed];
    expect(rows.length).toBeGreaterThan(0);
    for (const [i, numpyValue, withCorrectlyRoundedLog] of rows) {
      expect(x[i], `draw ${i}`).toBe(numpyValue);
      // a 1-ulp log error grows through the division and sqrt: 1 to 3 ulp here
      const apart = ulpDistance(numpyValue, withCorrectlyRoundedLog);
      expect(apart > 0n && apart <= 3n, `draw ${i}: ${apart} ulp`).toBe(true);
    }
  });

  test("randint: eleven ranges in turn on one generator", () => {
    const rs = new RandomState(s);
    for (const { low, high, values } of want.randint) {
      const x =
        high === null ? rs.randint(low, undefined, values.length) : rs.randint(low, high, values.length);
      expectSame(x.data, values, `randint(${low}, ${high})`);
    }
  });

  test("permutation of n, of a tensor's rows, and shuffle", () => {
    expectSame(new RandomState(s).permutation(10).data, want.permutation10, "permutation(10)");
    expectSame(new RandomState(s).permutation(1000).data, want.permutation1000, "permutation(1000)");

    const rows = new RandomState(s).permutation(
      tensor(Array.from({ length: 5 }, (_, i) => [3 * i, 3 * i + 1, 3 * i + 2])),
    );
    expect(rows.shape).toEqual([5, 3]);
    expectSame(rows.data, want.permutationRows, "permutation(5x3 tensor)");

    const list = Array.from({ length: 1000 }, (_, i) => i);
    new RandomState(s).shuffle(list);
    expectSame(list, want.permutation1000, "shuffle(number[])");
    const typed = Float64Array.from({ length: 10 }, (_, i) => i);
    new RandomState(s).shuffle(typed);
    expectSame(typed, want.permutation10, "shuffle(Float64Array)");
  });

  test("uniform and normal", () => {
    expectSame(new RandomState(s).uniform(-2, 3, 50).data, want.uniform, "uniform(-2, 3)");
    expectSame(new RandomState(s).normal(1.5, 2, 50).data, want.normal, "normal(1.5, 2)");
  });

  test("a mixed call sequence: the cached second gaussian, then seed() dropping it", () => {
    const rs = new RandomState(s);
    const steps = [...want.sequence];
    const next = (method: string, arg: number): number[] => {
      const step = steps.shift();
      expect(step?.slice(0, 2)).toEqual([method, arg]);
      return step![2];
    };
    expectSame(rs.randn(3).data, next("randn", 3), "randn(3)");
    expectSame(rs.rand(2).data, next("rand", 2), "rand(2)");
    expectSame(rs.randn(2).data, next("randn", 2), "randn(2)");
    expectSame(rs.randint(0, 7, 5).data, next("randint", 7), "randint(0, 7, 5)");
    expectSame(rs.permutation(6).data, next("permutation", 6), "permutation(6)");
    expectSame(rs.randn(1).data, next("randn", 1), "randn(1)");
    rs.seed(s + 100);
    next("seed", s + 100);
    expectSame(rs.randn(3).data, next("randn", 3), "randn(3) after seed");
    expect(steps).toEqual([]);
  });
});

describe("the gaussian's log", () => {
  test("glibcLog equals glibc's log at 757 inputs over every branch (table, near 1, subnormal, huge)", () => {
    expectSame(
      fixture.log.map(([x]) => glibcLog(x)),
      fixture.log.map(([, y]) => y),
      "glibcLog",
    );
  });

  test("glibcLog equals glibc where glibc is not correctly rounded", () => {
    expect(fixture.logNotCr.length).toBe(40);
    for (const [x, glibc, correctlyRounded] of fixture.logNotCr) {
      expect(glibcLog(x), `log(${x})`).toBe(glibc);
      expect(ulpDistance(glibc, correctlyRounded)).toBe(1n);
    }
  });

  // Without the emulated fma (plain a * b + c in its place), glibcLog gets every one of these wrong.
  test("glibcLog equals glibc at 40 inputs where its fused multiply-adds decide the last bit", () => {
    expectSame(
      fixture.logFusedMatters.map(([x]) => glibcLog(x)),
      fixture.logFusedMatters.map(([, y]) => y),
      "glibcLog",
    );
  });

  test("special values", () => {
    expect(glibcLog(1)).toBe(0);
    expect(glibcLog(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(glibcLog(-0)).toBe(Number.NEGATIVE_INFINITY);
    expect(glibcLog(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(glibcLog(-1)).toBeNaN();
    expect(glibcLog(Number.NaN)).toBeNaN();
  });

  // The comparisons with numpy have teeth: replaying the polar method on the uniform stream (the gaussian
  // consumes doubles exactly as rand makes them) reproduces numpy with glibcLog, and not with Math.log.
  test.each(SEEDS)(
    "seed %s: the polar method on the uniform stream matches with glibcLog, not Math.log",
    (seed) => {
      const replay = (log: (x: number) => number): number[] => {
        const u = new RandomState(Number(seed)).rand(4000).data;
        const out: number[] = [];
        for (let j = 0; out.length < 1000; ) {
          const x1 = 2 * u[j++]! - 1;
          const x2 = 2 * u[j++]! - 1;
          const r2 = x1 * x1 + x2 * x2;
          if (r2 >= 1 || r2 === 0) continue;
          const f = Math.sqrt((-2 * log(r2)) / r2);
          out.push(f * x2, f * x1);
        }
        return out;
      };
      const want = fixture.seeds[seed].randn.slice(0, 1000);
      expectSame(replay(glibcLog), want, "polar method with glibcLog");
      const withMathLog = replay(Math.log);
      const differing = want.filter((v, i) => v !== withMathLog[i]).length;
      expect(differing).toBeGreaterThan(5); // 3 % of draws or so: 34 of 1000 for seed 3
    },
  );
});

describe("fma", () => {
  /** The exact a*b + c rounded to nearest even, by BigInt arithmetic (finite inputs, no overflow). */
  function exactFma(a: number, b: number, c: number): number {
    const parts = (x: number): [bigint, number] => {
      const view = new DataView(new ArrayBuffer(8));
      view.setFloat64(0, x);
      const bits = view.getBigUint64(0);
      const exponent = Number((bits >> 52n) & 0x7ffn);
      const m = bits & 0xfffffffffffffn;
      const sign = bits >> 63n === 1n ? -1n : 1n;
      return exponent === 0 ? [sign * m, -1074] : [sign * (m | 0x10000000000000n), exponent - 1075];
    };
    const [ma, ea] = parts(a);
    const [mb, eb] = parts(b);
    const [mc, ec] = parts(c);
    let e = Math.min(ea + eb, ec);
    const m = ((ma * mb) << BigInt(ea + eb - e)) + (mc << BigInt(ec - e));
    if (m === 0n) return a * b + c; // the sign of an exact zero follows the plain rules
    let mag = m < 0n ? -m : m;
    const shift = Math.max(mag.toString(2).length - 53, -1074 - e);
    if (shift > 0) {
      const rest = mag & ((1n << BigInt(shift)) - 1n);
      const half = 1n << BigInt(shift - 1);
      mag >>= BigInt(shift);
      if (rest > half || (rest === half && (mag & 1n) === 1n)) mag += 1n;
      e += shift;
    }
    return (m < 0n ? -1 : 1) * Number(mag) * 2 ** e;
  }

  /** Doubles with 1 to 4 bits set, around 2^exponent: sums and products of these land on ties often. */
  const sparse = (minExp: number, maxExp: number): fc.Arbitrary<number> =>
    fc
      .tuple(
        fc.array(fc.integer({ min: 1, max: 56 }), { minLength: 0, maxLength: 3 }),
        fc.integer({ min: minExp, max: maxExp }),
        fc.boolean(),
      )
      .map(([bits, exponent, negative]) => {
        const x = bits.reduce((acc, k, j) => acc + (j % 2 === 0 ? 1 : -1) * 2 ** -k, 1);
        return (negative ? -x : x) * 2 ** exponent;
      });
  // fma promises exactness while a * b stays above 2^-969 (Dekker's product needs that headroom)
  const anyDouble = fc
    .double({ noNaN: true, noDefaultInfinity: true, min: -1e100, max: 1e100 })
    .filter((x) => x === 0 || Math.abs(x) > 1e-100);
  // c + a*b on or next to a tie of c's grid, with a*b inexact: where folding in the low parts must not
  // round twice (about half of these need fma's tie rule)
  const nearTie = fc
    .tuple(
      fc.integer({ min: 0, max: 2 ** 20 }),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 20, max: 52 }),
      fc.integer({ min: -4, max: 4 }),
      fc.boolean(),
      fc.boolean(),
      fc.boolean(),
    )
    .map(([j, k, p, exponent, negC, negP, negA]) => {
      const c = (negC ? -1 : 1) * (1 + j * 2 ** -52) * 2 ** exponent;
      const product = (negP ? -1 : 1) * (2 * k + 1) * 2 ** (exponent - 53);
      const a = 1 + (negA ? -1 : 1) * 2 ** -p;
      return [a, product / a, c] as const;
    });
  const triples = fc.oneof(
    fc.tuple(sparse(-3, 3), sparse(-60, 3), sparse(-3, 3)),
    nearTie,
    fc.tuple(anyDouble, anyDouble, anyDouble),
    // heavy cancellation: c close to -a*b
    fc.tuple(sparse(0, 8), sparse(-8, 0), sparse(-60, 0)).map(([a, b, d]) => [a, b, d - a * b] as const),
  );

  test("equals the exactly rounded a*b + c (BigInt reference)", () => {
    fc.assert(
      fc.property(triples, ([a, b, c]) => Object.is(fma(a, b, c), exactFma(a, b, c))),
      { numRuns: 20000 },
    );
  });

  test("the property has teeth: a plain a*b + c fails it", () => {
    const plain = fc.check(fc.property(triples, ([a, b, c]) => Object.is(a * b + c, exactFma(a, b, c))));
    expect(plain.failed).toBe(true);
  });

  // From comparing with the x86 vfmadd instruction: inputs where a*b + c sits on a tie only after the low
  // parts are folded in. A version of fma without its tie rule gets every one of these wrong.
  test.each([
    [-1.0000000000000284, -5.5511151231256255e-17, -0.9999694824368817, -0.9999694824368816],
    [-0.9999999999997727, -5.551115123127045e-17, -0.9375, -0.9374999999999999],
    [-1.0000000000000002, -1.1102230246251564e-16, -1.002197265625, -1.0021972656249998],
    [-0.9999999999999999, -5.551115123125784e-17, -0.99951171875, -0.9995117187499999],
    [1.0000000000009095, 5.551115123120734e-17, 0.9999694824145992, 0.9999694824145992],
  ])("fma(%d, %d, %d) = %d, as the hardware", (a, b, c, want) => {
    expect(fma(a, b, c)).toBe(want);
    expect(exactFma(a, b, c)).toBe(want);
  });
});

describe("shapes and argument checks", () => {
  test("no shape gives a 0-d tensor; shapes are kept", () => {
    const rs = new RandomState(0);
    expect(rs.rand().shape).toEqual([]);
    expect(rs.rand().data.length).toBe(1);
    expect(rs.randn().shape).toEqual([]);
    expect(rs.randint(5).shape).toEqual([]);
    expect(rs.uniform().shape).toEqual([]);
    expect(rs.normal().shape).toEqual([]);
    expect(rs.randn(2, 0, 3).shape).toEqual([2, 0, 3]);
    expect(rs.randint(0, 3, [2, 2]).shape).toEqual([2, 2]);
    expect(rs.permutation(0).shape).toEqual([0]);
  });

  test("the default seed is 0, and seed() restarts the stream and drops the cached gaussian", () => {
    const rs = new RandomState();
    const first = Array.from(rs.randn(3).data); // leaves the 4th draw cached
    rs.seed(0);
    expectSame(rs.randn(3).data, first, "after seed(0)");
    expectSame(new RandomState(0).randn(3).data, first, "RandomState(0)");
  });

  test("randint draws nothing for a single value, and stays within [low, high)", () => {
    const rs = new RandomState(7);
    expectSame(rs.randint(5, 6, 4).data, [5, 5, 5, 5], "randint(5, 6)");
    expectSame(rs.rand(3).data, new RandomState(7).rand(3).data, "the stream after it");
    const x = new RandomState(7).randint(-3, 4, 1000).data;
    expect(Math.min(...x)).toBe(-3);
    expect(Math.max(...x)).toBe(3);
  });

  test.each([
    [-1, "the number -1"],
    [4294967296, "the number 4294967296"],
    [1.5, "the number 1.5"],
    [Number.NaN, "NaN"],
  ])("seed %d is refused", (seed, shown) => {
    const message = `RandomState: seed must be an integer in [0, 4294967295], got ${shown}`;
    expect(() => new RandomState(seed)).toThrow(message);
    expect(() => new RandomState(0).seed(seed)).toThrow(message);
  });

  test("bad arguments name the method and the values", () => {
    const rs = new RandomState(0);
    expect(() => rs.rand(2, -1)).toThrow(
      "RandomState.rand: shape entries must be non-negative integers, got [2, -1]",
    );
    expect(() => rs.randn(1.5)).toThrow(
      "RandomState.randn: shape entries must be non-negative integers, got [1.5]",
    );
    expect(() => rs.randint(0, 3, [2, -2])).toThrow(
      "RandomState.randint: shape entries must be non-negative",
    );
    expect(() => rs.randint(5, 5)).toThrow("RandomState.randint: need low < high, got low 5, high 5");
    expect(() => rs.randint(0)).toThrow("RandomState.randint: need low < high, got low 0, high 0");
    expect(() => rs.randint(0.5, 3)).toThrow("RandomState.randint: low and high must be integers");
    expect(() => rs.randint(-(2 ** 53), 2 ** 53)).toThrow(
      "RandomState.randint: high - low must be at most 2^53",
    );
    expect(() => rs.uniform(0, Number.POSITIVE_INFINITY)).toThrow(
      "RandomState.uniform: high - low must be finite",
    );
    expect(() => rs.normal(0, -1)).toThrow("RandomState.normal: scale must be >= 0, got -1");
    expect(() => rs.permutation(-1)).toThrow(
      "RandomState.permutation: n must be a non-negative integer, got the number -1",
    );
    expect(() => rs.permutation(tensor(3))).toThrow(
      "RandomState.permutation: need a tensor with at least 1 axis",
    );
  });
});

/**
 * @file Property tests of the GEMM kernel: every path (JS, wasm with each kernel build, worker
 * threads) and every transpose combination against an independent naive triple loop.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";
import {
  forceGemmKernel,
  forceGemmPath,
  type GemmKernelChoice,
  type GemmPath,
  gemm,
  gemmInfo,
  setGemmThreads,
} from "../../src/kernels/gemm.js";

/** One product: shapes, layouts, offsets and the stored operands (with room for the offsets). */
interface Case {
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  aOffset: number;
  bOffset: number;
  outOffset: number;
  a: Float64Array;
  b: Float64Array;
}

/**
 * The reference: a triple loop over the stored layouts, written from the contract alone. Returns
 * op(A)·op(B) and, per element, Σ|a·b|, the scale of the rounding error any summation order makes.
 */
function naive(c: Case): { value: Float64Array; scale: Float64Array } {
  const value = new Float64Array(c.M * c.N);
  const scale = new Float64Array(c.M * c.N);
  for (let i = 0; i < c.M; i++) {
    for (let j = 0; j < c.N; j++) {
      let s = 0;
      let t = 0;
      for (let k = 0; k < c.K; k++) {
        const x = c.a[c.aOffset + (c.transA ? k * c.M + i : i * c.K + k)]!;
        const y = c.b[c.bOffset + (c.transB ? j * c.K + k : k * c.N + j)]!;
        s += x * y;
        t += Math.abs(x * y);
      }
      value[i * c.N + j] = s;
      scale[i * c.N + j] = t;
    }
  }
  return { value, scale };
}

const describeCase = (c: Case): string =>
  `${c.transA ? "Aᵀ" : "A"}·${c.transB ? "Bᵀ" : "B"} M=${c.M} N=${c.N} K=${c.K} offsets ${c.aOffset}/${c.bOffset}/${c.outOffset}`;

/**
 * Compares gemm's out (inside a NaN-filled buffer) with the reference: each element within
 * 1e-12·Σ|terms|, and nothing written outside [outOffset, outOffset + M·N). Returns the first
 * discrepancy as a message, or null.
 */
function check(c: Case, out: Float64Array): string | null {
  const { value, scale } = naive(c);
  for (let e = 0; e < c.M * c.N; e++) {
    const got = out[c.outOffset + e]!;
    const want = value[e]!;
    if (!(Math.abs(got - want) <= 1e-12 * scale[e]!)) {
      const i = Math.floor(e / c.N);
      return `${describeCase(c)}: out[${i}, ${e - i * c.N}] = ${got}, naive ${want} (Σ|terms| ${scale[e]})`;
    }
  }
  for (let e = 0; e < out.length; e++) {
    if ((e < c.outOffset || e >= c.outOffset + c.M * c.N) && !Number.isNaN(out[e])) {
      return `${describeCase(c)}: wrote out[${e}] outside the output window`;
    }
  }
  return null;
}

function run(c: Case): Float64Array {
  const out = new Float64Array(c.outOffset + c.M * c.N + 3).fill(Number.NaN);
  gemm(c.transA, c.transB, c.M, c.N, c.K, c.a, c.aOffset, c.b, c.bOffset, out, c.outOffset);
  return out;
}

/** Deterministic values in [-1, 1) from a seed (mulberry32): large operands without huge arbitraries. */
function seeded(length: number, seed: number): Float64Array {
  const x = new Float64Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    x[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return x;
}

/** Awkward sizes: 1, the register tile edges (3, 4, 6), primes, and one past block and tile sizes. */
const awkward = fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 13, 33);
const awkwardLarge = fc.constantFrom(1, 2, 3, 7, 33, 97, 129);

/** Cases whose operands fast-check generates element by element (small shapes, shrinkable values). */
const smallCase: fc.Arbitrary<Case> = fc
  .record({
    transA: fc.boolean(),
    transB: fc.boolean(),
    M: awkward,
    N: awkward,
    K: fc.oneof(awkward, fc.constant(0)),
    aOffset: fc.nat(5),
    bOffset: fc.nat(5),
    outOffset: fc.nat(5),
  })
  .chain((s) =>
    fc
      .tuple(
        fc.float64Array({
          minLength: s.aOffset + s.M * s.K,
          maxLength: s.aOffset + s.M * s.K,
          noNaN: true,
          min: -1e3,
          max: 1e3,
        }),
        fc.float64Array({
          minLength: s.bOffset + s.K * s.N,
          maxLength: s.bOffset + s.K * s.N,
          noNaN: true,
          min: -1e3,
          max: 1e3,
        }),
      )
      .map(([a, b]) => ({ ...s, a, b })),
  );

/** Cases large enough for the wasm blocking (K past one kc block of 256, M past one mc block of 96). */
const largeCase: fc.Arbitrary<Case> = fc
  .record({
    transA: fc.boolean(),
    transB: fc.boolean(),
    M: awkwardLarge,
    N: awkwardLarge,
    K: fc.oneof(awkwardLarge, fc.constant(0), fc.constant(300)),
    aOffset: fc.nat(7),
    bOffset: fc.nat(7),
    outOffset: fc.nat(7),
    seed: fc.integer(),
  })
  .map(({ seed, ...s }) => ({
    ...s,
    a: seeded(s.aOffset + s.M * s.K, seed),
    b: seeded(s.bOffset + s.K * s.N, seed ^ 0x5bd1e995),
  }));

function property(arb: fc.Arbitrary<Case>, numRuns: number): void {
  fc.assert(
    fc.property(arb, (c) => {
      const problem = check(c, run(c));
      if (problem !== null) throw new Error(problem);
    }),
    { numRuns },
  );
}

const PATHS: [GemmPath, GemmKernelChoice][] = [
  ["js", "auto"],
  ["wasm", "simd"],
  ["wasm", "auto"],
  ["threads", "simd"],
  ["threads", "auto"],
  ["auto", "auto"],
];

/** Starts the worker pool and waits until it is up, so that the threaded path really uses it. */
async function poolUp(): Promise<void> {
  setGemmThreads(2);
  const deadline = Date.now() + 20_000;
  while (gemmInfo().threads < 2) {
    if (Date.now() > deadline) throw new Error("gemm: worker pool did not come up in 20 s");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

afterAll(() => {
  forceGemmPath("auto");
  forceGemmKernel("auto");
  setGemmThreads(2);
});

describe.each(PATHS)("gemm, path %s, kernel %s", (path, kernel) => {
  test("matches the naive product on small awkward shapes, every transpose, with offsets", async () => {
    forceGemmKernel(kernel);
    forceGemmPath(path);
    if (path === "threads") await poolUp();
    property(smallCase, 150);
  });

  test("matches the naive product on large awkward shapes (several blocks), every transpose", () => {
    forceGemmKernel(kernel);
    forceGemmPath(path);
    property(largeCase, path === "js" ? 25 : 40);
  });
});

describe("gemm edge cases", () => {
  afterAll(() => forceGemmPath("auto"));

  test.each(["js", "wasm", "threads"] as GemmPath[])(
    "K = 0 writes zeros, M = 0 or N = 0 writes nothing (%s)",
    (path) => {
      forceGemmPath(path);
      const out = new Float64Array(8).fill(Number.NaN);
      gemm(false, true, 2, 3, 0, new Float64Array(0), 0, new Float64Array(0), 0, out, 1);
      expect(Array.from(out)).toEqual([Number.NaN, 0, 0, 0, 0, 0, 0, Number.NaN]);
      const untouched = new Float64Array(4).fill(Number.NaN);
      gemm(true, false, 0, 3, 5, new Float64Array(15), 0, new Float64Array(15), 0, untouched, 0);
      gemm(false, false, 3, 0, 5, new Float64Array(15), 0, new Float64Array(15), 0, untouched, 0);
      expect(untouched.every(Number.isNaN)).toBe(true);
    },
  );

  test("the course's shapes, on the automatic path", () => {
    forceGemmPath("auto");
    // Z1 = W1·X, Z2 = W2·A1, dW1 = dZ1·Xᵀ, dW2 = dZ2·A1ᵀ, dA1 = W2ᵀ·dZ2 (m = 400 examples).
    const shapes: [boolean, boolean, number, number, number][] = [
      [false, false, 4, 400, 2],
      [false, false, 1, 400, 4],
      [false, true, 4, 2, 400],
      [false, true, 1, 4, 400],
      [true, false, 4, 400, 1],
    ];
    for (const [transA, transB, M, N, K] of shapes) {
      const c: Case = {
        transA,
        transB,
        M,
        N,
        K,
        aOffset: 0,
        bOffset: 0,
        outOffset: 0,
        a: seeded(M * K, M),
        b: seeded(K * N, N),
      };
      expect(check(c, run(c))).toBeNull();
    }
  });

  test("a product big enough for the threads on the automatic path, then small ones reusing the memory", () => {
    forceGemmPath("auto");
    for (const [M, N, K] of [
      [260, 250, 270],
      [5, 9, 40],
      [70, 3, 90],
    ] as const) {
      const c: Case = {
        transA: true,
        transB: true,
        M,
        N,
        K,
        aOffset: 3,
        bOffset: 1,
        outOffset: 2,
        a: seeded(3 + M * K, K),
        b: seeded(1 + K * N, N),
      };
      expect(check(c, run(c))).toBeNull();
    }
  });

  test("three threads (more workers than cores is still correct), and one thread", async () => {
    forceGemmPath("threads");
    for (const threads of [3, 1]) {
      setGemmThreads(threads);
      const deadline = Date.now() + 20_000;
      while (gemmInfo().threads !== threads && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      expect(gemmInfo().threads).toBe(threads);
      const c: Case = {
        transA: false,
        transB: true,
        M: 200,
        N: 130,
        K: 270,
        aOffset: 0,
        bOffset: 0,
        outOffset: 0,
        a: seeded(200 * 270, 1),
        b: seeded(270 * 130, 2),
      };
      expect(check(c, run(c))).toBeNull();
    }
    setGemmThreads(2);
  });

  test("changing the thread count between products never lets a retired worker take a task", async () => {
    // terminate() is asynchronous: right after setGemmThreads(1) → (2) the old worker may still be
    // polling when the next product starts, beside its replacement with the same tid.
    forceGemmPath("threads");
    await poolUp();
    const c: Case = {
      transA: false,
      transB: false,
      M: 150,
      N: 140,
      K: 130,
      aOffset: 0,
      bOffset: 0,
      outOffset: 0,
      a: seeded(150 * 130, 3),
      b: seeded(130 * 140, 4),
    };
    for (let round = 0; round < 60; round++) {
      expect(check(c, run(c))).toBeNull();
      setGemmThreads(1);
      setGemmThreads(2);
      expect(check(c, run(c))).toBeNull();
      if (round % 10 === 9) await poolUp();
    }
  }, 30_000);

  test("gemmInfo reports what this machine runs", async () => {
    forceGemmKernel("auto");
    await poolUp();
    const info = gemmInfo();
    // The reference machine (Node 20, x86-64) has SIMD and, with the run-time V8 flag, relaxed SIMD.
    expect(info).toEqual({ simd: true, relaxedSimd: true, threads: 2 });
    forceGemmKernel("simd");
    expect(gemmInfo().relaxedSimd).toBe(false);
    forceGemmKernel("auto");
  });
});

describe("the checker itself", () => {
  test("catches a wrong product: B read as transposed", () => {
    forceGemmPath("js");
    const c: Case = {
      transA: false,
      transB: false,
      M: 3,
      N: 3,
      K: 3,
      aOffset: 0,
      bOffset: 0,
      outOffset: 0,
      a: seeded(9, 1),
      b: seeded(9, 2),
    };
    const out = new Float64Array(9 + 3).fill(Number.NaN);
    gemm(false, true, 3, 3, 3, c.a, 0, c.b, 0, out, 0);
    expect(check(c, out)).toMatch(/out\[0, [0-2]\] = .*, naive/);
    forceGemmPath("auto");
  });

  test("catches an error of one part in 1e9, and a write outside the window", () => {
    const c: Case = {
      transA: false,
      transB: false,
      M: 2,
      N: 2,
      K: 2,
      aOffset: 0,
      bOffset: 0,
      outOffset: 1,
      a: seeded(4, 3),
      b: seeded(4, 4),
    };
    const out = run(c);
    expect(check(c, out)).toBeNull();
    out[3] = out[3]! * (1 + 1e-9);
    expect(check(c, out)).toMatch(/out\[1, 0\]/);
    const stray = run(c);
    stray[0] = 0;
    expect(check(c, stray)).toMatch(/outside the output window/);
  });
});

test("an idle worker pool does not keep the process alive", () => {
  const gemmUrl = new URL("../../src/kernels/gemm.ts", import.meta.url).href;
  const script = `
    const { gemm, forceGemmPath, gemmInfo } = await import(${JSON.stringify(gemmUrl)});
    forceGemmPath("threads");
    const n = 64, a = new Float64Array(n * n).fill(1), out = new Float64Array(n * n);
    while (gemmInfo().threads < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    gemm(false, false, n, n, n, a, 0, a, 0, out, 0);
    console.log(out[0], gemmInfo().threads);`;
  const root = fileURLToPath(new URL("../../../..", import.meta.url));
  const t0 = performance.now();
  const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: root,
    encoding: "utf8",
    timeout: 30_000,
  });
  expect(child.stderr).toBe("");
  expect(child.stdout.trim()).toBe("64 2");
  expect(child.status).toBe(0);
  // It exits as soon as the script ends: well under the 30 s the spawn would wait for a hung child.
  expect(performance.now() - t0).toBeLessThan(15_000);
});

test("20 000 small threaded products in a row: late workers never claim the next job's tasks (no hang)", () => {
  // Found as a hang of the test suite: a worker woken for a job the main thread had already finished
  // read the next job's TASKS while NEXT still carried the old tag, claimed, and pushed DONE past TASKS.
  // Before the fix this script hung in 3 runs of 3; a child process turns a hang into a failure.
  const gemmUrl = new URL("../../src/kernels/gemm.ts", import.meta.url).href;
  const script = `
    const { gemm, forceGemmPath, gemmInfo } = await import(${JSON.stringify(gemmUrl)});
    forceGemmPath("threads");
    while (gemmInfo().threads < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    let wrong = 0;
    for (let r = 0; r < 20000; r++) {
      const M = 2 + (r % 5), N = 9 + (r % 31), K = 3 + (r % 7);
      const a = Float64Array.from({ length: M * K }, (_, i) => (i % 7) - 3);
      const b = Float64Array.from({ length: K * N }, (_, i) => (i % 5) - 2);
      const out = new Float64Array(M * N);
      gemm(false, false, M, N, K, a, 0, b, 0, out, 0);
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += a[i * K + k] * b[k * N + j];
          if (s !== out[i * N + j]) wrong++;
        }
    }
    console.log("wrong", wrong, "threads", gemmInfo().threads);`;
  const root = fileURLToPath(new URL("../../../..", import.meta.url));
  const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(child.signal, "the child hung and was killed").toBeNull();
  expect(child.stderr).toBe("");
  expect(child.stdout.trim()).toBe("wrong 0 threads 2");
}, 70_000);

test("the committed wasm matches scripts/gemm-wat.ts (build-wasm --check)", () => {
  const root = fileURLToPath(new URL("../../../..", import.meta.url));
  const child = spawnSync(
    process.execPath,
    ["--import", "tsx", "packages/autograd/scripts/build-wasm.ts", "--check"],
    {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  expect(child.stderr).toBe("");
  expect(child.status).toBe(0);
});

/**
 * @file Property tests of the matrix product through the public `matmul`: every path the sizes select
 * (JS below 4096 multiply-adds, wasm SIMD above, worker threads from 128³), every transpose combination and
 * batched operands (each matrix at an offset of a larger buffer), against an independent naive triple
 * loop. The plain-SIMD build, which engines without relaxed SIMD run, is checked in a child process that
 * hides Node's built-in modules (as a browser would).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { backendInfo, getNumThreads, matmul, setNumThreads, Tensor } from "@tapegrad/autograd";
import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";

/** One product: op(A) is M×K, op(B) is K×N, each a stack of `batch` matrices stored as given. */
interface Case {
  transA: boolean;
  transB: boolean;
  batch: number;
  M: number;
  N: number;
  K: number;
  a: Float64Array;
  b: Float64Array;
}

const operands = (c: Case): [Tensor, Tensor] => {
  const lead = c.batch === 1 ? [] : [c.batch];
  return [
    new Tensor(c.a, [...lead, ...(c.transA ? [c.K, c.M] : [c.M, c.K])]),
    new Tensor(c.b, [...lead, ...(c.transB ? [c.N, c.K] : [c.K, c.N])]),
  ];
};

const product = (c: Case): Tensor => {
  const [a, b] = operands(c);
  return matmul(a, b, { transposeA: c.transA, transposeB: c.transB });
};

/**
 * The reference: a triple loop over the stored layouts, written from the contract alone. Returns
 * op(A)·op(B) and, per element, Σ|a·b|, the scale of the rounding error any summation order makes.
 */
function naive(c: Case): { value: Float64Array; scale: Float64Array } {
  const { M, N, K } = c;
  const value = new Float64Array(c.batch * M * N);
  const scale = new Float64Array(c.batch * M * N);
  for (let p = 0; p < c.batch; p++) {
    const ao = p * M * K;
    const bo = p * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        let t = 0;
        for (let k = 0; k < K; k++) {
          const x = c.a[ao + (c.transA ? k * M + i : i * K + k)]!;
          const y = c.b[bo + (c.transB ? j * K + k : k * N + j)]!;
          s += x * y;
          t += Math.abs(x * y);
        }
        value[p * M * N + i * N + j] = s;
        scale[p * M * N + i * N + j] = t;
      }
    }
  }
  return { value, scale };
}

const describeCase = (c: Case): string =>
  `${c.batch} × ${c.transA ? "Aᵀ" : "A"}·${c.transB ? "Bᵀ" : "B"} M=${c.M} N=${c.N} K=${c.K}`;

/**
 * Compares a product's values with the reference: each element within 1e-12·Σ|terms|. Returns the first
 * discrepancy as a message, or null.
 */
function check(c: Case, out: Float64Array): string | null {
  const { value, scale } = naive(c);
  if (out.length !== value.length)
    return `${describeCase(c)}: ${out.length} values, expected ${value.length}`;
  for (let e = 0; e < value.length; e++) {
    const got = out[e]!;
    const want = value[e]!;
    if (!(Math.abs(got - want) <= 1e-12 * scale[e]!)) {
      const p = Math.floor(e / (c.M * c.N));
      const r = e - p * c.M * c.N;
      const i = Math.floor(r / c.N);
      return `${describeCase(c)}: out[${p}, ${i}, ${r - i * c.N}] = ${got}, naive ${want} (Σ|terms| ${scale[e]})`;
    }
  }
  return null;
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

const seededCase = (
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  seed: number,
  batch = 1,
): Case => ({
  transA,
  transB,
  batch,
  M,
  N,
  K,
  a: seeded(batch * M * K, seed),
  b: seeded(batch * K * N, seed ^ 0x5bd1e995),
});

/** Awkward sizes: 1, the register tile edges (3, 4, 6), primes, and one past block and tile sizes. */
const awkward = fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 13, 33);
const awkwardLarge = fc.constantFrom(1, 2, 3, 7, 33, 97, 129);

/** Cases whose operands fast-check generates element by element (small shapes: JS and small wasm). */
const smallCase: fc.Arbitrary<Case> = fc
  .record({
    transA: fc.boolean(),
    transB: fc.boolean(),
    batch: fc.constantFrom(1, 3),
    M: awkward,
    N: awkward,
    K: fc.oneof(awkward, fc.constant(0)),
  })
  .chain((s) =>
    fc
      .tuple(
        fc.float64Array({
          minLength: s.batch * s.M * s.K,
          maxLength: s.batch * s.M * s.K,
          noNaN: true,
          min: -1e3,
          max: 1e3,
        }),
        fc.float64Array({
          minLength: s.batch * s.K * s.N,
          maxLength: s.batch * s.K * s.N,
          noNaN: true,
          min: -1e3,
          max: 1e3,
        }),
      )
      .map(([a, b]) => ({ ...s, a, b })),
  );

/** Cases large enough for the wasm blocking (K past one kc block of 256, M past one mc block of 96) and threads. */
const largeCase: fc.Arbitrary<Case> = fc
  .record({
    transA: fc.boolean(),
    transB: fc.boolean(),
    batch: fc.constantFrom(1, 2),
    M: awkwardLarge,
    N: awkwardLarge,
    K: fc.oneof(awkwardLarge, fc.constant(0), fc.constant(300)),
    seed: fc.integer(),
  })
  .map(({ transA, transB, M, N, K, seed, batch }) => seededCase(transA, transB, M, N, K, seed, batch));

function property(arb: fc.Arbitrary<Case>, numRuns: number): void {
  fc.assert(
    fc.property(arb, (c) => {
      const problem = check(c, product(c).data);
      if (problem !== null) throw new Error(problem);
    }),
    { numRuns },
  );
}

/** Sets the thread count and waits (generously: the machine may be busy) until the workers are up. */
async function threadsUp(n: number): Promise<void> {
  setNumThreads(n);
  const deadline = Date.now() + 40_000;
  while (backendInfo().threads !== n) {
    if (Date.now() > deadline) throw new Error(`matmul: ${n} threads did not come up in 40 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

afterAll(() => setNumThreads(2));

describe.each([1, 2])("matmul on %i thread(s)", (threads) => {
  test("matches the naive product on small awkward shapes, every transpose, batched", async () => {
    await threadsUp(threads);
    property(smallCase, 150);
  });

  test("matches the naive product on large awkward shapes (several blocks), every transpose", async () => {
    await threadsUp(threads);
    property(largeCase, 40);
  }, 120_000);
});

describe("matmul edge cases", () => {
  test("K = 0 gives zeros, M = 0 or N = 0 an empty result", () => {
    const none = new Tensor(new Float64Array(0), [2, 0]);
    expect(Array.from(matmul(none, new Tensor(new Float64Array(0), [0, 3])).data)).toEqual([
      0, 0, 0, 0, 0, 0,
    ]);
    expect(
      matmul(new Tensor(new Float64Array(0), [0, 5]), new Tensor(new Float64Array(15), [5, 3])).shape,
    ).toEqual([0, 3]);
    expect(
      matmul(new Tensor(new Float64Array(15), [3, 5]), new Tensor(new Float64Array(0), [5, 0])).shape,
    ).toEqual([3, 0]);
  });

  test("the course's shapes", () => {
    // Z1 = W1·X, Z2 = W2·A1, dW1 = dZ1·Xᵀ, dW2 = dZ2·A1ᵀ, dA1 = W2ᵀ·dZ2 (m = 400 examples).
    const shapes: [boolean, boolean, number, number, number][] = [
      [false, false, 4, 400, 2],
      [false, false, 1, 400, 4],
      [false, true, 4, 2, 400],
      [false, true, 1, 4, 400],
      [true, false, 4, 400, 1],
    ];
    for (const [transA, transB, M, N, K] of shapes) {
      const c = seededCase(transA, transB, M, N, K, M * 31 + N);
      expect(check(c, product(c).data)).toBeNull();
    }
  });

  test("a product big enough for the threads, then small ones reusing the memory", async () => {
    await threadsUp(2);
    for (const [M, N, K] of [
      [260, 250, 270],
      [5, 9, 40],
      [70, 3, 90],
    ] as const) {
      const c = seededCase(true, true, M, N, K, K);
      expect(check(c, product(c).data)).toBeNull();
    }
  }, 120_000);

  test("three threads (more workers than cores is still correct), and one thread", async () => {
    for (const threads of [3, 1]) {
      await threadsUp(threads);
      expect(getNumThreads()).toBe(threads);
      const c = seededCase(false, true, 200, 130, 270, 1);
      expect(check(c, product(c).data)).toBeNull();
    }
  }, 120_000);

  test("changing the thread count between products never lets a retired worker take a task", async () => {
    // terminate() is asynchronous: right after setNumThreads(1) → (2) the old worker may still be
    // polling when the next product starts, beside its replacement with the same tid. 150·140·130
    // multiply-adds take the threaded path. Light on purpose: it must pass on a busy machine too.
    await threadsUp(2);
    const c = seededCase(false, false, 150, 140, 130, 3);
    const reference = naive(c);
    const same = (out: Float64Array): boolean =>
      out.every((v, e) => Math.abs(v - reference.value[e]!) <= 1e-12 * reference.scale[e]!);
    for (let round = 0; round < 20; round++) {
      expect(same(product(c).data), `round ${round}, before`).toBe(true);
      setNumThreads(1);
      setNumThreads(2);
      expect(same(product(c).data), `round ${round}, after`).toBe(true);
    }
    await threadsUp(2);
    expect(same(product(c).data)).toBe(true);
  }, 120_000);

  test("backendInfo reports what this machine runs", async () => {
    await threadsUp(2);
    // The reference machine (Node 20, x86-64) has SIMD and, with the run-time V8 flag, relaxed SIMD.
    expect(backendInfo()).toEqual({ wasm: true, simd: true, relaxedSimd: true, threads: 2, reason: "" });
    setNumThreads(1);
    expect(backendInfo()).toMatchObject({ threads: 1, reason: "threads: 1 (setNumThreads(1))" });
    expect(() => setNumThreads(0)).toThrow("setNumThreads: n must be a positive integer, got the number 0");
    setNumThreads(2);
  });
});

describe("the checker itself", () => {
  test("catches a wrong product: B read as transposed", () => {
    const c = seededCase(false, false, 3, 3, 3, 1);
    const [a, b] = operands(c);
    expect(check(c, matmul(a, b, { transposeB: true }).data)).toMatch(/out\[0, 0, [0-2]\] = .*, naive/);
  });

  test("catches an error of one part in 1e9 in the second matrix of a batch", () => {
    const c = seededCase(false, false, 2, 2, 2, 3, 2);
    const out = product(c).data.slice();
    expect(check(c, out)).toBeNull();
    out[6] = out[6]! * (1 + 1e-9);
    expect(check(c, out)).toMatch(/out\[1, 1, 0\]/);
  });
});

const root = fileURLToPath(new URL("../../../..", import.meta.url));
/**
 * Runs `script` in a child Node from this package's folder, where "@tapegrad/autograd" names the package
 * itself; killed after `timeout` ms (a hang becomes a failure). Asynchronous, so that the test worker stays
 * responsive while it waits.
 */
const runChild = (script: string, timeout: number) =>
  runNode(
    ["--import", "tsx", "--input-type=module", "-e", script],
    fileURLToPath(new URL("../..", import.meta.url)),
    timeout,
  );

/** Runs Node with `args` in `cwd`, killed after `timeout` ms; resolves with its output and exit. */
const runNode = (
  args: string[],
  cwd: string,
  timeout: number,
): Promise<{ stdout: string; stderr: string; status: number | null; signal: string | null }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd, timeout });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += String(d);
    });
    child.stderr.on("data", (d) => {
      stderr += String(d);
    });
    child.on("close", (status, signal) => resolve({ stdout, stderr, status, signal }));
  });

test("an idle worker pool does not keep the process alive", async () => {
  const script = `
    const { backendInfo, ones, matmul } = await import("@tapegrad/autograd");
    const a = ones([128, 128]);
    while (backendInfo().threads < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    console.log(matmul(a, a).data[0], backendInfo().threads);`;
  const child = await runChild(script, 60_000);
  expect(child.signal, "the child hung and was killed").toBeNull();
  expect(child.stderr).toBe("");
  expect(child.stdout.trim()).toBe("128 2");
  expect(child.status).toBe(0);
}, 70_000);

test("2000 threaded products in a row: late workers never claim the next job's tasks (no hang)", async () => {
  // Found as a hang of the test suite: a worker woken for a job the main thread had already finished
  // read the next job's TASKS while NEXT still carried the old tag, claimed, and pushed DONE past TASKS.
  // Products of 32–36 × 32–62 × 2048 take the threaded path and are short, so jobs follow each other
  // closely; integer operands make every sum exact. A child process turns a hang into a failure.
  const script = `
    const { backendInfo, matmul, tensor } = await import("@tapegrad/autograd");
    while (backendInfo().threads < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    const K = 2048;
    const a = Float64Array.from({ length: 36 * K }, (_, i) => (i % 7) - 3);
    const b = Float64Array.from({ length: K * 62 }, (_, i) => (i % 5) - 2);
    let wrong = 0;
    for (let r = 0; r < 2000; r++) {
      const M = 32 + (r % 5), N = 32 + (r % 31);
      const out = matmul(tensor(a.subarray(0, M * K), { shape: [M, K] }), tensor(b.subarray(0, K * N), { shape: [K, N] })).data;
      if (r % 50 === 0 || r < 62)
        for (let i = 0; i < M; i++)
          for (let j = 0; j < N; j++) {
            let s = 0;
            for (let k = 0; k < K; k++) s += a[i * K + k] * b[k * N + j];
            if (s !== out[i * N + j]) wrong++;
          }
    }
    console.log("wrong", wrong, "threads", backendInfo().threads);`;
  const child = await runChild(script, 100_000);
  expect(child.signal, "the child hung and was killed").toBeNull();
  expect(child.stderr).toBe("");
  expect(child.stdout.trim()).toBe("wrong 0 threads 2");
}, 110_000);

test("without Node's built-in modules (as in a browser): plain SIMD on one thread, and backendInfo says why", async () => {
  // process.getBuiltinModule is how the library reaches node:v8 (to enable relaxed SIMD in Node 20) and
  // node:worker_threads; hiding it leaves the plain-SIMD kernel, which is checked here against the naive loop.
  const script = `
    delete process.getBuiltinModule;
    const { backendInfo, matmul, setNumThreads, tensor } = await import("@tapegrad/autograd");
    setNumThreads(2);
    let worst = 0;
    for (const [M, N, K, tA, tB] of [[33, 97, 300, false, false], [97, 33, 129, true, false], [129, 7, 33, false, true], [40, 41, 42, true, true]]) {
      const a = Float64Array.from({ length: M * K }, (_, i) => Math.sin(i + M));
      const b = Float64Array.from({ length: K * N }, (_, i) => Math.cos(i * 0.7 + N));
      const out = matmul(tensor(a, { shape: tA ? [K, M] : [M, K] }), tensor(b, { shape: tB ? [N, K] : [K, N] }), { transposeA: tA, transposeB: tB }).data;
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let s = 0, t = 0;
          for (let k = 0; k < K; k++) {
            const p = a[tA ? k * M + i : i * K + k] * b[tB ? j * K + k : k * N + j];
            s += p; t += Math.abs(p);
          }
          worst = Math.max(worst, Math.abs(out[i * N + j] - s) / t);
        }
    }
    console.log(JSON.stringify({ ...backendInfo(), ok: worst <= 1e-12 }));`;
  const child = await runChild(script, 60_000);
  expect(child.stderr).toBe("");
  const info = JSON.parse(child.stdout.trim()) as Record<string, unknown>;
  expect(info).toMatchObject({ wasm: true, simd: true, relaxedSimd: false, threads: 1, ok: true });
  expect(info.reason).toContain("relaxed SIMD: not supported by this engine");
  expect(info.reason).toContain("no node:worker_threads");
}, 70_000);

test("the committed wasm matches scripts/gemm-wat.ts (build-wasm --check)", async () => {
  const child = await runNode(
    ["--import", "tsx", "packages/autograd/scripts/build-wasm.ts", "--check"],
    root,
    60_000,
  );
  expect(child.stderr).toBe("");
  expect(child.status).toBe(0);
}, 70_000);

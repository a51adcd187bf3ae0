/**
 * @file Micro-benchmark of the float64 GEMM kernel, run from the repository root:
 *
 *   npx tsx packages/autograd/scripts/bench-gemm.ts              GFLOP/s at n = 1024, every path
 *   npx tsx packages/autograd/scripts/bench-gemm.ts --n 512      another size
 *   npx tsx packages/autograd/scripts/bench-gemm.ts --thresholds time per call across sizes, to place the cut-overs
 *
 * The machines are noisy (the same kernel swings up to 2× between runs), so variants are
 * interleaved round by round and medians reported. Kernel builds are not interleaved: switching
 * build recompiles the module, whose first big call pays a 150–300 ms tier-up.
 */
import {
  forceGemmKernel,
  forceGemmPath,
  type GemmKernelChoice,
  type GemmPath,
  gemm,
  gemmInfo,
  setThreads,
} from "../src/kernels/gemm.js";

const COMBOS = [
  ["NN", false, false],
  ["NT", false, true],
  ["TN", true, false],
] as const;

function random(length: number): Float64Array {
  const x = new Float64Array(length);
  for (let i = 0; i < length; i++) x[i] = Math.random() * 2 - 1;
  return x;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[s.length >> 1]!;
}

/** Milliseconds of one gemm call of shape M×K · K×N on a given path. */
function timeOnce(
  path: GemmPath,
  tA: boolean,
  tB: boolean,
  M: number,
  N: number,
  K: number,
  reps: number,
): number {
  const a = random(M * K);
  const b = random(K * N);
  const out = new Float64Array(M * N);
  forceGemmPath(path);
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) gemm(tA, tB, M, N, K, a, 0, b, 0, out, 0);
  return (performance.now() - t0) / reps;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** Starts the worker pool (in the background) and waits until it is up: products only use running workers. */
async function poolUp(): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (gemmInfo().threads < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

/** GFLOP/s table at one size: JS once, then each kernel build single-threaded and with threads. */
async function throughput(n: number, rounds: number): Promise<void> {
  const flop = 2 * n * n * n;
  const rows: string[] = [];
  const measure = (label: string, paths: GemmPath[], roundsHere: number): void => {
    const times = new Map<string, number[]>();
    // Warm-up: tier-up of the wasm code, worker start, memory growth.
    for (const path of paths) for (const [, tA, tB] of COMBOS) timeOnce(path, tA, tB, n, n, n, 1);
    for (let r = 0; r < roundsHere; r++) {
      for (const path of paths) {
        for (const [name, tA, tB] of COMBOS) {
          const key = `${path} ${name}`;
          times.set(key, [...(times.get(key) ?? []), timeOnce(path, tA, tB, n, n, n, 1)]);
        }
      }
    }
    for (const path of paths) {
      const cells = COMBOS.map(([name]) => (flop / median(times.get(`${path} ${name}`)!) / 1e6).toFixed(1));
      const where =
        path === "threads" ? `, ${gemmInfo().threads} threads` : path === "wasm" ? ", 1 thread" : "";
      rows.push(`| ${label}${where} | ${cells.join(" | ")} |`);
    }
  };
  setThreads(2);
  measure("JavaScript (4×2 register tiles)", ["js"], 3);
  for (const kernel of ["simd", "auto"] as GemmKernelChoice[]) {
    forceGemmKernel(kernel);
    await poolUp();
    const info = gemmInfo();
    if (!info.simd) continue;
    if (kernel === "auto" && !info.relaxedSimd) continue;
    measure(info.relaxedSimd ? "wasm relaxed FMA 3×6" : "wasm SIMD 4×4", ["wasm", "threads"], rounds);
  }
  forceGemmPath("auto");
  console.log(`n = ${n}, GFLOP/s, median of ${rounds} interleaved runs after warm-up (JS: 3)`);
  console.log(`gemmInfo: ${JSON.stringify(gemmInfo())}`);
  console.log("| path | NN | NT | TN |\n|---|---|---|---|");
  for (const row of rows) console.log(row);
}

/** Microseconds per call of each path across shapes, to place the JS/wasm/threads cut-overs. */
async function thresholds(): Promise<void> {
  forceGemmKernel("auto");
  setThreads(2);
  await poolUp();
  const shapes: [number, number, number][] = [
    [4, 400, 2],
    [1, 400, 4],
    [4, 2, 400],
    [4, 400, 4],
    [4, 4, 400],
    ...[8, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 384].map(
      (n) => [n, n, n] as [number, number, number],
    ),
    [4, 256, 256],
    [256, 4, 256],
    [256, 256, 4],
    [2, 1000, 1000],
    [1000, 2, 1000],
    [1000, 1000, 2],
    [8, 512, 512],
    [512, 8, 512],
    [64, 1024, 64],
  ];
  const paths: GemmPath[] = ["js", "wasm", "threads"];
  for (const [M, N, K] of shapes) for (const path of paths) timeOnce(path, false, false, M, N, K, 3);
  console.log(`${JSON.stringify(gemmInfo())}\nµs per call (median of 5, NN and TN; reps scaled to ~20 ms)`);
  console.log("| M×N×K | madds | combo | js | wasm | threads | best |\n|---|---|---|---|---|---|---|");
  for (const [M, N, K] of shapes) {
    for (const [name, tA, tB] of [COMBOS[0], COMBOS[2]]) {
      const reps = Math.max(1, Math.min(20000, Math.round(2e7 / (M * N * K * 2 + 2000))));
      const us = paths.map((path) => {
        const xs: number[] = [];
        for (let r = 0; r < 5; r++) xs.push(timeOnce(path, tA, tB, M, N, K, reps) * 1000);
        return median(xs);
      });
      const best = paths[us.indexOf(Math.min(...us))];
      console.log(
        `| ${M}×${N}×${K} | ${M * N * K} | ${name} | ${us.map((u) => u.toFixed(u < 10 ? 2 : 0)).join(" | ")} | ${best} |`,
      );
    }
  }
  forceGemmPath("auto");
}

if (process.argv.includes("--thresholds")) await thresholds();
else await throughput(Number(arg("--n") ?? 1024), Number(arg("--rounds") ?? 7));

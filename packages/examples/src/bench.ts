/**
 * @file `pnpm bench`: ms per full-batch training step of the course's two-layer network (tanh hidden,
 * sigmoid output, binary cross-entropy, X as (nX, m)) at three sizes, for tapegrad's two gradient paths
 * (the tape, and the six hand-written equations) against TensorFlow.js (cpu and wasm backends) and jax-js
 * (jit, wasm device), all measured interleaved in one run; a LeNet-5-like training step (batch 64,
 * 28×28) against both tfjs backends (src/bench/lenet.ts); plus matmul GFLOP/s for the three transpose
 * layouts. Checks correctness before timing, prints the tables and writes bench-results.json.
 *
 * Usage: `tsx src/bench.ts [--quick]` (or `BENCH_QUICK=1`): --quick measures only S, M and LeNet with
 * one or two samples and a 256 matmul, in seconds.
 */
import { writeFileSync } from "node:fs";
import { arch, availableParallelism, cpus, platform, release, totalmem } from "node:os";
import { resolve } from "node:path";
import {
  type Implementation,
  MATMUL_VARIANTS,
  type MatmulImplementation,
  type MatmulVariant,
} from "./bench/implementation.js";
import { initJax, jaxImplementation, jaxMatmul } from "./bench/jax.js";
import { formatLenetReport, type LenetResult, runLenet, tapegradLenet } from "./bench/lenet.js";
import { tfjsLenet } from "./bench/lenet-tfjs.js";
import { describeSize, makeProblem, type Problem, SIZES, type SizeSpec } from "./bench/problem.js";
import { formatMs, formatReport } from "./bench/report.js";
import {
  comparePaths,
  type PathAgreement,
  tapegradAutograd,
  tapegradMatmul,
  tapegradSixEquations,
} from "./bench/tapegrad.js";
import { initTfjs, tfjsImplementation, tfjsMatmul, tfjsTensorCount } from "./bench/tfjs.js";
import { type Measurement, measureInterleaved, type TimingPlan, type TimingTask } from "./bench/timing.js";
import { hasFlag, isMain, type Log } from "./main.js";

/** Options of `runBench`. */
export interface BenchOptions {
  /** Only S and M, one or two samples each, a 256 matmul (default: `BENCH_QUICK=1` in the environment). */
  quick?: boolean;
  /** Where lines go (default console.log). */
  log?: Log;
  /**
   * The JSON file to write; default `bench-results.json` in the directory the command was started from
   * (pnpm sets INIT_CWD; else the current directory). null: write nothing.
   */
  outFile?: string | null;
  /** A transient status line on the terminal while measuring (default: stdout is a TTY and log is console.log). */
  bar?: boolean;
}

/** The gradient-path agreement tapegrad must reach before anything is timed. */
export const PATH_TOLERANCE = 1e-10;
/** Training steps of each implementation's check, and how close a float32 cost must stay to tapegrad's. */
const CHECK_STEPS = 10;
const FLOAT32_COST_TOLERANCE = 1e-4;

/** One implementation's training check at S: the cost must go down and follow tapegrad's float64 cost. */
export interface TrainingCheck {
  costBefore: number;
  costAfter: number;
  /** tapegrad's six-equation cost after the same steps. */
  referenceAfter: number;
  /** |costAfter − referenceAfter| / referenceAfter. */
  relativeToReference: number;
  /** tfjs only: tensors held before and after the steps (equal when nothing leaks). */
  tensorsBefore?: number;
  tensorsAfter?: number;
  ok: boolean;
}

/** Everything one run measured; also what bench-results.json holds. */
export interface BenchResult {
  machine: {
    cpu: string;
    cores: number;
    node: string;
    os: string;
    memoryGB: number;
    date: string;
  };
  quick: boolean;
  versions: { tfjs: string | null; jaxjs: string | null };
  notes: string[];
  /** Every implementation of the step table: "ok", or why it was not timed. */
  implementations: { id: string; label: string; dtype: string; tapegrad: boolean; status: string }[];
  checks: {
    paths: PathAgreement & { tolerance: number; ok: boolean };
    training: Record<string, TrainingCheck>;
  };
  steps: {
    size: string;
    description: string;
    spec: SizeSpec;
    /** Median ms per step by implementation id (null: not timed). */
    ms: Record<string, number | null>;
    measurements: Record<string, Measurement>;
  }[];
  /** peer ms / tapegrad ms: above 1, tapegrad is faster. */
  ratios: { size: string; path: string; peer: string; ratio: number }[];
  /** autograd path ms / six-equation path ms, by size. */
  tapeOverhead: Record<string, number>;
  /** S six-equation ms × 10 000 (the course's nn_model), or null when S was not measured. */
  courseJobEstimateMs: number | null;
  matmul: {
    n: number;
    implementations: { id: string; dtype: string; status: string }[];
    gflops: Record<string, Partial<Record<MatmulVariant, number>>>;
    measurements: Record<string, Partial<Record<MatmulVariant, Measurement>>>;
  };
  /** The LeNet-5-like step: checks, ms per step, ratios. */
  lenet: LenetResult;
  durationMs: number;
}

const FULL_STEPS: TimingPlan = {
  warmupMs: 300,
  targetSampleMs: 25,
  budgetMs: 3000,
  minReps: 5,
  maxReps: 21,
  slowMs: 1500,
  slowReps: 3,
};
const FULL_MATMUL: TimingPlan = { ...FULL_STEPS, budgetMs: 1500, slowReps: 2 };
const QUICK: TimingPlan = {
  warmupMs: 50,
  targetSampleMs: 5,
  budgetMs: 100,
  minReps: 1,
  maxReps: 2,
  slowMs: 500,
  slowReps: 1,
};

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A line log plus, on a terminal, one status line that each logged line replaces. */
function createOutput(log: Log, bar: boolean): { say: Log; status: (text: string) => void } {
  let shown = false;
  const clear = (): void => {
    if (shown) process.stdout.write("\r\x1b[K");
    shown = false;
  };
  return {
    say(line) {
      clear();
      log(line);
    },
    status(text) {
      if (!bar) return;
      process.stdout.write(`\r\x1b[K${text}`);
      shown = true;
    },
  };
}

/** Run CHECK_STEPS training steps of an implementation at a problem; cost before and after. */
async function trainingCheck(
  impl: Implementation,
  problem: Problem,
  referenceAfter: number,
): Promise<TrainingCheck> {
  const runner = impl.createRunner(problem);
  try {
    const costBefore = await runner.cost();
    const tensorsBefore = tfjsTensorCount();
    for (let i = 0; i < CHECK_STEPS; i++) await runner.step();
    const tensorsAfter = tfjsTensorCount();
    const costAfter = await runner.cost();
    const relativeToReference = Math.abs(costAfter - referenceAfter) / Math.abs(referenceAfter);
    const tolerance = impl.dtype === "float64" ? PATH_TOLERANCE : FLOAT32_COST_TOLERANCE;
    const tfjs = impl.id.startsWith("tfjs");
    return {
      costBefore,
      costAfter,
      referenceAfter,
      relativeToReference,
      ...(tfjs ? { tensorsBefore, tensorsAfter } : {}),
      ok:
        costAfter < costBefore &&
        relativeToReference < tolerance &&
        (!tfjs || tensorsAfter === tensorsBefore),
    };
  } finally {
    runner.dispose();
  }
}

type Candidate<T> = { impl: T; status: string };

/** Load the peers; every implementation of both tables with "ok" or why it cannot run here. */
async function loadPeers(cores: number) {
  const [tfInfo, jaxInfo] = await Promise.all([
    initTfjs().catch((e: unknown) => errorText(e)),
    initJax().catch((e: unknown) => errorText(e)),
  ]);
  const notRunnable = (reason: string): string => `not runnable here: ${reason}`;
  const tf = typeof tfInfo === "string" ? null : tfInfo;
  const jax = typeof jaxInfo === "string" ? null : jaxInfo;
  const tfStatus = (backend: "cpu" | "wasm"): string => {
    if (tf === null) return notRunnable(tfInfo as string);
    const b = tf.backends[backend];
    return b.ok ? "ok" : notRunnable(b.reason);
  };
  const jaxStatus =
    jax === null ? notRunnable(jaxInfo as string) : jax.problem === null ? "ok" : notRunnable(jax.problem);
  const steps: Candidate<Implementation>[] = [
    { impl: tapegradAutograd, status: "ok" },
    { impl: tapegradSixEquations, status: "ok" },
    { impl: tfjsImplementation("cpu"), status: tfStatus("cpu") },
    { impl: tfjsImplementation("wasm"), status: tfStatus("wasm") },
    { impl: jaxImplementation, status: jaxStatus },
  ];
  const matmul: Candidate<MatmulImplementation>[] = [
    { impl: tapegradMatmul, status: "ok" },
    { impl: tfjsMatmul("wasm"), status: tfStatus("wasm") },
    { impl: tfjsMatmul("cpu"), status: tfStatus("cpu") },
    { impl: jaxMatmul, status: jaxStatus },
  ];
  const notes = [
    `tapegrad's matmul spreads large products over worker threads (${cores} cores here); ` +
      `tfjs-wasm runs ${tf?.wasmThreads ? "multi-threaded" : "single-threaded"} (SIMD ${tf?.wasmSimd ? "on" : "off"}), ` +
      `jax-js wasm ${jax?.threads ? "on Web Workers" : "single-threaded (Node 20 has no Web Worker)"}; ` +
      "tfjs-cpu is plain JavaScript.",
    "tapegrad computes in float64, TensorFlow.js and jax-js in float32 (half the memory traffic, twice the SIMD lanes).",
  ];
  return { steps, matmul, notes, versions: { tfjs: tf?.version ?? null, jaxjs: jax?.version ?? null } };
}

/**
 * The correctness guard: tapegrad's two paths must agree at S (else throw), and every other implementation
 * must lower the cost along tapegrad's (else it is excluded from timing: its status says why).
 */
async function runChecks(
  candidates: Candidate<Implementation>[],
  small: Problem,
  say: Log,
): Promise<BenchResult["checks"]> {
  const agreement = comparePaths(small);
  const paths = { ...agreement, tolerance: PATH_TOLERANCE, ok: agreement.max < PATH_TOLERANCE };
  const diffs = Object.entries(agreement.relativeDifference)
    .map(([k, v]) => `${k} ${v.toExponential(1)}`)
    .join(", ");
  say(
    `check: tapegrad autograd vs six equations at S, relative difference ${diffs} ` +
      `(max ${agreement.max.toExponential(1)} ${paths.ok ? "<" : "≥"} ${PATH_TOLERANCE}) ${paths.ok ? "✓" : "✗"}`,
  );
  if (!paths.ok) {
    throw new Error(
      `bench: tapegrad's autograd and six-equation gradients differ at S (max relative difference ${agreement.max}, tolerance ${PATH_TOLERANCE}); not timing a wrong step`,
    );
  }
  const reference = tapegradSixEquations.createRunner(small);
  for (let i = 0; i < CHECK_STEPS; i++) reference.step();
  const referenceAfter = await reference.cost();
  const training: Record<string, TrainingCheck> = {};
  for (const c of candidates) {
    if (c.status !== "ok") {
      say(`${c.impl.id}: ${c.status}`);
      continue;
    }
    const check = await trainingCheck(c.impl, small, referenceAfter).catch((e: unknown) => errorText(e));
    if (typeof check === "string") {
      c.status = `excluded: its training check threw: ${check}`;
      say(`check: ${c.impl.id} ✗ ${check}`);
      continue;
    }
    training[c.impl.id] = check;
    const tensors =
      check.tensorsBefore === undefined
        ? ""
        : `, tfjs tensors ${check.tensorsBefore} → ${check.tensorsAfter}`;
    say(
      `check: ${c.impl.id} cost ${check.costBefore.toFixed(6)} → ${check.costAfter.toFixed(6)} after ${CHECK_STEPS} steps ` +
        `(tapegrad float64 ${referenceAfter.toFixed(6)}, relative difference ${check.relativeToReference.toExponential(1)}${tensors}) ${check.ok ? "✓" : "✗"}`,
    );
    if (!check.ok) {
      c.status =
        "excluded: its training check failed (cost not decreasing, off tapegrad's, or tensors leaking)";
    }
  }
  return { paths, training };
}

/** Progress: a line per finished measurement, and the round on the status line. */
function progress(
  prefix: string,
  line: (task: TimingTask, m: Measurement) => string,
  say: Log,
  status: (text: string) => void,
) {
  status(`  ${prefix}: warming up…`);
  return {
    onDone: (task: TimingTask, m: Measurement) => say(`  ${prefix} ${line(task, m)}`),
    onRound: (round: number, rounds: number) => status(`  ${prefix}: round ${round}/${rounds}`),
  };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** ms per step of every active implementation, size by size, interleaved within a size. */
async function measureSteps(
  active: readonly Implementation[],
  ids: readonly string[],
  sizes: readonly SizeSpec[],
  plan: TimingPlan,
  problemOf: (size: SizeSpec) => Problem,
  out: { say: Log; status: (text: string) => void },
): Promise<BenchResult["steps"]> {
  const steps: BenchResult["steps"] = [];
  for (const size of sizes) {
    const description = describeSize(size);
    out.say(`${size.name} ${description}, ${size.note}: ${active.length} implementations, interleaved`);
    const runners = active.map((impl) => ({ impl, runner: impl.createRunner(problemOf(size)) }));
    let measurements: Map<string, Measurement>;
    try {
      measurements = await measureInterleaved(
        runners.map(({ impl, runner }) => ({ id: impl.id, run: () => runner.step() })),
        plan,
        progress(
          size.name,
          (task, m) =>
            `${task.id.padEnd(18)} ${formatMs(m.medianMs).padStart(9)} ms/step   ` +
            `median of ${plural(m.samplesMs.length, "sample")} × ${plural(m.callsPerSample, "step")}`,
          out.say,
          out.status,
        ),
      );
    } finally {
      for (const { runner } of runners) runner.dispose();
    }
    const ms: Record<string, number | null> = {};
    for (const id of ids) ms[id] = measurements.get(id)?.medianMs ?? null;
    steps.push({
      size: size.name,
      description,
      spec: size,
      ms,
      measurements: Object.fromEntries(measurements),
    });
  }
  return steps;
}

/** GFLOP/s of n³ products in the three layouts, all implementations interleaved. */
async function measureMatmul(
  active: readonly MatmulImplementation[],
  n: number,
  plan: TimingPlan,
  out: { say: Log; status: (text: string) => void },
): Promise<Pick<BenchResult["matmul"], "gflops" | "measurements">> {
  out.say(`matmul ${n}³: NN, NT, TN for ${active.length} implementations, interleaved`);
  const gflopsOf = (ms: number): number => (2 * n ** 3) / (ms * 1e6);
  const runners = active.flatMap((impl) =>
    MATMUL_VARIANTS.map((variant) => ({ impl, variant, runner: impl.create(n, variant) })),
  );
  let mm: Map<string, Measurement>;
  try {
    mm = await measureInterleaved(
      runners.map(({ impl, variant, runner }) => ({ id: `${impl.id} ${variant}`, run: () => runner.run() })),
      plan,
      progress(
        "matmul",
        (task, m) =>
          `${task.id.padEnd(16)} ${gflopsOf(m.medianMs).toFixed(2).padStart(7)} GFLOP/s   ` +
          `${formatMs(m.medianMs)} ms, median of ${m.samplesMs.length}`,
        out.say,
        out.status,
      ),
    );
  } finally {
    for (const { runner } of runners) runner.dispose();
  }
  const gflops: BenchResult["matmul"]["gflops"] = {};
  const measurements: BenchResult["matmul"]["measurements"] = {};
  for (const { impl, variant } of runners) {
    const m = mm.get(`${impl.id} ${variant}`)!;
    (gflops[impl.id] ??= {})[variant] = gflopsOf(m.medianMs);
    (measurements[impl.id] ??= {})[variant] = m;
  }
  return { gflops, measurements };
}

/** Ratios of every tapegrad path against every peer, the tape's overhead, and the course job's time. */
function compare(
  steps: BenchResult["steps"],
  implementations: readonly Implementation[],
): Pick<BenchResult, "ratios" | "tapeOverhead" | "courseJobEstimateMs"> {
  const pathIds = implementations.filter((i) => i.tapegrad).map((i) => i.id);
  const peerIds = implementations.filter((i) => !i.tapegrad).map((i) => i.id);
  const ratios: BenchResult["ratios"] = [];
  const tapeOverhead: Record<string, number> = {};
  for (const s of steps) {
    for (const path of pathIds) {
      for (const peer of peerIds) {
        const tapegradMs = s.ms[path];
        const peerMs = s.ms[peer];
        if (tapegradMs != null && peerMs != null) {
          ratios.push({ size: s.size, path, peer, ratio: peerMs / tapegradMs });
        }
      }
    }
    const tape = s.ms[tapegradAutograd.id];
    const six = s.ms[tapegradSixEquations.id];
    if (tape != null && six != null) tapeOverhead[s.size] = tape / six;
  }
  const sixAtS = steps.find((s) => s.size === "S")?.ms[tapegradSixEquations.id];
  return { ratios, tapeOverhead, courseJobEstimateMs: sixAtS == null ? null : sixAtS * 10000 };
}

/**
 * Run the benchmark: checks, the step table (sizes S, M, L; quick: S, M) and the matmul table, printed as
 * they complete, then the report; writes the JSON unless `outFile` is null.
 * @returns everything measured.
 * @throws Error if tapegrad's two gradient paths disagree (nothing is timed then).
 */
export async function runBench(options: BenchOptions = {}): Promise<BenchResult> {
  const started = performance.now();
  const quick = options.quick ?? process.env.BENCH_QUICK === "1";
  const out = createOutput(
    options.log ?? console.log,
    options.bar ?? (process.stdout.isTTY === true && options.log === undefined),
  );
  const { say } = out;
  const machine = {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: availableParallelism(),
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    date: new Date().toISOString(),
  };
  say(
    `tapegrad bench${quick ? " (quick)" : ""}: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`,
  );

  out.status("loading TensorFlow.js and jax-js…");
  const peers = await loadPeers(machine.cores);
  for (const note of peers.notes) say(`note: ${note}`);

  const problems = new Map<string, Problem>();
  const problemOf = (size: SizeSpec): Problem => {
    let p = problems.get(size.name);
    if (p === undefined) problems.set(size.name, (p = makeProblem(size)));
    return p;
  };
  const checks = await runChecks(peers.steps, problemOf(SIZES[0]!), say);

  const all = peers.steps.map((c) => c.impl);
  const steps = await measureSteps(
    peers.steps.filter((c) => c.status === "ok").map((c) => c.impl),
    all.map((i) => i.id),
    quick ? SIZES.slice(0, 2) : SIZES,
    quick ? QUICK : FULL_STEPS,
    problemOf,
    out,
  );
  const tfStatus = (id: string): string => peers.steps.find((c) => c.impl.id === id)?.status ?? "not loaded";
  const lenet = await runLenet(
    [
      { impl: tapegradLenet, status: "ok" },
      { impl: tfjsLenet("wasm"), status: tfStatus("tfjs-wasm") },
      { impl: tfjsLenet("cpu"), status: tfStatus("tfjs-cpu") },
    ],
    quick ? QUICK : FULL_STEPS,
    say,
    out.status,
  );
  const n = quick ? 256 : 1024;
  const matmul = await measureMatmul(
    peers.matmul.filter((c) => c.status === "ok").map((c) => c.impl),
    n,
    quick ? QUICK : FULL_MATMUL,
    out,
  );

  const result: BenchResult = {
    machine,
    quick,
    versions: peers.versions,
    notes: peers.notes,
    implementations: peers.steps.map(({ impl, status }) => ({
      id: impl.id,
      label: impl.label,
      dtype: impl.dtype,
      tapegrad: impl.tapegrad,
      status,
    })),
    checks,
    steps,
    ...compare(steps, all),
    matmul: {
      n,
      implementations: peers.matmul.map(({ impl, status }) => ({ id: impl.id, dtype: impl.dtype, status })),
      ...matmul,
    },
    lenet,
    durationMs: performance.now() - started,
  };
  say("");
  for (const line of [...formatReport(result), "", ...formatLenetReport(lenet)]) say(line);
  say("");
  say(
    `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.date}; took ${(result.durationMs / 1000).toFixed(0)} s`,
  );
  const outFile =
    options.outFile === undefined
      ? resolve(process.env.INIT_CWD ?? process.cwd(), "bench-results.json")
      : options.outFile;
  if (outFile !== null) {
    writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
    say(`wrote ${outFile}`);
  }
  return result;
}

if (isMain(import.meta.url)) {
  await runBench(hasFlag("quick") ? { quick: true } : {});
}

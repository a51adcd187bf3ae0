/**
 * @file `pnpm fuzz`: random-graph fuzzing of autograd. fast-check generates expression graphs over every
 * primitive (random shapes with broadcasting, reuse of the same tensor, reductions, matmul chains) and
 * checks reverse-mode gradients and Hessian-vector products against finite differences. A failure is
 * shrunk to its smallest graph and printed.
 *
 * Usage: `pnpm fuzz [--runs 10000] [--seed 42]` (defaults: 10 000 graphs, a random seed, printed).
 */
import { pathToFileURL } from "node:url";
import { arbGraph, checkGraph } from "@tapegrad/autograd/testing";
import fc from "fast-check";

/** Options of `runFuzz`. */
export interface FuzzOptions {
  /** Number of graphs (default 10 000). */
  runs?: number;
  /** fast-check seed; random when omitted (printed so a failure can be replayed). */
  seed?: number;
  /** Called every `progressEvery` graphs with the count so far. */
  onProgress?: (done: number, runs: number) => void;
  /** Default 500. */
  progressEvery?: number;
}

/** The outcome of a fuzzing run. */
export interface FuzzResult {
  runs: number;
  seed: number;
  failed: boolean;
  /** Elements skipped at kinks (relu, abs, max, clip, where) across all graphs. */
  kinks: number;
  /** Worst scaled error seen across all passing checks. */
  worst: number;
  /** fast-check's report with the shrunk counterexample, when a check failed. */
  report: string | null;
}

/** Fuzz `runs` random graphs; never throws for a failing graph (the result says so). */
export function runFuzz(options: FuzzOptions = {}): FuzzResult {
  const runs = options.runs ?? 10_000;
  const seed = options.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  const every = options.progressEvery ?? 500;
  let done = 0;
  let kinks = 0;
  let worst = 0;
  const details = fc.check(
    fc.property(arbGraph(), (program) => {
      const r = checkGraph(program);
      if (++done % every === 0) options.onProgress?.(done, runs);
      if (!r.ok) throw new Error(r.detail);
      kinks += r.kinks;
      worst = Math.max(worst, r.worst);
    }),
    { numRuns: runs, seed },
  );
  return {
    runs,
    seed,
    failed: details.failed,
    kinks,
    worst,
    report: details.failed ? (fc.defaultReportMessage(details) ?? "failed") : null,
  };
}

function parseFlag(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const runs = parseFlag("runs") ?? 10_000;
  const seed = parseFlag("seed");
  const t0 = performance.now();
  console.log(
    `Fuzzing ${runs} random expression graphs (gradients and Hessian-vector products vs finite differences)…`,
  );
  const result = runFuzz({
    runs,
    seed,
    onProgress: (done) => process.stdout.write(`  ${done} / ${runs} graphs\n`),
  });
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  if (result.failed) {
    console.error(`\nFAILED (seed ${result.seed}; replay with --seed ${result.seed}):\n${result.report}`);
    process.exit(1);
  }
  console.log(
    `\n${result.runs} graphs passed in ${seconds} s (seed ${result.seed}); worst scaled error ${result.worst.toExponential(2)}; ${result.kinks} elements skipped at kinks`,
  );
}

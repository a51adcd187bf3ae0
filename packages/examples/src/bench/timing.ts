/**
 * @file Interleaved timing: warm every task up, size its samples, then take the samples round-robin so
 * that a noisy machine (load from neighbours, frequency changes) hits all tasks alike; report medians.
 */

/** One thing to time: a call that does a fixed amount of work. */
export interface TimingTask {
  /** Unique key, used in the progress lines and the results. */
  id: string;
  run(): void | Promise<void>;
}

/** How long to warm up and how many samples to take. */
export interface TimingPlan {
  /** Keep warming up until at least this much time was spent (and at least two calls, unless slow). */
  warmupMs: number;
  /** A sample repeats the call until it lasts about this long (fast calls are below timer noise). */
  targetSampleMs: number;
  /** Samples are taken until about this much time per task is spent, within [minReps, maxReps]. */
  budgetMs: number;
  minReps: number;
  maxReps: number;
  /** A call longer than this is "slow": one warm-up call only, and `slowReps` samples. */
  slowMs: number;
  slowReps: number;
}

/** The timing of one task. */
export interface Measurement {
  /** Median of the per-call times of the samples, ms. */
  medianMs: number;
  /** Per-call time of each sample, ms, in the order taken. */
  samplesMs: number[];
  /** Calls per sample. */
  callsPerSample: number;
  /** Calls made before timing, and the time they took. */
  warmupCalls: number;
  warmupMs: number;
}

/** The median (the mean of the middle two for an even count). @throws Error for an empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median: no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function timeCalls(task: TimingTask, calls: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) {
    const r = task.run();
    // Awaiting only real promises keeps synchronous libraries free of microtask overhead.
    if (r !== undefined) await r;
  }
  return performance.now() - t0;
}

/** Warm up until the optimising compilers are done; returns the calls made, their time and a per-call estimate. */
async function warmUp(
  task: TimingTask,
  plan: TimingPlan,
): Promise<{ calls: number; ms: number; perCallMs: number }> {
  let calls = 0;
  let ms = 0;
  let batch = 1;
  let perCallMs = Number.POSITIVE_INFINITY;
  for (;;) {
    const t = await timeCalls(task, batch);
    calls += batch;
    ms += t;
    perCallMs = t / batch;
    if (perCallMs > plan.slowMs) break; // a slow call tiers itself up; a second one would cost seconds
    if (calls >= 2 && ms >= plan.warmupMs) break;
    // Doubling batches: the later, longer batches give the estimate, free of the first calls' compilation.
    batch = Math.max(1, Math.min(batch * 2, Math.ceil((plan.warmupMs - ms) / Math.max(perCallMs, 1e-3))));
  }
  return { calls, ms, perCallMs };
}

/**
 * Time the tasks interleaved: each is warmed up (in turn), then the samples are taken in rounds, each task's
 * samples spread evenly over the rounds (a task with few, slow samples does not finish first and leave
 * the fast ones to a different machine state). `onDone` is called as a task's last sample is taken,
 * `onRound` after every round.
 * @returns the measurement of each task, by id.
 */
export async function measureInterleaved(
  tasks: readonly TimingTask[],
  plan: TimingPlan,
  callbacks: {
    onDone?: (task: TimingTask, m: Measurement) => void;
    onRound?: (round: number, rounds: number) => void;
  } = {},
): Promise<Map<string, Measurement>> {
  const state = [];
  for (const task of tasks) {
    const w = await warmUp(task, plan);
    const slow = w.perCallMs > plan.slowMs;
    const callsPerSample = slow ? 1 : Math.max(1, Math.round(plan.targetSampleMs / w.perCallMs));
    const reps = slow
      ? plan.slowReps
      : Math.min(
          plan.maxReps,
          Math.max(plan.minReps, Math.floor(plan.budgetMs / (callsPerSample * w.perCallMs))),
        );
    state.push({ task, w, callsPerSample, reps, samplesMs: [] as number[] });
  }
  const results = new Map<string, Measurement>();
  const rounds = Math.max(0, ...state.map((s) => s.reps));
  for (let r = 0; r < rounds; r++) {
    for (const s of state) {
      // by the end of round r, a task with `reps` samples has taken floor((r + 1)·reps / rounds)
      if (s.samplesMs.length >= Math.floor(((r + 1) * s.reps) / rounds)) continue;
      s.samplesMs.push((await timeCalls(s.task, s.callsPerSample)) / s.callsPerSample);
      if (s.samplesMs.length === s.reps) {
        const m: Measurement = {
          medianMs: median(s.samplesMs),
          samplesMs: s.samplesMs,
          callsPerSample: s.callsPerSample,
          warmupCalls: s.w.calls,
          warmupMs: s.w.ms,
        };
        results.set(s.task.id, m);
        callbacks.onDone?.(s.task, m);
      }
    }
    callbacks.onRound?.(r + 1, rounds);
  }
  return results;
}

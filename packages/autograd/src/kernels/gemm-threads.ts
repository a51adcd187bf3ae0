/**
 * @file The worker pool of the WebAssembly GEMM: workers over the shared memory claim the tasks of a
 * product (packing B, chunks of C's rows) alongside the main thread. Node only (worker_threads, reached at
 * run time); elsewhere products run on one thread, and `threadsReason()` says why.
 */
import { GEMM_WASM_CTL as CTL } from "./gemm-wasm.generated.js";
import { DATA_START, type Layout, RELAXED_FLAG, runSingle, type WasmState } from "./gemm-wasm.js";
import { cpuCount, type NodeWorker, type NodeWorkerThreads, nodeBuiltin } from "./runtime.js";

// ---------------------------------------------------------------------------------------------
// Threads. Workers are made from a code string (`eval: true`) so the same code runs from the .ts
// sources (tsx, vitest) and from compiled dist JS. A product is a list of tasks (see
// scripts/gemm-wat.ts): the main thread writes the job block, bumps SEQ and wakes the workers, then
// claims tasks itself; the workers, blocked in Atomics.wait on SEQ, claim the rest. Claiming
// (rather than a fixed split) matters on this VM: a woken worker is often placed on the busy
// CPU and starts only once the main thread sleeps, which serialised a fixed split completely.
// gemm stays synchronous: the main thread waits on DONE at the end.

const I = (byteAddr: number): number => byteAddr / 4;
const MAX_WORKERS = 63;
/**
 * Bytes [512, 764) of the control page, read only by JavaScript: one epoch per worker slot (tid 1 … 63).
 * Retiring a worker (setGemmThreads lowering the count, forceGemmKernel) bumps its slot's epoch before
 * `terminate()`, which is asynchronous: a retired worker that wakes for a later job sees a newer epoch
 * and leaves without claiming a task. Without it, a worker killed in the middle of a claimed task left
 * the main thread waiting forever for DONE, and a retired worker and its replacement shared a tid (and
 * its packing area).
 */
const EPOCH = 512;
/**
 * After a job a worker polls for the next one (timed waits of POLL_INTERVAL_MS) for POLL_WINDOW_MS
 * before it sleeps for good. On this VM a thread woken from a long sleep is placed on the waker's
 * busy CPU, and the two then run one after the other; a worker that woke on its own CPU a moment
 * ago is not moved. Measured at n = 256, 512, 1024 with each threaded product following a
 * single-thread one: 39.5, 44.2, 41.9 GFLOP/s with this polling against 21.8, 22.9, 22.2 without
 * (one thread: 23.3, 23.7, 23.7). Cost: ≈ 10 ms of CPU per idle spell, then nothing.
 */
const POLL_WINDOW_MS = 50;
const POLL_INTERVAL_MS = 0.02;

const WORKER_SOURCE = `"use strict";
const { workerData } = require("node:worker_threads");
const { module, memory, tid, relaxed, epoch } = workerData;
const ctl = new Int32Array(memory.buffer, 0, ${DATA_START / 4});
const started = ${I(CTL.STARTED)} + tid - 1;
const myEpoch = ${I(EPOCH)} + tid - 1;
let work = null;
try {
  if (relaxed) require("node:v8").setFlagsFromString("${RELAXED_FLAG}");
  work = new WebAssembly.Instance(module, { env: { mem: memory } }).exports.work;
  Atomics.store(ctl, started, 1);
} catch {
  Atomics.store(ctl, started, -1);
}
Atomics.notify(ctl, started);
let seen = Atomics.load(ctl, ${I(CTL.SEQ)});
while (work !== null) {
  const pollUntil = performance.now() + ${POLL_WINDOW_MS};
  while (Atomics.load(ctl, ${I(CTL.SEQ)}) === seen && performance.now() < pollUntil) {
    Atomics.wait(ctl, ${I(CTL.SEQ)}, seen, ${POLL_INTERVAL_MS});
  }
  Atomics.wait(ctl, ${I(CTL.SEQ)}, seen);
  const seq = Atomics.load(ctl, ${I(CTL.SEQ)});
  if (seq === seen) continue;
  seen = seq;
  if (Atomics.load(ctl, myEpoch) !== epoch) break; // retired: leave the tasks to the current pool
  try {
    work(seq, tid);
  } catch {
    Atomics.store(ctl, ${I(CTL.ERROR)}, 1);
    Atomics.notify(ctl, ${I(CTL.DONE)});
  }
}
`;

const cpus = cpuCount();
let threadCount = Math.max(1, Math.min(2, cpus ?? 1));
/** Whether threadCount was set by `setGemmThreads` rather than derived from the CPU count. */
let threadCountSet = false;
const pool: NodeWorker[] = [];
/** Set once a worker failed to start, died or trapped: from then on everything runs on one thread. */
let poolFailed = false;
/** Why the pool is not running, when it is not (see `threadsReason`). */
let failure = "";

/**
 * Sets how many threads (main thread included) large products use; 1 disables the worker pool.
 * Default: min(2, available cores). Values are clamped to [1, 64]. Workers start lazily, on the
 * first product large enough to use them, and never keep the process alive.
 */
export function setGemmThreads(n: number, st: WasmState | null | undefined): void {
  threadCount = Math.max(1, Math.min(MAX_WORKERS + 1, Math.floor(n) || 1));
  threadCountSet = true;
  // Idle workers past the new count would still claim tasks: stop them (gemm is not running now).
  retireWorkers(threadCount - 1, st);
}

/** Workers in the pool, started or starting: a product is split in tasks for 1 + this many threads. */
export function poolSize(): number {
  return pool.length;
}

/** The thread count set by `setGemmThreads` (main thread included). */
export function gemmThreads(): number {
  return threadCount;
}

/** Stop every worker and forget a failure: the next product starts a new pool (after a kernel reload). */
export function resetPool(st: WasmState | null | undefined): void {
  retireWorkers(0, st);
  poolFailed = false;
  failure = "";
}

/** Why large products run on fewer threads than `setGemmThreads` asked for; empty when they do not. */
export function threadsReason(st: WasmState | null, running: number): string {
  if (threadCount === 1) {
    if (threadCountSet) return "threads: 1 (setNumThreads(1))";
    return cpus === undefined
      ? "threads: 1 (the CPU count is unknown here; setNumThreads(n) to use more)"
      : "threads: 1 (one logical CPU)";
  }
  if (st === null) return "threads: need the wasm SIMD kernel";
  if (poolFailed) return `threads: the worker pool failed (${failure}); products run on one thread`;
  if (running < threadCount - 1) return `threads: ${threadCount - 1 - running} worker(s) still starting`;
  return "";
}

/** Retire the workers from pool index `from` on: bump their epochs, then terminate them. */
function retireWorkers(from: number, st: WasmState | null | undefined): void {
  const retired = pool.splice(from);
  if (st) for (let w = from; w < from + retired.length; w++) Atomics.add(st.ctl, I(EPOCH) + w, 1);
  for (const worker of retired) void worker.terminate();
}

/**
 * Makes sure the pool has threadCount − 1 workers (creating missing ones without waiting for them)
 * and returns how many have instantiated the module. Workers that are still starting simply miss
 * the products until they are up: tasks are claimed, so nobody waits for them.
 */
export function runningWorkers(st: WasmState): number {
  if (poolFailed) return 0;
  const threads =
    pool.length < threadCount - 1 ? nodeBuiltin<NodeWorkerThreads>("node:worker_threads") : undefined;
  if (pool.length < threadCount - 1 && threads === undefined) {
    poolFailed = true;
    failure = "no node:worker_threads in this engine (Node ≥ 20.16 has it; browsers are not supported yet)";
    return 0;
  }
  while (pool.length < threadCount - 1) {
    const tid = pool.length + 1;
    Atomics.store(st.ctl, I(CTL.STARTED) + tid - 1, 0);
    let worker: NodeWorker;
    try {
      worker = new threads!.Worker(WORKER_SOURCE, {
        eval: true,
        // Not the parent's flags: a loader such as `--import tsx` would make the worker's startup
        // wait on this thread, which may be blocked in a product.
        execArgv: [],
        workerData: {
          module: st.module,
          memory: st.memory,
          tid,
          relaxed: st.relaxed,
          epoch: Atomics.load(st.ctl, I(EPOCH) + tid - 1),
        },
      });
    } catch (e) {
      poolFailed = true;
      failure = `a worker could not be created: ${e instanceof Error ? e.message : String(e)}`;
      return 0;
    }
    // Without listeners an 'error' event would crash the process. A worker of a discarded pool
    // (forceGemmKernel, setGemmThreads) exits on purpose and must not condemn the current one.
    const fail = (): void => {
      if (pool.includes(worker)) {
        poolFailed = true;
        failure ||= "a worker exited or threw";
      }
    };
    worker.on("error", fail);
    worker.on("exit", fail);
    worker.unref();
    pool.push(worker);
  }
  let running = 0;
  for (let w = 0; w < pool.length; w++) {
    const state = Atomics.load(st.ctl, I(CTL.STARTED) + w);
    if (state < 0) {
      poolFailed = true;
      failure = "a worker could not instantiate the kernel";
      return 0;
    }
    running += state;
  }
  return running;
}

/**
 * Runs one product on `threads` threads. Tasks: a few that pack B (so its packing is shared), then
 * chunks of C's rows, about four a thread so that a worker that starts late still takes a share,
 * at least one register tile and at most one packed-A block tall.
 */
export function runJob(st: WasmState, threads: number, job: Layout): void {
  const { mr, mc } = st.kernel;
  const { ctl } = st;
  const packTasks = Math.min(job.panels, 2 * threads);
  const panelsPerTask = Math.ceil(job.panels / packTasks);
  const nb = Math.ceil(job.panels / panelsPerTask);
  const chunk = Math.min(mc, Math.max(mr, Math.ceil(job.M / (4 * threads) / mr) * mr));
  const tasks = nb + Math.ceil(job.M / chunk);
  const params: [number, number][] = [
    [CTL.K, job.K],
    [CTL.A, job.a],
    [CTL.RSA, job.rsA],
    [CTL.CSA, job.csA],
    [CTL.B, job.b],
    [CTL.RSB, job.rsB],
    [CTL.CSB, job.csB],
    [CTL.N, job.N],
    [CTL.BP, job.bp],
    [CTL.C, job.c],
    [CTL.LDC, job.ldc],
    [CTL.M, job.M],
    [CTL.NB, nb],
    [CTL.PANELS_PER_TASK, panelsPerTask],
    [CTL.PANELS, job.panels],
    [CTL.CHUNK, chunk],
    [CTL.TASKS, tasks],
    [CTL.WORK, job.work],
    [CTL.WORK_STRIDE, st.kernel.workBytes],
    [CTL.BDONE, 0],
    [CTL.DONE, 0],
    [CTL.ERROR, 0],
  ];
  const seq = (Atomics.load(ctl, I(CTL.SEQ)) + 1) | 0;
  const tag = BigInt(seq >>> 0) << 32n;
  // First retag NEXT with the new job and no task left: a worker that wakes late for the previous job
  // then finds a foreign tag and claims nothing while the parameters below change under it (it used
  // to claim with the new TASKS, run a mixed-up task and push DONE past TASKS: a hang).
  Atomics.store(st.next, CTL.NEXT / 8, tag | 0xffffffffn);
  for (const [addr, value] of params) ctl[I(addr)] = value;
  // NEXT = seq << 32 | 0 is published before SEQ: a worker only claims tasks tagged with its job.
  Atomics.store(st.next, CTL.NEXT / 8, tag);
  Atomics.store(ctl, I(CTL.SEQ), seq);
  Atomics.notify(ctl, I(CTL.SEQ));

  st.work(seq, 0);
  // All tasks are claimed now; wait for those still running in workers.
  for (let done = Atomics.load(ctl, I(CTL.DONE)); done !== tasks; done = Atomics.load(ctl, I(CTL.DONE))) {
    if (Atomics.load(ctl, I(CTL.ERROR)) !== 0 || done > tasks) {
      // A trap in a worker, or more tasks done than exist, should not happen; if it does, redo the
      // product here and stop using the pool.
      poolFailed = true;
      failure = "a worker trapped during a product";
      runSingle(st, job);
      return;
    }
    Atomics.wait(ctl, I(CTL.DONE), done);
  }
}

/**
 * @file How the GEMM's worker pool starts a worker on this engine: Node's `worker_threads` (an eval'd code
 * string), or a Web Worker made from a Blob URL in a browser, when the page is cross-origin isolated and the
 * library runs off the main thread. Both run the same worker loop (`workerLoop`) over the same shared memory
 * and control words (gemm-threads.ts holds the protocol); only the prelude that receives the start-up data
 * differs. The code is a string (eval'd by Node, a Blob URL in browsers) so that the same code runs from the
 * .ts sources (tsx, vitest), from compiled dist JS and from any bundle, with no worker file to locate.
 * Where no worker can start, `findWorkerHost` says why, for `backendInfo().reason`.
 */
import { GEMM_WASM_CTL as CTL } from "./gemm-wasm.generated.js";
import { DATA_START, RELAXED_FLAG } from "./gemm-wasm.js";
import { type NodeWorker, type NodeWorkerThreads, nodeBuiltin } from "./runtime.js";
import type { WasmMemory, WasmModule } from "./wasm-api.js";

const I = (byteAddr: number): number => byteAddr / 4;

/**
 * Bytes [512, 764) of the control page, read only by JavaScript: one epoch per worker slot (tid 1 … 63).
 * Retiring a worker (setGemmThreads lowering the count, forceGemmKernel) bumps its slot's epoch before
 * `terminate()`, which is asynchronous: a retired worker that wakes for a later job sees a newer epoch
 * and leaves without claiming a task. Without it, a worker killed in the middle of a claimed task left
 * the library's thread waiting forever for DONE, and a retired worker and its replacement shared a tid
 * (and its packing area).
 */
export const EPOCH = 512;
/** Byte 764 of the control page: never written, the target of the `Atomics.wait` probe (`canBlock`). */
const PROBE = 764;
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

/** What a worker receives at start-up (Node: `workerData`; browsers: its first message). */
export interface WorkerInit {
  module: WasmModule;
  memory: WasmMemory;
  /** Its thread id, 1 … 63 (0 is the library's own thread). */
  tid: number;
  /** Whether `module` is the relaxed-SIMD build (Node 20 needs a V8 flag to instantiate it). */
  relaxed: boolean;
  /** Its slot's epoch at creation; a newer epoch in memory means it was retired. */
  epoch: number;
}

/**
 * The worker's code, defining `run(init, enableRelaxed)`: instantiate the module over the shared memory,
 * report STARTED (1, or −1 if it failed), then claim tasks of each job announced through SEQ until retired.
 */
const workerLoop = `"use strict";
function run({ module, memory, tid, relaxed, epoch }, enableRelaxed) {
  const ctl = new Int32Array(memory.buffer, 0, ${DATA_START / 4});
  const started = ${I(CTL.STARTED)} + tid - 1;
  const myEpoch = ${I(EPOCH)} + tid - 1;
  let work = null;
  try {
    if (relaxed) enableRelaxed();
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
}
`;

/** Node: the start-up data comes as `workerData`; relaxed SIMD may need the V8 flag (Node 20). */
const NODE_WORKER_SOURCE = `${workerLoop}
const { workerData } = require("node:worker_threads");
run(workerData, () => require("node:v8").setFlagsFromString("${RELAXED_FLAG}"));
`;

/** Browsers: the start-up data is the first message; the loop then owns the worker (it blocks in Atomics.wait). */
const WEB_WORKER_SOURCE = `${workerLoop}
self.onmessage = (event) => {
  self.onmessage = null;
  run(event.data, () => {});
};
`;

/** A started worker, as the pool keeps it. */
export interface PoolWorker {
  terminate(): void;
}

/** Starts workers; `onFail` is called (with a reason) if one dies or cannot load. Throws if creating fails. */
export interface WorkerHost {
  spawn(init: WorkerInit, onFail: (why: string) => void): PoolWorker;
}

/** The members of a browser's `Worker` used here. */
interface WebWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  onerror: ((event: { message?: string; preventDefault?(): void }) => void) | null;
  onmessageerror: (() => void) | null;
}

/** The browser globals used here (the project's lib declares no DOM). */
interface WebGlobals {
  Worker?: new (url: string, options?: { name?: string }) => WebWorker;
  Blob?: new (parts: string[], options: { type: string }) => unknown;
  URL: { createObjectURL?(blob: unknown): string };
  crossOriginIsolated?: boolean;
}

const nodeHost = (wt: NodeWorkerThreads): WorkerHost => ({
  spawn(init, onFail) {
    const worker: NodeWorker = new wt.Worker(NODE_WORKER_SOURCE, {
      eval: true,
      // Not the parent's flags: a loader such as `--import tsx` would make the worker's startup
      // wait on this thread, which may be blocked in a product.
      execArgv: [],
      workerData: init,
    });
    // Without listeners an 'error' event would crash the process.
    worker.on("error", () => onFail("a worker threw"));
    worker.on("exit", () => onFail("a worker exited"));
    worker.unref();
    return { terminate: () => void worker.terminate() };
  },
});

function webHost(g: WebGlobals & { Worker: NonNullable<WebGlobals["Worker"]> }): WorkerHost | string {
  if (g.Blob === undefined || g.URL.createObjectURL === undefined)
    return "threads: off, no Blob URLs in this engine to start the workers from";
  let url: string | undefined;
  return {
    spawn(init, onFail) {
      // One Blob URL for the pool's lifetime; workers started later reuse it.
      url ??= g.URL.createObjectURL!(new g.Blob!([WEB_WORKER_SOURCE], { type: "text/javascript" }));
      const worker = new g.Worker(url, { name: `tapegrad gemm ${init.tid}` });
      worker.onerror = (event) => {
        event.preventDefault?.();
        onFail(`a worker failed: ${event.message ?? "no message (blocked by a Content-Security-Policy?)"}`);
      };
      worker.onmessageerror = () => onFail("a worker could not receive the shared memory");
      // Throws a DataCloneError where shared memory may not be sent (checked before, by crossOriginIsolated).
      worker.postMessage(init);
      return worker;
    },
  };
}

/**
 * Whether this thread may block in `Atomics.wait`: not on a browser's main thread. The probe waits on a
 * word that never holds 1, with a zero timeout, so where waiting is allowed it returns "not-equal" at once.
 */
function canBlock(ctl: Int32Array): boolean {
  try {
    Atomics.wait(ctl, I(PROBE), 1, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * How workers start here, or why they cannot (a reason for `backendInfo()`, naming the fix). `threads` is
 * the count asked for (the reasons say how many a fixed setup would give).
 */
export function findWorkerHost(ctl: Int32Array, threads: number): WorkerHost | string {
  const wt = nodeBuiltin<NodeWorkerThreads>("node:worker_threads");
  if (wt !== undefined) return nodeHost(wt);
  const g = globalThis as unknown as WebGlobals;
  if (typeof g.Worker !== "function")
    return "threads: no workers in this engine (no node:worker_threads, no Web Worker)";
  const isolation =
    "cross-origin isolation (serve the page with the headers Cross-Origin-Opener-Policy: same-origin and " +
    "Cross-Origin-Embedder-Policy: require-corp)";
  if (!canBlock(ctl)) {
    const also = g.crossOriginIsolated === true ? "" : `; this page also lacks ${isolation}`;
    return (
      "threads: off on the main thread (Atomics.wait is not allowed there); run tapegrad in a Worker of a " +
      `cross-origin-isolated page for ${threads} threads${also}`
    );
  }
  if (g.crossOriginIsolated === false)
    return `threads: off, the page is not cross-origin isolated, so shared memory cannot reach workers; ${isolation} gives ${threads} threads`;
  return webHost(g as WebGlobals & { Worker: NonNullable<WebGlobals["Worker"]> });
}

/**
 * @file float64 matrix multiply `out = op(A) · op(B)`: plain JavaScript for small products, a
 * WebAssembly SIMD kernel (packed, cache-blocked, register-tiled) for large ones, and worker
 * threads over a shared memory for the largest. Transposed operands are read with strides
 * (in the JS loops and in the packing step), never materialised.
 *
 * Paths, chosen by `autoPath` from thresholds measured on the reference machine (2 vCPU Zen4 VM,
 * Node 20.20, `npx tsx packages/autograd/scripts/bench-gemm.ts --thresholds`; µs per call, JS/wasm/threads):
 * - JS below 4096 multiply-adds (M·N·K), or when C is tiny (M·N < 64) or thin (M or N ≤ 2): the
 *   course's products (4×400×2: 2.5/2.9, 1×400×4: 1.5/2.5, 4×2×400: 2.0/4.3, 4×4×400: 3.1/5.7)
 *   and 8³ (0.3/0.8) are call-overhead bound, and wasm pays for copying and packing; thin products
 *   waste ⅔ of a wasm register tile (2×1000×1000: 3.5/2.1 NN but 1.7/1.8 TN; 1000×2×1000: 1.5/1.5).
 *   From 16³ wasm wins (2.1/1.8; 24³ 7.0/2.3; 64³ 128/32).
 * - Threads from 2²¹ multiply-adds (128³) when M and N are both ≥ 32: 96³ 81/114–190,
 *   128³ 282/214, 192³ 878/544, 384³ 4769/3353; thin products gain nothing (8×512×512 405/470,
 *   64×1024×64 414/421). Threads never run much slower than one thread: tasks are claimed, so a
 *   worker that starts late just takes fewer.
 * The VM is noisy (2× swings between runs); these are medians of interleaved runs.
 */
import { availableParallelism } from "node:os";
import { setFlagsFromString } from "node:v8";
import { Worker } from "node:worker_threads";
import {
  GEMM_WASM_CTL as CTL,
  GEMM_WASM_MAX_PAGES,
  GEMM_WASM_RELAXED,
  GEMM_WASM_SIMD,
  type GemmWasmKernel,
} from "./gemm-wasm.generated.js";
import { type WasmApi, type WasmMemory, type WasmModule, wasmApi } from "./wasm-api.js";

/** Below this many multiply-adds (M·N·K) the JS loops win: copying into wasm memory and packing cost more. */
const WASM_MIN_MADDS = 4096;
/** Below this many elements of C the wasm copies and packing outweigh SIMD, whatever K is. */
const WASM_MIN_OUT = 64;
/** M or N at most this: the wasm tile (3 or 4 rows, 4 or 6 columns) would mostly multiply padding. */
const WASM_THIN = 2;
/** From this many multiply-adds a second thread pays for waking it and for splitting B's packing. */
const THREADS_MIN_MADDS = 128 * 128 * 128;
/** Below this M or N the row chunks are too thin to share: packing dominates. */
const THREADS_MIN_DIM = 32;

/** Which implementation runs; "auto" picks by size. */
export type GemmPath = "auto" | "js" | "wasm" | "threads";

let forcedPath: GemmPath = "auto";

/**
 * Forces one implementation regardless of size (for tests and benchmarks): "js", "wasm" (one
 * thread), "threads" (the worker pool, whatever the size: it runs on one thread while the workers
 * are still starting or if they cannot start), or "auto" (the default). Without wasm SIMD every
 * path runs the JS loops.
 */
export function forceGemmPath(path: GemmPath): void {
  forcedPath = path;
}

/**
 * out[M×N] = op(A) · op(B), overwriting out[outOffset .. outOffset + M·N).
 *
 * op(A) is M×K: A is stored row-major as M×K (lda = K) when transA is false, or as K×M (lda = M)
 * when transA is true. op(B) is K×N: B is stored as K×N, or as N×K when transB is true. Offsets
 * address one matrix inside a larger buffer (a batch). K = 0 yields zeros; M = 0 or N = 0 does
 * nothing. Inputs are trusted (kernels do not check shapes or bounds); out must not alias a or b.
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  a: Float64Array,
  aOffset: number,
  b: Float64Array,
  bOffset: number,
  out: Float64Array,
  outOffset: number,
): void {
  if (M === 0 || N === 0) return;
  if (K === 0) {
    out.fill(0, outOffset, outOffset + M * N);
    return;
  }
  const path = forcedPath === "auto" ? autoPath(M, N, K) : forcedPath;
  if (path !== "js" && gemmWasm(transA, transB, M, N, K, a, aOffset, b, bOffset, out, outOffset, path))
    return;
  // Strides of op(A)(i, k) and op(B)(k, j) in the stored layouts: transposes are free.
  gemmJs(
    M,
    N,
    K,
    a,
    aOffset,
    transA ? 1 : K,
    transA ? M : 1,
    b,
    bOffset,
    transB ? 1 : N,
    transB ? K : 1,
    out,
    outOffset,
  );
}

/** The path for a product of this shape; thresholds in the file comment. */
function autoPath(M: number, N: number, K: number): GemmPath {
  const madds = M * N * K;
  if (madds < WASM_MIN_MADDS || M * N < WASM_MIN_OUT || M <= WASM_THIN || N <= WASM_THIN) return "js";
  if (madds < THREADS_MIN_MADDS || M < THREADS_MIN_DIM || N < THREADS_MIN_DIM) return "wasm";
  return "threads";
}

// ---------------------------------------------------------------------------------------------
// Pure JS. Register tiles: each out element is accumulated in a local over the whole k loop and
// stored once. Measured against specialised per-transpose loops with a contiguous inner loop
// (i-k-j streaming a row of B into a row of out, or row·row dot products): the tiles are 2× faster
// at every size and in every transpose combination (M×N×K = 4×400×2: 2.8 µs vs 5.1 µs; 4×2×400:
// 1.4 µs vs 4.6 µs; 32³: 16 µs vs 35 µs), because the JIT keeps the 8 accumulators in registers while the streaming loops load and
// store out on every multiply-add. Reading A and B through strides makes one loop nest serve all four
// transpose combinations at equal speed. 4×2 beats 2×4 and 3×3 on the course's shapes (a 4-row Z);
// 4×4 would need more than V8's 16 float registers. No allocation, no closures: at the course's sizes
// the call overhead is a visible part of the cost.

/**
 * out[M×N] = op(A) · op(B) with op(A)(i, k) = a[ao + i·rsA + k·csA] and op(B)(k, j) = b[bo + k·rsB + j·csB].
 * 4×2 tiles, then 4×1 for a last column, then 1×4 and 1×1 for the last M mod 4 rows.
 */
function gemmJs(
  M: number,
  N: number,
  K: number,
  a: Float64Array,
  ao: number,
  rsA: number,
  csA: number,
  b: Float64Array,
  bo: number,
  rsB: number,
  csB: number,
  out: Float64Array,
  oo: number,
): void {
  const rsA2 = 2 * rsA;
  const rsA3 = 3 * rsA;
  let i = 0;
  for (; i + 3 < M; i += 4) {
    const aRow = ao + i * rsA;
    const o = oo + i * N;
    let j = 0;
    for (; j + 1 < N; j += 2) {
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      let s20 = 0;
      let s21 = 0;
      let s30 = 0;
      let s31 = 0;
      let pa = aRow;
      let pb = bo + j * csB;
      for (let k = 0; k < K; k++) {
        const x0 = a[pa]!;
        const x1 = a[pa + rsA]!;
        const x2 = a[pa + rsA2]!;
        const x3 = a[pa + rsA3]!;
        const y0 = b[pb]!;
        const y1 = b[pb + csB]!;
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s20 += x2 * y0;
        s21 += x2 * y1;
        s30 += x3 * y0;
        s31 += x3 * y1;
        pa += csA;
        pb += rsB;
      }
      const oj = o + j;
      out[oj] = s00;
      out[oj + 1] = s01;
      out[oj + N] = s10;
      out[oj + N + 1] = s11;
      out[oj + 2 * N] = s20;
      out[oj + 2 * N + 1] = s21;
      out[oj + 3 * N] = s30;
      out[oj + 3 * N + 1] = s31;
    }
    if (j < N) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let pa = aRow;
      let pb = bo + j * csB;
      for (let k = 0; k < K; k++) {
        const y = b[pb]!;
        s0 += a[pa]! * y;
        s1 += a[pa + rsA]! * y;
        s2 += a[pa + rsA2]! * y;
        s3 += a[pa + rsA3]! * y;
        pa += csA;
        pb += rsB;
      }
      const oj = o + j;
      out[oj] = s0;
      out[oj + N] = s1;
      out[oj + 2 * N] = s2;
      out[oj + 3 * N] = s3;
    }
  }
  // The last M mod 4 rows (all of a 1-row product): 1×4 tiles share each A load across 4 columns.
  const csB2 = 2 * csB;
  const csB3 = 3 * csB;
  for (; i < M; i++) {
    const aRow = ao + i * rsA;
    const o = oo + i * N;
    let j = 0;
    for (; j + 3 < N; j += 4) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let pa = aRow;
      let pb = bo + j * csB;
      for (let k = 0; k < K; k++) {
        const x = a[pa]!;
        s0 += x * b[pb]!;
        s1 += x * b[pb + csB]!;
        s2 += x * b[pb + csB2]!;
        s3 += x * b[pb + csB3]!;
        pa += csA;
        pb += rsB;
      }
      out[o + j] = s0;
      out[o + j + 1] = s1;
      out[o + j + 2] = s2;
      out[o + j + 3] = s3;
    }
    for (; j < N; j++) {
      let s = 0;
      let pa = aRow;
      let pb = bo + j * csB;
      for (let k = 0; k < K; k++) {
        s += a[pa]! * b[pb]!;
        pa += csA;
        pb += rsB;
      }
      out[o + j] = s;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// WebAssembly. One shared memory and one compiled module; the main thread and each worker run
// their own instance of it over that memory. Layout (bytes): [0, 8) zeros read by the packing as
// padding, [64, 4096) the job block (GEMM_WASM_CTL), then per call A, B, packed B, padded C and one
// packed-A area per thread.

type WasmPackB = (
  b: number,
  rsB: number,
  csB: number,
  K: number,
  p0: number,
  p1: number,
  N: number,
  bp: number,
) => void;
type WasmCompute = (
  K: number,
  a: number,
  rsA: number,
  csA: number,
  bp: number,
  N: number,
  c: number,
  ldc: number,
  i0: number,
  i1: number,
  work: number,
) => void;
type WasmWork = (seq: number, tid: number) => void;

interface WasmState {
  readonly kernel: GemmWasmKernel;
  readonly relaxed: boolean;
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  readonly maxBytes: number;
  readonly packB: WasmPackB;
  readonly compute: WasmCompute;
  readonly work: WasmWork;
  /** Views of the first page; they stay valid across grows (a SharedArrayBuffer never detaches). */
  readonly ctl: Int32Array;
  readonly next: BigUint64Array;
  /** View of the whole memory, refreshed after each grow. */
  heap: Float64Array;
}

const PAGE = 65536;
const DATA_START = 4096;
const RELAXED_FLAG = "--experimental-wasm-relaxed-simd";

/** undefined: not tried yet; null: no usable wasm SIMD here (the JS loops serve every size). */
let wasmState: WasmState | null | undefined;

/** Which wasm build to load. */
export type GemmKernelChoice = "auto" | "simd";

let kernelChoice: GemmKernelChoice = "auto";

/**
 * Chooses the wasm build (for tests and benchmarks): "auto" (the relaxed-SIMD FMA kernel where it
 * compiles, else plain SIMD; the default) or "simd" (always the plain mul+add kernel). Discards the
 * loaded module and the worker pool; the next product reloads them (and pays the warm-up again).
 */
export function forceGemmKernel(choice: GemmKernelChoice): void {
  kernelChoice = choice;
  retireWorkers(0);
  wasmState = undefined;
  poolFailed = false;
}

function decodeBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64"));
}

/** Relaxed SIMD is behind a V8 flag in Node 20 (shipped later); the flag can still be set at run time. */
function relaxedSimdCompiles(wa: WasmApi, bytes: Uint8Array): boolean {
  if (wa.validate(bytes)) return true;
  try {
    setFlagsFromString(RELAXED_FLAG);
  } catch {
    return false;
  }
  return wa.validate(bytes);
}

function createSharedMemory(wa: WasmApi): { memory: WasmMemory; maxBytes: number } | null {
  // A shared memory reserves its maximum up front; if the address space is limited, settle for less.
  for (const maximum of [GEMM_WASM_MAX_PAGES, 16384, 4096]) {
    try {
      return { memory: new wa.Memory({ initial: 1, maximum, shared: true }), maxBytes: maximum * PAGE };
    } catch {
      // try a smaller reservation
    }
  }
  return null;
}

function loadWasm(): WasmState | null {
  const wa = wasmApi;
  if (wa === undefined) return null;
  try {
    const shared = createSharedMemory(wa);
    if (shared === null) return null;
    const { memory, maxBytes } = shared;
    const relaxedBytes = decodeBase64(GEMM_WASM_RELAXED.base64);
    const candidates: [GemmWasmKernel, boolean][] =
      kernelChoice === "auto" && relaxedSimdCompiles(wa, relaxedBytes)
        ? [
            [GEMM_WASM_RELAXED, true],
            [GEMM_WASM_SIMD, false],
          ]
        : [[GEMM_WASM_SIMD, false]];
    for (const [kernel, relaxed] of candidates) {
      try {
        const module = new wa.Module(relaxed ? relaxedBytes : decodeBase64(kernel.base64));
        const { exports } = new wa.Instance(module, { env: { mem: memory } });
        return {
          kernel,
          relaxed,
          module,
          memory,
          maxBytes,
          packB: exports.packB as WasmPackB,
          compute: exports.compute as WasmCompute,
          work: exports.work as WasmWork,
          ctl: new Int32Array(memory.buffer, 0, DATA_START / 4),
          next: new BigUint64Array(memory.buffer, 0, DATA_START / 8),
          heap: new Float64Array(memory.buffer),
        };
      } catch {
        // a build that validates but fails to compile or link: try the next one
      }
    }
    return null;
  } catch {
    return null;
  }
}

function getWasm(): WasmState | null {
  if (wasmState === undefined) wasmState = loadWasm();
  return wasmState;
}

const align64 = (x: number): number => Math.ceil(x / 64) * 64;

/** Grows the shared memory to at least `bytes`; false if that is past its maximum. */
function ensureBytes(st: WasmState, bytes: number): boolean {
  const have = st.memory.buffer.byteLength;
  if (bytes <= have) return true;
  if (bytes > st.maxBytes) return false;
  // Grow with headroom so a sequence of slightly larger products does not grow on every call.
  const want = Math.min(Math.max(bytes, have * 1.5), st.maxBytes);
  st.memory.grow(Math.ceil((want - have) / PAGE));
  st.heap = new Float64Array(st.memory.buffer);
  return true;
}

/** Addresses (bytes) and sizes of one product laid out in wasm memory. */
interface Layout {
  readonly K: number;
  readonly a: number;
  readonly rsA: number;
  readonly csA: number;
  readonly b: number;
  readonly rsB: number;
  readonly csB: number;
  readonly N: number;
  readonly bp: number;
  readonly c: number;
  /** Leading dimension of the padded C, in bytes. */
  readonly ldc: number;
  readonly M: number;
  readonly panels: number;
  readonly work: number;
}

/** One thread: pack all of B, then all rows of C. */
function runSingle(st: WasmState, job: Layout): void {
  st.packB(job.b, job.rsB, job.csB, job.K, 0, job.panels, job.N, job.bp);
  st.compute(job.K, job.a, job.rsA, job.csA, job.bp, job.N, job.c, job.ldc, 0, job.M, job.work);
}

/** Runs the product in wasm; false if it cannot (no SIMD, or the operands exceed the memory). */
function gemmWasm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  a: Float64Array,
  aOffset: number,
  b: Float64Array,
  bOffset: number,
  out: Float64Array,
  outOffset: number,
  path: GemmPath,
): boolean {
  const st = getWasm();
  if (st === null) return false;
  const { mr, nr, workBytes } = st.kernel;
  const threads = path === "threads" && runningWorkers(st) > 0 ? 1 + pool.length : 1;
  const panels = Math.ceil(N / nr);
  const ldc = panels * nr;
  const aAddr = DATA_START;
  const bAddr = align64(aAddr + M * K * 8);
  const bpAddr = align64(bAddr + K * N * 8);
  const cAddr = align64(bpAddr + K * ldc * 8);
  const workAddr = align64(cAddr + Math.ceil(M / mr) * mr * ldc * 8);
  if (!ensureBytes(st, workAddr + threads * workBytes)) return false;

  const heap = st.heap;
  heap.set(a.subarray(aOffset, aOffset + M * K), aAddr / 8);
  heap.set(b.subarray(bOffset, bOffset + K * N), bAddr / 8);
  // Byte strides of op(A)(i, k) and op(B)(k, j) in the stored layouts; the packing applies them.
  const rsA = (transA ? 1 : K) * 8;
  const csA = (transA ? M : 1) * 8;
  const rsB = (transB ? 1 : N) * 8;
  const csB = (transB ? K : 1) * 8;
  const job: Layout = {
    K,
    a: aAddr,
    rsA,
    csA,
    b: bAddr,
    rsB,
    csB,
    N,
    bp: bpAddr,
    c: cAddr,
    ldc: ldc * 8,
    M,
    panels,
    work: workAddr,
  };
  if (threads === 1) runSingle(st, job);
  else runJob(st, threads, job);

  const cElem = cAddr / 8;
  if (ldc === N) out.set(heap.subarray(cElem, cElem + M * N), outOffset);
  else
    for (let i = 0; i < M; i++)
      out.set(heap.subarray(cElem + i * ldc, cElem + i * ldc + N), outOffset + i * N);
  return true;
}

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

let threadCount = Math.max(1, Math.min(2, availableParallelism()));
const pool: Worker[] = [];
/** Set once a worker failed to start, died or trapped: from then on everything runs on one thread. */
let poolFailed = false;

/**
 * Sets how many threads (main thread included) large products use; 1 disables the worker pool.
 * Default: min(2, available cores). Values are clamped to [1, 64]. Workers start lazily, on the
 * first product large enough to use them, and never keep the process alive.
 */
export function setGemmThreads(n: number): void {
  threadCount = Math.max(1, Math.min(MAX_WORKERS + 1, Math.floor(n) || 1));
  // Idle workers past the new count would still claim tasks: stop them (gemm is not running now).
  retireWorkers(threadCount - 1);
}

/** Retire the workers from pool index `from` on: bump their epochs, then terminate them. */
function retireWorkers(from: number): void {
  const retired = pool.splice(from);
  if (wasmState)
    for (let w = from; w < from + retired.length; w++) Atomics.add(wasmState.ctl, I(EPOCH) + w, 1);
  for (const worker of retired) void worker.terminate();
}

/**
 * What this process runs: `simd` (the wasm kernel compiled), `relaxedSimd` (its FMA build is the
 * one in use) and `threads` (threads a large product uses right now: 1 + the workers that are up).
 * Compiles the wasm module if that has not happened yet (a few ms) and starts the worker pool in
 * the background if setGemmThreads allows one; workers take ~30–100 ms to come up, so `threads`
 * reads 1 until then (and stays 1 if they cannot start).
 */
export function gemmInfo(): { simd: boolean; relaxedSimd: boolean; threads: number } {
  const st = getWasm();
  return {
    simd: st !== null,
    relaxedSimd: st?.relaxed ?? false,
    threads: st === null ? 1 : 1 + runningWorkers(st),
  };
}

/**
 * Makes sure the pool has threadCount − 1 workers (creating missing ones without waiting for them)
 * and returns how many have instantiated the module. Workers that are still starting simply miss
 * the products until they are up: tasks are claimed, so nobody waits for them.
 */
function runningWorkers(st: WasmState): number {
  if (poolFailed) return 0;
  while (pool.length < threadCount - 1) {
    const tid = pool.length + 1;
    Atomics.store(st.ctl, I(CTL.STARTED) + tid - 1, 0);
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, {
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
    } catch {
      poolFailed = true;
      return 0;
    }
    // Without listeners an 'error' event would crash the process. A worker of a discarded pool
    // (forceGemmKernel, setGemmThreads) exits on purpose and must not condemn the current one.
    const fail = (): void => {
      if (pool.includes(worker)) poolFailed = true;
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
function runJob(st: WasmState, threads: number, job: Layout): void {
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
      runSingle(st, job);
      return;
    }
    Atomics.wait(ctl, I(CTL.DONE), done);
  }
}

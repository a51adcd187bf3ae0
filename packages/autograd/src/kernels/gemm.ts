/**
 * @file float64 matrix multiply `out = op(A) · op(B)`: plain JavaScript for small products, a
 * WebAssembly SIMD kernel (packed, cache-blocked, register-tiled) for large ones, and worker
 * threads over a shared memory for the largest. Transposed operands are read with strides
 * (in the JS loops and in the packing step), never materialised.
 *
 * Thresholds, measured on the reference machine (2 vCPU Zen4, Node 20.20; see scripts/bench-gemm.ts):
 * THRESHOLDS_PLACEHOLDER
 */
import { availableParallelism } from "node:os";
import { setFlagsFromString } from "node:v8";
import { Worker } from "node:worker_threads";
import {
  GEMM_WASM_MAX_PAGES,
  GEMM_WASM_RELAXED,
  GEMM_WASM_SIMD,
  type GemmWasmKernel,
} from "./gemm-wasm.generated.js";
import { type WasmApi, type WasmMemory, type WasmModule, wasmApi } from "./wasm-api.js";

/** Below this many multiply-adds (M·N·K) the JS loops win: copying into wasm memory and packing cost more. */
const WASM_MIN_MADDS = 32 * 32 * 32;
/** Below this the wasm kernel's padding of C to whole register tiles wastes more than SIMD gains. */
const WASM_MIN_DIM = 4;
/** Above this many multiply-adds, a second thread pays for its wake-up and its share of B's packing. */
const THREADS_MIN_MADDS = 128 * 128 * 128;

/** Which implementation runs; "auto" picks by size. */
export type GemmPath = "auto" | "js" | "wasm" | "threads";

let forcedPath: GemmPath = "auto";

/**
 * Forces one implementation regardless of size (for tests and benchmarks): "js", "wasm" (one
 * thread), "threads" (the pool, whatever the size; falls back to one thread if workers cannot
 * start), or "auto" (the default). A path that is unavailable here (no wasm SIMD) falls back to JS.
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

function autoPath(M: number, N: number, K: number): GemmPath {
  const madds = M * N * K;
  if (madds < WASM_MIN_MADDS || M < WASM_MIN_DIM || N < WASM_MIN_DIM || K < WASM_MIN_DIM) return "js";
  return madds < THREADS_MIN_MADDS ? "wasm" : "threads";
}

// ---------------------------------------------------------------------------------------------
// Pure JS. Register tiles: each out element is accumulated in a local over the whole k loop and
// stored once. Measured against specialised per-transpose loops with a contiguous inner loop
// (i-k-j streaming a row of B into a row of out, or row·row dot products): the tiles are 2× faster
// at every size and in every transpose combination (4×400·400×2: 2.8 µs vs 5.1 µs; 32³: 16 µs vs
// 35 µs), because the JIT keeps the 8 accumulators in registers while the streaming loops load and
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
// WebAssembly. One shared memory, one compiled module; the main thread and each worker run their
// own instance of it over that memory. Layout (bytes): [0, 8) zeros read by the packing as padding,
// [64, 4096) the workers' control words, then per call A, B, padded C and one work area per thread.

/** wasm signature of the kernel's `gemm` export; addresses and strides in bytes. */
type WasmGemm = (
  K: number,
  a: number,
  rsA: number,
  csA: number,
  b: number,
  rsB: number,
  csB: number,
  c: number,
  ldc: number,
  m0: number,
  m1: number,
  n0: number,
  n1: number,
  work: number,
) => void;

/** The kernel's leading arguments, shared by every thread's share of one product. */
type Operands = readonly [
  K: number,
  a: number,
  rsA: number,
  csA: number,
  b: number,
  rsB: number,
  csB: number,
  c: number,
  ldc: number,
];

interface WasmState {
  readonly kernel: GemmWasmKernel;
  readonly relaxed: boolean;
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  readonly maxBytes: number;
  readonly run: WasmGemm;
  /** Control words; a view of the first page stays valid across grows (a SharedArrayBuffer never detaches). */
  readonly ctl: Int32Array;
  /** View of the whole memory, refreshed after each grow. */
  heap: Float64Array;
}

const PAGE = 65536;
const DATA_START = 4096;
const RELAXED_FLAG = "--experimental-wasm-relaxed-simd";

/** undefined: not tried yet; null: no usable wasm SIMD here (the JS loops serve every size). */
let wasmState: WasmState | null | undefined;

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
  try {
    const wa = wasmApi;
    if (wa === undefined) return null;
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
        const instance = new wa.Instance(module, { env: { mem: memory } });
        const run = instance.exports.gemm as WasmGemm;
        const ctl = new Int32Array(memory.buffer, 0, DATA_START / 4);
        return { kernel, relaxed, module, memory, maxBytes, run, ctl, heap: new Float64Array(memory.buffer) };
      } catch {
        // a kernel that validates but fails to compile or link: try the next one
      }
    }
    return null;
  } catch {
    return null;
  }
}

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
  wasmState = undefined;
  poolFailed = false;
  for (const worker of pool.splice(0)) void worker.terminate();
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
  const { mr, nr } = st.kernel;
  const workers = path === "threads" ? readyWorkers(st) : 0;
  const mPad = Math.ceil(M / mr) * mr;
  const ldc = Math.ceil(N / nr) * nr;
  const aAddr = DATA_START;
  const bAddr = align64(aAddr + M * K * 8);
  const cAddr = align64(bAddr + K * N * 8);
  const workAddr = align64(cAddr + mPad * ldc * 8);
  if (!ensureBytes(st, workAddr + (workers + 1) * st.kernel.workBytes)) return false;

  const heap = st.heap;
  heap.set(a.subarray(aOffset, aOffset + M * K), aAddr / 8);
  heap.set(b.subarray(bOffset, bOffset + K * N), bAddr / 8);
  // Element strides of op(A)(i, k) and op(B)(k, j) in the stored layouts; the packing applies them.
  const rsA = (transA ? 1 : K) * 8;
  const csA = (transA ? M : 1) * 8;
  const rsB = (transB ? 1 : N) * 8;
  const csB = (transB ? K : 1) * 8;
  if (workers === 0) st.run(K, aAddr, rsA, csA, bAddr, rsB, csB, cAddr, ldc * 8, 0, M, 0, N, workAddr);
  else runThreaded(st, workers, M, N, [K, aAddr, rsA, csA, bAddr, rsB, csB, cAddr, ldc * 8], workAddr);

  const cElem = cAddr / 8;
  if (ldc === N) out.set(heap.subarray(cElem, cElem + M * N), outOffset);
  else
    for (let i = 0; i < M; i++)
      out.set(heap.subarray(cElem + i * ldc, cElem + i * ldc + N), outOffset + i * N);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Threads. Workers are made from a code string (`eval: true`) so the same code runs from the .ts
// sources (tsx, vitest) and from compiled dist JS. Each worker owns a slot of control words in the
// shared memory: the main thread writes the parameters and bumps SEQ; the worker, blocked in
// Atomics.wait on SEQ, runs its share and publishes DONE = SEQ. The main thread runs its own share
// meanwhile and then waits on DONE, so gemm stays synchronous.

const SLOT_BASE = 64 / 4;
const SLOT_INTS = 32;
const SEQ = 0;
const DONE = 1;
const STATE = 2;
const ERROR = 3;
const PARAMS = 4;
const MAX_WORKERS = (DATA_START / 4 - SLOT_BASE) / SLOT_INTS;
/** A worker normally instantiates in ~30 ms; past this it is taken as unable to start. */
const STARTUP_TIMEOUT_MS = 10_000;

const WORKER_SOURCE = `"use strict";
const { workerData } = require("node:worker_threads");
const { module, memory, slot, relaxed } = workerData;
const ctl = new Int32Array(memory.buffer, 0, ${DATA_START / 4});
let run = null;
try {
  if (relaxed) require("node:v8").setFlagsFromString("${RELAXED_FLAG}");
  run = new WebAssembly.Instance(module, { env: { mem: memory } }).exports.gemm;
  Atomics.store(ctl, slot + ${STATE}, 1);
} catch {
  Atomics.store(ctl, slot + ${STATE}, -1);
}
Atomics.notify(ctl, slot + ${STATE});
let seen = 0;
while (run !== null) {
  Atomics.wait(ctl, slot + ${SEQ}, seen);
  const seq = Atomics.load(ctl, slot + ${SEQ});
  if (seq === seen) continue;
  seen = seq;
  const p = slot + ${PARAMS};
  const tw = performance.now();
  try {
    run(ctl[p], ctl[p + 1], ctl[p + 2], ctl[p + 3], ctl[p + 4], ctl[p + 5], ctl[p + 6],
      ctl[p + 7], ctl[p + 8], ctl[p + 9], ctl[p + 10], ctl[p + 11], ctl[p + 12], ctl[p + 13]);
  } catch {
    Atomics.store(ctl, slot + ${ERROR}, 1);
  }
  ctl[slot + 30] = Math.round((performance.now() - tw) * 1000);
  Atomics.store(ctl, slot + ${DONE}, seq);
  Atomics.notify(ctl, slot + ${DONE});
}
`;

let threadCount = Math.max(1, Math.min(2, availableParallelism()));
const pool: Worker[] = [];
/** Set once a worker failed to start, died or trapped: from then on everything runs on one thread. */
let poolFailed = false;

/**
 * Sets how many threads (main thread included) large products use; 1 disables the worker pool.
 * Default: min(2, available cores). Values are clamped to [1, 32]. Workers start lazily, on the
 * first product large enough to use them, and never keep the process alive.
 */
export function setGemmThreads(n: number): void {
  threadCount = Math.max(1, Math.min(MAX_WORKERS + 1, Math.floor(n) || 1));
}

/**
 * What this process can run: `simd` (the wasm kernel compiled), `relaxedSimd` (its FMA build is in
 * use) and `threads` (threads large products use: the setGemmThreads value, or 1 once workers
 * have failed to start or without wasm). Compiles the wasm module on first call (a few ms).
 */
export function gemmInfo(): { simd: boolean; relaxedSimd: boolean; threads: number } {
  const st = getWasm();
  return {
    simd: st !== null,
    relaxedSimd: st?.relaxed ?? false,
    threads: st === null || poolFailed ? 1 : threadCount,
  };
}

const slotOf = (w: number): number => SLOT_BASE + w * SLOT_INTS;

/** Starts workers up to the wanted count (blocking until each has instantiated); returns how many are usable. */
function readyWorkers(st: WasmState): number {
  const want = threadCount - 1;
  if (want <= 0 || poolFailed) return 0;
  while (pool.length < want) {
    const slot = slotOf(pool.length);
    st.ctl.fill(0, slot, slot + SLOT_INTS);
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module: st.module, memory: st.memory, slot, relaxed: st.relaxed },
      });
    } catch {
      poolFailed = true;
      return 0;
    }
    // Without listeners an 'error' event would crash the process; a dead worker must not be waited on.
    // A worker of a discarded pool (forceGemmKernel) exits on purpose and must not condemn the new one.
    const fail = (): void => {
      if (pool.includes(worker)) poolFailed = true;
    };
    worker.on("error", fail);
    worker.on("exit", fail);
    worker.unref();
    pool.push(worker);
    // Startup needs nothing from this thread's event loop, so blocking here cannot deadlock.
    Atomics.wait(st.ctl, slot + STATE, 0, STARTUP_TIMEOUT_MS);
    if (Atomics.load(st.ctl, slot + STATE) !== 1) {
      poolFailed = true;
      return 0;
    }
  }
  return want;
}

/**
 * Splits C into threads parts along its dimension with more register tiles (bounds on tile
 * edges), gives parts 1.. to the workers and computes part 0 here.
 */
function runThreaded(
  st: WasmState,
  workers: number,
  M: number,
  N: number,
  operands: Operands,
  workAddr: number,
): void {
  const { mr, nr, workBytes } = st.kernel;
  const { ctl, run } = st;
  const parts = workers + 1;
  const tilesM = Math.ceil(M / mr);
  const tilesN = Math.ceil(N / nr);
  const alongM = tilesM >= tilesN;
  const tiles = alongM ? tilesM : tilesN;
  const unit = alongM ? mr : nr;
  const extent = alongM ? M : N;
  const bound = (p: number): number =>
    p >= parts ? extent : Math.min(extent, Math.round((tiles * p) / parts) * unit);
  const range = (p: number): [number, number, number, number] =>
    alongM ? [bound(p), bound(p + 1), 0, N] : [0, M, bound(p), bound(p + 1)];
  const seqs: number[] = [];
  for (let w = 1; w < parts; w++) {
    const slot = slotOf(w - 1);
    const [m0, m1, n0, n1] = range(w);
    if (bound(w) >= bound(w + 1)) {
      seqs.push(Number.NaN);
      continue;
    }
    const params = [...operands, m0, m1, n0, n1, workAddr + w * workBytes];
    for (let i = 0; i < params.length; i++) ctl[slot + PARAMS + i] = params[i]!;
    seqs.push((Atomics.add(ctl, slot + SEQ, 1) + 1) | 0);
    Atomics.notify(ctl, slot + SEQ);
  }
  const [m0, m1, n0, n1] = range(0);
  const t0 = performance.now();
  run(...operands, m0, m1, n0, n1, workAddr);
  const t1 = performance.now();
  for (let w = 1; w < parts; w++) {
    const slot = slotOf(w - 1);
    const seq = seqs[w - 1]!;
    if (Number.isNaN(seq)) continue;
    for (let done = Atomics.load(ctl, slot + DONE); done !== seq; done = Atomics.load(ctl, slot + DONE)) {
      Atomics.wait(ctl, slot + DONE, done);
    }
    (globalThis as any).__dbg = [ctl[slot + 30]! / 1000, t1 - t0, performance.now() - t1, m0, m1, n0, n1, seq];
    if (ctl[slot + ERROR] !== 0) {
      // A trap in a worker should not happen; if it does, redo its share here and stop using the pool.
      poolFailed = true;
      const [wm0, wm1, wn0, wn1] = range(w);
      run(...operands, wm0, wm1, wn0, wn1, workAddr);
    }
  }
}

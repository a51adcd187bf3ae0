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
import { gemmJs } from "./gemm-js.js";
import {
  gemmThreads,
  poolSize,
  resetPool,
  runJob,
  runningWorkers,
  setGemmThreads,
  threadsReason,
} from "./gemm-threads.js";
import {
  align64,
  DATA_START,
  ensureBytes,
  type GemmKernelChoice,
  type Layout,
  loadGemmWasm,
  runSingle,
  type WasmState,
  wasmReasons,
} from "./gemm-wasm.js";

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
  const threads = path === "threads" && runningWorkers(st) > 0 ? 1 + poolSize() : 1;
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

/** undefined: not tried yet; null: no usable wasm SIMD here (the JS loops serve every size). */
let wasmState: WasmState | null | undefined;
let kernelChoice: GemmKernelChoice = "auto";

function getWasm(): WasmState | null {
  if (wasmState === undefined) wasmState = loadGemmWasm(kernelChoice);
  return wasmState;
}

export type { GemmKernelChoice } from "./gemm-wasm.js";

/**
 * Chooses the wasm build (for tests and benchmarks): "auto" (the relaxed-SIMD FMA kernel where it
 * compiles, else plain SIMD; the default) or "simd" (always the plain mul+add kernel). Discards the
 * loaded module and the worker pool; the next product reloads them (and pays the warm-up again).
 */
export function forceGemmKernel(choice: GemmKernelChoice): void {
  kernelChoice = choice;
  resetPool(wasmState);
  wasmState = undefined;
}

/**
 * Sets how many threads (main thread included) large products use; 1 disables the worker pool.
 * Values are clamped to [1, 64]. Workers start lazily, on the first product large enough to use them,
 * and never keep the process alive.
 */
export function setThreads(n: number): void {
  setGemmThreads(n, wasmState);
}

/** The thread count set by `setThreads` (main thread included); default min(2, logical CPUs). */
export function getThreads(): number {
  return gemmThreads();
}

/**
 * What this process runs: `simd` (the wasm kernel compiled), `relaxedSimd` (its FMA build is the
 * one in use), `threads` (threads a large product uses right now: 1 + the workers that are up) and
 * `reasons` (why each feature that is off is off). Compiles the wasm module if that has not happened yet
 * (a few ms) and starts the worker pool in the background if the thread count allows one; workers take
 * ~30–100 ms to come up, so `threads` reads 1 until then (and stays 1 if they cannot start).
 */
export function gemmInfo(): { simd: boolean; relaxedSimd: boolean; threads: number; reasons: string[] } {
  const st = getWasm();
  const running = st === null ? 0 : runningWorkers(st);
  const reasons = [wasmReasons.simd, st === null ? "" : wasmReasons.relaxedSimd, threadsReason(st, running)];
  return {
    simd: st !== null,
    relaxedSimd: st?.relaxed ?? false,
    threads: 1 + running,
    reasons: reasons.filter((r) => r !== ""),
  };
}

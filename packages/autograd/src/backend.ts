/**
 * @file What the compute backend runs on this engine — WebAssembly, SIMD, relaxed SIMD, threads — and the
 * one public knob, the thread count of large matrix products (PyTorch's `torch.set_num_threads`).
 */
import { elementwiseInfo } from "./kernels/elementwise.js";
import { gemmInfo, getThreads, setThreads } from "./kernels/gemm.js";
import { wasmApi } from "./kernels/wasm-api.js";
import { expectInteger } from "./validate.js";

/** What `backendInfo()` reports. */
export interface BackendInfo {
  /** WebAssembly is available. */
  wasm: boolean;
  /** The wasm SIMD kernels (matrix product, exp/tanh/sigmoid) are in use; else plain JavaScript loops. */
  simd: boolean;
  /** The matrix product uses its relaxed-SIMD (fused multiply-add) build. */
  relaxedSimd: boolean;
  /** Threads a large matrix product uses now (1 + the workers that are up). */
  threads: number;
  /** Why each feature that is off is off, `; `-separated (e.g. "relaxed SIMD: not supported by this engine"); "" when all are on. */
  reason: string;
}

/**
 * What the kernels run on in this process, and why a feature is off: nothing falls back silently. The
 * first call compiles the wasm modules (a few ms) and starts the worker pool in the background; workers
 * take ~30–100 ms to come up, so `threads` can read 1 just after start-up (the reason says so).
 * @example backendInfo() // { wasm: true, simd: true, relaxedSimd: true, threads: 2, reason: "" }
 */
export function backendInfo(): BackendInfo {
  const gemm = gemmInfo();
  const elementwise = elementwiseInfo();
  // Without WebAssembly the gemm's reason already says it; the elementwise kernels' would repeat it.
  const reasons = [...gemm.reasons, wasmApi === undefined ? "" : elementwise.reason].filter((r) => r !== "");
  return {
    wasm: wasmApi !== undefined,
    simd: gemm.simd && elementwise.simd,
    relaxedSimd: gemm.relaxedSimd,
    threads: gemm.threads,
    reason: [...new Set(reasons)].join("; "),
  };
}

/**
 * Set how many threads (the main thread included) large matrix products use; 1 turns the worker pool off.
 * Default: min(2, logical CPUs). Values above 64 are clamped. Workers start lazily, on the first product
 * large enough to use them, and never keep the process alive.
 * @throws Error unless `n` is a positive integer.
 */
export function setNumThreads(n: number): void {
  setThreads(expectInteger("setNumThreads", "n", n));
}

/** The thread count set by `setNumThreads` (main thread included). */
export function getNumThreads(): number {
  return getThreads();
}

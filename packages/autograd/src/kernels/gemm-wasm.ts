/**
 * @file Loading the WebAssembly GEMM kernel: one shared memory and one compiled module (the relaxed-SIMD
 * FMA build where the engine has it, else plain SIMD), the memory grown on demand, and the one-thread run
 * of a product. Why a build is not in use is kept for `backendInfo().reason`.
 */
import {
  GEMM_WASM_MAX_PAGES,
  GEMM_WASM_RELAXED,
  GEMM_WASM_SIMD,
  type GemmWasmKernel,
} from "./gemm-wasm.generated.js";
import { decodeBase64, type NodeV8, nodeBuiltin } from "./runtime.js";
import { type WasmApi, type WasmMemory, type WasmModule, wasmApi } from "./wasm-api.js";

// ---------------------------------------------------------------------------------------------
// WebAssembly. One shared memory and one compiled module; the main thread and each worker run
// their own instance of it over that memory. Layout (bytes): [0, 8) zeros read by the packing as
// padding, [64, 4096) the job block (GEMM_WASM_CTL), then per call A, B, packed B, padded C and one
// packed-A area per thread.

export type WasmPackB = (
  b: number,
  rsB: number,
  csB: number,
  K: number,
  p0: number,
  p1: number,
  N: number,
  bp: number,
) => void;
export type WasmCompute = (
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
export type WasmWork = (seq: number, tid: number) => void;

export interface WasmState {
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
/** Bytes before the operands: [0, 8) zeros read by the packing as padding, [64, 4096) the job block. */
export const DATA_START = 4096;
/** The V8 flag that enables relaxed SIMD in Node 20 (shipped by default later). */
export const RELAXED_FLAG = "--experimental-wasm-relaxed-simd";

/** Which wasm build to load: "auto" (relaxed SIMD where it compiles) or "simd" (always the plain one). */
export type GemmKernelChoice = "auto" | "simd";

/** Why wasm SIMD, or its relaxed build, is not in use; empty when both are. */
export interface WasmReasons {
  simd: string;
  relaxedSimd: string;
}

/** The reasons of the last load (set by `loadGemmWasm`). */
export const wasmReasons: WasmReasons = { simd: "", relaxedSimd: "" };

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Relaxed SIMD is behind a V8 flag in Node 20 (shipped later); the flag can still be set at run time. */
function relaxedSimdCompiles(wa: WasmApi, bytes: Uint8Array): boolean {
  if (wa.validate(bytes)) return true;
  const v8 = nodeBuiltin<NodeV8>("node:v8");
  if (v8 === undefined) {
    wasmReasons.relaxedSimd = "relaxed SIMD: not supported by this engine (and no node:v8 to enable it)";
    return false;
  }
  try {
    v8.setFlagsFromString(RELAXED_FLAG);
  } catch (e) {
    wasmReasons.relaxedSimd = `relaxed SIMD: setting ${RELAXED_FLAG} failed: ${message(e)}`;
    return false;
  }
  if (wa.validate(bytes)) return true;
  wasmReasons.relaxedSimd = "relaxed SIMD: not supported by this engine";
  return false;
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

/** Compile and instantiate the kernel; null (with the reason in `wasmReasons`) if no build can run here. */
export function loadGemmWasm(choice: GemmKernelChoice): WasmState | null {
  wasmReasons.simd = "";
  wasmReasons.relaxedSimd = "";
  const wa = wasmApi;
  if (wa === undefined) {
    wasmReasons.simd = "wasm: WebAssembly is not available in this engine (e.g. node --jitless)";
    return null;
  }
  const shared = createSharedMemory(wa);
  if (shared === null) {
    wasmReasons.simd =
      "wasm SIMD: no shared WebAssembly memory here (a browser page needs cross-origin isolation)";
    return null;
  }
  const { memory, maxBytes } = shared;
  const relaxedBytes = decodeBase64(GEMM_WASM_RELAXED.base64);
  let candidates: [GemmWasmKernel, boolean][] = [[GEMM_WASM_SIMD, false]];
  if (choice === "simd") wasmReasons.relaxedSimd = 'relaxed SIMD: off by forceGemmKernel("simd")';
  else if (relaxedSimdCompiles(wa, relaxedBytes)) candidates = [[GEMM_WASM_RELAXED, true], ...candidates];
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
    } catch (e) {
      // a build that validates but fails to compile or link: try the next one
      const reason = `${relaxed ? "relaxed SIMD" : "wasm SIMD"}: the kernel failed to load: ${message(e)}`;
      if (relaxed) wasmReasons.relaxedSimd = reason;
      else wasmReasons.simd = reason;
    }
  }
  return null;
}

export const align64 = (x: number): number => Math.ceil(x / 64) * 64;

/** Grows the shared memory to at least `bytes`; false if that is past its maximum. */
export function ensureBytes(st: WasmState, bytes: number): boolean {
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
export interface Layout {
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
export function runSingle(st: WasmState, job: Layout): void {
  st.packB(job.b, job.rsB, job.csB, job.K, 0, job.panels, job.N, job.bp);
  st.compute(job.K, job.a, job.rsA, job.csA, job.bp, job.N, job.c, job.ldc, 0, job.M, job.work);
}

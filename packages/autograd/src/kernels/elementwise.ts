/**
 * @file float64 exp, tanh and sigmoid over whole arrays in WebAssembly SIMD (f64x2), for `unary()`:
 * arrays of at least the op's threshold are copied into the module's memory (in 64 KiB chunks when
 * longer), transformed in place and copied back; shorter ones, and every array where wasm SIMD is
 * unavailable, stay in the JS loops.
 *
 * Accuracy (scripts/elementwise-wat.ts has the algorithms): against correctly rounded values from
 * mpmath, exp errs by at most 0.88 ulp and tanh by 1.3 ulp (Math.tanh in Node 20: 2.1 ulp), so
 * results are within 1 ulp of the correctly rounded value; against Math.* they differ by at most 2
 * ulps. Special values (±0, ±∞, NaN, overflow, subnormal results) equal Math.*'s.
 *
 * Speed (reference machine: 2 vCPU Zen4 VM, Node 20.20; `npx tsx packages/autograd/scripts/bench-elementwise.ts`,
 * interleaved, medians, through the public ops, copies included), ns per element JS/wasm:
 * tanh 1600: 15.3/5.8, 2²⁰: 19.1/6.6; exp 1600: 17.0/6.2, 2²⁰: 17.8/6.0; sigmoid 1600: 12.4/5.7, 2²⁰: 19.0/6.7
 * (whole-array copies; chunked, in one interleaved A/B run at 2²⁰: tanh 11.4 → 6.6, exp 8.0 → 5.6).
 */
import { ELEMENTWISE_WASM } from "./elementwise-wasm.generated.js";
import { decodeBase64 } from "./runtime.js";
import { type WasmMemory, wasmApi } from "./wasm-api.js";

/** The ops with a wasm kernel. */
export type ElementwiseOp = "exp" | "tanh" | "sigmoid" | "softplusNegAbs";

/** Which implementation runs; "auto" picks by length. */
export type ElementwisePath = "auto" | "js" | "wasm";

/**
 * Shortest array each op sends to wasm. Below it the call and the two copies cost about what SIMD
 * saves (ns per element through the public op, JS/wasm: at 16 tanh 54.6/56.0, exp 39.7/37.7,
 * sigmoid 46.2/42.8; at 24: 58.5/48.7, 28.2/25.5, 28.8/24.2; at 64: 28.1/19.2, 17.3/13.1, 29.1/17.5).
 */
export const ELEMENTWISE_MIN: Readonly<Record<ElementwiseOp, number>> = {
  exp: 24,
  tanh: 24,
  sigmoid: 24,
  softplusNegAbs: 24,
};

let forcedPath: ElementwisePath = "auto";

/**
 * Forces one implementation regardless of length (for tests and benchmarks): "js", "wasm" (any
 * length, even 1) or "auto" (the default). Without wasm SIMD every path runs the JS loops.
 */
export function forceElementwisePath(path: ElementwisePath): void {
  forcedPath = path;
}

type Kernel = (p: number, n: number) => void;

interface WasmState {
  readonly memory: WasmMemory;
  readonly kernels: Record<ElementwiseOp, Kernel>;
  /** Views of the first n doubles of the memory, by n; cleared when the memory grows (its buffer detaches). */
  readonly views: Map<number, Float64Array>;
}

/** The kernels process groups of 2·unroll doubles: the memory holds n rounded up to a multiple of this. */
const GROUP = 2 * ELEMENTWISE_WASM.unroll;
const PAGE = 65536;
/** Longer arrays are transformed in chunks of this many doubles (64 KiB: two chunks' copies stay in L2). */
const CHUNK = 8192;
/** Views cached at most: a model uses a handful of lengths; a caller sweeping lengths must not leak. */
const MAX_VIEWS = 64;

/** undefined: not tried yet; null: no usable wasm SIMD here. */
let wasmState: WasmState | null | undefined;

/** Why the wasm kernels are not in use; empty when they are. */
let reason = "";

function loadWasm(): WasmState | null {
  const wa = wasmApi;
  if (wa === undefined) {
    reason = "elementwise wasm: WebAssembly is not available in this engine";
    return null;
  }
  try {
    const bytes = decodeBase64(ELEMENTWISE_WASM.base64);
    const { exports } = new wa.Instance(new wa.Module(bytes), {});
    return {
      memory: exports.mem as WasmMemory,
      kernels: {
        exp: exports.exp as Kernel,
        tanh: exports.tanh as Kernel,
        sigmoid: exports.sigmoid as Kernel,
        softplusNegAbs: exports.softplusNegAbs as Kernel,
      },
      views: new Map(),
    };
  } catch (e) {
    // no SIMD: the JS loops serve every length
    reason = `elementwise wasm SIMD: the kernels failed to load: ${e instanceof Error ? e.message : String(e)}`;
    return null;
  }
}

function getWasm(): WasmState | null {
  if (wasmState === undefined) wasmState = loadWasm();
  return wasmState;
}

/** A view of the first n doubles of the memory, grown to hold n padded to a whole group; null past 4 GiB. */
function viewOf(st: WasmState, n: number): Float64Array | null {
  const cached = st.views.get(n);
  if (cached !== undefined) return cached;
  const bytes = Math.ceil(n / GROUP) * GROUP * 8;
  const have = st.memory.buffer.byteLength;
  if (bytes > have) {
    try {
      st.memory.grow(Math.ceil((bytes - have) / PAGE));
    } catch {
      return null;
    }
    st.views.clear();
  }
  if (st.views.size >= MAX_VIEWS) st.views.clear();
  const view = new Float64Array(st.memory.buffer, 0, n);
  st.views.set(n, view);
  return view;
}

/**
 * out[i] = op(a[i]) in wasm if the path allows it (length at least the op's threshold, or forced)
 * and wasm SIMD is available; returns false, leaving out untouched, if the caller must run its JS
 * loop instead. out must have a's length. Allocates nothing once a length has been seen.
 */
export function elementwiseWasm(op: ElementwiseOp, a: Float64Array, out: Float64Array): boolean {
  const n = a.length;
  if (forcedPath === "js" || (forcedPath === "auto" && n < ELEMENTWISE_MIN[op])) return false;
  const st = getWasm();
  if (st === null) return false;
  if (n === 0) return true;
  const kernel = st.kernels[op];
  if (n <= CHUNK) {
    const view = viewOf(st, n);
    if (view === null) return false;
    view.set(a);
    kernel(0, n);
    out.set(view);
    return true;
  }
  // Long arrays go through in cache-sized chunks: the wasm buffer stays in L2 instead of streaming
  // each array through memory three more times (2²⁰ tanh: 6.6 → 4.1 ns per element).
  const view = viewOf(st, CHUNK);
  if (view === null) return false;
  for (let i = 0; i < n; i += CHUNK) {
    const len = Math.min(CHUNK, n - i);
    view.set(len === CHUNK ? a.subarray(i, i + CHUNK) : a.subarray(i));
    kernel(0, len);
    out.set(len === CHUNK ? view : view.subarray(0, len), i);
  }
  return true;
}

/** Whether the wasm kernels compiled here, and why not (loads the module if that has not happened yet). */
export function elementwiseInfo(): { simd: boolean; reason: string } {
  return { simd: getWasm() !== null, reason };
}

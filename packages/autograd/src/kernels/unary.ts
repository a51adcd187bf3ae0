/**
 * @file The loops of the unary primitives: `out[i] = f(a[i])`, one named kernel a primitive. exp, tanh and
 * sigmoid hand long arrays to the WebAssembly SIMD kernels (kernels/elementwise.ts) and keep a JS loop for
 * short ones and for engines without wasm SIMD. Kernels trust their input: `out` has `a`'s length.
 */
import { elementwiseWasm } from "./elementwise.js";

/** A unary kernel: writes f(a[i]) to out[i] for every i. */
export type UnaryKernel = (a: Float64Array, out: Float64Array) => void;

/** −x */
export function negKernel(a: Float64Array, out: Float64Array): void {
  for (let i = 0; i < a.length; i++) out[i] = -a[i]!;
}

/** x² */
export function squareKernel(a: Float64Array, out: Float64Array): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    out[i] = v * v;
  }
}

/** √x */
export function sqrtKernel(a: Float64Array, out: Float64Array): void {
  for (let i = 0; i < a.length; i++) out[i] = Math.sqrt(a[i]!);
}

/** eˣ: wasm SIMD from ELEMENTWISE_MIN elements on. */
export function expKernel(a: Float64Array, out: Float64Array): void {
  if (elementwiseWasm("exp", a, out)) return;
  for (let i = 0; i < a.length; i++) out[i] = Math.exp(a[i]!);
}

/** log x */
export function logKernel(a: Float64Array, out: Float64Array): void {
  for (let i = 0; i < a.length; i++) out[i] = Math.log(a[i]!);
}

/** |x| */
export function absKernel(a: Float64Array, out: Float64Array): void {
  for (let i = 0; i < a.length; i++) out[i] = Math.abs(a[i]!);
}

/** tanh x: wasm SIMD from ELEMENTWISE_MIN elements on. */
export function tanhKernel(a: Float64Array, out: Float64Array): void {
  if (elementwiseWasm("tanh", a, out)) return;
  for (let i = 0; i < a.length; i++) out[i] = Math.tanh(a[i]!);
}

/** σ(x) = 1 / (1 + e⁻ˣ): wasm SIMD from ELEMENTWISE_MIN elements on. */
export function sigmoidKernel(a: Float64Array, out: Float64Array): void {
  if (elementwiseWasm("sigmoid", a, out)) return;
  // Two branches so that exp never overflows: σ(x) = 1/(1+e^-x) for x ≥ 0, e^x/(1+e^x) otherwise.
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v >= 0) out[i] = 1 / (1 + Math.exp(-v));
    else {
      const e = Math.exp(v);
      out[i] = e / (1 + e);
    }
  }
}

/** max(x, 0); NaN stays NaN. */
export function reluKernel(a: Float64Array, out: Float64Array): void {
  for (let i = 0; i < a.length; i++) out[i] = Math.max(a[i]!, 0);
}

/** −1, 0 or 1 by the sign of x; NaN stays NaN. */
export function signKernel(a: Float64Array, out: Float64Array): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    out[i] = v > 0 ? 1 : v < 0 ? -1 : v === 0 ? 0 : Number.NaN;
  }
}

/** out = lo ≤ x ≤ hi ? x : the nearer bound. */
export function clipKernel(a: Float64Array, lo: number, hi: number, out: Float64Array): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
}

/**
 * tanh's backward from its output: out = g·(1 − y²) in one pass and one allocation instead of three ops
 * (PyTorch's `tanh_backward`); g and y have the same length.
 */
export function tanhGradKernel(g: Float64Array, y: Float64Array, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = g[i]! * (1 - y[i]! * y[i]!);
}

/**
 * relu's backward: out = g·[x > 0] in one pass, rounded exactly as the unfused `mul(g, greater(x, 0))` (so
 * −g·0 is −0, and a NaN or infinite g stays NaN under the mask, as in a product); NaN in x masks like 0.
 */
export function reluGradKernel(g: Float64Array, x: Float64Array, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = g[i]! * (x[i]! > 0 ? 1 : 0);
}

/** sigmoid's backward from its output: out = g·(y·(1 − y)) in one pass (PyTorch's `sigmoid_backward`). */
export function sigmoidGradKernel(g: Float64Array, y: Float64Array, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = g[i]! * (y[i]! * (1 - y[i]!));
}

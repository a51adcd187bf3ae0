/**
 * @file What the benchmark asks of each implementation (tapegrad's two paths, TensorFlow.js, jax-js):
 * a training-step runner for a problem and, optionally, a matrix multiply of one transpose variant.
 */
import type { Problem } from "./problem.js";

/** A training loop over one problem, holding its own parameters. */
export interface StepRunner {
  /**
   * One full-batch training step: forward, cost, backward, SGD update of the runner's parameters. Returns
   * when the step's work is done (a promise for libraries that dispatch asynchronously).
   */
  step(): void | Promise<void>;
  /** The cost J at the current parameters, for the checks (not timed). */
  cost(): number | Promise<number>;
  /** Free what the runner holds (tensors of libraries that count references). */
  dispose(): void;
}

/** The three layouts of a product: A·B, A·Bᵀ, Aᵀ·B (no transpose is materialised). */
export type MatmulVariant = "NN" | "NT" | "TN";

/** All variants, in print order. */
export const MATMUL_VARIANTS: readonly MatmulVariant[] = ["NN", "NT", "TN"];

/** How each variant is written in the table. */
export const VARIANT_TEXT: Record<MatmulVariant, string> = { NN: "A·B", NT: "A·Bᵀ", TN: "Aᵀ·B" };

/** A square matrix product of one variant, on operands the runner allocated once. */
export interface MatmulRunner {
  /** Compute the product once (the result is discarded, its memory freed). */
  run(): void | Promise<void>;
  dispose(): void;
}

/** One library (or one path of it) under test. */
export interface Implementation {
  /** Short key used in tables and in the JSON: "tapegrad-autograd", "tfjs-wasm", … */
  id: string;
  /** A longer description for the header. */
  label: string;
  dtype: "float64" | "float32";
  /** Whether this is one of tapegrad's own paths (ratios are tapegrad path vs the others). */
  tapegrad: boolean;
  createRunner(problem: Problem): StepRunner;
}

/** One library's matrix multiply. */
export interface MatmulImplementation {
  /** "tapegrad", "tfjs-wasm", … */
  id: string;
  dtype: "float64" | "float32";
  /** n×n times n×n in the given layout. */
  create(n: number, variant: MatmulVariant): MatmulRunner;
}

/** A deterministic n×n matrix of values in [-1, 1) (a cheap LCG: the values only need to be ordinary). */
export function benchMatrix(n: number, seed: number): Float64Array {
  const out = new Float64Array(n * n);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/**
 * @file Input checks shared by the course API: each public function checks its arguments once, at the
 * boundary, and throws an Error that names the function, shows the shapes or values, and says what was
 * expected. Internal loops (nnModel) call the unchecked kernels.
 */
import { formatShape, Tensor } from "@tapegrad/autograd";
import type { Params } from "./course.js";

/** The parameter names of the course network, in the course's order. */
export const PARAM_NAMES = ["W1", "b1", "W2", "b2"] as const;

function describe(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (Array.isArray(v)) return "an array (wrap it with tensor(...))";
  return typeof v === "object" ? (v.constructor?.name ?? "object") : `${typeof v} ${String(v)}`;
}

/** Position `[i, j]` of flat index `k` in a matrix with `cols` columns. */
export function position(k: number, shape: readonly number[]): string {
  if (shape.length !== 2) return `[${k}]`;
  const cols = shape[1]!;
  return `[${Math.floor(k / cols)}, ${k % cols}]`;
}

/** Throw unless `t` is a 2-D Tensor. */
export function checkMatrix(fn: string, name: string, t: unknown, hint = ""): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new Error(`${fn}: ${name} must be a Tensor, got ${describe(t)}`);
  if (t.ndim !== 2) {
    throw new Error(`${fn}: ${name} must be a 2-D matrix${hint}, got shape ${formatShape(t.shape)}`);
  }
}

/** Throw at the first NaN or ±Infinity of `t`. */
export function checkFinite(fn: string, name: string, t: Tensor): void {
  const d = t.data;
  // Fast pass: x − x is 0 for finite x and NaN for NaN and ±Infinity; four sums keep the adds independent.
  // This runs on every call of the course API, so it must cost little beside the ops themselves.
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let i = 0;
  for (; i + 3 < d.length; i += 4) {
    a0 += d[i]! - d[i]!;
    a1 += d[i + 1]! - d[i + 1]!;
    a2 += d[i + 2]! - d[i + 2]!;
    a3 += d[i + 3]! - d[i + 3]!;
  }
  for (; i < d.length; i++) a0 += d[i]! - d[i]!;
  if (a0 + a1 + a2 + a3 === 0) return;
  for (let k = 0; k < d.length; k++) {
    if (!Number.isFinite(d[k]!)) {
      throw new Error(
        `${fn}: ${name} contains ${d[k]} at ${position(k, t.shape)} (shape ${formatShape(t.shape)}); expected finite values`,
      );
    }
  }
}

/**
 * Check X (n0, m) and Y (n2, m): matrices, the same number of columns (examples), X finite, Y only 0/1.
 * @returns m, the number of examples.
 */
export function checkXY(fn: string, X: unknown, Y: unknown): number {
  checkMatrix(fn, "X", X, " (features × examples)");
  checkMatrix(fn, "Y", Y, " (outputs × examples)");
  if (X.shape[1] !== Y.shape[1]) {
    throw new Error(
      `${fn}: X has ${X.shape[1]} columns (examples) but Y has ${Y.shape[1]}; expected Y of shape [${Y.shape[0]}, ${X.shape[1]}] (column layout: one example per column)`,
    );
  }
  if (X.shape[1] === 0) throw new Error(`${fn}: X has no columns (examples); expected at least one`);
  checkFinite(fn, "X", X);
  checkLabels(fn, Y);
  return X.shape[1]!;
}

/** Throw at the first label of Y that is not 0 or 1. */
export function checkLabels(fn: string, Y: Tensor): void {
  const d = Y.data;
  for (let k = 0; k < d.length; k++) {
    const y = d[k]!;
    if (y !== 0 && y !== 1) {
      throw new Error(
        `${fn}: Y must contain only 0 and 1 (binary labels), found ${y} at ${position(k, Y.shape)}`,
      );
    }
  }
}

/**
 * Check a parameter object: the four keys, each a matrix, shapes W1 (nH, nX), b1 (nH, 1), W2 (nY, nH),
 * b2 (nY, 1), consistent with each other and (when given) with X's rows and Y's rows.
 */
export function checkParams(fn: string, params: unknown, nX?: number, nY?: number): asserts params is Params {
  if (params === null || typeof params !== "object") {
    throw new Error(`${fn}: parameters must be an object { W1, b1, W2, b2 }, got ${describe(params)}`);
  }
  const p = params as Record<string, unknown>;
  for (const key of PARAM_NAMES) {
    if (!(key in p) || p[key] === undefined) {
      const present = Object.keys(p).join(", ") || "none";
      throw new Error(
        `${fn}: parameters is missing ${key} (expected an object with W1, b1, W2, b2; keys present: ${present})`,
      );
    }
    checkMatrix(fn, key, p[key]);
  }
  const { W1, b1, W2, b2 } = p as unknown as Params;
  const [nH, n0] = W1.shape as [number, number];
  if (nX !== undefined && n0 !== nX) {
    throw new Error(
      `${fn}: W1 has shape ${formatShape(W1.shape)} but X has ${nX} rows (features); expected W1 of shape [nH, ${nX}]`,
    );
  }
  const expect = (name: string, t: Tensor, shape: [number, number], why: string): void => {
    if (t.shape[0] !== shape[0] || t.shape[1] !== shape[1]) {
      throw new Error(
        `${fn}: ${name} has shape ${formatShape(t.shape)}, expected ${formatShape(shape)} (${why})`,
      );
    }
  };
  expect("b1", b1, [nH, 1], `one bias per hidden unit: W1 is ${formatShape(W1.shape)}`);
  if (W2.shape[1] !== nH) {
    throw new Error(
      `${fn}: W2 has shape ${formatShape(W2.shape)} but W1 has ${nH} rows (hidden units); expected W2 of shape [nY, ${nH}]`,
    );
  }
  const outputs = W2.shape[0]!;
  expect("b2", b2, [outputs, 1], `one bias per output unit: W2 is ${formatShape(W2.shape)}`);
  if (nY !== undefined && outputs !== nY) {
    throw new Error(
      `${fn}: W2 has shape ${formatShape(W2.shape)} but Y has ${nY} rows (outputs); expected W2 of shape [${nY}, ${nH}]`,
    );
  }
}

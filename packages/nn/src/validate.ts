/**
 * @file Input checks of the course API (matrices in column layout, X and Y, the parameter object), written
 * with the shared vocabulary of `@tapegrad/autograd/validate`: each public function checks its arguments
 * once, at the boundary, and throws an Error that names the function, shows the shapes or values, and says
 * what was expected. Internal loops (nnModel) call the unchecked equations of six-equations.ts.
 */
import { formatShape, type Tensor } from "@tapegrad/autograd";
import { describeValue, expectFinite, expectTensor, formatPosition } from "@tapegrad/autograd/validate";
import type { Params } from "./six-equations.js";

/** The parameter names of the course network, in the course's order. */
export const PARAM_NAMES = ["W1", "b1", "W2", "b2"] as const;

/** Throw unless `t` is a 2-D Tensor. */
export function checkMatrix(fn: string, name: string, t: unknown, hint = ""): asserts t is Tensor {
  expectTensor(fn, name, t);
  if (t.ndim !== 2) {
    throw new Error(`${fn}: ${name} must be a 2-D matrix${hint}, got shape ${formatShape(t.shape)}`);
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
  expectFinite(fn, "X", X);
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
        `${fn}: Y must contain only 0 and 1 (binary labels), found ${y} at ${formatPosition(k, Y.shape)}`,
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
    throw new Error(`${fn}: parameters must be an object { W1, b1, W2, b2 }, got ${describeValue(params)}`);
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

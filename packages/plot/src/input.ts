/**
 * @file What the figures accept as data — a Tensor, nested arrays, or flat arrays — turned into plain
 * row-major matrices and vectors, with errors that start with the figure's name and show the shape found.
 */

import { formatShape, Tensor } from "@tapegrad/autograd";
import { describeValue } from "@tapegrad/autograd/validate";

/** A matrix: a 2-D Tensor or rows of numbers. */
export type MatrixLike = Tensor | readonly (readonly number[])[];

/** A vector: a Tensor holding n numbers in any shape ((n), (1, n), (n, 1)), or a flat array. */
export type VectorLike = Tensor | ArrayLike<number>;

/** A row-major matrix. */
export interface Matrix {
  rows: number;
  cols: number;
  data: ArrayLike<number>;
}

/**
 * A 2-D tensor or rows of numbers as a row-major matrix.
 * @throws Error (`fn: what …`) for another rank, ragged rows or an empty matrix.
 */
export function toMatrix(fn: string, what: string, value: unknown): Matrix {
  if (value instanceof Tensor) {
    if (value.ndim !== 2 || value.size === 0) {
      throw new Error(
        `${fn}: ${what} has shape ${formatShape(value.shape)}; expected a non-empty 2-D tensor`,
      );
    }
    return { rows: value.shape[0]!, cols: value.shape[1]!, data: value.data };
  }
  if (Array.isArray(value) && value.length > 0 && value.every((r) => Array.isArray(r))) {
    const rows = value as readonly (readonly unknown[])[];
    const cols = rows[0]!.length;
    const data = new Float64Array(rows.length * cols);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (row.length !== cols || cols === 0) {
        throw new Error(
          `${fn}: ${what} row ${i} has ${row.length} numbers, row 0 has ${cols}; expected equal non-empty rows`,
        );
      }
      for (let j = 0; j < cols; j++) {
        const v = row[j];
        if (typeof v !== "number")
          throw new Error(`${fn}: ${what}[${i}][${j}] is ${describeValue(v)}; expected a number`);
        data[i * cols + j] = v;
      }
    }
    return { rows: rows.length, cols, data };
  }
  throw new Error(
    `${fn}: ${what} is ${describeValue(value)}; expected a 2-D tensor or a non-empty array of rows`,
  );
}

/**
 * A tensor of any shape or an array of numbers as a flat list (a tensor's data, row-major).
 * @throws Error (`fn: what …`) for anything else, or an element that is not a number.
 */
export function toVector(fn: string, what: string, value: unknown): ArrayLike<number> {
  if (value instanceof Tensor) return value.data;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return value as unknown as ArrayLike<number>;
  if (Array.isArray(value)) {
    const k = value.findIndex((v) => typeof v !== "number");
    if (k >= 0) throw new Error(`${fn}: ${what}[${k}] is ${describeValue(value[k])}; expected a number`);
    return value as number[];
  }
  throw new Error(`${fn}: ${what} is ${describeValue(value)}; expected a tensor or an array of numbers`);
}

/**
 * Class ids: integers in [0, limit).
 * @throws Error naming the first bad element, its index and the allowed range.
 */
export function checkClassIds(fn: string, what: string, ids: ArrayLike<number>, limit: number): void {
  for (let k = 0; k < ids.length; k++) {
    const c = ids[k]!;
    if (!Number.isInteger(c) || c < 0 || c >= limit) {
      throw new Error(`${fn}: ${what}[${k}] is ${c}; expected a class id, an integer in 0..${limit - 1}`);
    }
  }
}

export { describeValue };

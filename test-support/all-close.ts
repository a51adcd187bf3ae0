/**
 * @file The one all-close matcher of the test suites: `expect(actual).toBeAllClose(expected, { rtol, atol })`.
 *
 * Registered for every package by vitest.config.ts (`setupFiles`). Like numpy's `allclose`, each element must
 * satisfy |actual − expected| ≤ atol + rtol·|expected|; shapes (when both sides have one) must be equal and
 * NaN matches only NaN. On failure the message names the worst element, both values and the tolerance.
 */
import { expect } from "vitest";

/** Tolerances of `toBeAllClose`; numpy's defaults are rtol 1e-5, atol 1e-8, ours are tighter for float64. */
export interface AllCloseOptions {
  /** Relative tolerance; default 1e-12. */
  rtol?: number;
  /** Absolute tolerance; default 1e-14. */
  atol?: number;
}

type Numeric =
  | number
  | ArrayLike<number>
  | { data: ArrayLike<number>; shape: readonly number[] }
  | NestedList;
type NestedList = readonly (number | NestedList)[];

function flatten(v: unknown): { values: number[]; shape: number[] | null } {
  if (typeof v === "number") return { values: [v], shape: [] };
  if (v !== null && typeof v === "object" && "data" in v && "shape" in v) {
    const t = v as { data: ArrayLike<number>; shape: readonly number[] };
    return { values: Array.from(t.data), shape: [...t.shape] };
  }
  if (Array.isArray(v)) {
    const values: number[] = [];
    const walk = (x: unknown): void => {
      if (Array.isArray(x)) x.forEach(walk);
      else values.push(x as number);
    };
    walk(v);
    return { values, shape: null };
  }
  if (ArrayBuffer.isView(v)) return { values: Array.from(v as unknown as ArrayLike<number>), shape: null };
  throw new Error(`toBeAllClose: expected a number, an array, a typed array or a tensor, got ${String(v)}`);
}

expect.extend({
  toBeAllClose(received: unknown, expected: Numeric, options: AllCloseOptions = {}) {
    const { rtol = 1e-12, atol = 1e-14 } = options;
    const a = flatten(received);
    const b = flatten(expected);
    if (a.shape && b.shape && a.shape.join(",") !== b.shape.join(",")) {
      return {
        pass: false,
        message: () => `expected shape [${b.shape!.join(", ")}], got [${a.shape!.join(", ")}]`,
      };
    }
    if (a.values.length !== b.values.length) {
      return {
        pass: false,
        message: () => `expected ${b.values.length} elements, got ${a.values.length}`,
      };
    }
    let worst = -1;
    let worstExcess = 0;
    for (let i = 0; i < a.values.length; i++) {
      const x = a.values[i]!;
      const y = b.values[i]!;
      if (Number.isNaN(x) || Number.isNaN(y)) {
        if (Number.isNaN(x) && Number.isNaN(y)) continue;
        worst = i;
        worstExcess = Number.POSITIVE_INFINITY;
        break;
      }
      if (x === y) continue; // also equal infinities
      const excess = Math.abs(x - y) - (atol + rtol * Math.abs(y));
      if (!(excess <= 0) && (worst < 0 || excess > worstExcess)) {
        worst = i;
        worstExcess = excess;
      }
    }
    const pass = worst < 0;
    return {
      pass,
      message: () =>
        pass
          ? `expected values not all close to the expected ones (rtol ${rtol}, atol ${atol}), but they are`
          : `element ${worst} is ${a.values[worst]}, expected ${b.values[worst]} ` +
            `(|diff| ${Math.abs(a.values[worst]! - b.values[worst]!).toExponential(3)} > ` +
            `atol ${atol} + rtol ${rtol}·|expected|)`,
    };
  },
});

declare module "vitest" {
  interface Assertion<T> {
    /** Every element within atol + rtol·|expected| of `expected` (numpy's allclose; NaN matches NaN). */
    toBeAllClose(expected: Numeric, options?: AllCloseOptions): T;
  }
  interface AsymmetricMatchersContaining {
    toBeAllClose(expected: Numeric, options?: AllCloseOptions): void;
  }
}

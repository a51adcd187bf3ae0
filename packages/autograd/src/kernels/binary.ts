/**
 * @file The loops of the binary primitives, with numpy broadcasting and without materialising it.
 *
 * Each op is a named `BinaryKernel`: a strided `row` loop that serves every case, and for the four
 * arithmetic ops two faster shapes of loop, `contiguous` (same-sized operands) and `scalar` (a tensor and
 * one number, or a matrix row and its element of a broadcast column). Plain indexed loops were measured
 * 10–30 % faster than the strided ones at the course's sizes; the dispatch between them happens once per
 * call (or once per row), never per element. Kernels trust their input: the shapes broadcast.
 */
import { broadcastStrides, type Shape } from "../shape.js";
import { elementwiseWasm } from "./elementwise.js";

/** The loops of one elementwise binary op ⊙. */
export interface BinaryKernel {
  /** out[o + j] = a[ia + j·sa] ⊙ b[ib + j·sb] for j < len (a stride is 0 where the operand is broadcast). */
  row(
    a: Float64Array,
    ia: number,
    sa: number,
    b: Float64Array,
    ib: number,
    sb: number,
    out: Float64Array,
    o: number,
    len: number,
  ): void;
  /** out[j] = a[j] ⊙ b[j] for j < n. */
  contiguous?(a: Float64Array, b: Float64Array, out: Float64Array, n: number): void;
  /** out[j] = a[j] ⊙ v, or v ⊙ a[j] when `scalarFirst`, for o ≤ j < o + len. */
  scalar?(a: Float64Array, o: number, v: number, scalarFirst: boolean, out: Float64Array, len: number): void;
}

/** x + y */
export const addKernel: BinaryKernel = {
  row(a, ia, sa, b, ib, sb, out, o, len) {
    for (let j = 0; j < len; j++) out[o + j] = a[ia + j * sa]! + b[ib + j * sb]!;
  },
  contiguous(a, b, out, n) {
    for (let j = 0; j < n; j++) out[j] = a[j]! + b[j]!;
  },
  scalar(a, o, v, _scalarFirst, out, len) {
    for (let j = o, end = o + len; j < end; j++) out[j] = a[j]! + v;
  },
};

/** x − y */
export const subKernel: BinaryKernel = {
  row(a, ia, sa, b, ib, sb, out, o, len) {
    for (let j = 0; j < len; j++) out[o + j] = a[ia + j * sa]! - b[ib + j * sb]!;
  },
  contiguous(a, b, out, n) {
    for (let j = 0; j < n; j++) out[j] = a[j]! - b[j]!;
  },
  scalar(a, o, v, scalarFirst, out, len) {
    const end = o + len;
    if (scalarFirst) for (let j = o; j < end; j++) out[j] = v - a[j]!;
    else for (let j = o; j < end; j++) out[j] = a[j]! - v;
  },
};

/** x · y */
export const mulKernel: BinaryKernel = {
  row(a, ia, sa, b, ib, sb, out, o, len) {
    for (let j = 0; j < len; j++) out[o + j] = a[ia + j * sa]! * b[ib + j * sb]!;
  },
  contiguous(a, b, out, n) {
    for (let j = 0; j < n; j++) out[j] = a[j]! * b[j]!;
  },
  scalar(a, o, v, _scalarFirst, out, len) {
    for (let j = o, end = o + len; j < end; j++) out[j] = a[j]! * v;
  },
};

/** x / y */
export const divKernel: BinaryKernel = {
  row(a, ia, sa, b, ib, sb, out, o, len) {
    for (let j = 0; j < len; j++) out[o + j] = a[ia + j * sa]! / b[ib + j * sb]!;
  },
  contiguous(a, b, out, n) {
    for (let j = 0; j < n; j++) out[j] = a[j]! / b[j]!;
  },
  scalar(a, o, v, scalarFirst, out, len) {
    const end = o + len;
    if (scalarFirst) for (let j = o; j < end; j++) out[j] = v / a[j]!;
    else for (let j = o; j < end; j++) out[j] = a[j]! / v;
  },
};

/** xʸ */
export const powKernel: BinaryKernel = {
  row(a, ia, sa, b, ib, sb, out, o, len) {
    for (let j = 0; j < len; j++) out[o + j] = a[ia + j * sa]! ** b[ib + j * sb]!;
  },
};

/** max(x, y); NaN propagates. */
export const maximumKernel: BinaryKernel = {
  row(a, ia, sa, b, ib, sb, out, o, len) {
    for (let j = 0; j < len; j++) {
      const p = a[ia + j * sa]!;
      const q = b[ib + j * sb]!;
      out[o + j] = p > q || Number.isNaN(p) ? p : q;
    }
  },
};

/** min(x, y); NaN propagates. */
export const minimumKernel: BinaryKernel = {
  row(a, ia, sa, b, ib, sb, out, o, len) {
    for (let j = 0; j < len; j++) {
      const p = a[ia + j * sa]!;
      const q = b[ib + j * sb]!;
      out[o + j] = p < q || Number.isNaN(p) ? p : q;
    }
  },
};

/** −[y log σ(z) + (1 − y) log(1 − σ(z))] = max(z, 0) − z·y + log(1 + e^−|z|): no overflow, no log(0). */
export const sigmoidCrossEntropyKernel: BinaryKernel = {
  row(a, ia, sa, b, ib, sb, out, o, len) {
    for (let j = 0; j < len; j++) {
      const z = a[ia + j * sa]!;
      const y = b[ib + j * sb]!;
      out[o + j] = Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
    }
  },
};

/**
 * out (of the broadcast `shape`) = a ⊙ b with `kernel`'s fastest loop for the operands' layout; `out` may be
 * `a` itself (in-place accumulation).
 */
export function binaryInto(
  kernel: BinaryKernel,
  a: Float64Array,
  aShape: Shape,
  b: Float64Array,
  bShape: Shape,
  out: Float64Array,
  shape: Shape,
): void {
  const n = out.length;
  const { contiguous, scalar } = kernel;
  if (a.length === n && b.length === n) {
    if (contiguous) contiguous(a, b, out, n);
    else kernel.row(a, 0, 1, b, 0, 1, out, 0, n);
  } else if (b.length === 1 && a.length === n) {
    if (scalar) scalar(a, 0, b[0]!, false, out, n);
    else kernel.row(a, 0, 1, b, 0, 0, out, 0, n);
  } else if (a.length === 1 && b.length === n) {
    if (scalar) scalar(b, 0, a[0]!, true, out, n);
    else kernel.row(a, 0, 0, b, 0, 1, out, 0, n);
  } else binaryStrided(kernel, a, aShape, b, bShape, out, shape);
}

/**
 * The general case of `binaryInto`: walk the output row by row (rows of its last axis), each operand read
 * with its own stride along the row (0 where it is broadcast), so `Z + b` with b of shape (n, 1) costs one
 * pass. A matrix and a column takes the row-by-scalar loop, the most common broadcast of a layer.
 */
function binaryStrided(
  kernel: BinaryKernel,
  a: Float64Array,
  aShape: Shape,
  b: Float64Array,
  bShape: Shape,
  out: Float64Array,
  shape: Shape,
): void {
  const n = out.length;
  if (n === 0) return;
  const rank = shape.length;
  const sa = broadcastStrides(aShape, shape);
  const sb = broadcastStrides(bShape, shape);
  const last = shape[rank - 1]!;
  const la = sa[rank - 1]!;
  const lb = sb[rank - 1]!;
  const { scalar } = kernel;
  if (
    rank === 2 &&
    scalar !== undefined &&
    (la === 1 ? lb === 0 && sa[0] === last : la === 0 && lb === 1 && sb[0] === last)
  ) {
    // one operand contiguous, the other constant along each row
    const scalarFirst = la === 0;
    const s0 = scalarFirst ? sa[0]! : sb[0]!;
    const row = scalarFirst ? b : a;
    const col = scalarFirst ? a : b;
    for (let o = 0, ic = 0; o < n; o += last, ic += s0) scalar(row, o, col[ic]!, scalarFirst, out, last);
    return;
  }
  const idx = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let o = 0; o < n; o += last) {
    kernel.row(a, ia, la, b, ib, lb, out, o, last);
    for (let ax = rank - 2; ax >= 0; ax--) {
      ia += sa[ax]!;
      ib += sb[ax]!;
      if (++idx[ax]! < shape[ax]!) break;
      ia -= sa[ax]! * shape[ax]!;
      ib -= sb[ax]! * shape[ax]!;
      idx[ax] = 0;
    }
  }
}

/**
 * max(z, 0) − z·y + log(1 + e^−|z|) when z has the output's shape and y is the same size or one label:
 * the tail log(1 + e^−|z|) comes from the wasm kernel (as accurate as Math.log1p(Math.exp(−|z|)), 1.5 ulp
 * from exact; 3–4× faster) and one JS pass adds the rest. Returns false (out untouched) when wasm is not
 * used; the caller then runs `sigmoidCrossEntropyKernel`.
 */
export function sigmoidCrossEntropyWasm(z: Float64Array, y: Float64Array, out: Float64Array): boolean {
  const n = z.length;
  if (out.length !== n || (y.length !== n && y.length !== 1)) return false;
  if (!elementwiseWasm("softplusNegAbs", z, out)) return false;
  if (y.length === n) {
    for (let j = 0; j < n; j++) out[j] = Math.max(z[j]!, 0) - z[j]! * y[j]! + out[j]!;
  } else {
    const v = y[0]!;
    for (let j = 0; j < n; j++) out[j] = Math.max(z[j]!, 0) - z[j]! * v + out[j]!;
  }
  return true;
}

/** Comparison performed by the `compare` primitive. */
export type CompareOp = ">" | ">=" | "<" | "<=" | "==" | "!=";

/** out[i] = (a[i·sa] op b[i·sb]) ? 1 : 0, with sa, sb ∈ {0, 1} (an operand of one element is broadcast). */
export function compareKernel(op: CompareOp, a: Float64Array, b: Float64Array, out: Float64Array): void {
  const n = out.length;
  const sa = a.length === n ? 1 : 0;
  const sb = b.length === n ? 1 : 0;
  for (let i = 0; i < n; i++) {
    const p = a[i * sa]!;
    const q = b[i * sb]!;
    const r =
      op === ">"
        ? p > q
        : op === ">="
          ? p >= q
          : op === "<"
            ? p < q
            : op === "<="
              ? p <= q
              : op === "=="
                ? p === q
                : p !== q;
    out[i] = r ? 1 : 0;
  }
}

/** out[i] = c[i·sc] ≠ 0 ? x[i·sx] : y[i·sy], each stride 0 (one element, broadcast) or 1. */
export function whereKernel(c: Float64Array, x: Float64Array, y: Float64Array, out: Float64Array): void {
  const n = out.length;
  const sc = c.length === n ? 1 : 0;
  const sx = x.length === n ? 1 : 0;
  const sy = y.length === n ? 1 : 0;
  for (let i = 0; i < n; i++) out[i] = c[i * sc] !== 0 ? x[i * sx]! : y[i * sy]!;
}

/** @file Shape arithmetic: sizes, strides, numpy broadcasting, axis normalisation and the error text for shapes. */

/** A tensor shape: the length of each axis, outermost first. `[]` is a scalar (0-d). */
export type Shape = readonly number[];

/** Number of elements of a tensor with this shape (1 for `[]`). */
export function shapeSize(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]!;
  return n;
}

/** Row-major strides (in elements) of a contiguous tensor with this shape. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** `[2, 3]` — the way every error message prints a shape. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

/** Whether two shapes are equal axis by axis. */
export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The numpy broadcast of two shapes: align from the right; each pair of axes must be equal or one of
 * them 1. Returns null when they cannot be broadcast (callers turn that into an error naming the op).
 */
export function tryBroadcastShapes(a: Shape, b: Shape): number[] | null {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)]!;
    const db = i < n - b.length ? 1 : b[i - (n - b.length)]!;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else return null;
  }
  return out;
}

/**
 * The numpy broadcast of two shapes.
 * @throws Error `<op>: shapes [2, 3] and [4] cannot be broadcast` when an axis pair differs and neither is 1.
 */
export function broadcastShapes(a: Shape, b: Shape, op = "broadcast"): number[] {
  const out = tryBroadcastShapes(a, b);
  if (out === null) {
    throw new Error(`${op}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast`);
  }
  return out;
}

/**
 * Strides with which to read a tensor of shape `from` as if it had the (broadcast) shape `to`:
 * broadcast axes get stride 0. Assumes `from` broadcasts to `to`.
 */
export function broadcastStrides(from: Shape, to: Shape): number[] {
  const own = stridesOf(from);
  const out = new Array<number>(to.length).fill(0);
  const lead = to.length - from.length;
  for (let i = 0; i < from.length; i++) out[lead + i] = from[i] === 1 && to[lead + i] !== 1 ? 0 : own[i]!;
  return out;
}

/**
 * Normalise one axis (negative counts from the end) against a rank.
 * @throws Error `<op>: axis 2 is out of range for a tensor of rank 2` (also for non-integers).
 */
export function normalizeAxis(axis: number, rank: number, op: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new Error(
      `${op}: axis ${axis} is out of range for a tensor of rank ${rank}` +
        (rank > 0 ? ` (expected an integer in [${-rank}, ${rank - 1}])` : " (a 0-d tensor has no axes)"),
    );
  }
  return axis < 0 ? axis + rank : axis;
}

/**
 * Normalise an axis argument of a reduction: undefined → every axis; a number or list → sorted,
 * de-duplicated, non-negative axes.
 * @throws Error naming the op for an out-of-range or repeated axis.
 */
export function normalizeAxes(
  axis: number | readonly number[] | undefined,
  rank: number,
  op: string,
): number[] {
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === "number" ? [axis] : axis;
  if (!Array.isArray(list))
    throw new Error(`${op}: axis must be a number or an array of numbers, got ${String(axis)}`);
  const out = list.map((a) => normalizeAxis(a, rank, op));
  const seen = new Set<number>();
  for (const a of out) {
    if (seen.has(a)) throw new Error(`${op}: axis ${a} is repeated in [${list.join(", ")}]`);
    seen.add(a);
  }
  return out.sort((x, y) => x - y);
}

/** Validate a shape given by a user: a list of non-negative integers. */
export function assertShape(shape: unknown, op: string): asserts shape is number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(
      `${op}: a shape must be an array of non-negative integers, got ${Array.isArray(shape) ? `[${shape.join(", ")}]` : String(shape)}`,
    );
  }
}

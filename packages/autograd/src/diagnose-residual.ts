/**
 * @file Name a missing or extra *term* in a gradient from the shape of its residual r = ${E} − ${R}:
 * r proportional to the quantity's own value (an L2 / weight-decay term), r constant along an axis (a path
 * through a mean: batch norm's μ, a centring), r proportional to another value with one coefficient per
 * line (a path through a variance), r at exactly one element per row or column (the −1 at the true class of
 * softmax − onehot(y)), and r equal to a softmax over one axis minus one over the other (a softmax or
 * logsumexp over the wrong axis). Used by `diagnoseMismatch` and `checkDerivation`.
 */
import { formatNumber } from "./format.js";
import { stridesOf } from "./shape.js";
import type { Tensor } from "./tensor.js";

/** What the residual analysis may use besides the two gradients. */
export interface ResidualContext {
  /** The gradient's name in the sentence (`dW2`). */
  name: string;
  /** The quantity the gradient is of (`W2`) and its value, for "proportional to its own value". */
  of?: { name: string; value: Tensor; isParameter: boolean };
  /** Other values of the same shape (named forward values), for "proportional to x̂ per column". */
  related?: readonly { name: string; value: Tensor }[];
  /** Axes the forward reduces over for a tensor of this shape (sum, mean, softmax, logsumexp). */
  reducedAxes?: readonly number[];
  /** Sizes a coefficient may be 1/size of (the batch size m, the axis lengths). */
  sizes?: readonly number[];
  /** What to call the two gradients: default `["returned", "expected"]` (gradcheck: analytic, numeric). */
  labels?: readonly [string, string];
}

/** A residual "fits" a model when ‖r − model‖ ≤ FIT·‖r‖ (r itself carries rounding of the two gradients). */
const FIT = 1e-3;

function norm2(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
}

/** The least-squares k in r ≈ k·v, and whether it fits. */
function fitMultiple(r: Float64Array, v: ArrayLike<number>, rNorm: number): { k: number; fits: boolean } {
  let rv = 0;
  let vv = 0;
  for (let i = 0; i < r.length; i++) {
    rv += r[i]! * v[i]!;
    vv += v[i]! * v[i]!;
  }
  if (vv === 0) return { k: 0, fits: false };
  const k = rv / vv;
  let e = 0;
  for (let i = 0; i < r.length; i++) e += (r[i]! - k * v[i]!) ** 2;
  return { k, fits: k !== 0 && Math.sqrt(e) <= FIT * rNorm };
}

/**
 * For each line along `axis`, the least-squares coefficient c in r ≈ c·v on that line (v = 1: the line's
 * mean), broadcast back; and whether that model fits r.
 */
function fitPerLine(r: Float64Array, v: ArrayLike<number> | null, shape: readonly number[], axis: number) {
  const n = shape[axis]!;
  const stride = stridesOf(shape)[axis]!;
  const model = new Float64Array(r.length);
  for (let i = 0; i < r.length; i++) {
    if (Math.floor(i / stride) % n !== 0) continue; // i starts a line
    let rv = 0;
    let vv = 0;
    for (let j = 0; j < n; j++) {
      const at = i + j * stride;
      const vj = v === null ? 1 : v[at]!;
      rv += r[at]! * vj;
      vv += vj * vj;
    }
    const c = vv === 0 ? 0 : rv / vv;
    for (let j = 0; j < n; j++) model[i + j * stride] = c * (v === null ? 1 : v[i + j * stride]!);
  }
  let e = 0;
  for (let i = 0; i < r.length; i++) e += (r[i]! - model[i]!) ** 2;
  return Math.sqrt(e) <= FIT * norm2(r);
}

/** `0.25 (= 1/4)` when a value is 1/size for one of the sizes. */
function withFraction(v: number, sizes: readonly number[]): string {
  const sign = v < 0 ? "−" : "";
  for (const m of sizes)
    if (m > 1 && Math.abs(Math.abs(v) * m - 1) <= 1e-6)
      return `${sign}${formatNumber(Math.abs(v))} (= ${sign}1/${m})`;
  return `${sign}${formatNumber(Math.abs(v))}`;
}

/** softmax of a 2-D array along `axis`. */
function softmax2d(x: Float64Array, rows: number, cols: number, axis: number): Float64Array {
  const out = new Float64Array(x.length);
  const lines = axis === 0 ? cols : rows;
  const len = axis === 0 ? rows : cols;
  const at = (line: number, k: number): number => (axis === 0 ? k * cols + line : line * cols + k);
  for (let l = 0; l < lines; l++) {
    let mx = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < len; k++) mx = Math.max(mx, x[at(l, k)]!);
    let s = 0;
    for (let k = 0; k < len; k++) s += Math.exp(x[at(l, k)]! - mx);
    for (let k = 0; k < len; k++) out[at(l, k)] = Math.exp(x[at(l, k)]! - mx) / s;
  }
  return out;
}

/**
 * Recognise the residual r = ${E} − ${R} as a missing (or extra) term of a known shape.
 * @returns a sentence, or null when r has none of the shapes in the file comment.
 */
export function diagnoseResidual(
  returned: ArrayLike<number>,
  expected: ArrayLike<number>,
  shape: readonly number[],
  context: ResidualContext,
): string | null {
  const { name } = context;
  const [R, E] = context.labels ?? ["returned", "expected"];
  const sizes = context.sizes ?? shape;
  const r = new Float64Array(expected.length);
  for (let i = 0; i < r.length; i++) r[i] = expected[i]! - returned[i]!;
  const rNorm = norm2(r);
  if (!(rNorm > 0) || !Number.isFinite(rNorm)) return null;

  // A term proportional to the quantity's own value: weight decay, λ/m·W.
  const of = context.of;
  if (of !== undefined && of.value.size === r.length) {
    const { k, fits } = fitMultiple(r, of.value.data, rNorm);
    if (fits) {
      const c = formatNumber(Math.abs(k));
      if (of.isParameter) {
        return k > 0
          ? `${name}: missing the L2 / weight-decay term (λ/m)·${of.name}, with λ/m = ${c}? (${E} − ${R} = ${c}·${of.name})`
          : `${name}: an extra term ${c}·${of.name}: an L2 / weight-decay term (λ/m)·${of.name} where the cost has none, or added twice? (${R} − ${E} = ${c}·${of.name})`;
      }
      return `${name}: a term ${k > 0 ? "is missing" : "is extra"} that is proportional to ${of.name} itself (${k > 0 ? `${E} − ${R}` : `${R} − ${E}`} = ${c}·${of.name}) — a path from ${of.name} straight into J?`;
    }
  }

  if (shape.length === 2 && shape[0]! > 1 && shape[1]! > 1) {
    const [rows, cols] = shape as [number, number];
    const big = 1e-6 * Math.max(...r.map(Math.abs));
    // Exactly one element per row (or column) carries the whole residual: a onehot term.
    for (const perRow of [true, false]) {
      const lines = perRow ? rows : cols;
      const len = perRow ? cols : rows;
      let one = true;
      const values: number[] = [];
      const where = new Set<number>();
      for (let l = 0; l < lines && one; l++) {
        let count = 0;
        for (let k = 0; k < len; k++) {
          const v = r[perRow ? l * cols + k : k * cols + l]!;
          if (Math.abs(v) > big) {
            count++;
            values.push(v);
            where.add(k);
          }
        }
        one = count === 1;
      }
      // (all in one column is "constant along an axis", below)
      if (!one || where.size < 2) continue;
      const same = values.every((v) => Math.abs(v - values[0]!) <= 1e-6 * Math.abs(values[0]!));
      const line = perRow ? "row" : "column";
      const amount = same
        ? `${E} − ${R} = ${withFraction(values[0]!, sizes)} at one element of each ${line}`
        : `${E} − ${R} is non-zero at exactly one element of each ${line}`;
      return `${name}: a term at one element per ${line} is missing: the −1 at the true class (softmax − onehot(y))? (${amount})`;
    }
  }

  if (shape.length >= 1) {
    // Constant along an axis: a term every example shares, like the path through a mean.
    const axes = [...shape.keys()].filter((a) => shape[a]! > 1);
    const preferred = [...(context.reducedAxes ?? []).filter((a) => axes.includes(a)), ...axes];
    for (const a of preferred) {
      if (fitPerLine(r, null, shape, a)) {
        const via = context.reducedAxes?.includes(a) ? `; the forward reduces over axis ${a}` : "";
        return `${name}: a term that is the same for every example is missing: the path through a mean over axis ${a} (batch norm's μ, a centring)? (${E} − ${R} is constant along axis ${a}, length ${shape[a]}${via})`;
      }
    }
    // Proportional to another value, one coefficient per line: the path through a variance.
    for (const u of context.related ?? []) {
      if (u.value.size !== r.length) continue;
      for (const a of preferred) {
        if (fitPerLine(r, u.value.data, shape, a) && !fitMultiple(r, u.value.data, rNorm).fits) {
          return `${name}: a term proportional to ${u.name}, with one coefficient per line along axis ${a}, is missing — the path through a variance (batch norm's σ², a normalisation) over axis ${a}?`;
        }
      }
    }
  }

  if (shape.length === 2 && shape[0]! > 1 && shape[1]! > 1) {
    const [rows, cols] = shape as [number, number];
    // A softmax over the other axis: r = k·(softmax over the forward's axis − softmax over the other).
    if (of !== undefined && of.value.size === r.length) {
      for (const a of context.reducedAxes ?? []) {
        if (a !== 0 && a !== 1) continue;
        const right = softmax2d(of.value.data, rows, cols, a);
        const wrong = softmax2d(of.value.data, rows, cols, 1 - a);
        const diff = right.map((v, i) => v - wrong[i]!);
        const { k, fits } = fitMultiple(r, diff, rNorm);
        if (fits && k > 0) {
          return `${name}: a softmax (or logsumexp, or mean) over axis ${1 - a} where the forward's is over axis ${a} — the other axis? (${E} − ${R} ∝ softmax(${of.name}, axis ${a}) − softmax(${of.name}, axis ${1 - a}))`;
        }
      }
    }
  }
  return null;
}

/**
 * @file Explain, in words, how an analytic gradient differs from a numeric one: a constant factor
 * (×2, ×m — a forgotten 1/m), a sign flip, a transposed gradient, a sum along the wrong axis, an all-zero
 * or non-finite gradient. Used by `gradcheck`, exported for hand-written backprop checks.
 */
import { diagnoseResidual, type ResidualContext } from "./diagnose-residual.js";
import { formatNumber } from "./format.js";
import { formatShape, type Shape, stridesOf } from "./shape.js";
import type { Tensor } from "./tensor.js";

/** Context of `diagnoseMismatch`. */
export interface DiagnoseContext {
  /** How to call the gradient in the sentence (`dW1`, `input 0`). Default `"gradient"`. */
  name?: string;
  /**
   * Axis lengths that may appear as a forgotten or extra factor (the batch size m, a layer width).
   * The gradient's own axis lengths are always considered.
   */
  sizes?: readonly number[];
  /**
   * What to call the two gradients: default `["analytic", "numeric"]`; `checkBackprop` says
   * `["manual", "tape"]`, `checkDerivation` `["returned", "expected"]`.
   */
  labels?: readonly [string, string];
  /** The input's own value, so that a missing or extra term proportional to it (L2) is named. */
  of?: ResidualContext["of"];
  /** Axes the forward reduces over for a tensor of this shape (named in "constant along an axis"). */
  reducedAxes?: readonly number[];
  /** Other values of the gradient's shape (for "proportional to x̂ per column"). */
  related?: ResidualContext["related"];
}

/**
 * Per-element size of the finite-difference error of tensors made by `numericGradient` (rounding of f at
 * x ± ε divided by 2ε, and the rounding of the step itself), so that a verdict accounts for the noise of
 * the ε used. Weak: the tensors stay collectable.
 */
const finiteDifferenceNoise = new WeakMap<Tensor, Float64Array>();

/** Record that `numeric` is a finite-difference estimate with per-element error about `noise`. */
export function markFiniteDifference(numeric: Tensor, noise: Float64Array): void {
  finiteDifferenceNoise.set(numeric, noise);
}

/** Below this relative difference the two gradients agree and there is nothing to diagnose. */
const AGREE = 1e-7;
/** A pattern "fits" when the transformed numeric gradient matches the analytic one this well. */
const FIT = 1e-4;

/** ‖a − b‖₂ / (‖a‖₂ + ‖b‖₂) over raw arrays; 0 when both are zero, NaN if either holds NaN. */
export function relativeDifferenceOf(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    diff += (x - y) * (x - y);
    na += x * x;
    nb += y * y;
  }
  const denom = Math.sqrt(na) + Math.sqrt(nb);
  if (Number.isNaN(diff) || Number.isNaN(denom)) return Number.NaN;
  return denom === 0 ? 0 : Math.sqrt(diff) / denom;
}

/** `[2, 0]`: the position of flat index `index` in `shape`. */
export function unravelIndex(index: number, shape: Shape): number[] {
  const pos = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    const n = shape[i]!;
    pos[i] = n === 0 ? 0 : index % n;
    index = n === 0 ? 0 : Math.floor(index / n);
  }
  return pos;
}

/** `dW1[2, 0]` for a name like an identifier, `input 0 at [2, 0]` otherwise. */
export function elementName(name: string, pos: readonly number[]): string {
  return /^[\p{L}_$][\p{L}\p{N}_$]*$/u.test(name)
    ? `${name}[${pos.join(", ")}]`
    : `${name} at [${pos.join(", ")}]`;
}

/** The flat index where |a − b| is largest (NaN counts as largest). */
export function worstIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  let worstErr = -1;
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(err)) return i;
    if (err > worstErr) {
      worstErr = err;
      worst = i;
    }
  }
  return worst;
}

/** Sum of `data` (shape `shape`) along `axis`, broadcast back to `shape`: each entry gets its line's total. */
function sumAlongBroadcast(data: Float64Array, shape: Shape, axis: number): Float64Array {
  const strides = stridesOf(shape);
  const n = shape[axis]!;
  const stride = strides[axis]!;
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const k = Math.floor(i / stride) % n;
    const base = i - k * stride;
    if (k !== 0) {
      out[i] = out[base]!;
      continue;
    }
    let s = 0;
    for (let j = 0; j < n; j++) s += data[base + j * stride]!;
    out[i] = s;
  }
  return out;
}

/** The data of a [r, c] matrix transposed (read as [c, r] after transposing). */
function transposed2d(data: Float64Array, r: number, c: number): Float64Array {
  const out = new Float64Array(data.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = data[i * c + j]!;
  return out;
}

function scaled(data: Float64Array, c: number): Float64Array {
  return data.map((v) => v * c);
}

/** Name a constant ratio analytic/numeric in words. */
function describeRatio(c: number, sizes: readonly number[]): string {
  const near = (x: number, y: number): boolean => Math.abs(x - y) <= 1e-3 * Math.abs(y);
  const sign = c < 0 ? "−" : "";
  const a = Math.abs(c);
  const flip = c < 0 ? " and the sign is flipped" : "";
  if (near(c, -1))
    return "analytic = −numeric: the sign is flipped (a − where a + belongs, or y − ŷ for ŷ − y?)";
  if (near(a, 2)) return `analytic = ${sign}2 × numeric: a factor-of-two error${flip}?`;
  if (near(a, 0.5)) return `analytic = ${sign}½ × numeric: a missing factor of 2 (d x² = 2x?)${flip}`;
  for (const m of sizes) {
    if (m <= 2) continue;
    if (near(a, m))
      return `analytic = ${sign}${m} × numeric: missing 1/m (m = ${m})? A sum where a mean was meant${flip}`;
    if (near(a, 1 / m))
      return `analytic = ${sign}numeric / ${m}: an extra factor 1/m (m = ${m}) — divided by m twice${flip}?`;
  }
  return `analytic = ${formatNumber(c)} × numeric everywhere (a constant factor ×${formatNumber(c)})`;
}

/**
 * Explain how `analytic` differs from `numeric` (same shape), in one sentence naming the gradient and its
 * worst element: a constant ratio (×2, ×½, −1, ×m or ×1/m for a size m from `context.sizes` or the
 * gradient's axes — "missing 1/m?"), a transposed gradient, a sum along the wrong axis, an all-zero
 * analytic gradient, zeros where numeric is not (a dropped branch), NaN/Infinity, or a shape mismatch.
 * Missing or extra terms are named from the residual numeric − analytic (see `diagnoseResidual`): a term
 * proportional to the input's own value (`context.of`: an L2 term), constant along an axis (a path through a
 * mean), at one element per row or column (a onehot term).
 * A mismatch with no recognisable pattern is still described (how many elements differ, the worst one).
 * @returns null when the two agree (relative difference ≤ 1e-7, or, for a tensor made by
 *   `numericGradient`, within 10× the finite-difference noise of its ε), else the sentence.
 * @example diagnoseMismatch(dW1, numericDW1, { name: "dW1", sizes: [m] })
 *   // "dW1: analytic = 400 × numeric: missing 1/m (m = 400)? … (worst dW1[2, 0]: analytic 12.4, numeric 0.031)"
 */
export function diagnoseMismatch(
  analytic: Tensor,
  numeric: Tensor,
  context: DiagnoseContext = {},
): string | null {
  const sentence = diagnose(analytic, numeric, context);
  const labels = context.labels;
  if (sentence === null || labels === undefined) return sentence;
  // The sentences below say "analytic" and "numeric"; speak the caller's vocabulary instead.
  return sentence.replace(/\banalytic\b/g, labels[0]).replace(/\bnumeric\b/g, labels[1]);
}

function diagnose(analytic: Tensor, numeric: Tensor, context: DiagnoseContext): string | null {
  const name = context.name ?? "gradient";
  const shape = numeric.shape;
  const A = analytic.data;
  const N = numeric.data;
  if (
    A.length !== N.length ||
    analytic.shape.length !== shape.length ||
    analytic.shape.some((d, i) => d !== shape[i])
  ) {
    return `${name}: the analytic gradient has shape ${formatShape(analytic.shape)}, expected ${formatShape(shape)} (the input's shape)`;
  }
  if (A.length === 0) return null;
  const at = (i: number): string => elementName(name, unravelIndex(i, shape));
  const worstText = (i: number): string =>
    `(worst ${at(i)}: analytic ${formatNumber(A[i]!)}, numeric ${formatNumber(N[i]!)})`;

  for (let i = 0; i < A.length; i++) {
    if (!Number.isFinite(A[i]!)) {
      return `${name}: the analytic gradient has ${A[i]} at [${unravelIndex(i, shape).join(", ")}] (numeric ${formatNumber(N[i]!)}) — a 0/0, log 0 or division by zero in the backward? Run it inside detectAnomaly to find the op`;
    }
  }
  for (let i = 0; i < N.length; i++) {
    if (!Number.isFinite(N[i]!)) {
      return `${name}: the numeric gradient has ${N[i]} at [${unravelIndex(i, shape).join(", ")}]: f is not finite near the input (move the input into f's domain)`;
    }
  }

  const base = relativeDifferenceOf(A, N);
  if (base <= AGREE) return null;
  const noise = finiteDifferenceNoise.get(numeric);
  if (noise !== undefined) {
    // A finite-difference estimate is only as good as its step: agreement within 10× its rounding noise
    // (f's rounding over 2ε, the step's own rounding) is agreement.
    let diff = 0;
    let n2 = 0;
    for (let i = 0; i < A.length; i++) {
      diff += (A[i]! - N[i]!) ** 2;
      n2 += noise[i]! ** 2;
    }
    if (Math.sqrt(diff) <= 10 * Math.sqrt(n2)) return null;
  }
  const worst = worstIndex(A, N);
  const fits = (candidate: ArrayLike<number>): boolean => {
    const d = relativeDifferenceOf(A, candidate);
    return d <= FIT && d < base / 10;
  };

  let normA = 0;
  let normN = 0;
  for (let i = 0; i < A.length; i++) {
    normA = Math.max(normA, Math.abs(A[i]!));
    normN = Math.max(normN, Math.abs(N[i]!));
  }
  if (normA === 0) {
    return `${name}: the analytic gradient is all zeros but the numeric one is not — the gradient does not reach this input (a detach, noGrad, or a backward that returns zeros?) ${worstText(worst)}`;
  }
  if (normN === 0) {
    return `${name}: the numeric gradient is zero (f does not depend on this input) but the analytic one is not ${worstText(worst)}`;
  }

  // Constant ratio: the least-squares c in A ≈ c·N.
  let an = 0;
  let nn = 0;
  for (let i = 0; i < A.length; i++) {
    an += A[i]! * N[i]!;
    nn += N[i]! * N[i]!;
  }
  const c = an / nn;
  if (Math.abs(c - 1) > 1e-3 && fits(scaled(N, c))) {
    const sizes = [...(context.sizes ?? []), ...shape];
    return `${name}: ${describeRatio(c, sizes)} ${worstText(worst)}`;
  }

  if (shape.length === 2) {
    const [r, cols] = shape as [number, number];
    if (r > 1 && cols > 1 && fits(transposed2d(N, r, cols))) {
      return `${name}: the analytic gradient is the numeric one transposed${r === cols ? "" : ` (read as ${formatShape([cols, r])})`} — a missing or extra .T (dW = dZ·Xᵀ, not X·dZᵀ?) ${worstText(worst)}`;
    }
  }

  for (let axis = 0; axis < shape.length; axis++) {
    const m = shape[axis]!;
    if (m < 2) continue;
    const summedN = sumAlongBroadcast(N, shape, axis);
    if (fits(summedN) || fits(scaled(summedN, 1 / m))) {
      const mean = !fits(summedN);
      return `${name}: every analytic entry along axis ${axis} equals the numeric gradient ${mean ? "averaged" : "summed"} along axis ${axis} (length ${m}) — a ${mean ? "mean" : "sum"} along the wrong axis, or a broadcast where none belongs? ${worstText(worst)}`;
    }
    const summedA = sumAlongBroadcast(A, shape, axis);
    if (relativeDifferenceOf(summedA, N) <= FIT) {
      return `${name}: the numeric gradient is constant along axis ${axis} and equals the analytic one summed along it — the analytic gradient was not summed over axis ${axis} (length ${m}) where the input was broadcast ${worstText(worst)}`;
    }
  }

  // Element-wise: zeros where numeric is not (a mask or branch dropped), or isolated wrong elements.
  const tol = 1e-5 * normN;
  let differ = 0;
  let zeroed = 0;
  for (let i = 0; i < A.length; i++) {
    if (Math.abs(A[i]! - N[i]!) <= tol + 1e-5 * Math.abs(N[i]!)) continue;
    differ++;
    if (A[i] === 0) zeroed++;
  }
  if (differ > 0 && zeroed === differ) {
    return `${name}: the analytic gradient is 0 at ${zeroed} of ${A.length} elements where the numeric one is not, and right elsewhere — a mask or branch dropped (relu/max/where)? ${worstText(worst)}`;
  }
  const term = diagnoseResidual(A, N, shape, {
    name,
    of: context.of,
    related: context.related,
    reducedAxes: context.reducedAxes,
    sizes: [...(context.sizes ?? []), ...shape],
    labels: ["analytic", "numeric"],
  });
  if (term !== null) return `${term} ${worstText(worst)}`;
  if (differ === 0) {
    // Above the agreement threshold overall, yet no single element is off by more than 1e-5 relative.
    return `${name}: a small mismatch spread over the elements (relative difference ${base.toExponential(2)}, above ${AGREE}, but every element within 1e-5) — rounding in a long or ill-conditioned computation, a slightly wrong constant, or a step size too large for the numeric estimate ${worstText(worst)}`;
  }
  return `${name}: ${differ} of ${A.length} elements differ, with no simple pattern (not a constant factor, transpose or axis sum) ${worstText(worst)}`;
}

/**
 * @file Gradient checking: compare the tape's gradients with central finite differences (float64,
 * Richardson-extrapolated, kink-aware) and explain a mismatch in words. Also the course's two small tools,
 * `numericGradient` and `relativeDifference`.
 */
import {
  diagnoseMismatch,
  elementName,
  markFiniteDifference,
  relativeDifferenceOf,
  unravelIndex,
  worstIndex,
} from "./diagnose.js";
import { formatNumber, formatTable } from "./format.js";
import { enableGrad, noGrad } from "./grad-mode.js";
import { toTensor } from "./ops/index.js";
import { formatShape } from "./shape.js";
import { runBackward } from "./tape.js";
import { Tensor } from "./tensor.js";

/** Options of `gradcheck` and `assertGradients`. */
export interface GradcheckOptions {
  /** An input passes when `relativeDifference(analytic, numeric) ≤ rtol`. Default 1e-6. */
  rtol?: number;
  /** …or when every element differs by at most `atol` (gradients near zero). Default 1e-8. */
  atol?: number;
  /** Relative finite-difference step: element x is moved by ±h and ±h/2 with h = eps·max(1, |x|). Default 1e-4. */
  eps?: number;
  /** Names of the inputs in the report (`["W1", "b1"]`); default `input 0`, `input 1`, …. */
  names?: readonly string[];
  /** Indices of the inputs to check; default all. The others are passed through unchanged. */
  wrt?: readonly number[];
  /** Extra sizes (the batch size m, …) the diagnosis may name as a forgotten factor 1/m. */
  sizes?: readonly number[];
  /** Seed of the fixed random weights that reduce a non-scalar output to a scalar. Default 1. */
  seed?: number;
  /**
   * Check at most this many elements of each input, a random sample (seeded) when an input has more:
   * 4 evaluations of f per element make every element of a (300, 100) input cost minutes. Default: all.
   */
  maxElements?: number;
}

/** The check of one input. */
export interface GradcheckInputReport {
  /** Position of the input in the argument list. */
  index: number;
  /** Its name in the report. */
  name: string;
  shape: readonly number[];
  ok: boolean;
  /** ‖analytic − numeric‖₂ / (‖analytic‖₂ + ‖numeric‖₂). */
  relativeDifference: number;
  /** max |analytic − numeric| over the elements. */
  maxAbsError: number;
  /** The element with the largest absolute error. */
  worst: { at: number[]; analytic: number; numeric: number };
  /** What the mismatch looks like, in words; null when the input passed. */
  diagnosis: string | null;
  /** The tape's gradient (zeros when the output does not depend on this input). */
  analytic: Tensor;
  /** The finite-difference gradient (NaN at elements a `maxElements` sample left out). */
  numeric: Tensor;
  /** Number of elements where the numeric derivative depends on the step: f has a kink there. */
  kinks: number;
  /** Number of elements compared (fewer than the input's size when `maxElements` sampled them). */
  checked: number;
  /**
   * A caveat on a passing check, or null: both gradients are ~0 (f does not depend on the input here, so
   * the check proves nothing), or only a random sample of elements was compared.
   */
  warning: string | null;
}

/** The result of `gradcheck`. */
export interface GradcheckReport {
  /** True when every checked input passed. */
  ok: boolean;
  /** The largest relative difference over the inputs. */
  relativeDifference: number;
  inputs: GradcheckInputReport[];
  /** The inputs' warnings (both gradients ~0, a sampled check). */
  warnings: string[];
  /** A short table, one row per input, then the warnings. */
  toString(): string;
}

/** mulberry32: a tiny seeded generator, so a check is reproducible. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function callF(f: (...xs: Tensor[]) => Tensor, xs: Tensor[]): Tensor {
  const out = f(...xs);
  if (!(out instanceof Tensor))
    throw new Error(`gradcheck: f must return a Tensor, got ${out === null ? "null" : typeof out}`);
  return out;
}

/**
 * Check the gradients of `f` at `inputs` against central finite differences, every element of every
 * input (2·2 evaluations of f per element: use it on small problems, up to a few hundred elements).
 *
 * A non-scalar output is reduced to the scalar Σ wₖ·f(x)ₖ with fixed random weights wₖ ∈ [0.5, 1.5)
 * (seeded), so one backward pass checks every input element against one random row combination of the
 * Jacobian; an error in any Jacobian entry shows up unless it is cancelled by an exactly opposite one.
 *
 * Numerics, in float64: central differences with steps h and h/2 (h = eps·max(1, |x|), eps = 1e-4),
 * combined by Richardson extrapolation (error O(h⁴)). An element where the two central estimates disagree
 * much more than smoothness allows, or where the left and right one-sided slopes differ by a jump that
 * does not shrink with h, is a kink (relu at 0): reported as such.
 *
 * An input passes when relativeDifference ≤ rtol (1e-6) or every |analytic − numeric| ≤ atol (1e-8).
 * A failing input gets a diagnosis (see `diagnoseMismatch`), or a kink note. A passing input whose two
 * gradients are both ~0 (≤ atol) gets a warning: the check proved nothing. When the backward throws (a
 * custom op's gradient of the wrong shape), each input is differentiated alone: those whose backward
 * throws are reported as failed with the error, the others are checked.
 * With `maxElements`, a larger input is checked on a random sample of its elements, and the report says so.
 * @throws Error if f does not return a Tensor, or an input is not a Tensor or number.
 * @example gradcheck((x, w) => sum(tanh(matmul(x, w))), [x, w]).ok
 */
export function gradcheck(
  f: (...xs: Tensor[]) => Tensor,
  inputs: readonly (Tensor | number)[],
  options: GradcheckOptions = {},
): GradcheckReport {
  const rtol = options.rtol ?? 1e-6;
  const atol = options.atol ?? 1e-8;
  const eps = options.eps ?? 1e-4;
  const xs = inputs.map((x, i) => toTensor(x, "gradcheck", i + 1).detach());
  const wrt = options.wrt ?? xs.map((_, i) => i);
  for (const i of wrt) {
    if (!Number.isInteger(i) || i < 0 || i >= xs.length)
      throw new Error(`gradcheck: wrt index ${i} is out of range for ${xs.length} inputs`);
  }

  const out0 = noGrad(() => callF(f, xs));
  const rand = random(options.seed ?? 1);
  const weights = out0.size === 1 ? null : Float64Array.from({ length: out0.size }, () => 0.5 + rand());
  const scalar = (out: Tensor): number => {
    if (weights === null) return out.data[0]!;
    let s = 0;
    for (let k = 0; k < weights.length; k++) s += weights[k]! * out.data[k]!;
    return s;
  };

  // Analytic: one backward pass from Σ wₖ·outₖ, seeded with the weights.
  const leaves = xs.map((x, i) => (wrt.includes(i) ? new Tensor(x.data.slice(), x.shape, true) : x));
  const out = enableGrad(() => callF(f, leaves));
  const targets = wrt.map((i) => leaves[i]!);
  const seed = new Tensor(weights ?? new Float64Array([1]), out.shape);
  let grads: (Tensor | null)[];
  const thrown = new Map<number, string>();
  try {
    grads = out.requiresGrad ? runBackward(out, seed, false, targets)! : targets.map(() => null);
  } catch {
    // Differentiate each input alone (the others as constants), so one broken gradient fails only its input.
    grads = wrt.map((index, k) => {
      const alone = xs.map((x, i) => (i === index ? leaves[index]! : x));
      try {
        const o = enableGrad(() => callF(f, alone));
        return o.requiresGrad ? runBackward(o, seed, false, [alone[index]!])![0]! : null;
      } catch (e) {
        thrown.set(k, e instanceof Error ? e.message : String(e));
        return null;
      }
    });
  }

  const f0 = scalar(out0);
  const sizes = [...(options.sizes ?? []), ...xs.flatMap((x) => x.shape), ...out0.shape];
  const reports = wrt.map((index, k): GradcheckInputReport => {
    const x = xs[index]!;
    const name = options.names?.[index] ?? `input ${index}`;
    const analytic = grads[k] ?? new Tensor(new Float64Array(x.size), x.shape);
    const sample = sampleIndices(x.size, options.maxElements, rand);
    const numeric = new Float64Array(x.size).fill(sample.length < x.size ? Number.NaN : 0);
    const kink = new Uint8Array(x.size);
    const oneSided: [number, number][] = [];
    noGrad(() => {
      const args = [...xs];
      const at = (j: number, delta: number): number => {
        const moved = x.data.slice();
        moved[j]! += delta;
        args[index] = new Tensor(moved, x.shape);
        return scalar(callF(f, args));
      };
      for (const j of sample) {
        const h = eps * Math.max(1, Math.abs(x.data[j]!));
        const fp1 = at(j, h);
        const fm1 = at(j, -h);
        const fp2 = at(j, h / 2);
        const fm2 = at(j, -h / 2);
        const d1 = (fp1 - fm1) / (2 * h);
        const d2 = (fp2 - fm2) / h;
        // Richardson: d(h) = f' + c·h² + O(h⁴), so (4·d(h/2) − d(h)) / 3 = f' + O(h⁴).
        const D = (4 * d2 - d1) / 3;
        numeric[j] = D;
        // Smooth f: the one-sided slopes differ by ≈ h·f'' (halves with h) and d1 − d2 ≈ h²·f'''/8;
        // at a kink the jump stays and the central estimates drift. Roundoff adds ≈ 1e-16·|f|/h.
        const noise = 1e-9 * Math.abs(f0) + 1e-10;
        const jump1 = (fp1 - 2 * f0 + fm1) / h;
        const jump2 = (fp2 - 2 * f0 + fm2) / (h / 2);
        const scale = 1e-4 * Math.abs(D) + 1e-6;
        const steady = Math.abs(jump2) > 0.75 * Math.abs(jump1) && Math.abs(jump2) > scale + noise;
        const drift = Math.abs(d1 - d2) > 1e-3 * (Math.abs(D) + 1e-3) + noise;
        if (steady || drift) {
          kink[j] = 1;
          oneSided[j] = [(f0 - fm2) / (h / 2), (fp2 - f0) / (h / 2)];
        }
      }
    });
    const numericT = new Tensor(numeric, x.shape);
    const sampled = sample.length < x.size;
    // Compare on the checked elements (all, or the sample).
    const A = sampled ? Float64Array.from(sample, (j) => analytic.data[j]!) : analytic.data;
    const N = sampled ? Float64Array.from(sample, (j) => numeric[j]!) : numeric;
    const relDiff = relativeDifferenceOf(A, N);
    const w = sampled ? sample[worstIndex(A, N)]! : worstIndex(A, N);
    let maxAbs = 0;
    let maxBoth = 0;
    for (let j = 0; j < A.length; j++) {
      maxAbs = Math.max(maxAbs, Math.abs(A[j]! - N[j]!));
      maxBoth = Math.max(maxBoth, Math.abs(A[j]!), Math.abs(N[j]!));
    }
    if (A.some((v) => !Number.isFinite(v))) maxAbs = Number.NaN;
    const error = thrown.get(k);
    const ok =
      error === undefined &&
      (A.length === 0 || (Number.isFinite(maxAbs) && (relDiff <= rtol || maxAbs <= atol)));
    const warnings: string[] = [];
    if (ok && A.length > 0 && maxBoth <= atol) {
      warnings.push(
        `${name}: both gradients are ~0 (every |analytic| and |numeric| ≤ ${atol}): f does not depend on this input here, so the check proves nothing — e.g. the plain sum of a batch-norm output is constant; weight the output with random values (sum(mul(out, R))) or check another loss`,
      );
    }
    if (sampled) {
      warnings.push(
        `${name}: checked ${sample.length} of ${x.size} elements (a random sample, maxElements ${sample.length})`,
      );
    }
    let diagnosis: string | null = null;
    if (error !== undefined) {
      diagnosis = `${name}: the backward threw: ${error}`;
    } else if (!ok && sampled) {
      diagnosis = diagnoseMismatch(new Tensor(A, [A.length]), new Tensor(N, [N.length]), {
        name: `${name} (a random sample of ${A.length} of ${x.size} elements)`,
        sizes,
      });
    } else if (!ok) {
      // A mismatch at a kink is the input's fault, not the gradient's: say so first.
      let kinkAt = -1;
      for (let j = 0; j < A.length && kinkAt < 0; j++) {
        if (kink[j] && Math.abs(A[j]! - numeric[j]!) > atol + 1e-5 * Math.abs(numeric[j]!)) kinkAt = j;
      }
      if (kinkAt >= 0 && Number.isFinite(A[kinkAt]!)) {
        const [left, right] = oneSided[kinkAt]!;
        diagnosis = `${elementName(name, unravelIndex(kinkAt, x.shape))}: f has a kink at ${formatNumber(x.data[kinkAt]!)} (one-sided slopes ${formatNumber(left)} left, ${formatNumber(right)} right; the numeric derivative depends on the step) — relu/abs/max at a tie? Move the input away from the kink (analytic ${formatNumber(A[kinkAt]!)}, numeric ${formatNumber(numeric[kinkAt]!)})`;
      } else {
        diagnosis = diagnoseMismatch(analytic, numericT, {
          name,
          sizes,
          of: { name, value: x, isParameter: true },
        });
      }
    }
    return {
      index,
      name,
      shape: x.shape,
      ok,
      relativeDifference: relDiff,
      maxAbsError: maxAbs,
      worst: { at: unravelIndex(w, x.shape), analytic: analytic.data[w] ?? 0, numeric: numeric[w] ?? 0 },
      diagnosis,
      analytic,
      numeric: numericT,
      kinks: kink.reduce((s, v) => s + v, 0),
      checked: A.length,
      warning: warnings.length > 0 ? warnings.join("; ") : null,
    };
  });

  const ok = reports.every((r) => r.ok);
  const worstRel = reports.reduce(
    (m, r) => (Number.isNaN(r.relativeDifference) ? Number.NaN : Math.max(m, r.relativeDifference)),
    0,
  );
  const warnings = reports.flatMap((r) => (r.warning === null ? [] : [r.warning]));
  return {
    ok,
    relativeDifference: worstRel,
    inputs: reports,
    warnings,
    toString: () =>
      [formatReport(reports, ok, rtol, atol), ...warnings.map((w) => `warning: ${w}`)].join("\n"),
  };
}

/** All indices 0…n−1, or `max` distinct ones drawn at random (sorted) when n is larger. */
function sampleIndices(n: number, max: number | undefined, rand: () => number): number[] {
  if (max === undefined || n <= max) return Array.from({ length: n }, (_, i) => i);
  if (!Number.isInteger(max) || max < 1)
    throw new Error(`gradcheck: maxElements must be a positive integer, got ${max}`);
  const picked = new Set<number>();
  while (picked.size < max) picked.add(Math.floor(rand() * n));
  return [...picked].sort((a, b) => a - b);
}

function formatReport(
  reports: readonly GradcheckInputReport[],
  ok: boolean,
  rtol: number,
  atol: number,
): string {
  const sci = (v: number): string => (Number.isFinite(v) ? v.toExponential(1) : String(v));
  const header = ["input", "shape", "rel. diff", "max abs err", "worst", "analytic", "numeric", "diagnosis"];
  const rows = reports.map((r) => [
    `${r.ok ? "✓" : "✗"} ${r.name}`,
    formatShape(r.shape),
    sci(r.relativeDifference),
    sci(r.maxAbsError),
    `[${r.worst.at.join(", ")}]`,
    formatNumber(r.worst.analytic),
    formatNumber(r.worst.numeric),
    r.diagnosis ?? (r.ok ? "" : "—"),
  ]);
  const table = formatTable(header, rows);
  const tol = `rtol ${rtol.toExponential()}, atol ${atol.toExponential()}`;
  const failed = reports.filter((r) => !r.ok).length;
  const title = ok
    ? `gradcheck: passed (${reports.length} input${reports.length === 1 ? "" : "s"}; ${tol})`
    : `gradcheck: FAILED for ${failed} of ${reports.length} input${reports.length === 1 ? "" : "s"} (${tol})`;
  return [title, ...table].join("\n");
}

/**
 * `gradcheck`, throwing when it fails: the Error's message is the report's table.
 * @returns the report, when every input passed.
 * @throws Error with the report text when an input fails.
 */
export function assertGradients(
  f: (...xs: Tensor[]) => Tensor,
  inputs: readonly (Tensor | number)[],
  options: GradcheckOptions = {},
): GradcheckReport {
  const report = gradcheck(f, inputs, options);
  if (!report.ok) throw new Error(report.toString());
  return report;
}

function valuesOf(v: Tensor | number, op: string, position: number): Float64Array {
  if (typeof v === "number") return new Float64Array([v]);
  if (v instanceof Tensor) return v.data;
  throw new Error(`${op}: argument ${position} must be a Tensor or a number, got ${typeof v}`);
}

/**
 * The course's measure of how far apart two gradients are: ‖a − b‖₂ / (‖a‖₂ + ‖b‖₂), in [0, 1];
 * 0 when both are zero, NaN when either holds NaN. Below ~1e-7 a backprop is almost certainly right.
 * @throws Error if a and b have different numbers of elements (or different shapes, for two tensors).
 */
export function relativeDifference(a: Tensor | number, b: Tensor | number): number {
  const x = valuesOf(a, "relativeDifference", 1);
  const y = valuesOf(b, "relativeDifference", 2);
  const shapesDiffer =
    a instanceof Tensor &&
    b instanceof Tensor &&
    (a.ndim !== b.ndim || a.shape.some((d, i) => d !== b.shape[i]));
  if (x.length !== y.length || shapesDiffer) {
    const shapeOf = (v: Tensor | number): string => (typeof v === "number" ? "[]" : formatShape(v.shape));
    throw new Error(`relativeDifference: shapes ${shapeOf(a)} and ${shapeOf(b)} differ`);
  }
  return relativeDifferenceOf(x, y);
}

/**
 * The gradient of a scalar function by central differences, the course's way:
 * ∂f/∂xᵢ ≈ (f(x + ε·eᵢ) − f(x − ε·eᵢ)) / 2ε, one pair of evaluations per element (under noGrad).
 * @param f maps a tensor of x's shape to a scalar (a size-1 Tensor or a number).
 * @returns a tensor of x's shape. `diagnoseMismatch` knows it came from here and treats a difference within
 *   10× the estimate's rounding noise (≈ 1e-16·|f|/ε per element) as agreement.
 * @throws Error if f returns something else.
 */
export function numericGradient(
  f: (x: Tensor) => Tensor | number,
  x: Tensor | number,
  options: { eps?: number } = {},
): Tensor {
  const eps = options.eps ?? 1e-7;
  const t = toTensor(x, "numericGradient");
  const value = (moved: Float64Array): number => {
    const y = f(new Tensor(moved, t.shape));
    if (typeof y === "number") return y;
    if (y instanceof Tensor && y.size === 1) return y.data[0]!;
    throw new Error(
      `numericGradient: f must return a number or a scalar Tensor, got ${y instanceof Tensor ? `shape ${formatShape(y.shape)}` : typeof y}`,
    );
  };
  const out = new Float64Array(t.size);
  const noise = new Float64Array(t.size);
  const u = Number.EPSILON;
  noGrad(() => {
    for (let i = 0; i < t.size; i++) {
      const plus = t.data.slice();
      const minus = t.data.slice();
      plus[i]! += eps;
      minus[i]! -= eps;
      const fp = value(plus);
      const fm = value(minus);
      out[i] = (fp - fm) / (2 * eps);
      // The estimate's rounding noise: f's rounding at x ± ε over 2ε, and the step's own rounding.
      noise[i] =
        (u * (Math.abs(fp) + Math.abs(fm))) / (2 * eps) +
        (u * Math.abs(t.data[i]!) * Math.abs(out[i]!)) / eps;
    }
  });
  const result = new Tensor(out, t.shape);
  markFiniteDifference(result, noise);
  return result;
}

/**
 * @file The diagnoses `checkDerivation` adds to `diagnoseMismatch`, which need the forward's context: a dZ
 * that is exactly m·∂J/∂Z (the course's convention) or ∂J/∂Z/m, a mean over the other axis than the
 * forward's, an activation's value g used where its derivative g′ belongs (or another activation's g′),
 * and a quantity J does not depend on. Everything else (constant factors, sign, transpose, wrong-axis
 * sums, missing terms) comes from `diagnoseMismatch` and the residual analysis.
 */

import { diagnoseMismatch, relativeDifferenceOf } from "./diagnose.js";
import type { ResidualContext } from "./diagnose-residual.js";
import { formatNumber } from "./format.js";
import type { Tensor } from "./tensor.js";

/** What `checkDerivation` knows about one returned gradient. */
export interface DerivationContext {
  /** The returned key (`dZ2`). */
  name: string;
  /** The quantity (`Z2`), its value, and whether it is an input (a parameter) or a named value. */
  of: NonNullable<ResidualContext["of"]>;
  /** The factor the user declared for this gradient (`scale`), 1 by default. */
  scale: number;
  /** Every axis length in the forward (candidates for the batch size m). */
  sizes: readonly number[];
  /** Axes the forward sums over (sum, mean, softmax, logsumexp) in tensors of this quantity's shape. */
  reducedAxes: readonly number[];
  /** The subset of `reducedAxes` that are means (a sum times 1/n). */
  meanAxes: readonly number[];
  /** Other named values of the same shape. */
  related: NonNullable<ResidualContext["related"]>;
  /** The ops that consume the quantity, with their outputs. */
  consumers: readonly { op: string; out: Tensor }[];
  /** Whether J depends on the quantity at all. */
  reachesJ: boolean;
}

const near = (x: number, y: number): boolean => Math.abs(x - y) <= 1e-6 * Math.abs(y);

/** g′ of the activations the check recognises, from their input z and output a. */
const derivatives: Record<string, (z: number, a: number) => number> = {
  tanh: (_z, a) => 1 - a * a,
  sigmoid: (_z, a) => a * (1 - a),
  relu: (z) => (z > 0 ? 1 : 0),
};
const values: Record<string, (z: number) => number> = {
  tanh: Math.tanh,
  sigmoid: (z) => 1 / (1 + Math.exp(-z)),
  relu: (z) => Math.max(z, 0),
};

/** The sentence for an activation slip, or null. */
function activationSlip(R: Float64Array, E: Float64Array, ctx: DerivationContext): string | null {
  if (ctx.consumers.length !== 1) return null;
  const { op, out } = ctx.consumers[0]!;
  const gPrime = derivatives[op];
  if (gPrime === undefined || out.size !== R.length) return null;
  const Z = ctx.of.value.data;
  const A = out.data;
  const fits = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => relativeDifferenceOf(a, b) <= 1e-8;
  // returned = u ⊙ g(Z) where expected = u ⊙ g′(Z): then returned ⊙ g′ = expected ⊙ A.
  const rg = R.map((r, i) => r * gPrime(Z[i]!, A[i]!));
  const ea = E.map((e, i) => e * A[i]!);
  if (fits(rg, ea)) {
    return `${ctx.name}: it multiplies by the activation ${op}(${ctx.of.name}) where its derivative ${op}′(${ctx.of.name}) belongs (g for g′)`;
  }
  // returned = u ⊙ h′(Z) for another activation h: the backward's activation is not the forward's.
  for (const [other, hPrime] of Object.entries(derivatives)) {
    if (other === op) continue;
    const h = values[other]!;
    // expected ⊙ h′ = u ⊙ g′ ⊙ h′ = returned ⊙ g′ when returned = u ⊙ h′.
    const eh = E.map((e, i) => e * hPrime(Z[i]!, h(Z[i]!)));
    if (R.some((r) => r !== 0) && fits(rg, eh)) {
      return `${ctx.name}: it uses ${other}'s derivative ${other}′(${ctx.of.name}), but the forward applies ${op} to ${ctx.of.name} — the backward's activation differs from the forward's`;
    }
  }
  return null;
}

/** The sentence for a constant ratio returned/expected that only the forward's context explains, or null. */
function ratioSlip(c: number, ctx: DerivationContext): string | null {
  const { name, scale } = ctx;
  const X = ctx.of.name;
  const shape = ctx.of.value.shape;
  // A mean over the other axis: the forward's mean over axis a divides by nₐ, the backward's by n_b.
  if (shape.length === 2) {
    for (const a of [0, 1]) {
      const b = 1 - a;
      const [na, nb] = [shape[a]!, shape[b]!];
      if (na === nb || !ctx.meanAxes.includes(a) || ctx.reducedAxes.includes(b)) continue;
      if (near(c, na / nb)) {
        return `${name}: a mean over axis ${b} (length ${nb}) where the forward's mean is over axis ${a} (length ${na}) — the other axis? (returned = ${na}/${nb} × expected)`;
      }
    }
  }
  if (ctx.of.isParameter) return null;
  const sizes = [...new Set(ctx.sizes)].filter((m) => m > 2).sort((x, y) => y - x);
  for (const m of sizes) {
    if (near(c, m)) {
      return scale === 1
        ? `${name} = m·∂J/∂${X} with m = ${m}: the course's convention? Pass scale: { ${X}: m }.`
        : `${name} = ${m} × (${formatNumber(scale)}·∂J/∂${X}): the factor is ${formatNumber(scale * m)}, not the scale: { ${X}: ${formatNumber(scale)} } passed?`;
    }
    if (near(c, 1 / m)) {
      return near(scale, m)
        ? `${name} = ∂J/∂${X}, not m·∂J/∂${X} as scale: { ${X}: ${m} } says: drop ${X} from scale, or multiply ${name} by m?`
        : `${name} = ∂J/∂${X} / m with m = ${m}: divided by m once too often (or pass scale: { ${X}: 1 / m })?`;
    }
  }
  return null;
}

/**
 * Explain how a returned gradient differs from what the tape expects (see the file comment), falling back
 * on `diagnoseMismatch` with the residual analysis.
 * @returns a sentence starting with the gradient's name.
 */
export function diagnoseDerivation(returned: Tensor, expected: Tensor, ctx: DerivationContext): string {
  const { name } = ctx;
  const X = ctx.of.name;
  if (!ctx.reachesJ) {
    return ctx.of.isParameter
      ? `${name}: J does not depend on ${X} (its gradient is 0): does the forward use p.${X}, not a ${X} from outside?`
      : `${name}: J does not depend on ${X} (its gradient is 0): use the tensor name() returns (const ${X} = name("${X}", …)) in the rest of the forward`;
  }
  const R = returned.data;
  const E = expected.data;
  if (R.every(Number.isFinite) && E.some((e) => e !== 0)) {
    let re = 0;
    let ee = 0;
    for (let i = 0; i < R.length; i++) {
      re += R[i]! * E[i]!;
      ee += E[i]! * E[i]!;
    }
    const c = re / ee;
    const scaledE = E.map((e) => e * c);
    if (Math.abs(c - 1) > 1e-3 && relativeDifferenceOf(R, scaledE) <= 1e-6) {
      const slip = ratioSlip(c, ctx);
      if (slip !== null) return slip;
    }
    const slip = activationSlip(R, E, ctx);
    if (slip !== null) return slip;
  }
  return (
    diagnoseMismatch(returned, expected, {
      name,
      sizes: ctx.sizes,
      labels: ["returned", "expected"],
      of: ctx.of,
      related: ctx.related,
      reducedAxes: ctx.reducedAxes,
    }) ?? `${name}: differs from the tape by a relative ${formatNumber(relativeDifferenceOf(R, E))}`
  );
}

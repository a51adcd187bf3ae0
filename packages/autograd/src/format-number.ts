/** @file How numbers are written in the diagnoses' sentences. */

/** A number for a sentence: 4 significant digits, exponent only when needed. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a < 1e-4 || a >= 1e6 ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

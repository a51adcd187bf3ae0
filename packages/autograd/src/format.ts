/** @file How the checkers write numbers in sentences, and their reports as aligned tables. */

/** A number for a sentence: 4 significant digits, exponent only when needed. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a < 1e-4 || a >= 1e6 ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

/** Rows of cells as aligned columns (two spaces apart; the last column is not padded). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

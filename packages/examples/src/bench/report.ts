/**
 * @file The benchmark's printed report: ms per step by size and implementation, tapegrad's speed against
 * each peer, the tape's overhead, the course job's time, and matmul GFLOP/s — plain fixed-width text.
 */
import { MATMUL_VARIANTS, type MatmulVariant, VARIANT_TEXT } from "./implementation.js";

/** A ms figure with about three significant digits. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const digits = ms < 1 ? 4 : ms < 10 ? 3 : ms < 100 ? 2 : ms < 1000 ? 1 : 0;
  return ms.toFixed(digits);
}

/** peer ms / tapegrad ms as words: "3.1× faster", "2.0× slower", "same". */
export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio) || ratio <= 0) return "–";
  const r = ratio >= 1 ? ratio : 1 / ratio;
  const text = r >= 9.95 ? r.toFixed(0) : r.toFixed(1);
  if (text === "1.0") return "same";
  return `${text}× ${ratio >= 1 ? "faster" : "slower"}`;
}

/** Columns two spaces apart: the first `leftColumns` left-aligned (labels), the others right-aligned (numbers). */
export function table(rows: readonly (readonly string[])[], leftColumns = 1): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, [...cell].length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => {
        const pad = " ".repeat(widths[i]! - [...cell].length);
        return i < leftColumns ? cell + pad : pad + cell;
      })
      .join("  ")
      .trimEnd(),
  );
}

/** What the report needs of the results (a subset of BenchResult). */
export interface ReportInput {
  implementations: readonly { id: string; dtype: string; tapegrad: boolean; status: string }[];
  steps: readonly { size: string; description: string; ms: Record<string, number | null> }[];
  ratios: readonly { size: string; path: string; peer: string; ratio: number }[];
  tapeOverhead: Record<string, number>;
  courseJobEstimateMs: number | null;
  matmul: {
    n: number;
    implementations: readonly { id: string; dtype: string; status: string }[];
    gflops: Record<string, Partial<Record<MatmulVariant, number>>>;
  };
}

/** The report as lines. */
export function formatReport(r: ReportInput): string[] {
  const lines: string[] = [];
  const ids = r.implementations.map((i) => i.id);
  lines.push("ms per full-batch training step (forward + cost + backward + SGD update), median");
  lines.push(
    ...table([
      ["size", ...ids],
      ["", ...r.implementations.map((i) => i.dtype)],
      ...r.steps.map((s) => [
        `${s.size} ${s.description}`,
        ...ids.map((id) => (s.ms[id] == null ? "–" : formatMs(s.ms[id]))),
      ]),
    ]),
  );
  const skipped = r.implementations.filter((i) => i.status !== "ok");
  for (const i of skipped) lines.push(`  ${i.id}: ${i.status}`);

  const paths = r.implementations.filter((i) => i.tapegrad).map((i) => i.id);
  const peers = r.implementations.filter((i) => !i.tapegrad && i.status === "ok").map((i) => i.id);
  if (peers.length > 0) {
    lines.push("");
    lines.push("tapegrad against each peer (peer ms / tapegrad ms, same run)");
    const ratio = (size: string, path: string, peer: string): string =>
      formatRatio(r.ratios.find((x) => x.size === size && x.path === path && x.peer === peer)?.ratio ?? NaN);
    lines.push(
      ...table(
        [
          ["size", "tapegrad path", ...peers.map((p) => `vs ${p}`)],
          ...r.steps.flatMap((s) =>
            paths.map((path) => [s.size, path, ...peers.map((p) => ratio(s.size, path, p))]),
          ),
        ],
        2,
      ),
    );
  }

  lines.push("");
  const overhead = r.steps
    .filter((s) => r.tapeOverhead[s.size] !== undefined)
    .map((s) => `${s.size} ${r.tapeOverhead[s.size]!.toFixed(2)}×`);
  lines.push(`tape overhead (autograd path ms / six-equation path ms): ${overhead.join(", ")}`);
  if (r.courseJobEstimateMs !== null) {
    lines.push(
      `course job estimate (10 000 iterations at S, six equations): ${(r.courseJobEstimateMs / 1000).toFixed(2)} s`,
    );
  }

  const mm = r.matmul;
  lines.push("");
  lines.push(`matmul ${mm.n}×${mm.n}×${mm.n}, GFLOP/s (2n³ / median time)`);
  lines.push(
    ...table([
      ["implementation", ...MATMUL_VARIANTS.map((v) => `${v} ${VARIANT_TEXT[v]}`)],
      ...mm.implementations.map((i) => [
        `${i.id} (${i.dtype})`,
        ...MATMUL_VARIANTS.map((v) => {
          const g = mm.gflops[i.id]?.[v];
          return g === undefined ? "–" : g.toFixed(g < 10 ? 2 : 1);
        }),
      ]),
    ]),
  );
  for (const i of mm.implementations.filter((x) => x.status !== "ok")) lines.push(`  ${i.id}: ${i.status}`);
  return lines;
}

/**
 * @file Colours: ten class colours that stay apart (Tableau 10, reordered so that a binary problem gets
 * the course's red and blue), their light tints for filled regions, and two continuous scales for heat
 * maps (viridis for magnitudes, red–blue for signed values).
 */

/** Saturated class colours, for points and lines: class k gets `PALETTE[k]`. */
export const PALETTE: readonly string[] = [
  "#d62728", // red
  "#1f77b4", // blue
  "#2ca02c", // green
  "#ff7f0e", // orange
  "#9467bd", // purple
  "#8c564b", // brown
  "#e377c2", // pink
  "#7f7f7f", // grey
  "#bcbd22", // olive
  "#17becf", // cyan
];

/** Light tints of `PALETTE` (Tableau 20's pairs), for the regions behind the points: class k gets `REGION_PALETTE[k]`. */
export const REGION_PALETTE: readonly string[] = [
  "#ff9896",
  "#aec7e8",
  "#98df8a",
  "#ffbb78",
  "#c5b0d5",
  "#c49c94",
  "#f7b6d2",
  "#c7c7c7",
  "#dbdb8d",
  "#9edae5",
];

/** Colours of the `ok` and `mismatch` verdicts (graph nodes, legends). */
export const VERDICT_COLORS = {
  ok: { stroke: "#1a7f37", fill: "#dafbe1" },
  mismatch: { stroke: "#cf222e", fill: "#ffebe9" },
} as const;

type Rgb = readonly [number, number, number];

// viridis at 0, 1/8, …, 1 (matplotlib's table, sampled)
const VIRIDIS: readonly Rgb[] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

// ColorBrewer RdBu (reversed: negative blue, zero white, positive red)
const RED_BLUE: readonly Rgb[] = [
  [33, 102, 172],
  [103, 169, 207],
  [209, 229, 240],
  [247, 247, 247],
  [253, 219, 199],
  [239, 138, 98],
  [178, 24, 43],
];

// white to black, for images such as digits
const GREYS: readonly Rgb[] = [
  [255, 255, 255],
  [0, 0, 0],
];

/** The continuous scales a heat map can use. */
export type ColorScaleName = "viridis" | "redBlue" | "greys";

const SCALES: Record<ColorScaleName, readonly Rgb[]> = { viridis: VIRIDIS, redBlue: RED_BLUE, greys: GREYS };

function hex(c: Rgb): string {
  return `#${c.map((v) => Math.round(v).toString(16).padStart(2, "0")).join("")}`;
}

/**
 * The colour at `t` ∈ [0, 1] of a scale (clamped; linear between its stops).
 * @returns `#rrggbb`.
 */
export function colorAt(scale: ColorScaleName, t: number): string {
  const stops = SCALES[scale];
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  return hex([a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])]);
}

/** Whether dark text reads better than white on `#rrggbb` (relative luminance above 0.179, where the two contrasts are equal). */
export function prefersDarkText(color: string): boolean {
  const v = [1, 3, 5].map((k) => Number.parseInt(color.slice(k, k + 2), 16) / 255);
  const lin = v.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * lin[0]! + 0.7152 * lin[1]! + 0.0722 * lin[2]! > 0.179;
}

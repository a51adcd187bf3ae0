/**
 * @file Line charts for cost curves: one or several series, linear or log y, with a legend. A series that
 * goes to NaN or Infinity (training that diverged) is drawn up to where it broke, and its legend says where.
 */
import { type Layer, type LegendItem, type Panel, renderFigure } from "./figure.js";
import { describeValue, toVector, type VectorLike } from "./input.js";
import { PALETTE } from "./palette.js";

/** One curve of a line chart. */
export interface Series {
  /** Legend label. */
  name: string;
  /** The values (a Tensor of any shape or an array). */
  y: VectorLike;
  /** The x of each value (default 0, 1, 2, …: the iteration). */
  x?: VectorLike;
  /** Colour (default: the series' index in `PALETTE`, starting at blue). */
  color?: string;
  /** "line" (default), "points" (markers only, e.g. reference values) or "both". */
  style?: "line" | "points" | "both";
  /** Stroke width of the line (default 2) and radius of markers (default 4), in pixels. */
  width?: number;
  radius?: number;
  /** SVG dash pattern of the line, e.g. "6 3". */
  dash?: string;
}

/** Options of `lineChartPanel` and `lineChartSvg`. */
export interface LineChartOptions {
  /** The curves: one series or several. */
  series: Series | readonly Series[];
  /** Panel title (default "Cost"). */
  title?: string;
  /** Axis labels (default "iteration" and "cost"). */
  xLabel?: string;
  yLabel?: string;
  /** A log y axis (default false); values ≤ 0 then leave gaps. */
  logY?: boolean;
  /** Data ranges (default: the finite data; a linear y range of non-negative data starts at 0). */
  x?: readonly [number, number];
  y?: readonly [number, number];
  /** Draw the legend (default: when there is a series name). */
  legend?: boolean;
}

/** Options of `lineChartSvg`: the panel's, plus the figure's size. */
export interface LineChartSvgOptions extends LineChartOptions {
  /** Size in pixels (default 640 × 400). */
  width?: number;
  height?: number;
}

// blue first: with a single series, the cost curve is blue as in the course's figures
const SERIES_ORDER = [1, 0, 2, 3, 4, 5, 6, 7, 8, 9];

/**
 * A panel with one or several curves (a `Panel` for `renderFigure`, to place beside other panels).
 * @throws Error starting with `lineChartPanel:` if there is no series, a series has no values, or x and y
 * differ in length.
 */
export function lineChartPanel(options: LineChartOptions): Panel {
  return buildPanel("lineChartPanel", options);
}

/**
 * A line chart as a standalone SVG document (see `lineChartPanel`).
 * @returns the SVG text.
 * @throws Error starting with `lineChartSvg:` (see `lineChartPanel`).
 */
export function lineChartSvg(options: LineChartSvgOptions): string {
  const panel = buildPanel("lineChartSvg", options);
  const names = (Array.isArray(options.series) ? options.series : [options.series]) as Series[];
  return renderFigure([panel], {
    description: `A line chart of ${names.map((s) => s.name).join(", ")} against ${panel.xLabel}${options.logY ? ", log scale" : ""}.`,
    panelWidth: options.width ?? 640,
    panelHeight: options.height ?? 400,
  });
}

function buildPanel(fn: string, options: LineChartOptions): Panel {
  if (options === null || typeof options !== "object" || options.series === undefined) {
    throw new Error(`${fn}: expected an options object { series }, got ${describeValue(options)}`);
  }
  const list = (Array.isArray(options.series) ? options.series : [options.series]) as Series[];
  if (list.length === 0) throw new Error(`${fn}: series is empty; expected at least one { name, y }`);
  const log = options.logY === true;
  const layers: Layer[] = [];
  const legend: LegendItem[] = [];
  let xLo = Number.POSITIVE_INFINITY;
  let xHi = Number.NEGATIVE_INFINITY;
  let yLo = Number.POSITIVE_INFINITY;
  let yHi = Number.NEGATIVE_INFINITY;
  list.forEach((s, k) => {
    const what = `series "${s?.name}"`;
    if (s === null || typeof s !== "object")
      throw new Error(`${fn}: series ${k} is ${describeValue(s)}; expected { name, y }`);
    if (typeof s.name !== "string") {
      throw new Error(
        `${fn}: series ${k} has name ${describeValue(s.name)}; expected { name, y } with a string name (its legend label)`,
      );
    }
    const ys = toVector(fn, `${what} y`, s.y);
    if (ys.length === 0) throw new Error(`${fn}: ${what} has no values; expected at least one`);
    const xs =
      s.x === undefined
        ? Float64Array.from({ length: ys.length }, (_, i) => i)
        : toVector(fn, `${what} x`, s.x);
    if (xs.length !== ys.length) {
      throw new Error(`${fn}: ${what} has ${xs.length} x values and ${ys.length} y values; expected as many`);
    }
    let broken = -1;
    for (let i = 0; i < ys.length; i++) {
      const x = xs[i]!;
      const y = ys[i]!;
      if (!Number.isFinite(y) || (log && y <= 0)) {
        if (broken < 0 && !Number.isFinite(y)) broken = i;
        continue;
      }
      if (!Number.isFinite(x)) continue;
      xLo = Math.min(xLo, x);
      xHi = Math.max(xHi, x);
      yLo = Math.min(yLo, y);
      yHi = Math.max(yHi, y);
    }
    const color = s.color ?? PALETTE[SERIES_ORDER[k % SERIES_ORDER.length]!]!;
    const style = s.style ?? "line";
    if (style !== "points") {
      layers.push({ kind: "line", xs, ys, color, width: s.width ?? 2, ...(s.dash ? { dash: s.dash } : {}) });
    }
    if (style !== "line") {
      layers.push({
        kind: "points",
        xs,
        ys,
        classes: new Uint8Array(ys.length),
        colors: [color],
        radius: s.radius ?? 4,
      });
    }
    const label = broken >= 0 ? `${s.name} (${ys[broken]} at x = ${xs[broken]})` : s.name;
    legend.push({
      label,
      color,
      kind: style === "points" ? "point" : "line",
      ...(s.dash ? { dash: s.dash } : {}),
    });
  });
  if (!(xHi >= xLo)) [xLo, xHi] = [0, 1]; // nothing finite to show: an empty frame, the legend says why
  if (!(yHi >= yLo)) [yLo, yHi] = log ? [0.1, 1] : [0, 1];
  if (xHi === xLo) [xLo, xHi] = [xLo - 1, xHi + 1];
  let y: [number, number];
  if (log) {
    y = yHi === yLo ? [yLo / 2, yHi * 2] : [yLo / 1.15, yHi * 1.15];
  } else {
    const margin = (yHi - yLo || Math.abs(yHi) || 1) * 0.05;
    y = [yLo >= 0 ? 0 : yLo - margin, yHi + margin];
  }
  const named = list.some((s) => s.name !== "");
  return {
    title: options.title ?? "Cost",
    x: options.x ?? [xLo, xHi],
    y: options.y ?? y,
    ...(log ? { yScale: "log" as const } : {}),
    xLabel: options.xLabel ?? "iteration",
    yLabel: options.yLabel ?? "cost",
    layers,
    ...((options.legend ?? named) ? { legend } : {}),
  };
}

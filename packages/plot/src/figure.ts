/**
 * @file Panels with axes, ticks, labels and a legend, holding filled class regions, scatter points and
 * lines, laid out on a grid (small multiples) in one SVG document. The building block of every chart here.
 *
 * Size matters more than generality: class regions are drawn as one `<path>` per class whose sub-paths are
 * the horizontal runs of equal cells (one rectangle per run, not per cell), the largest class is the
 * panel's background rectangle, and a layer that renders identically in several panels (the same points in
 * every small multiple) is written once in `<defs>` and placed with `<use>`.
 */
import { escapeXml, FONT, formatNumber, ID, px, svgDocument } from "./svg.js";
import { logTicks, niceTicks } from "./ticks.js";

/** Cells of a regular grid, each holding a class index: cell (i, j) is centred at (x0 + i·h, y0 + j·h). */
export interface RegionsLayer {
  kind: "regions";
  /** Centre of the first cell. */
  x0: number;
  y0: number;
  /** Cell size, in data units (the course's `h`). */
  h: number;
  /** Cells along x (columns) and y (rows). */
  nx: number;
  ny: number;
  /** Class index of each cell, row-major: cell (i, j) at `classes[j·nx + i]`. */
  classes: ArrayLike<number>;
  /** Fill colour of each class. */
  colors: readonly string[];
}

/** Scatter points coloured by class. */
export interface PointsLayer {
  kind: "points";
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  /** Class index of each point. */
  classes: ArrayLike<number>;
  /** Fill colour of each class. */
  colors: readonly string[];
  /** Radius in pixels (default 2.5). */
  radius?: number;
}

/** A polyline through (xs[k], ys[k]); non-finite values leave a gap. Long series are thinned to about one vertex per pixel. */
export interface LineLayer {
  kind: "line";
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  color: string;
  /** Stroke width in pixels (default 1.5). */
  width?: number;
  /** SVG dash pattern, e.g. "6 3" (default solid). */
  dash?: string;
}

/** What a panel can hold, drawn in order. */
export type Layer = RegionsLayer | PointsLayer | LineLayer;

/** An entry of a panel's legend: a square swatch (default), a line sample or a dot. */
export interface LegendItem {
  label: string;
  color: string;
  kind?: "swatch" | "line" | "point";
  /** Dash pattern of a line sample. */
  dash?: string;
}

/** One plot: data ranges, labels and layers. */
export interface Panel {
  title: string;
  /** Data range shown along x and y. */
  x: readonly [number, number];
  y: readonly [number, number];
  /** Scale of the y axis (default linear); a log range must be positive. */
  yScale?: "linear" | "log";
  xLabel?: string;
  yLabel?: string;
  layers: Layer[];
  /** Items in a corner of the plotting area: the one (top right first) that hides the fewest points. */
  legend?: readonly LegendItem[];
}

/** Layout of a figure. */
export interface FigureOptions {
  /** Figure title, above the panels; also the document's `<title>` (default: the panels' titles). */
  title?: string;
  /** The document's `<desc>` for screen readers (default: a sentence listing the panels). */
  description?: string;
  /** Panels per row (default: all in one row). */
  columns?: number;
  /** Size of each panel's cell in pixels, margins included (default 420 × 400). */
  panelWidth?: number;
  panelHeight?: number;
}

const MARGIN = { left: 56, right: 14, top: 26, bottom: 42 };
const FIGURE_TITLE_HEIGHT = 32;

/** Maps data coordinates of a panel to pixels inside its plotting area (y grows upwards). */
interface Frame {
  left: number;
  top: number;
  width: number;
  height: number;
  sx: (x: number) => number;
  sy: (y: number) => number;
}

function frameOf(panel: Panel, cellWidth: number, cellHeight: number): Frame {
  const width = cellWidth - MARGIN.left - MARGIN.right;
  const height = cellHeight - MARGIN.top - MARGIN.bottom;
  const [x0, x1] = panel.x;
  const log = panel.yScale === "log";
  const ty = (y: number) => (log ? Math.log10(y) : y);
  const y0 = ty(panel.y[0]);
  const y1 = ty(panel.y[1]);
  return {
    left: MARGIN.left,
    top: MARGIN.top,
    width,
    height,
    sx: (x) => MARGIN.left + ((x - x0) / (x1 - x0)) * width,
    sy: (y) => MARGIN.top + height - ((ty(y) - y0) / (y1 - y0)) * height,
  };
}

function renderRegions(layer: RegionsLayer, f: Frame): string {
  const { x0, y0, h, nx, ny, classes, colors } = layer;
  const counts = new Array<number>(colors.length).fill(0);
  for (let k = 0; k < nx * ny; k++) counts[classes[k]!]!++;
  const background = counts.indexOf(Math.max(...counts));
  const paths: string[][] = colors.map(() => []);
  // Cell edges snapped to whole pixels, shared by neighbours: fractional edges leave hairline seams
  // between rows once anti-aliased (or crisp-rounded) separately.
  const xEdge = Array.from({ length: nx + 1 }, (_, i) => Math.round(f.sx(x0 + (i - 0.5) * h)));
  const yEdge = Array.from({ length: ny + 1 }, (_, j) => Math.round(f.sy(y0 + (j - 0.5) * h)));
  // each row is a sequence of runs of equal cells; a run not of the background class is one rectangle
  for (let j = 0; j < ny; j++) {
    const top = yEdge[j + 1]!;
    const height = yEdge[j]! - top;
    if (height === 0) continue;
    let start = 0;
    for (let i = 1; i <= nx; i++) {
      const c = classes[j * nx + start]!;
      if (i < nx && classes[j * nx + i] === c) continue;
      const width = xEdge[i]! - xEdge[start]!;
      if (c !== background && width > 0)
        paths[c]!.push(`M${xEdge[start]} ${top}h${width}v${height}h${-width}z`);
      start = i;
    }
  }
  const left = xEdge[0]!;
  const top = yEdge[ny]!;
  const out = [
    `<rect x="${left}" y="${top}" width="${xEdge[nx]! - left}" height="${yEdge[0]! - top}" fill="${colors[background]}"/>`,
  ];
  paths.forEach((p, c) => {
    if (p.length > 0) out.push(`<path fill="${colors[c]}" d="${p.join("")}"/>`);
  });
  return `<g class="regions" shape-rendering="crispEdges">${out.join("")}</g>`;
}

function renderPoints(layer: PointsLayer, f: Frame): string {
  const r = layer.radius ?? 2.5;
  const groups: string[][] = layer.colors.map(() => []);
  for (let k = 0; k < layer.xs.length; k++) {
    const x = f.sx(layer.xs[k]!);
    const y = f.sy(layer.ys[k]!);
    // NaN, Infinity or a value ≤ 0 on a log scale has no place on the panel
    if (Number.isFinite(x) && Number.isFinite(y))
      groups[layer.classes[k]!]!.push(`<circle cx="${px(x)}" cy="${px(y)}" r="${r}"/>`);
  }
  return `<g class="points" stroke="#222" stroke-width="0.5">${groups
    .map((g, c) => (g.length > 0 ? `<g fill="${layer.colors[c]}">${g.join("")}</g>` : ""))
    .join("")}</g>`;
}

function renderLine(layer: LineLayer, f: Frame): string {
  const n = layer.xs.length;
  const every = Math.max(1, Math.floor(n / f.width));
  const d: string[] = [];
  let pen = "M";
  for (let k = 0; k < n; k++) {
    if (k % every !== 0 && k !== n - 1) continue;
    const x = f.sx(layer.xs[k]!);
    const y = f.sy(layer.ys[k]!);
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = "M"; // a gap: NaN, Infinity, or a value ≤ 0 on a log scale
      continue;
    }
    d.push(`${pen}${px(x)} ${px(y)}`);
    pen = "L";
  }
  const dash = layer.dash ? ` stroke-dasharray="${layer.dash}"` : "";
  return `<path class="line" fill="none" stroke="${layer.color}" stroke-width="${layer.width ?? 1.5}" stroke-linejoin="round"${dash} d="${d.join("")}"/>`;
}

function renderLayer(layer: Layer, f: Frame): string {
  switch (layer.kind) {
    case "regions":
      return renderRegions(layer, f);
    case "points":
      return renderPoints(layer, f);
    case "line":
      return renderLine(layer, f);
  }
}

function renderAxes(panel: Panel, f: Frame): string {
  const bottom = f.top + f.height;
  const right = f.left + f.width;
  const out = [
    `<g class="axes" stroke="#333" stroke-width="1" fill="none"><path d="M${f.left} ${f.top}V${bottom}H${right}"/>`,
  ];
  const xt = niceTicks(panel.x[0], panel.x[1]);
  const yt = panel.yScale === "log" ? logTicks(panel.y[0], panel.y[1]) : niceTicks(panel.y[0], panel.y[1]);
  out.push(
    `<path d="${xt.map((t) => `M${px(f.sx(t))} ${bottom}v5`).join("")}${yt.map((t) => `M${f.left} ${px(f.sy(t))}h-5`).join("")}"/></g>`,
  );
  out.push(`<g class="ticks" ${FONT} font-size="11" fill="#333">`);
  for (const t of xt)
    out.push(`<text x="${px(f.sx(t))}" y="${bottom + 17}" text-anchor="middle">${formatNumber(t, 6)}</text>`);
  for (const t of yt)
    out.push(`<text x="${f.left - 8}" y="${px(f.sy(t) + 4)}" text-anchor="end">${formatNumber(t, 6)}</text>`);
  out.push("</g>");
  if (panel.xLabel) {
    out.push(
      `<text ${FONT} font-size="12" x="${px(f.left + f.width / 2)}" y="${bottom + 35}" text-anchor="middle">${escapeXml(panel.xLabel)}</text>`,
    );
  }
  if (panel.yLabel) {
    const cy = px(f.top + f.height / 2);
    out.push(
      `<text ${FONT} font-size="12" transform="translate(13 ${cy}) rotate(-90)" text-anchor="middle">${escapeXml(panel.yLabel)}</text>`,
    );
  }
  out.push(
    `<text class="title" ${FONT} font-size="13" font-weight="bold" x="${px(f.left + f.width / 2)}" y="${f.top - 9}" text-anchor="middle">${escapeXml(panel.title)}</text>`,
  );
  return out.join("");
}

function legendMark(item: LegendItem, x: number, y: number): string {
  switch (item.kind ?? "swatch") {
    case "line":
      return `<path d="M${x - 2} ${y + 5}h14" stroke="${item.color}" stroke-width="2"${item.dash ? ` stroke-dasharray="${item.dash}"` : ""}/>`;
    case "point":
      // a round rect, not a <circle>: every <circle> of a figure is a data point
      return `<rect x="${x + 1}" y="${y + 1}" width="8" height="8" rx="4" fill="${item.color}" stroke="#222" stroke-width="0.5"/>`;
    default:
      return `<rect x="${x}" y="${y}" width="10" height="10" fill="${item.color}" stroke="#333" stroke-width="0.5"/>`;
  }
}

/** Vertices of the panel's lines and points, in pixels: what a legend should not cover. */
function dataPixels(panel: Panel, f: Frame): [number, number][] {
  const out: [number, number][] = [];
  for (const layer of panel.layers) {
    if (layer.kind === "regions") continue;
    const every = Math.max(1, Math.floor(layer.xs.length / 2000));
    for (let k = 0; k < layer.xs.length; k += every) out.push([f.sx(layer.xs[k]!), f.sy(layer.ys[k]!)]);
  }
  return out;
}

function renderLegend(panel: Panel, legend: readonly LegendItem[], f: Frame): string {
  const width = 28 + Math.max(...legend.map((l) => l.label.length)) * 6.2;
  const height = legend.length * 17 + 6;
  // the corner (top right first) that hides the fewest data points
  const corners = [
    [f.left + f.width - 3 - width, f.top + 3],
    [f.left + 3, f.top + 3],
    [f.left + f.width - 3 - width, f.top + f.height - 3 - height],
    [f.left + 3, f.top + f.height - 3 - height],
  ] as const;
  const points = dataPixels(panel, f);
  const hidden = corners.map(
    ([x, y]) =>
      points.filter(([a, b]) => a >= x - 4 && a <= x + width + 4 && b >= y - 4 && b <= y + height + 4).length,
  );
  const [x0, y0] = corners[hidden.indexOf(Math.min(...hidden))]!;
  const right = x0 + width - 5;
  const items = legend.map(
    (item, k) =>
      `${legendMark(item, right - 12, y0 + 5 + k * 17)}<text x="${px(right - 19)}" y="${px(y0 + 14 + k * 17)}" text-anchor="end">${escapeXml(item.label)}</text>`,
  );
  return `<g class="legend" ${FONT} font-size="11"><rect x="${px(x0)}" y="${px(y0)}" width="${px(width)}" height="${height}" fill="#fff" fill-opacity="0.85" stroke="#ccc" stroke-width="0.5"/>${items.join("")}</g>`;
}

/**
 * Render panels as one SVG document, laid out `columns` per row.
 * @returns the SVG text (UTF-8, standalone, with `<title>` and `<desc>`).
 * @throws Error if there are no panels, a panel has an empty data range, or a log range is not positive.
 */
export function renderFigure(panels: readonly Panel[], options: FigureOptions = {}): string {
  if (panels.length === 0) throw new Error("renderFigure: no panels; expected at least one");
  const cellWidth = options.panelWidth ?? 420;
  const cellHeight = options.panelHeight ?? 400;
  const columns = Math.min(options.columns ?? panels.length, panels.length);
  const rows = Math.ceil(panels.length / columns);
  const titleHeight = options.title ? FIGURE_TITLE_HEIGHT : 0;
  const width = columns * cellWidth;
  const height = rows * cellHeight + titleHeight;

  const defs: string[] = [];
  const seen = new Map<string, string>();
  const body: string[] = [];
  panels.forEach((panel, k) => {
    if (!(panel.x[1] > panel.x[0]) || !(panel.y[1] > panel.y[0])) {
      throw new Error(
        `renderFigure: panel "${panel.title}" has an empty range x [${panel.x}] y [${panel.y}]; expected min < max`,
      );
    }
    if (panel.yScale === "log" && !(panel.y[0] > 0)) {
      throw new Error(
        `renderFigure: panel "${panel.title}" has a log y range [${panel.y}]; expected 0 < min`,
      );
    }
    const f = frameOf(panel, cellWidth, cellHeight);
    const ox = (k % columns) * cellWidth;
    const oy = Math.floor(k / columns) * cellHeight + titleHeight;
    const clipId = `${ID}clip${k}`;
    defs.push(
      `<clipPath id="${clipId}"><rect x="${f.left}" y="${f.top}" width="${px(f.width)}" height="${px(f.height)}"/></clipPath>`,
    );
    const layers = panel.layers.map((layer) => {
      const svg = renderLayer(layer, f);
      // identical layers (same data, same panel geometry) are written once and reused
      let id = seen.get(svg);
      if (id === undefined) {
        id = `${ID}layer${seen.size}`;
        seen.set(svg, id);
        defs.push(svg.replace(/^<(\w+)/, `<$1 id="${id}"`));
      }
      return `<use href="#${id}"/>`;
    });
    body.push(
      `<g class="panel" transform="translate(${ox} ${oy})"><g clip-path="url(#${clipId})">${layers.join("")}</g>${renderAxes(panel, f)}${panel.legend && panel.legend.length > 0 ? renderLegend(panel, panel.legend, f) : ""}</g>`,
    );
  });
  const title = options.title
    ? `<text class="figure-title" ${FONT} font-size="16" font-weight="bold" x="${width / 2}" y="22" text-anchor="middle">${escapeXml(options.title)}</text>`
    : "";
  const docTitle = options.title ?? panels.map((p) => p.title).join("; ");
  const desc =
    options.description ??
    (panels.length === 1
      ? `A chart: ${panels[0]!.title}.`
      : `${panels.length} charts: ${panels.map((p) => p.title).join("; ")}.`);
  return svgDocument(
    width,
    height,
    docTitle,
    desc,
    [title, `<defs>${defs.join("\n")}</defs>`, body.join("\n")].join("\n"),
  );
}

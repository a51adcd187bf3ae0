/**
 * @file A small SVG plotting module: panels with axes, ticks and a title, holding filled class regions
 * (a decision boundary), scatter points and lines; panels are laid out on a grid (small multiples).
 * Plain strings, no dependencies, no browser.
 *
 * Size matters more than generality here: class regions are drawn as one `<path>` per class whose
 * sub-paths are the horizontal runs of equal cells (one rectangle per run, not per cell), the largest class
 * is the panel's background rectangle, and a layer that renders identically in several panels (the same
 * points in every small multiple) is written once in `<defs>` and placed with `<use>`.
 */

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

/** A polyline through (xs[k], ys[k]). Long series are thinned to about one vertex per pixel. */
export interface LineLayer {
  kind: "line";
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  color: string;
  /** Stroke width in pixels (default 1.5). */
  width?: number;
}

/** What a panel can hold, drawn in order. */
export type Layer = RegionsLayer | PointsLayer | LineLayer;

/** One plot: data ranges, labels and layers. */
export interface Panel {
  title: string;
  /** Data range shown along x and y. */
  x: readonly [number, number];
  y: readonly [number, number];
  xLabel?: string;
  yLabel?: string;
  layers: Layer[];
  /** Coloured squares with labels in the top-right corner. */
  legend?: readonly { label: string; color: string }[];
}

/** Layout of a figure. */
export interface FigureOptions {
  /** Figure title, above the panels. */
  title?: string;
  /** Panels per row (default: all in one row). */
  columns?: number;
  /** Size of each panel's cell in pixels, margins included (default 420 × 400). */
  panelWidth?: number;
  panelHeight?: number;
}

const MARGIN = { left: 52, right: 14, top: 26, bottom: 42 };
const FIGURE_TITLE_HEIGHT = 32;
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

/** Escape text for SVG content and attributes. */
function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A coordinate in pixels, with one decimal (enough on screen, and it keeps the file small). */
function px(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/**
 * Round tick positions covering [lo, hi]: steps of 1, 2 or 5 × 10^k, about `count` of them.
 * @returns the ticks inside [lo, hi], ascending; [] for an empty or non-finite range.
 */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((f) => f * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step); k * step <= hi + step * 1e-9; k++) {
    // k·step, then rounded to the step's decimals so labels read 0.3, not 0.30000000000000004
    ticks.push(Number((k * step).toFixed(Math.max(0, -Math.floor(Math.log10(step))))));
  }
  return ticks;
}

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
  const [y0, y1] = panel.y;
  return {
    left: MARGIN.left,
    top: MARGIN.top,
    width,
    height,
    sx: (x) => MARGIN.left + ((x - x0) / (x1 - x0)) * width,
    sy: (y) => MARGIN.top + height - ((y - y0) / (y1 - y0)) * height,
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
    groups[layer.classes[k]!]!.push(
      `<circle cx="${px(f.sx(layer.xs[k]!))}" cy="${px(f.sy(layer.ys[k]!))}" r="${r}"/>`,
    );
  }
  return `<g class="points" stroke="#222" stroke-width="0.5">${groups
    .map((g, c) => (g.length > 0 ? `<g fill="${layer.colors[c]}">${g.join("")}</g>` : ""))
    .join("")}</g>`;
}

function renderLine(layer: LineLayer, f: Frame): string {
  const n = layer.xs.length;
  const every = Math.max(1, Math.floor(n / f.width));
  const d: string[] = [];
  for (let k = 0; k < n; k += every) d.push(`${px(f.sx(layer.xs[k]!))} ${px(f.sy(layer.ys[k]!))}`);
  if ((n - 1) % every !== 0) d.push(`${px(f.sx(layer.xs[n - 1]!))} ${px(f.sy(layer.ys[n - 1]!))}`);
  return `<path class="line" fill="none" stroke="${layer.color}" stroke-width="${layer.width ?? 1.5}" d="M${d.join("L")}"/>`;
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
  const yt = niceTicks(panel.y[0], panel.y[1]);
  out.push(
    `<path d="${xt.map((t) => `M${px(f.sx(t))} ${bottom}v5`).join("")}${yt.map((t) => `M${f.left} ${px(f.sy(t))}h-5`).join("")}"/></g>`,
  );
  out.push(`<g class="ticks" ${FONT} font-size="11" fill="#333">`);
  for (const t of xt)
    out.push(`<text x="${px(f.sx(t))}" y="${bottom + 17}" text-anchor="middle">${t}</text>`);
  for (const t of yt)
    out.push(`<text x="${f.left - 8}" y="${px(f.sy(t) + 4)}" text-anchor="end">${t}</text>`);
  out.push("</g>");
  if (panel.xLabel) {
    out.push(
      `<text ${FONT} font-size="12" x="${px(f.left + f.width / 2)}" y="${bottom + 35}" text-anchor="middle">${escapeXml(panel.xLabel)}</text>`,
    );
  }
  if (panel.yLabel) {
    const cx = 13;
    const cy = px(f.top + f.height / 2);
    out.push(
      `<text ${FONT} font-size="12" transform="translate(${cx} ${cy}) rotate(-90)" text-anchor="middle">${escapeXml(panel.yLabel)}</text>`,
    );
  }
  out.push(
    `<text class="title" ${FONT} font-size="13" font-weight="bold" x="${px(f.left + f.width / 2)}" y="${f.top - 9}" text-anchor="middle">${escapeXml(panel.title)}</text>`,
  );
  return out.join("");
}

function renderLegend(legend: NonNullable<Panel["legend"]>, f: Frame): string {
  const right = f.left + f.width - 8;
  const items = legend.map(
    (item, k) =>
      `<rect x="${right - 12}" y="${f.top + 8 + k * 17}" width="10" height="10" fill="${item.color}" stroke="#333" stroke-width="0.5"/><text x="${right - 17}" y="${f.top + 17 + k * 17}" text-anchor="end">${escapeXml(item.label)}</text>`,
  );
  const width = 24 + Math.max(...legend.map((l) => l.label.length)) * 6.5;
  return `<g class="legend" ${FONT} font-size="11"><rect x="${right - width}" y="${f.top + 3}" width="${width + 5}" height="${legend.length * 17 + 6}" fill="#fff" fill-opacity="0.8"/>${items.join("")}</g>`;
}

/**
 * Render panels as one SVG document, laid out `columns` per row.
 * @returns the SVG text (UTF-8, standalone).
 * @throws Error if there are no panels or a panel has an empty data range.
 */
export function renderFigure(panels: readonly Panel[], options: FigureOptions = {}): string {
  if (panels.length === 0) throw new Error("renderFigure: no panels");
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
    const f = frameOf(panel, cellWidth, cellHeight);
    const ox = (k % columns) * cellWidth;
    const oy = Math.floor(k / columns) * cellHeight + titleHeight;
    const clipId = `clip${k}`;
    defs.push(
      `<clipPath id="${clipId}"><rect x="${f.left}" y="${f.top}" width="${px(f.width)}" height="${px(f.height)}"/></clipPath>`,
    );
    const layers = panel.layers.map((layer) => {
      const svg = renderLayer(layer, f);
      // identical layers (same data, same panel geometry) are written once and reused
      let id = seen.get(svg);
      if (id === undefined) {
        id = `layer${seen.size}`;
        seen.set(svg, id);
        defs.push(svg.replace(/^<(\w+)/, `<$1 id="${id}"`));
      }
      return `<use href="#${id}"/>`;
    });
    body.push(
      `<g class="panel" transform="translate(${ox} ${oy})"><g clip-path="url(#${clipId})">${layers.join("")}</g>${renderAxes(panel, f)}${panel.legend ? renderLegend(panel.legend, f) : ""}</g>`,
    );
  });
  const title = options.title
    ? `<text class="figure-title" ${FONT} font-size="16" font-weight="bold" x="${width / 2}" y="22" text-anchor="middle">${escapeXml(options.title)}</text>`
    : "";
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    title,
    `<defs>${defs.join("\n")}</defs>`,
    body.join("\n"),
    "</svg>\n",
  ].join("\n");
}

/**
 * @file Heat maps of 2-D tensors: a weight matrix (signed, red–blue around 0), an image such as an MNIST
 * digit (greys), a confusion matrix (viridis, with the count in each cell). Row 0 is at the top, as a
 * matrix is printed. Cells are quantized to 65 colours and equal neighbours in a row merged into one
 * rectangle, so a 784 × 256 weight matrix stays a small file.
 */

import { describeValue, type MatrixLike, toMatrix } from "./input.js";
import { type ColorScaleName, colorAt, prefersDarkText } from "./palette.js";
import { escapeXml, FONT, formatNumber, ID, px, svgDocument } from "./svg.js";

/** Options of `heatmapSvg`. */
export interface HeatmapOptions {
  /** Title above the map (default "Heat map"); also the document's `<title>`. */
  title?: string;
  /** Axis labels (default "column" and "row"). */
  xLabel?: string;
  yLabel?: string;
  /** Labels of the rows and columns (default their indices), e.g. the digits of a confusion matrix. */
  rowLabels?: readonly string[];
  colLabels?: readonly string[];
  /** Colour scale (default: "redBlue" centred on 0 when the values have both signs, else "viridis"). */
  scale?: ColorScaleName;
  /** Values mapped to the ends of the scale (default: the data's [min, max]; ±max |v| for "redBlue"). */
  range?: readonly [number, number];
  /** Write each value in its cell (default: when cells are at least 24 px and there are at most 400). */
  showValues?: boolean;
  /** How a value is written in its cell and on the colour bar (default: 3 significant digits). */
  format?: (v: number) => string;
  /**
   * Cell size in pixels, or [width, height] (default: square cells, the larger side of the map fitting in
   * 420 px, at most 44 px a cell; a matrix so elongated that its map would be under 120 px thick gets cells
   * stretched across it, e.g. a 3 × 64 weight matrix).
   */
  cellSize?: number | readonly [number, number];
  /** Draw the colour bar (default true). */
  colorbar?: boolean;
}

// odd, so that the middle of the scale (0 on red–blue) is a level of its own
const LEVELS = 65;
const NAN_FILL = "#bdbdbd";

/**
 * A heat map of a 2-D tensor (or rows of numbers) as an SVG document, with row and column labels, a colour
 * bar and optionally the value in each cell. NaN and ±Infinity cells are grey, and the colour bar says so.
 * @param t (rows, cols): a weight matrix, an image, a confusion matrix… (reshape an image (1, 28, 28) to (28, 28)).
 * @returns the SVG text.
 * @throws Error starting with `heatmapSvg:` if `t` is not 2-D or is empty, labels do not match the shape,
 * or the range is empty.
 */
export function heatmapSvg(t: MatrixLike, options: HeatmapOptions = {}): string {
  const fn = "heatmapSvg";
  const M = toMatrix(fn, "the input", t);
  const { rows, cols, data } = M;
  if (options.rowLabels !== undefined && options.rowLabels.length !== rows) {
    throw new Error(`${fn}: ${options.rowLabels.length} rowLabels for ${rows} rows; expected one per row`);
  }
  if (options.colLabels !== undefined && options.colLabels.length !== cols) {
    throw new Error(
      `${fn}: ${options.colLabels.length} colLabels for ${cols} columns; expected one per column`,
    );
  }
  if (options.format !== undefined && typeof options.format !== "function") {
    throw new Error(`${fn}: format is ${describeValue(options.format)}; expected a function of a number`);
  }
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  let nonFinite = 0;
  for (let k = 0; k < data.length; k++) {
    const v = data[k]!;
    if (!Number.isFinite(v)) nonFinite++;
    else {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (nonFinite === data.length) [lo, hi] = [0, 1];
  const scale = options.scale ?? (lo < 0 && hi > 0 ? "redBlue" : "viridis");
  let range: readonly [number, number];
  if (options.range !== undefined) range = options.range;
  else if (scale === "redBlue") {
    const a = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    range = [-a, a];
  } else range = hi > lo ? [lo, hi] : [lo - 0.5, hi + 0.5];
  if (!(range[1] > range[0])) throw new Error(`${fn}: range [${range}] is empty; expected min < max`);
  const format = options.format ?? ((v: number) => formatNumber(v, 3));

  const [cellW, cellH] = cellSizes(rows, cols, options.cellSize);
  if (!(cellW > 0 && cellH > 0 && Number.isFinite(cellW + cellH))) {
    throw new Error(
      `${fn}: cellSize is ${String(options.cellSize)}; expected a positive number of pixels or [width, height]`,
    );
  }
  const title = options.title ?? "Heat map";
  const rowText = (i: number) => options.rowLabels?.[i] ?? String(i);
  const colText = (j: number) => options.colLabels?.[j] ?? String(j);
  // which rows and columns get a label: all when they fit, else every k-th
  const rowEvery = Math.max(1, Math.ceil(18 / cellH));
  const colEvery = Math.max(
    1,
    Math.ceil((Math.max(...Array.from({ length: cols }, (_, j) => colText(j).length)) * 7 + 6) / cellW),
  );
  const rowLabelWidth = Math.max(...Array.from({ length: rows }, (_, i) => rowText(i).length)) * 7;
  const left = 30 + rowLabelWidth + 8;
  const top = 40;
  const mapW = cols * cellW;
  const mapH = rows * cellH;
  const showBar = options.colorbar !== false;
  const barX = left + mapW + 18;
  const barTicks = [range[0], (range[0] + range[1]) / 2, range[1]].map(format);
  const width = Math.ceil(
    showBar
      ? barX + 14 + 8 + Math.max(...barTicks.map((s) => s.length), nonFinite > 0 ? 3 : 0) * 7 + 12
      : left + mapW + 16,
  );
  const height = Math.ceil(top + Math.max(mapH, showBar ? 120 : 0) + 50);

  const level = (v: number) =>
    Number.isFinite(v)
      ? Math.round(Math.min(1, Math.max(0, (v - range[0]) / (range[1] - range[0]))) * (LEVELS - 1))
      : -1;
  const fillOf = (q: number) => (q < 0 ? NAN_FILL : colorAt(scale, q / (LEVELS - 1)));
  const xEdge = (j: number) => px(left + j * cellW);
  const yEdge = (i: number) => px(top + i * cellH);

  // one path per colour level, each a list of rectangles covering runs of equal cells in a row
  const paths = new Map<number, string[]>();
  for (let i = 0; i < rows; i++) {
    let start = 0;
    for (let j = 1; j <= cols; j++) {
      const q = level(data[i * cols + start]!);
      if (j < cols && level(data[i * cols + j]!) === q) continue;
      const x0 = xEdge(start);
      const w = px(left + j * cellW - Number(x0));
      const run = `M${x0} ${yEdge(i)}h${w}V${yEdge(i + 1)}H${x0}z`;
      const list = paths.get(q);
      if (list === undefined) paths.set(q, [run]);
      else list.push(run);
      start = j;
    }
  }
  const body: string[] = [
    `<text ${FONT} font-size="15" font-weight="bold" x="${px(left + mapW / 2)}" y="24" text-anchor="middle">${escapeXml(title)}</text>`,
    `<g class="cells" shape-rendering="crispEdges">${[...paths].map(([q, d]) => `<path fill="${fillOf(q)}" d="${d.join("")}"/>`).join("")}</g>`,
    `<rect x="${left}" y="${top}" width="${px(mapW)}" height="${px(mapH)}" fill="none" stroke="#333" stroke-width="0.75"/>`,
  ];
  const showValues = options.showValues ?? (Math.min(cellW, cellH) >= 24 && rows * cols <= 400);
  if (showValues) {
    const size = Math.max(7, Math.min(13, Math.min(cellW, cellH) * 0.36));
    const texts: string[] = [];
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const v = data[i * cols + j]!;
        const color = prefersDarkText(fillOf(level(v))) ? "#111" : "#fff";
        texts.push(
          `<text x="${px(left + (j + 0.5) * cellW)}" y="${px(top + (i + 0.5) * cellH + size * 0.36)}" fill="${color}">${escapeXml(format(v))}</text>`,
        );
      }
    }
    body.push(`<g class="values" ${FONT} font-size="${px(size)}" text-anchor="middle">${texts.join("")}</g>`);
  }
  const labels: string[] = [];
  for (let i = 0; i < rows; i += rowEvery) {
    labels.push(
      `<text x="${left - 5}" y="${px(top + (i + 0.5) * cellH + 4)}" text-anchor="end">${escapeXml(rowText(i))}</text>`,
    );
  }
  for (let j = 0; j < cols; j += colEvery) {
    labels.push(
      `<text x="${px(left + (j + 0.5) * cellW)}" y="${px(top + mapH + 15)}" text-anchor="middle">${escapeXml(colText(j))}</text>`,
    );
  }
  body.push(`<g class="ticks" ${FONT} font-size="11" fill="#333">${labels.join("")}</g>`);
  body.push(
    `<text ${FONT} font-size="12" x="${px(left + mapW / 2)}" y="${px(top + mapH + 34)}" text-anchor="middle">${escapeXml(options.xLabel ?? "column")}</text>`,
    `<text ${FONT} font-size="12" transform="translate(14 ${px(top + mapH / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel ?? "row")}</text>`,
  );
  if (showBar) body.push(colorbar(scale, barX, top, Math.max(mapH, 120), barTicks, nonFinite > 0));
  const what = `${rows} × ${cols}`;
  const desc = `A heat map of a ${what} matrix, values from ${format(lo)} to ${format(hi)}${nonFinite > 0 ? `, ${nonFinite} not finite (grey)` : ""}.`;
  return svgDocument(width, height, title, desc, body.join("\n"));
}

function cellSizes(rows: number, cols: number, given: HeatmapOptions["cellSize"]): [number, number] {
  if (typeof given === "number") return [given, given];
  if (given !== undefined) return [given[0], given[1]];
  const square = Math.min(44, 420 / Math.max(rows, cols));
  if (Math.min(rows, cols) * square >= 120) return [square, square];
  return [
    Math.min(44, 420 / cols, Math.max(square, 120 / cols)),
    Math.min(44, 420 / rows, Math.max(square, 120 / rows)),
  ];
}

function colorbar(
  scale: ColorScaleName,
  x: number,
  top: number,
  height: number,
  ticks: readonly string[],
  nan: boolean,
): string {
  const id = `${ID}bar`;
  const stops = Array.from({ length: 11 }, (_, k) => {
    // the gradient runs top (max) to bottom (min)
    return `<stop offset="${k / 10}" stop-color="${colorAt(scale, 1 - k / 10)}"/>`;
  }).join("");
  const barH = nan ? height - 22 : height;
  const labels = ticks
    .map((t, k) => `<text x="${x + 19}" y="${px(top + barH - (k * barH) / 2 + 4)}">${escapeXml(t)}</text>`)
    .join("");
  const nanKey = nan
    ? `<rect x="${x}" y="${top + barH + 10}" width="14" height="12" fill="${NAN_FILL}" stroke="#333" stroke-width="0.5"/><text x="${x + 19}" y="${top + barH + 20}">NaN</text>`
    : "";
  return `<g class="colorbar" ${FONT} font-size="11" fill="#333"><defs><linearGradient id="${id}" x1="0" y1="0" x2="0" y2="1">${stops}</linearGradient></defs><rect x="${x}" y="${top}" width="14" height="${px(barH)}" fill="url(#${id})" stroke="#333" stroke-width="0.5"/>${labels}${nanKey}</g>`;
}

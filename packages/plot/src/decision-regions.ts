/**
 * @file Scatter plots over decision regions for k classes — the course's `plot_decision_boundary`, for any
 * classifier: the prediction over a grid covering the data, filled by class, with the points on top
 * coloured by label.
 */
import { formatShape, noGrad, Tensor } from "@tapegrad/autograd";
import { type LegendItem, type Panel, type PointsLayer, renderFigure } from "./figure.js";
import {
  checkClassIds,
  describeValue,
  type MatrixLike,
  toMatrix,
  toVector,
  type VectorLike,
} from "./input.js";
import { PALETTE, REGION_PALETTE } from "./palette.js";

/** What `predict` may return for n grid points: class ids, probabilities of class 1, or scores per class. */
export type Prediction = Tensor | ArrayLike<number> | readonly (readonly number[])[];

/** Options of `decisionRegionsPanel` and `decisionRegionsSvg`. */
export interface DecisionRegionsOptions {
  /** The data: (m, 2), one point per row; or (2, m), one per column, with `layout: "columns"` (the course's). */
  points: MatrixLike;
  /** m class ids, integers 0..k−1 (any shape holding m numbers: (m), (1, m), (m, 1)). */
  labels: VectorLike;
  /**
   * The classifier, called once with every grid point, laid out as `points` is ((n, 2) or (2, n)), under
   * `noGrad`. It returns, for the n points, either
   * - n class ids (integers), or
   * - n probabilities of class 1 (binary; class 1 where ≥ 0.5), or
   * - scores of each class, (n, k) (or (k, n) with `layout: "columns"`): probabilities or logits, argmax wins.
   */
  predict: (grid: Tensor) => Prediction;
  /** How `points` and the grid hold their points (default "rows": (m, 2)). */
  layout?: "rows" | "columns";
  /** Number of classes k (default: 1 + the largest label or predicted class). */
  classes?: number;
  /** Legend label of each class (default "class 0", "class 1", …). */
  classNames?: readonly string[];
  /** Point colours of the classes (default `PALETTE`) and region colours (default `REGION_PALETTE`). */
  colors?: readonly string[];
  regionColors?: readonly string[];
  /** Panel title (default "Decision regions"). */
  title?: string;
  /** Axis labels (default "x1", "x2"). */
  xLabel?: string;
  yLabel?: string;
  /** Grid step in data units (default: the larger padded range / 160). The course uses 0.01. */
  h?: number;
  /** Margin around the data, in data units (default: a tenth of the larger range; the course uses 1). */
  pad?: number;
  /** Point radius in pixels (default 2.5). */
  radius?: number;
  /** Draw the legend (default true). */
  legend?: boolean;
}

/** Options of `decisionRegionsSvg`: the panel's, plus the figure's size and title. */
export interface DecisionRegionsSvgOptions extends DecisionRegionsOptions {
  /** Figure title above the panel (default none; the panel has its own title). */
  figureTitle?: string;
  /** Size in pixels (default 560 × 520). */
  width?: number;
  height?: number;
}

/**
 * A panel of decision regions for k classes: the class `predict` gives each cell of a grid covering the
 * data (numpy's `meshgrid(arange(x_min, x_max, h), arange(y_min, y_max, h))` with x_min = min x − pad, …),
 * with the points on top coloured by label. Class c is `PALETTE[c]` (points) over `REGION_PALETTE[c]`
 * (regions), so the same class has the same hue in every figure.
 * @returns a `Panel` for `renderFigure` (to draw several side by side).
 * @throws Error starting with `decisionRegionsPanel:` if the points are not (m, 2) (or (2, m)), the labels
 * are not m class ids, a point is not finite, `predict` returns another shape or a value that is neither a
 * class id nor a probability, or there are more classes than colours.
 */
export function decisionRegionsPanel(options: DecisionRegionsOptions): Panel {
  return buildPanel("decisionRegionsPanel", options);
}

/**
 * `decisionRegionsPanel` as a standalone SVG document (see there).
 * @returns the SVG text.
 * @throws Error starting with `decisionRegionsSvg:` (see `decisionRegionsPanel`).
 */
export function decisionRegionsSvg(options: DecisionRegionsSvgOptions): string {
  const panel = buildPanel("decisionRegionsSvg", options);
  return renderFigure([panel], {
    ...(options.figureTitle === undefined ? {} : { title: options.figureTitle }),
    description: `Decision regions of a classifier over the plane, with ${(panel.layers[1] as PointsLayer).xs.length} points coloured by class.`,
    panelWidth: options.width ?? 560,
    panelHeight: options.height ?? 520,
  });
}

function buildPanel(fn: string, options: DecisionRegionsOptions): Panel {
  if (options === null || typeof options !== "object") {
    throw new Error(
      `${fn}: expected an options object { points, labels, predict }, got ${describeValue(options)}`,
    );
  }
  if (typeof options.predict !== "function") {
    throw new Error(
      `${fn}: predict is ${describeValue(options.predict)}; expected a function of the grid points`,
    );
  }
  const columns = options.layout === "columns";
  const P = toMatrix(fn, "points", options.points);
  const m = columns ? P.cols : P.rows;
  if ((columns ? P.rows : P.cols) !== 2) {
    throw new Error(
      `${fn}: points has shape [${P.rows}, ${P.cols}]; expected ${columns ? "(2, m), one point per column" : '(m, 2), one point per row (or layout: "columns" for (2, m))'}`,
    );
  }
  const xs = new Float64Array(m);
  const ys = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    xs[k] = columns ? P.data[k]! : P.data[2 * k]!;
    ys[k] = columns ? P.data[m + k]! : P.data[2 * k + 1]!;
    if (!Number.isFinite(xs[k]!) || !Number.isFinite(ys[k]!)) {
      throw new Error(`${fn}: point ${k} is (${xs[k]}, ${ys[k]}); expected finite coordinates`);
    }
  }
  const labels = toVector(fn, "labels", options.labels);
  if (labels.length !== m) {
    throw new Error(
      `${fn}: labels holds ${labels.length} numbers for ${m} points; expected one class id per point`,
    );
  }
  const colors = options.colors ?? PALETTE;
  const regionColors = options.regionColors ?? REGION_PALETTE;
  const limit = Math.min(colors.length, regionColors.length);
  checkClassIds(fn, "labels", labels, options.classes ?? limit);

  const pad = options.pad ?? (Math.max(maxOf(xs) - minOf(xs), maxOf(ys) - minOf(ys)) || 1) / 10;
  const xMin = minOf(xs) - pad;
  const xMax = maxOf(xs) + pad;
  const yMin = minOf(ys) - pad;
  const yMax = maxOf(ys) + pad;
  const h = options.h ?? Math.max(xMax - xMin, yMax - yMin) / 160;
  if (!(h > 0) || !Number.isFinite(h)) throw new Error(`${fn}: h is ${h}; expected a positive grid step`);
  // numpy's arange(start, stop, h) has ceil((stop − start)/h) elements start + i·h
  const nx = Math.ceil((xMax - xMin) / h);
  const ny = Math.ceil((yMax - yMin) / h);
  const n = nx * ny;
  if (n > 4_000_000) {
    throw new Error(
      `${fn}: h = ${h} makes a grid of ${nx} × ${ny} cells; expected at most 4 000 000 (a larger h)`,
    );
  }
  const grid = new Float64Array(2 * n);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const k = j * nx + i;
      if (columns) {
        grid[k] = xMin + i * h;
        grid[n + k] = yMin + j * h;
      } else {
        grid[2 * k] = xMin + i * h;
        grid[2 * k + 1] = yMin + j * h;
      }
    }
  }
  const out = noGrad(() => options.predict(new Tensor(grid, columns ? [2, n] : [n, 2])));
  const cells = classesOf(fn, out, n, columns);
  const k = options.classes ?? Math.max(maxOf(labels), maxOf(cells)) + 1;
  if (k > limit) {
    throw new Error(
      `${fn}: ${k} classes but ${limit} colours; pass colors and regionColors with one colour per class`,
    );
  }
  checkClassIds(fn, "predict's classes", cells, k);

  const names = options.classNames ?? Array.from({ length: k }, (_, c) => `class ${c}`);
  const legend: LegendItem[] = names
    .slice(0, k)
    .map((label, c) => ({ label, color: colors[c]!, kind: "point" }));
  return {
    title: options.title ?? "Decision regions",
    x: [xMin, xMax],
    y: [yMin, yMax],
    xLabel: options.xLabel ?? "x1",
    yLabel: options.yLabel ?? "x2",
    layers: [
      { kind: "regions", x0: xMin, y0: yMin, h, nx, ny, classes: cells, colors: regionColors.slice(0, k) },
      {
        kind: "points",
        xs,
        ys,
        classes: labels,
        colors: colors.slice(0, k),
        ...(options.radius === undefined ? {} : { radius: options.radius }),
      },
    ],
    ...(options.legend === false ? {} : { legend }),
  };
}

function maxOf(a: ArrayLike<number>): number {
  let best = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < a.length; i++) if (a[i]! > best) best = a[i]!;
  return best;
}

function minOf(a: ArrayLike<number>): number {
  return -maxOf(Array.from(a, (v) => -v));
}

/** The class of each of the n grid points from what `predict` returned. */
function classesOf(fn: string, out: unknown, n: number, columns: boolean): Uint16Array {
  let shape: readonly number[];
  let data: ArrayLike<number>;
  if (out instanceof Tensor) {
    shape = out.shape;
    data = out.data;
  } else if (Array.isArray(out) && out.length > 0 && Array.isArray(out[0])) {
    const M = toMatrix(fn, "predict's result", out);
    shape = [M.rows, M.cols];
    data = M.data;
  } else {
    data = toVector(fn, "predict's result", out);
    shape = [data.length];
  }
  const cells = new Uint16Array(n);
  if (data.length === n) {
    const ids = Array.prototype.every.call(data, (v: number) => Number.isInteger(v));
    for (let i = 0; i < n; i++) {
      const v = data[i]!;
      if (ids) cells[i] = v;
      else if (v >= 0 && v <= 1) cells[i] = v >= 0.5 ? 1 : 0;
      else {
        throw new Error(
          `${fn}: predict returned ${v} for grid point ${i}; expected class ids (integers) or probabilities of class 1 (in [0, 1])`,
        );
      }
    }
    return cells;
  }
  const k = data.length / n;
  // scores per class: (n, k) or (k, n); a tensor's shape says which, a flat array follows the layout
  const perColumn = shape.length === 2 ? shape[0] === k && shape[1] === n : columns;
  if (!Number.isInteger(k) || k < 2 || (shape.length === 2 && !(shape.includes(n) && shape.includes(k)))) {
    throw new Error(
      `${fn}: predict returned shape ${formatShape(shape)} for ${n} grid points; expected ${n} class ids, ${n} probabilities of class 1, or scores of shape [${n}, k]${columns ? ` or [k, ${n}]` : ""}`,
    );
  }
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      const s = perColumn ? data[c * n + i]! : data[i * k + c]!;
      if (s > bestScore) {
        best = c;
        bestScore = s;
      }
    }
    if (!(bestScore > Number.NEGATIVE_INFINITY)) {
      throw new Error(
        `${fn}: predict returned no finite score for grid point ${i}; expected scores of each class`,
      );
    }
    cells[i] = best;
  }
  return cells;
}

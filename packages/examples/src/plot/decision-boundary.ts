/**
 * @file The course's `plot_decision_boundary` as a panel of our SVG module: the prediction over a grid
 * covering the data (±1 around it), filled by class, with the data points on top coloured by label.
 */
import { formatShape, noGrad, Tensor } from "@tapegrad/autograd";
import type { Panel } from "./svg.js";

/** Light fills for the predicted regions and saturated colours for the points: class 0 red, class 1 blue. */
export const CLASS_COLORS = {
  regions: ["#f4a582", "#92c5de"],
  points: ["#d7191c", "#2c7bb6"],
} as const;

/** Options of `decisionBoundaryPanel`. */
export interface DecisionBoundaryOptions {
  title: string;
  /** Grid step in data units; the course uses 0.01, 0.05 (default) keeps the SVG small and looks the same. */
  h?: number;
  /** Margin around the data, in data units; default 1 as in the course. */
  pad?: number;
  /** Point radius in pixels (default 2.5). */
  radius?: number;
  /** Draw the legend (default true). */
  legend?: boolean;
}

/**
 * A panel showing `predictFn`'s classes over the plane and the examples of X coloured by Y.
 * The grid is numpy's `meshgrid(arange(x_min, x_max, h), arange(y_min, y_max, h))` with
 * x_min = min X[0, :] − pad, x_max = max X[0, :] + pad (likewise y), evaluated in one call.
 * @param X (2, m) points, one per column. @param Y (1, m) labels 0/1.
 * @param predictFn maps grid points (2, n) to predictions (1, n) of 0/1.
 * @throws Error if X is not (2, m), Y not (1, m), or predictFn returns another shape.
 */
export function decisionBoundaryPanel(
  X: Tensor,
  Y: Tensor,
  predictFn: (points: Tensor) => Tensor,
  options: DecisionBoundaryOptions,
): Panel {
  const { h = 0.05, pad = 1 } = options;
  if (X.ndim !== 2 || X.shape[0] !== 2 || Y.ndim !== 2 || Y.shape[0] !== 1 || Y.shape[1] !== X.shape[1]) {
    throw new Error(
      `decisionBoundaryPanel: X ${formatShape(X.shape)} and Y ${formatShape(Y.shape)} must be (2, m) and (1, m)`,
    );
  }
  const m = X.shape[1]!;
  const xs = X.data.subarray(0, m);
  const ys = X.data.subarray(m, 2 * m);
  const xMin = Math.min(...xs) - pad;
  const xMax = Math.max(...xs) + pad;
  const yMin = Math.min(...ys) - pad;
  const yMax = Math.max(...ys) + pad;
  // numpy's arange(start, stop, h) has ceil((stop − start)/h) elements start + i·h
  const nx = Math.ceil((xMax - xMin) / h);
  const ny = Math.ceil((yMax - yMin) / h);
  const grid = new Float64Array(2 * nx * ny);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      grid[j * nx + i] = xMin + i * h;
      grid[nx * ny + j * nx + i] = yMin + j * h;
    }
  }
  const Z = noGrad(() => predictFn(new Tensor(grid, [2, nx * ny])));
  if (Z.size !== nx * ny) {
    throw new Error(
      `decisionBoundaryPanel: predictFn returned shape ${formatShape(Z.shape)} for ${nx * ny} grid points; expected [1, ${nx * ny}]`,
    );
  }
  return {
    title: options.title,
    x: [xMin, xMax],
    y: [yMin, yMax],
    xLabel: "x1",
    yLabel: "x2",
    layers: [
      { kind: "regions", x0: xMin, y0: yMin, h, nx, ny, classes: Z.data, colors: CLASS_COLORS.regions },
      {
        kind: "points",
        xs,
        ys,
        classes: Y.data,
        colors: CLASS_COLORS.points,
        ...(options.radius === undefined ? {} : { radius: options.radius }),
      },
    ],
    ...(options.legend === false
      ? {}
      : {
          legend: [
            { label: "y = 0", color: CLASS_COLORS.points[0] },
            { label: "y = 1", color: CLASS_COLORS.points[1] },
          ],
        }),
  };
}

/**
 * @file @tapegrad/plot: SVG figures for tapegrad that run in Node and browsers (plain strings, no DOM):
 * decision regions for k classes, line charts for cost curves, heat maps of tensors, and `graphSvg`, the
 * tape behind a tensor.
 * @packageDocumentation
 */
export {
  type DecisionRegionsOptions,
  type DecisionRegionsSvgOptions,
  decisionRegionsPanel,
  decisionRegionsSvg,
  type Prediction,
} from "./decision-regions.js";
export {
  type FigureOptions,
  type Layer,
  type LegendItem,
  type LineLayer,
  type Panel,
  type PointsLayer,
  type RegionsLayer,
  renderFigure,
} from "./figure.js";
export { type GraphSvgOptions, graphSvg, type Verdict } from "./graph-svg.js";
export { type HeatmapOptions, heatmapSvg } from "./heatmap.js";
export type { MatrixLike, VectorLike } from "./input.js";
export {
  type LineChartOptions,
  type LineChartSvgOptions,
  lineChartPanel,
  lineChartSvg,
  type Series,
} from "./line-chart.js";
export { type ColorScaleName, colorAt, PALETTE, REGION_PALETTE, VERDICT_COLORS } from "./palette.js";
export { escapeXml } from "./svg.js";
export { logTicks, niceTicks } from "./ticks.js";

/**
 * @file @tapegrad/examples: the course's planar data set, accuracy as the course computes it and the
 * progress reporter the runnable examples share. The examples themselves
 * (demo, gradient-check, custom-layer, mnist-binary, mnist, plot-gallery) each export `run(options)`.
 * @packageDocumentation
 */

// The planar data set lives in @tapegrad/nn (the playground page uses it too); re-exported for the examples.
export { linspace, loadPlanarDataset, type PlanarDataset } from "@tapegrad/nn";
export { courseAccuracy } from "./accuracy.js";
export {
  type LogisticModel,
  type LogisticOptions,
  predictLogistic,
  trainLogisticRegression,
} from "./logistic-regression.js";
export { hasFlag, isMain, type Log } from "./main.js";
export { createProgressGroup, type Progress, type ProgressGroup, type ProgressOptions } from "./progress.js";

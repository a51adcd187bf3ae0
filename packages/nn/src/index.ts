/**
 * @file @tapegrad/nn: the course's two-layer network (column layout, manual and tape backprop, and a
 * checker that names the wrong equation) with its planar "flower" data set, plus PyTorch-style modules,
 * layers, losses, initialisers and optimizers (batch-first).
 * @packageDocumentation
 */

/** numpy's pairwise summation, which `computeCost` uses (defined in @tapegrad/autograd, where `sum` uses it). */
export { pairwiseSum } from "@tapegrad/autograd";
export { AdamW } from "./adamw.js";
export { type Batches, type BatchesOptions, type BatchLabels, batches, type Labels } from "./batches.js";
export {
  type BackpropCheck,
  type CheckBackpropOptions,
  checkBackprop,
  EQUATION_TEXT,
  EQUATIONS,
  type EquationCheck,
  type EquationName,
  type ManualBackward,
} from "./check-backprop.js";
export {
  loadNpy,
  loadParameters,
  loadSafetensors,
  type SaveParametersOptions,
  saveNpy,
  saveParameters,
} from "./checkpoint-files.js";
export { type ClipGradNormOptions, clipGradNorm } from "./clip-grad.js";
export {
  type Activation,
  type ActivationOptions,
  type ActivationRule,
  activations,
  autogradBackward,
  backwardPropagation,
  type Cache,
  computeCost,
  costTensor,
  costTerm,
  forwardPropagation,
  type Grads,
  initializeParameters,
  LEAKY_RELU_SLOPE,
  layerSizes,
  type NnModelOptions,
  nnModel,
  type ParamGrads,
  type Params,
  predict,
  updateParameters,
} from "./course.js";
export {
  defaultGenerator,
  fans,
  heNormal,
  manualSeed,
  normal,
  type RngOptions,
  resolveRng,
  uniform,
  xavierUniform,
} from "./init.js";
export {
  AvgPool2d,
  Conv2d,
  type Conv2dLayerOptions,
  MaxPool2d,
  type Pool2dLayerOptions,
} from "./layers/conv.js";
export { Dropout } from "./layers/dropout.js";
export { Embedding } from "./layers/embedding.js";
export { Flatten } from "./layers/flatten.js";
export {
  BatchNorm1d,
  BatchNorm2d,
  type BatchNormOptions,
  LayerNorm,
  type LayerNormOptions,
} from "./layers/normalization.js";
export { GELU, LeakyReLU, Linear, ReLU, Sequential, Sigmoid, Tanh } from "./layers.js";
export { bceLoss, bceWithLogitsLoss, crossEntropyLoss, mseLoss } from "./losses.js";
export { accuracy } from "./metrics.js";
export { Module } from "./module.js";
export { decodeNpy, encodeNpy } from "./npy.js";
export { Adam, type AdamOptions, type AdamState, Optimizer, SGD, type SGDOptions } from "./optim.js";
export type { Hyperparameter, OptimizerStateDict, ParamState } from "./optim-state.js";
export { linspace, loadPlanarDataset, type PlanarDataset } from "./planar-dataset.js";
export { decodeSafetensors, encodeSafetensors, type SafetensorsContents } from "./safetensors.js";
export { CosineAnnealingLR, LRScheduler, type SchedulerStateDict, StepLR } from "./schedulers.js";
export { forwardEquations, gradientDescentStep, sixEquations } from "./six-equations.js";
export { TwoLayerNet } from "./two-layer-net.js";

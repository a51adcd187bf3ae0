/**
 * @file @tapegrad/autograd: float64 tensors with tape-based reverse-mode automatic differentiation.
 * @packageDocumentation
 */
// First: marks where the library's code begins in a bundle (anomaly mode's "created at"), see library-span.ts.
import { librarySpan } from "./library-span.js";
import "./tensor-methods.js";

export { AnomalyError, detectAnomaly, isAnomalyEnabled } from "./anomaly.js";
export { type BackendInfo, backendInfo, backendReady, getNumThreads, setNumThreads } from "./backend.js";
export {
  type CheckDerivationOptions,
  checkDerivation,
  type DerivationEquation,
  type DerivationInputs,
  type DerivationReport,
  type NameFn,
} from "./check-derivation.js";
export { type CustomOpDefinition, defineOp } from "./custom-op.js";
export { type DiagnoseContext, diagnoseMismatch } from "./diagnose.js";
export { enableGrad, isGradEnabled, noGrad } from "./grad-mode.js";
export {
  assertGradients,
  type GradcheckInputReport,
  type GradcheckOptions,
  type GradcheckReport,
  gradcheck,
  numericGradient,
  relativeDifference,
} from "./gradcheck.js";
export { pairwiseSum } from "./kernels/reduce.js";
export {
  argmax,
  argmin,
  avgPool2d,
  type Conv2dOptions,
  conv2d,
  maxPool2d,
  type Pool2dOptions,
  type Size2d,
} from "./ops/conv.js";
export {
  abs,
  add,
  addmm,
  arange,
  broadcastTo,
  clip,
  concat,
  div,
  equal,
  exp,
  eye,
  full,
  greater,
  greaterEqual,
  type Indices,
  less,
  lessEqual,
  log,
  logSoftmax,
  logsumexp,
  type MatmulOptions,
  matmul,
  max,
  maximum,
  mean,
  min,
  minimum,
  mul,
  type NestedNumbers,
  neg,
  notEqual,
  ones,
  onesLike,
  pow,
  relu,
  reluGrad,
  reshape,
  scatterAdd,
  sigmoid,
  sigmoidCrossEntropy,
  sigmoidGrad,
  sign,
  softmax,
  sqrt,
  square,
  stack,
  sub,
  sum,
  sumTo,
  type TensorLike,
  type TensorOptions,
  take,
  tanh,
  tanhGrad,
  tensor,
  transpose,
  where,
  zeros,
  zerosLike,
} from "./ops/index.js";
export { type PrimitiveName, primitives } from "./primitives/index.js";
export { RandomState } from "./random.js";
export { broadcastShapes, formatShape, type Shape, shapeSize } from "./shape.js";
export { type TapeGraph, type TapeGraphNode, tapeGraph } from "./tape-graph.js";
export { type GradHook, type NestedArray, Tensor, type TensorBackwardOptions } from "./tensor.js";
export {
  type ArgsOf,
  grad,
  hessian,
  hvp,
  jacobian,
  jvp,
  valueAndGrad,
  vjp,
  type WithNumbers,
} from "./transforms.js";

// Last: the entry's code follows all the modules it imports; marks where the library's code ends in a bundle.
librarySpan.ends.push(new Error());

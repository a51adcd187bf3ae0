/**
 * @file Installs the method forms of the ops on `Tensor.prototype` (`x.add(y)` is `add(x, y)`); their
 * types are declared with the class in tensor.ts. This module exists so that tensor.ts need not import
 * the ops, which import it: the package's entry imports it once, for this effect.
 */
import * as ops from "./ops/index.js";
import { formatShape } from "./shape.js";
import { Tensor, type TensorMethods } from "./tensor.js";

/** The method forms: each calls the public op with `this` first, so it validates like the function form. */
const methods: {
  [K in Exclude<keyof TensorMethods, "T">]: (this: Tensor, ...args: Parameters<TensorMethods[K]>) => Tensor;
} = {
  add(y) {
    return ops.add(this, y);
  },
  sub(y) {
    return ops.sub(this, y);
  },
  mul(y) {
    return ops.mul(this, y);
  },
  div(y) {
    return ops.div(this, y);
  },
  pow(y) {
    return ops.pow(this, y);
  },
  maximum(y) {
    return ops.maximum(this, y);
  },
  minimum(y) {
    return ops.minimum(this, y);
  },
  neg() {
    return ops.neg(this);
  },
  square() {
    return ops.square(this);
  },
  sqrt() {
    return ops.sqrt(this);
  },
  exp() {
    return ops.exp(this);
  },
  log() {
    return ops.log(this);
  },
  abs() {
    return ops.abs(this);
  },
  tanh() {
    return ops.tanh(this);
  },
  sigmoid() {
    return ops.sigmoid(this);
  },
  relu() {
    return ops.relu(this);
  },
  clip(lo, hi) {
    return ops.clip(this, lo, hi);
  },
  matmul(y, options) {
    return ops.matmul(this, y, options);
  },
  transpose(axes) {
    return ops.transpose(this, axes);
  },
  reshape(shape) {
    return ops.reshape(this, shape);
  },
  take(indices, axis) {
    return ops.take(this, indices, axis);
  },
  sum(axis, keepdims = false) {
    return ops.sum(this, axis, keepdims);
  },
  mean(axis, keepdims = false) {
    return ops.mean(this, axis, keepdims);
  },
  max(axis, keepdims = false) {
    return ops.max(this, axis, keepdims);
  },
  min(axis, keepdims = false) {
    return ops.min(this, axis, keepdims);
  },
  logsumexp(axis, keepdims = false) {
    return ops.logsumexp(this, axis, keepdims);
  },
  softmax(axis = -1) {
    return ops.softmax(this, axis);
  },
  logSoftmax(axis = -1) {
    return ops.logSoftmax(this, axis);
  },
};

for (const [name, value] of Object.entries(methods)) {
  Object.defineProperty(Tensor.prototype, name, { value, writable: true, configurable: true });
}
Object.defineProperty(Tensor.prototype, "T", {
  configurable: true,
  get(this: Tensor): Tensor {
    if (this.ndim !== 2)
      throw new Error(
        `T: expects a 2-D tensor, got shape ${formatShape(this.shape)} (use transpose(x, axes))`,
      );
    return ops.transpose(this);
  },
});

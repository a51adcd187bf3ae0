/**
 * @file The elementwise ops, validated at the door: unary functions, arithmetic with numpy broadcasting,
 * the fused activation backwards, comparisons, `where` and `clip`. Their derivatives: primitives/unary.ts
 * and primitives/binary.ts.
 */
import { type CompareOp, inner } from "../primitives/index.js";
import { broadcastShapes, formatShape, shapesEqual } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { describeValue } from "../validate.js";
import { type TensorLike, toTensor } from "./convert.js";

function unaryOp(
  name: "neg" | "square" | "sqrt" | "exp" | "log" | "abs" | "tanh" | "sigmoid" | "relu" | "sign",
  x: Tensor,
): Tensor {
  return inner[name](toTensor(x, name));
}

/** −x */
export const neg = (x: Tensor): Tensor => unaryOp("neg", x);
/** x² */
export const square = (x: Tensor): Tensor => unaryOp("square", x);
/** √x (NaN for negative x, as in IEEE arithmetic) */
export const sqrt = (x: Tensor): Tensor => unaryOp("sqrt", x);
/** eˣ */
export const exp = (x: Tensor): Tensor => unaryOp("exp", x);
/** Natural logarithm (−Infinity at 0, NaN below). */
export const log = (x: Tensor): Tensor => unaryOp("log", x);
/** |x|; its gradient at 0 is 0. */
export const abs = (x: Tensor): Tensor => unaryOp("abs", x);
/** Hyperbolic tangent. */
export const tanh = (x: Tensor): Tensor => unaryOp("tanh", x);
/** Logistic sigmoid 1 / (1 + e⁻ˣ), computed without overflow for large |x|. */
export const sigmoid = (x: Tensor): Tensor => unaryOp("sigmoid", x);
/** max(x, 0); its gradient at 0 is 0. */
export const relu = (x: Tensor): Tensor => unaryOp("relu", x);
/** −1, 0 or 1 by the sign of x (not differentiable: no gradient flows through it). */
export const sign = (x: Tensor): Tensor => unaryOp("sign", x);

function binaryOp(
  name: "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum" | "sigmoidCrossEntropy",
  x: TensorLike,
  y: TensorLike,
): Tensor {
  const a = toTensor(x, name, 1);
  const b = toTensor(y, name, 2);
  if (!shapesEqual(a.shape, b.shape)) broadcastShapes(a.shape, b.shape, name);
  return inner[name](a, b);
}

/** x + y, with numpy broadcasting. @throws Error if the shapes cannot be broadcast. */
export const add = (x: TensorLike, y: TensorLike): Tensor => binaryOp("add", x, y);
/** x − y, with numpy broadcasting. */
export const sub = (x: TensorLike, y: TensorLike): Tensor => binaryOp("sub", x, y);
/** x · y elementwise, with numpy broadcasting. */
export const mul = (x: TensorLike, y: TensorLike): Tensor => binaryOp("mul", x, y);
/** x / y elementwise, with numpy broadcasting. */
export const div = (x: TensorLike, y: TensorLike): Tensor => binaryOp("div", x, y);
/** xʸ elementwise, with numpy broadcasting. The gradient for y uses log x (NaN for x < 0). */
export const pow = (x: TensorLike, y: TensorLike): Tensor => binaryOp("pow", x, y);
/** Elementwise maximum (NaN propagates); at ties the gradient is split evenly between x and y. */
export const maximum = (x: TensorLike, y: TensorLike): Tensor => binaryOp("maximum", x, y);
/** Elementwise minimum (NaN propagates); at ties the gradient is split evenly between x and y. */
export const minimum = (x: TensorLike, y: TensorLike): Tensor => binaryOp("minimum", x, y);

/**
 * Binary cross-entropy of logits, elementwise: −[y log σ(z) + (1 − y) log(1 − σ(z))], computed as
 * max(z, 0) − z·y + log(1 + e^−|z|), so it neither overflows nor takes log(0) for large |z| (TensorFlow's
 * `sigmoid_cross_entropy_with_logits`, PyTorch's `binary_cross_entropy_with_logits` without reduction).
 * One op instead of sigmoid, two logs and four arithmetic ops; its gradient is σ(z) − y.
 * @param logits z, any shape. @param labels y, broadcast with z (usually 0/1, any real value is accepted).
 */
export const sigmoidCrossEntropy = (logits: TensorLike, labels: TensorLike): Tensor =>
  binaryOp("sigmoidCrossEntropy", logits, labels);

function activationGradOp(
  name: "tanhGrad" | "sigmoidGrad" | "reluGrad",
  g: TensorLike,
  y: TensorLike,
): Tensor {
  const gt = toTensor(g, name, 1);
  const yt = toTensor(y, name, 2);
  if (!shapesEqual(gt.shape, yt.shape)) {
    throw new Error(
      `${name}: g has shape ${formatShape(gt.shape)} but ${name === "reluGrad" ? "x" : "y"} has shape ${formatShape(yt.shape)}; expected the same shape (g is the gradient of the activation's output)`,
    );
  }
  return inner[name](gt, yt);
}

/**
 * tanh's backward from its output, fused: g·(1 − y²) in one pass, rounded exactly as `mul(g, sub(1, square(y)))`
 * (PyTorch's `tanh_backward`). For backprop written by hand: dZ = tanhGrad(dA, A) where A = tanh(Z).
 * Differentiable (second-order rules included).
 * @param g the gradient with respect to y. @param y = tanh(x), the same shape as g.
 * @throws Error naming both shapes if they differ.
 */
export const tanhGrad = (g: TensorLike, y: TensorLike): Tensor => activationGradOp("tanhGrad", g, y);

/**
 * relu's backward, fused: g·[x > 0] in one pass, rounded exactly as `mul(g, greater(x, 0))` (PyTorch's
 * `threshold_backward`). For backprop written by hand: dZ = reluGrad(dA, Z) where A = relu(Z).
 * Differentiable in g (its gradient in x is 0 away from the kink).
 * @param g the gradient with respect to relu(x). @param x the input of relu, the same shape as g.
 * @throws Error naming both shapes if they differ.
 */
export const reluGrad = (g: TensorLike, x: TensorLike): Tensor => activationGradOp("reluGrad", g, x);

/**
 * sigmoid's backward from its output, fused: g·(y·(1 − y)) in one pass, rounded exactly as
 * `mul(g, mul(y, sub(1, y)))` (PyTorch's `sigmoid_backward`). Differentiable.
 * @param g the gradient with respect to y. @param y = σ(x), the same shape as g.
 * @throws Error naming both shapes if they differ.
 */
export const sigmoidGrad = (g: TensorLike, y: TensorLike): Tensor => activationGradOp("sigmoidGrad", g, y);

/** Elementwise comparison giving 1 (true) or 0 (false); not differentiable. */
export function compare(x: TensorLike, y: TensorLike, op: CompareOp): Tensor {
  const a = toTensor(x, "compare", 1);
  const b = toTensor(y, "compare", 2);
  if (!shapesEqual(a.shape, b.shape)) broadcastShapes(a.shape, b.shape, `compare (${op})`);
  return inner.compare(a, b, op);
}
/** 1 where x > y, else 0. */
export const greater = (x: TensorLike, y: TensorLike): Tensor => compare(x, y, ">");
/** 1 where x ≥ y, else 0. */
export const greaterEqual = (x: TensorLike, y: TensorLike): Tensor => compare(x, y, ">=");
/** 1 where x < y, else 0. */
export const less = (x: TensorLike, y: TensorLike): Tensor => compare(x, y, "<");
/** 1 where x ≤ y, else 0. */
export const lessEqual = (x: TensorLike, y: TensorLike): Tensor => compare(x, y, "<=");
/** 1 where x = y, else 0. */
export const equal = (x: TensorLike, y: TensorLike): Tensor => compare(x, y, "==");
/** 1 where x ≠ y, else 0. */
export const notEqual = (x: TensorLike, y: TensorLike): Tensor => compare(x, y, "!=");

/**
 * Choose elementwise: `a` where `cond` is non-zero, else `b`; all three broadcast together.
 * Gradients flow to `a` and `b` (masked), not to `cond`.
 */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const c = toTensor(cond, "where", 1);
  const x = toTensor(a, "where", 2);
  const y = toTensor(b, "where", 3);
  const s = broadcastShapes(c.shape, x.shape, "where");
  broadcastShapes(s, y.shape, "where");
  return inner.where(c, x, y);
}

/**
 * Limit values to [lo, hi]. The gradient passes where lo ≤ x ≤ hi.
 * @throws Error if lo > hi or a bound is NaN.
 */
export function clip(x: Tensor, lo: number, hi: number): Tensor {
  const t = toTensor(x, "clip");
  if (typeof lo !== "number" || typeof hi !== "number" || Number.isNaN(lo) || Number.isNaN(hi) || lo > hi) {
    const show = (v: unknown) => (typeof v === "number" ? String(v) : describeValue(v));
    throw new Error(`clip: expected numbers lo ≤ hi, got lo = ${show(lo)}, hi = ${show(hi)}`);
  }
  return inner.clip(t, lo, hi);
}

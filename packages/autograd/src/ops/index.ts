/**
 * @file The public ops: each validates its arguments once, here at the boundary, with an error that
 * names the op, the shapes or values and what was expected, then runs a primitive (or a composition of
 * primitives). Kernels below this layer assume valid input.
 */
import {
  assertShape,
  broadcastShapes,
  formatShape,
  normalizeAxes,
  normalizeAxis,
  type Shape,
  shapeSize,
  shapesEqual,
} from "../shape.js";
import { Tensor } from "../tensor.js";
import { apply, type CompareOp } from "./primitives.js";

export {
  argmax,
  argmin,
  avgPool2d,
  type Conv2dOptions,
  conv2d,
  maxPool2d,
  type Pool2dOptions,
  type Size2d,
} from "./conv.js";

/** A tensor argument: a Tensor, or a number (treated as a 0-d tensor that broadcasts). */
export type TensorLike = Tensor | number;

/** Indices for `take`: a list of integers, an Int32Array, or a 1-D tensor of integers. */
export type Indices = readonly number[] | Int32Array | Tensor;

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array (wrap it with tensor(...))";
  return typeof v === "object" ? (v.constructor?.name ?? "object") : `${typeof v} ${String(v)}`;
}

/** Convert a `TensorLike` argument, or throw naming the op and the argument position. */
export function toTensor(v: unknown, op: string, position = 1): Tensor {
  if (v instanceof Tensor) return v;
  if (typeof v === "number") return new Tensor(new Float64Array([v]), []);
  throw new Error(`${op}: argument ${position} must be a Tensor or a number, got ${describe(v)}`);
}

// ---------------------------------------------------------------- creation

/** Options of `tensor`. */
export interface TensorOptions {
  /** Shape of the data; required to give a flat `Float64Array` a shape other than 1-D. */
  shape?: readonly number[];
  /** Whether gradients should be computed for this tensor (a leaf). Default false. */
  requiresGrad?: boolean;
}

/** Nested arrays of numbers, as accepted by `tensor`. */
export type NestedNumbers = number | readonly NestedNumbers[];

/**
 * Create a float64 tensor from a number, nested arrays of numbers, or a `Float64Array` (copied; give
 * `options.shape` for more than one axis).
 * @throws Error for ragged arrays, non-numbers, or a data/shape size mismatch.
 * @example tensor([[1, 2], [3, 4]], { requiresGrad: true })
 */
export function tensor(
  data: NestedNumbers | Float64Array | readonly number[],
  options: TensorOptions = {},
): Tensor {
  let values: Float64Array;
  let shape: number[];
  if (data instanceof Float64Array) {
    values = data.slice();
    shape = options.shape === undefined ? [data.length] : [...options.shape];
  } else if (typeof data === "number") {
    values = new Float64Array([data]);
    shape = options.shape === undefined ? [] : [...options.shape];
  } else if (Array.isArray(data)) {
    shape = [];
    for (let level: unknown = data; Array.isArray(level); level = level[0]) shape.push(level.length);
    values = new Float64Array(shapeSize(shape));
    let k = 0;
    const walk = (v: unknown, axis: number, path: number[]): void => {
      if (axis === shape.length) {
        if (typeof v !== "number") {
          throw new Error(`tensor: element at [${path.join(", ")}] is ${describe(v)}, expected a number`);
        }
        values[k++] = v;
        return;
      }
      if (!Array.isArray(v) || v.length !== shape[axis]) {
        throw new Error(
          `tensor: ragged nested array: the entry at [${path.join(", ")}] has ${Array.isArray(v) ? `length ${v.length}` : `a ${typeof v}`}, expected an array of length ${shape[axis]} (as its first sibling)`,
        );
      }
      for (let i = 0; i < v.length; i++) walk(v[i], axis + 1, [...path, i]);
    };
    walk(data, 0, []);
    if (options.shape !== undefined) shape = [...options.shape];
  } else {
    throw new Error(
      `tensor: data must be a number, nested arrays of numbers or a Float64Array, got ${describe(data)}`,
    );
  }
  assertShape(shape, "tensor");
  if (shapeSize(shape) !== values.length) {
    throw new Error(
      `tensor: data has ${values.length} elements but shape ${formatShape(shape)} has ${shapeSize(shape)}`,
    );
  }
  return new Tensor(values, shape, options.requiresGrad ?? false);
}

/** A tensor of `shape` filled with `value`. */
export function full(
  shape: readonly number[],
  value: number,
  options: { requiresGrad?: boolean } = {},
): Tensor {
  assertShape(shape, "full");
  if (typeof value !== "number") throw new Error(`full: value must be a number, got ${describe(value)}`);
  return new Tensor(
    new Float64Array(shapeSize(shape)).fill(value),
    [...shape],
    options.requiresGrad ?? false,
  );
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], options: { requiresGrad?: boolean } = {}): Tensor {
  assertShape(shape, "zeros");
  return new Tensor(new Float64Array(shapeSize(shape)), [...shape], options.requiresGrad ?? false);
}

/** A tensor of ones. */
export function ones(shape: readonly number[], options: { requiresGrad?: boolean } = {}): Tensor {
  assertShape(shape, "ones");
  return full(shape, 1, options);
}

/** Zeros with the shape of `x`. */
export function zerosLike(x: Tensor): Tensor {
  return zeros(toTensor(x, "zerosLike").shape);
}

/** Ones with the shape of `x`. */
export function onesLike(x: Tensor): Tensor {
  return ones(toTensor(x, "onesLike").shape);
}

/**
 * Evenly spaced values in [start, stop) (numpy's arange): `arange(5)` is 0…4, `arange(1, 2, 0.25)`.
 * @throws Error if step is 0 or an argument is not a finite number.
 */
export function arange(start: number, stop?: number, step = 1): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  for (const [name, v] of [
    ["start", start],
    ["stop", stop],
    ["step", step],
  ] as const) {
    if (typeof v !== "number" || !Number.isFinite(v))
      throw new Error(`arange: ${name} must be a finite number, got ${describe(v)}`);
  }
  if (step === 0) throw new Error("arange: step must not be 0");
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  return new Tensor(out, [n]);
}

/** The n×m identity matrix (m defaults to n). */
export function eye(n: number, m = n): Tensor {
  assertShape([n, m], "eye");
  const out = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) out[i * m + i] = 1;
  return new Tensor(out, [n, m]);
}

// ---------------------------------------------------------------- elementwise

function unaryOp(
  name: "neg" | "square" | "sqrt" | "exp" | "log" | "abs" | "tanh" | "sigmoid" | "relu" | "sign",
  x: Tensor,
): Tensor {
  return apply(name, [toTensor(x, name)], undefined);
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
  return apply(name, [a, b], undefined);
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

function activationGradOp(name: "tanhGrad" | "sigmoidGrad", g: TensorLike, y: TensorLike): Tensor {
  const gt = toTensor(g, name, 1);
  const yt = toTensor(y, name, 2);
  if (!shapesEqual(gt.shape, yt.shape)) {
    throw new Error(
      `${name}: g has shape ${formatShape(gt.shape)} but y has shape ${formatShape(yt.shape)}; expected the same shape (g is the gradient of the activation's output y)`,
    );
  }
  return apply(name, [gt, yt], undefined);
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
  return apply("compare", [a, b], { op });
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
  return apply("where", [c, x, y], undefined);
}

/**
 * Limit values to [lo, hi]. The gradient passes where lo ≤ x ≤ hi.
 * @throws Error if lo > hi or a bound is NaN.
 */
export function clip(x: Tensor, lo: number, hi: number): Tensor {
  const t = toTensor(x, "clip");
  if (typeof lo !== "number" || typeof hi !== "number" || Number.isNaN(lo) || Number.isNaN(hi) || lo > hi) {
    throw new Error(`clip: expected numbers lo ≤ hi, got lo = ${String(lo)}, hi = ${String(hi)}`);
  }
  return apply("clip", [t], { lo, hi });
}

// ---------------------------------------------------------------- linear algebra

/** Options of `matmul`: read an operand as transposed (its last two axes swapped) without copying it. */
export interface MatmulOptions {
  /** Use Aᵀ (swap A's last two axes). */
  transposeA?: boolean;
  /** Use Bᵀ (swap B's last two axes). */
  transposeB?: boolean;
}

/**
 * Matrix product with numpy semantics: 2-D @ 2-D; a 1-D operand is a row (left) or column (right) vector
 * whose axis is removed from the result; ≥ 3-D operands are stacks of matrices whose batch axes broadcast.
 * `transposeA` / `transposeB` use an operand's transpose without materialising it (fast backprop).
 * @throws Error `matmul: inner dimensions differ: [4, 2] @ [3, 400] (2 ≠ 3)`, or for 0-d operands.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const x = toTensor(a, "matmul", 1);
  const y = toTensor(b, "matmul", 2);
  const transA = options.transposeA ?? false;
  const transB = options.transposeB ?? false;
  if (x.ndim === 0 || y.ndim === 0) {
    throw new Error(
      `matmul: operands must have at least 1 axis, got ${formatShape(x.shape)} @ ${formatShape(y.shape)} (use mul for scalars)`,
    );
  }
  if ((transA && x.ndim < 2) || (transB && y.ndim < 2)) {
    throw new Error(
      `matmul: transpose options need a ≥ 2-D operand, got ${formatShape(x.shape)} @ ${formatShape(y.shape)}`,
    );
  }
  const x2 = x.ndim === 1 ? reshape(x, [1, x.shape[0]!]) : x;
  const y2 = y.ndim === 1 ? reshape(y, [y.shape[0]!, 1]) : y;
  checkMatmulShapes("matmul", x2, y2, transA, transB, x.shape, y.shape);
  let out = apply("matmul", [x2, y2], { transA, transB });
  if (x.ndim === 1 || y.ndim === 1) {
    const s = out.shape.slice();
    if (y.ndim === 1) s.pop();
    if (x.ndim === 1) s.splice(s.length - (y.ndim === 1 ? 1 : 2), 1);
    out = reshape(out, s);
  }
  return out;
}

/** Validate op(x)·op(y) for ≥ 2-D operands and return the result's shape. */
function checkMatmulShapes(
  op: string,
  x: Tensor,
  y: Tensor,
  transA: boolean,
  transB: boolean,
  shownA: Shape = x.shape,
  shownB: Shape = y.shape,
): number[] {
  const kA = transA ? x.shape[x.ndim - 2]! : x.shape[x.ndim - 1]!;
  const kB = transB ? y.shape[y.ndim - 1]! : y.shape[y.ndim - 2]!;
  // The message is built only on failure: this runs on every product.
  const shown = () =>
    `${formatShape(shownA)}${transA ? "ᵀ" : ""} @ ${formatShape(shownB)}${transB ? "ᵀ" : ""}`;
  if (kA !== kB) throw new Error(`${op}: inner dimensions differ: ${shown()} (${kA} ≠ ${kB})`);
  const batch =
    x.ndim === 2 && y.ndim === 2
      ? []
      : broadcastShapes(x.shape.slice(0, -2), y.shape.slice(0, -2), `${op}: batch axes of ${shown()}`);
  const M = transA ? x.shape[x.ndim - 1]! : x.shape[x.ndim - 2]!;
  const N = transB ? y.shape[y.ndim - 2]! : y.shape[y.ndim - 1]!;
  return [...batch, M, N];
}

/**
 * `c + op(a)·op(b)` in one op, the bias fused into the product (PyTorch's `addmm`): `addmm(b1, W1, X)` is
 * the course's Z1 = W1·X + b1 with one pass and one allocation less. `a` and `b` are ≥ 2-D (stacks of
 * matrices broadcast like `matmul`); `c` broadcasts to the product's shape.
 * @throws Error for inner dimensions that differ, a 1-D operand, or a `c` that does not broadcast to the result.
 */
export function addmm(c: TensorLike, a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const bias = toTensor(c, "addmm", 1);
  const x = toTensor(a, "addmm", 2);
  const y = toTensor(b, "addmm", 3);
  if (x.ndim < 2 || y.ndim < 2) {
    throw new Error(
      `addmm: the factors must be at least 2-D, got ${formatShape(x.shape)} @ ${formatShape(y.shape)}`,
    );
  }
  const transA = options.transposeA ?? false;
  const transB = options.transposeB ?? false;
  const shape = checkMatmulShapes("addmm", x, y, transA, transB);
  const s = broadcastShapes(bias.shape, shape, "addmm: bias");
  if (!shapesEqual(s, shape)) {
    throw new Error(
      `addmm: the bias of shape ${formatShape(bias.shape)} does not broadcast to the product's shape ${formatShape(shape)}`,
    );
  }
  return apply("addmm", [bias, x, y], { transA, transB });
}

// ---------------------------------------------------------------- shape

/**
 * The same data with a new shape (no copy); one entry may be −1 (inferred).
 * @throws Error `reshape: cannot reshape [2, 3] (6 elements) to [4]`.
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const t = toTensor(x, "reshape");
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= -1)) {
    throw new Error(
      `reshape: the new shape must be an array of non-negative integers (one may be -1), got ${String(shape)}`,
    );
  }
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1) throw new Error(`reshape: only one axis may be -1, got ${formatShape(shape)}`);
  let target = shape;
  if (unknown === 1) {
    const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
    if (known === 0 || t.size % known !== 0) {
      throw new Error(
        `reshape: cannot reshape ${formatShape(t.shape)} (${t.size} elements) to ${formatShape(shape)}`,
      );
    }
    target = shape.map((d) => (d === -1 ? t.size / known : d));
  }
  if (shapeSize(target) !== t.size) {
    throw new Error(
      `reshape: cannot reshape ${formatShape(t.shape)} (${t.size} elements) to ${formatShape(shape)} (${shapeSize(target)} elements)`,
    );
  }
  if (shapesEqual(target, t.shape)) return t;
  return apply("reshape", [t], { shape: [...target] });
}

/**
 * Permute axes; the default reverses them (`x.T` for a matrix).
 * @throws Error if `axes` is not a permutation of the tensor's axes.
 */
export function transpose(x: Tensor, axes?: readonly number[]): Tensor {
  const t = toTensor(x, "transpose");
  const r = t.ndim;
  const perm =
    axes === undefined
      ? Array.from({ length: r }, (_, i) => r - 1 - i)
      : axes.map((a) => normalizeAxis(a, r, "transpose"));
  if (perm.length !== r || new Set(perm).size !== r) {
    throw new Error(
      `transpose: axes [${axes?.join(", ")}] are not a permutation of the ${r} axes of a tensor of shape ${formatShape(t.shape)}`,
    );
  }
  if (perm.every((a, i) => a === i)) return t;
  return apply("transpose", [t], { axes: perm });
}

/** Broadcast `x` to `shape` (numpy rules); its gradient sums back. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  const t = toTensor(x, "broadcastTo");
  assertShape(shape, "broadcastTo");
  const s = broadcastShapes(t.shape, shape, "broadcastTo");
  if (!shapesEqual(s, shape))
    throw new Error(`broadcastTo: cannot broadcast ${formatShape(t.shape)} to ${formatShape(shape)}`);
  if (shapesEqual(t.shape, shape)) return t;
  return apply("broadcastTo", [t], { shape: [...shape] });
}

/**
 * Sum `x` down to `shape` — the adjoint of broadcasting, used by every binary op's gradient: leading axes
 * are summed away, axes where `shape` has 1 are summed with keepdims.
 * @throws Error if `shape` does not broadcast to `x.shape`.
 */
export function sumTo(x: Tensor, shape: Shape): Tensor {
  if (shapesEqual(x.shape, shape)) return x;
  const lead = x.ndim - shape.length;
  const s = lead < 0 ? null : broadcastShapes(shape, x.shape, "sumTo");
  if (s === null || !shapesEqual(s, x.shape))
    throw new Error(`sumTo: cannot sum ${formatShape(x.shape)} to ${formatShape(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < x.ndim; i++) if (i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1)) axes.push(i);
  return reshape(sum(x, axes, true), shape);
}

function normalizeIndices(indices: Indices, n: number, op: string, axis: number): Int32Array {
  const list: ArrayLike<number> = indices instanceof Tensor ? indices.data : indices;
  if (indices instanceof Tensor && indices.ndim !== 1) {
    throw new Error(`${op}: indices must be 1-D, got shape ${formatShape(indices.shape)}`);
  }
  if (!(list instanceof Int32Array) && !Array.isArray(list) && !(list instanceof Float64Array)) {
    throw new Error(
      `${op}: indices must be an array of integers, an Int32Array or a 1-D tensor, got ${describe(indices)}`,
    );
  }
  const out = new Int32Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const v = list[i]!;
    if (!Number.isInteger(v) || v < -n || v >= n) {
      throw new Error(
        `${op}: index ${String(v)} (position ${i}) is out of range for axis ${axis} of size ${n}`,
      );
    }
    out[i] = v < 0 ? v + n : v;
  }
  return out;
}

/**
 * Select entries along `axis` (default 0): `take(X, batch, 1)` picks the columns of a minibatch.
 * Indices may repeat (their gradients add up) and be negative (counting from the end).
 * @throws Error for an out-of-range axis or index.
 */
export function take(x: Tensor, indices: Indices, axis = 0): Tensor {
  const t = toTensor(x, "take");
  const ax = normalizeAxis(axis, t.ndim, "take");
  return apply("take", [t], { indices: normalizeIndices(indices, t.shape[ax]!, "take", ax), axis: ax });
}

/** Adjoint of `take`: a zero tensor of `shape` with the slices of `x` added at `indices` along `axis`. */
export function scatterAdd(x: Tensor, indices: Indices, axis: number, shape: readonly number[]): Tensor {
  const t = toTensor(x, "scatterAdd");
  assertShape(shape, "scatterAdd");
  const ax = normalizeAxis(axis, shape.length, "scatterAdd");
  const idx = normalizeIndices(indices, shape[ax]!, "scatterAdd", ax);
  const expected = shape.slice();
  expected[ax] = idx.length;
  if (!shapesEqual(expected, t.shape)) {
    throw new Error(
      `scatterAdd: values have shape ${formatShape(t.shape)}, expected ${formatShape(expected)}`,
    );
  }
  return apply("scatterAdd", [t], { indices: idx, axis: ax, shape: [...shape] });
}

/**
 * Join tensors along an existing axis (default 0).
 * @throws Error for an empty list, different ranks, or shapes that differ off `axis`.
 */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new Error("concat: expected a non-empty array of tensors");
  const ts = xs.map((x, i) => toTensor(x, "concat", i + 1));
  const first = ts[0]!;
  if (first.ndim === 0) throw new Error("concat: cannot concatenate 0-d tensors (use stack)");
  const ax = normalizeAxis(axis, first.ndim, "concat");
  for (const [i, t] of ts.entries()) {
    if (t.ndim !== first.ndim || t.shape.some((d, k) => k !== ax && d !== first.shape[k])) {
      throw new Error(
        `concat: tensor ${i} has shape ${formatShape(t.shape)}, which does not match ${formatShape(first.shape)} except along axis ${ax}`,
      );
    }
  }
  if (ts.length === 1) return first;
  return apply("concat", ts, { axis: ax });
}

/**
 * Join same-shaped tensors along a new axis (default 0).
 * @throws Error for an empty list or different shapes.
 */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new Error("stack: expected a non-empty array of tensors");
  const ts = xs.map((x, i) => toTensor(x, "stack", i + 1));
  const first = ts[0]!;
  for (const [i, t] of ts.entries()) {
    if (!shapesEqual(t.shape, first.shape)) {
      throw new Error(
        `stack: tensor ${i} has shape ${formatShape(t.shape)}, expected ${formatShape(first.shape)} like tensor 0`,
      );
    }
  }
  const ax = normalizeAxis(axis, first.ndim + 1, "stack");
  const shape = [...first.shape.slice(0, ax), 1, ...first.shape.slice(ax)];
  return concat(
    ts.map((t) => reshape(t, shape)),
    ax,
  );
}

// ---------------------------------------------------------------- reductions

function reduction(
  name: "sum" | "max" | "min",
  x: Tensor,
  axis: number | readonly number[] | undefined,
  keepdims: boolean,
): Tensor {
  const t = toTensor(x, name);
  const axes = normalizeAxes(axis, t.ndim, name);
  if (name !== "sum" && axes.some((a) => t.shape[a] === 0)) {
    throw new Error(
      `${name}: cannot reduce an empty axis of a tensor of shape ${formatShape(t.shape)} (no identity element)`,
    );
  }
  return apply(name, [t], { axes, keepdims: keepdims === true });
}

/** Sum over `axis` (a number, a list, or all axes when omitted); negative axes count from the end. */
export const sum = (x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor =>
  reduction("sum", x, axis, keepdims);
/** Maximum over `axis`; the gradient goes to the arg-max, split evenly between ties. */
export const max = (x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor =>
  reduction("max", x, axis, keepdims);
/** Minimum over `axis`; the gradient goes to the arg-min, split evenly between ties. */
export const min = (x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor =>
  reduction("min", x, axis, keepdims);

/** Mean over `axis` (all axes when omitted). @throws Error when averaging over zero elements. */
export function mean(x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor {
  const t = toTensor(x, "mean");
  const axes = normalizeAxes(axis, t.ndim, "mean");
  const count = axes.reduce((p, a) => p * t.shape[a]!, 1);
  if (count === 0)
    throw new Error(`mean: cannot average over zero elements of a tensor of shape ${formatShape(t.shape)}`);
  return mul(sum(t, axes, keepdims), 1 / count);
}

/**
 * log Σ exp(x) over `axis`, computed stably as m + log Σ exp(x − m) with m the (detached) maximum, so
 * inputs of ±1000 neither overflow nor underflow. Its gradient is the softmax.
 */
export function logsumexp(x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor {
  const t = toTensor(x, "logsumexp");
  const axes = normalizeAxes(axis, t.ndim, "logsumexp");
  if (axes.some((a) => t.shape[a] === 0)) {
    throw new Error(`logsumexp: cannot reduce an empty axis of a tensor of shape ${formatShape(t.shape)}`);
  }
  const m = max(t.detach(), axes, true);
  // A row of all −∞ (or +∞) would give ∞ − ∞; shifting by 0 there yields the right −∞ (or +∞).
  const shift = where(compare(abs(m), Number.POSITIVE_INFINITY, "<"), m, 0);
  const lse = add(log(sum(exp(sub(t, shift)), axes, true)), shift);
  return keepdims
    ? lse
    : reshape(
        lse,
        t.shape.filter((_, i) => !axes.includes(i)),
      );
}

/** softmax along `axis` (default last): exp(x − logsumexp(x)), stable for large inputs. */
export function softmax(x: Tensor, axis = -1): Tensor {
  const t = toTensor(x, "softmax");
  return exp(sub(t, logsumexp(t, normalizeAxis(axis, t.ndim, "softmax"), true)));
}

/** log-softmax along `axis` (default last): x − logsumexp(x), stable for large inputs. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const t = toTensor(x, "logSoftmax");
  return sub(t, logsumexp(t, normalizeAxis(axis, t.ndim, "logSoftmax"), true));
}

/**
 * @file The table of primitives: each op's forward beside its vector-Jacobian product.
 *
 * Everything else (mean, softmax, logsumexp, stack, …) is composed from these. The table is typed as a
 * mapped type over the primitive names, so a primitive without a forward or a gradient rule fails to
 * compile. vjps are written with the library's own ops, so gradients of gradients come for free, and
 * binary ops reduce broadcast gradients with `sumTo`, never by hand.
 */
import { anomalyForwardCheck, isAnomalyEnabled } from "../anomaly.js";
import { isGradEnabled } from "../grad-mode.js";
import { elementwiseWasm } from "../kernels/elementwise.js";
import { gemm } from "../kernels/gemm.js";
import {
  broadcastStrides,
  type Shape,
  shapeSize,
  shapesEqual,
  stridesOf,
  tryBroadcastShapes,
} from "../shape.js";
import { recordNode, type VjpRule } from "../tape.js";
import { Tensor } from "../tensor.js";
import { type ArgReduceAttrs, type ConvAttrs, convPrimitives, type PoolAttrs } from "./conv-rules.js";
import * as o from "./index.js";
import { concatAlong, expandData, gatherStrided, reduce, scatterAddAlong, takeAlong } from "./kernels.js";

/** Comparison performed by the `compare` primitive. */
export type CompareOp = ">" | ">=" | "<" | "<=" | "==" | "!=";

/** The attributes (non-tensor arguments) of each primitive. Its keys are the primitive names. */
export interface PrimitiveAttrs {
  neg: undefined;
  square: undefined;
  sqrt: undefined;
  exp: undefined;
  log: undefined;
  abs: undefined;
  tanh: undefined;
  tanhGrad: undefined;
  sigmoid: undefined;
  sigmoidGrad: undefined;
  relu: undefined;
  sigmoidCrossEntropy: undefined;
  sign: undefined;
  add: undefined;
  sub: undefined;
  mul: undefined;
  div: undefined;
  pow: undefined;
  maximum: undefined;
  minimum: undefined;
  compare: { op: CompareOp };
  where: undefined;
  clip: { lo: number; hi: number };
  matmul: { transA: boolean; transB: boolean };
  addmm: { transA: boolean; transB: boolean };
  reshape: { shape: readonly number[] };
  transpose: { axes: readonly number[] };
  broadcastTo: { shape: readonly number[] };
  sum: ReduceAttrs;
  max: ReduceAttrs;
  min: ReduceAttrs;
  take: { indices: Int32Array; axis: number };
  scatterAdd: { indices: Int32Array; axis: number; shape: readonly number[] };
  concat: { axis: number };
  conv2d: ConvAttrs;
  conv2dBackwardInput: ConvAttrs;
  conv2dBackwardWeight: ConvAttrs;
  maxPool2d: PoolAttrs;
  avgPool2d: PoolAttrs;
  avgPool2dBackward: PoolAttrs;
  argmax: ArgReduceAttrs;
  argmin: ArgReduceAttrs;
}

/** Attributes of a reduction: sorted distinct non-negative axes. */
export interface ReduceAttrs {
  axes: readonly number[];
  keepdims: boolean;
}

/** Names of the primitives. */
export type PrimitiveName = keyof PrimitiveAttrs;

/** A primitive: its forward computation and its gradient rule. */
export interface Primitive<A> extends VjpRule<A> {
  forward(inputs: readonly Tensor[], attrs: A): Tensor;
  /** False for piecewise-constant ops (comparisons, sign): their results never require grad. */
  readonly differentiable?: false;
}

const unaryCodes = {
  neg: 0,
  square: 1,
  sqrt: 2,
  exp: 3,
  log: 4,
  abs: 5,
  tanh: 6,
  sigmoid: 7,
  relu: 8,
  sign: 9,
} as const;

function unary(x: Tensor, name: keyof typeof unaryCodes): Tensor {
  const a = x.data;
  const n = a.length;
  const out = new Float64Array(n);
  switch (unaryCodes[name]) {
    case 0:
      for (let i = 0; i < n; i++) out[i] = -a[i]!;
      break;
    case 1:
      for (let i = 0; i < n; i++) {
        const v = a[i]!;
        out[i] = v * v;
      }
      break;
    case 2:
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(a[i]!);
      break;
    case 3:
      if (elementwiseWasm("exp", a, out)) break;
      for (let i = 0; i < n; i++) out[i] = Math.exp(a[i]!);
      break;
    case 4:
      for (let i = 0; i < n; i++) out[i] = Math.log(a[i]!);
      break;
    case 5:
      for (let i = 0; i < n; i++) out[i] = Math.abs(a[i]!);
      break;
    case 6:
      if (elementwiseWasm("tanh", a, out)) break;
      for (let i = 0; i < n; i++) out[i] = Math.tanh(a[i]!);
      break;
    case 7:
      if (elementwiseWasm("sigmoid", a, out)) break;
      // Two branches so that exp never overflows: σ(x) = 1/(1+e^-x) for x ≥ 0, e^x/(1+e^x) otherwise.
      for (let i = 0; i < n; i++) {
        const v = a[i]!;
        if (v >= 0) out[i] = 1 / (1 + Math.exp(-v));
        else {
          const e = Math.exp(v);
          out[i] = e / (1 + e);
        }
      }
      break;
    case 8:
      for (let i = 0; i < n; i++) {
        const v = a[i]!;
        out[i] = Math.max(v, 0); // NaN stays NaN
      }
      break;
    case 9:
      for (let i = 0; i < n; i++) {
        const v = a[i]!;
        out[i] = v > 0 ? 1 : v < 0 ? -1 : v === 0 ? 0 : Number.NaN;
      }
      break;
  }
  return new Tensor(out, x.shape);
}

const binaryCodes = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  pow: 4,
  maximum: 5,
  minimum: 6,
  sigmoidCrossEntropy: 7,
} as const;

/**
 * Elementwise binary op with numpy broadcasting, without materialising the broadcast: the output is
 * walked row by row (rows of its last axis) and each operand is read with its own stride along that row
 * (0 where it is broadcast), so `Z + b` with b of shape (n, 1) costs one pass.
 */
function binary(x: Tensor, y: Tensor, name: keyof typeof binaryCodes): Tensor {
  const shape = shapesEqual(x.shape, y.shape) ? x.shape : tryBroadcastShapes(x.shape, y.shape)!;
  const out = new Float64Array(shapeSize(shape));
  binaryInto(binaryCodes[name], x.data, x.shape, y.data, y.shape, out, shape);
  return new Tensor(out, shape);
}

/** out (of the broadcast shape) = a ⊙ b; `out` may be `a` itself (in-place accumulation). */
function binaryInto(
  code: number,
  a: Float64Array,
  aShape: Shape,
  b: Float64Array,
  bShape: Shape,
  out: Float64Array,
  shape: Shape,
): void {
  const n = out.length;
  const arithmetic = code <= 3;
  if (a.length === n && b.length === n) {
    if (arithmetic) binaryContiguous(code, a, b, out, n);
    else binaryRow(code, a, 0, 1, b, 0, 1, out, 0, n);
  } else if (b.length === 1 && a.length === n) {
    if (arithmetic) binaryScalar(code, a, 0, b[0]!, false, out, n);
    else binaryRow(code, a, 0, 1, b, 0, 0, out, 0, n);
  } else if (a.length === 1 && b.length === n) {
    if (arithmetic) binaryScalar(code, b, 0, a[0]!, true, out, n);
    else binaryRow(code, a, 0, 0, b, 0, 1, out, 0, n);
  } else binaryStrided(code, a, aShape, b, bShape, out, shape);
}

/**
 * The general case of `binaryInto`: walk the output row by row (rows of its last axis), each operand read
 * with its own stride along the row. A matrix and a column (Z + b with b of shape (n, 1)) takes the
 * row-by-scalar loop, the most common broadcast of a layer.
 */
function binaryStrided(
  code: number,
  a: Float64Array,
  aShape: Shape,
  b: Float64Array,
  bShape: Shape,
  out: Float64Array,
  shape: Shape,
): void {
  const n = out.length;
  if (n > 0) {
    const rank = shape.length;
    const sa = broadcastStrides(aShape, shape);
    const sb = broadcastStrides(bShape, shape);
    const last = shape[rank - 1]!;
    const la = sa[rank - 1]!;
    const lb = sb[rank - 1]!;
    if (
      rank === 2 &&
      code <= 3 &&
      (la === 1 ? lb === 0 && sa[0] === last : la === 0 && lb === 1 && sb[0] === last)
    ) {
      // one operand contiguous, the other constant along each row
      const scalarFirst = la === 0;
      const s0 = scalarFirst ? sa[0]! : sb[0]!;
      const row = scalarFirst ? b : a;
      const col = scalarFirst ? a : b;
      for (let o = 0, ic = 0; o < n; o += last, ic += s0)
        binaryScalar(code, row, o, col[ic]!, scalarFirst, out, last);
      return;
    }
    const idx = new Array<number>(rank).fill(0);
    let ia = 0;
    let ib = 0;
    for (let o = 0; o < n; o += last) {
      binaryRow(code, a, ia, la, b, ib, lb, out, o, last);
      for (let ax = rank - 2; ax >= 0; ax--) {
        ia += sa[ax]!;
        ib += sb[ax]!;
        if (++idx[ax]! < shape[ax]!) break;
        ia -= sa[ax]! * shape[ax]!;
        ib -= sb[ax]! * shape[ax]!;
        idx[ax] = 0;
      }
    }
  }
}

/**
 * out = a ⊙ b for same-sized contiguous operands and codes 0–3 (add, sub, mul, div). Plain indexed loops:
 * measured 10–30 % faster than `binaryRow`'s strided ones at the course's sizes.
 */
function binaryContiguous(
  code: number,
  a: Float64Array,
  b: Float64Array,
  out: Float64Array,
  n: number,
): void {
  switch (code) {
    case 0:
      for (let j = 0; j < n; j++) out[j] = a[j]! + b[j]!;
      break;
    case 1:
      for (let j = 0; j < n; j++) out[j] = a[j]! - b[j]!;
      break;
    case 2:
      for (let j = 0; j < n; j++) out[j] = a[j]! * b[j]!;
      break;
    default:
      for (let j = 0; j < n; j++) out[j] = a[j]! / b[j]!;
  }
}

/**
 * out[o + j] = a[o + j] ⊙ v, or v ⊙ a[o + j] when `scalarFirst`, for j < len and codes 0–3: a tensor and a
 * scalar, or one row of a matrix and its element of a broadcast column.
 */
function binaryScalar(
  code: number,
  a: Float64Array,
  o: number,
  v: number,
  scalarFirst: boolean,
  out: Float64Array,
  len: number,
): void {
  const end = o + len;
  switch (scalarFirst ? code + 4 : code) {
    case 0:
    case 4:
      for (let j = o; j < end; j++) out[j] = a[j]! + v;
      break;
    case 1:
      for (let j = o; j < end; j++) out[j] = a[j]! - v;
      break;
    case 2:
    case 6:
      for (let j = o; j < end; j++) out[j] = a[j]! * v;
      break;
    case 3:
      for (let j = o; j < end; j++) out[j] = a[j]! / v;
      break;
    case 5:
      for (let j = o; j < end; j++) out[j] = v - a[j]!;
      break;
    default:
      for (let j = o; j < end; j++) out[j] = v / a[j]!;
  }
}

/** out[o + j] = a[ia + j·sa] ⊙ b[ib + j·sb] for j < len; one tight loop per op. */
function binaryRow(
  code: number,
  a: Float64Array,
  ia: number,
  sa: number,
  b: Float64Array,
  ib: number,
  sb: number,
  out: Float64Array,
  o: number,
  len: number,
): void {
  switch (code) {
    case 0:
      for (let j = 0; j < len; j++) out[o + j] = a[ia + j * sa]! + b[ib + j * sb]!;
      break;
    case 1:
      for (let j = 0; j < len; j++) out[o + j] = a[ia + j * sa]! - b[ib + j * sb]!;
      break;
    case 2:
      for (let j = 0; j < len; j++) out[o + j] = a[ia + j * sa]! * b[ib + j * sb]!;
      break;
    case 3:
      for (let j = 0; j < len; j++) out[o + j] = a[ia + j * sa]! / b[ib + j * sb]!;
      break;
    case 4:
      for (let j = 0; j < len; j++) out[o + j] = a[ia + j * sa]! ** b[ib + j * sb]!;
      break;
    case 5:
      for (let j = 0; j < len; j++) {
        const p = a[ia + j * sa]!;
        const q = b[ib + j * sb]!;
        out[o + j] = p > q || Number.isNaN(p) ? p : q;
      }
      break;
    case 6:
      for (let j = 0; j < len; j++) {
        const p = a[ia + j * sa]!;
        const q = b[ib + j * sb]!;
        out[o + j] = p < q || Number.isNaN(p) ? p : q;
      }
      break;
    case 7:
      // −[y log σ(z) + (1 − y) log(1 − σ(z))] = max(z, 0) − z·y + log(1 + e^−|z|): no overflow, no log(0)
      for (let j = 0; j < len; j++) {
        const z = a[ia + j * sa]!;
        const y = b[ib + j * sb]!;
        out[o + j] = Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
      }
      break;
  }
}

/**
 * max(z, 0) − z·y + log(1 + e^−|z|). When z has the output's shape (labels the same shape, or one label),
 * the tail log(1 + e^−|z|) comes from the wasm kernel (as accurate as Math.log1p(Math.exp(−|z|)), 1.5 ulp
 * from exact; 3–4× faster) and one JS pass adds the rest; otherwise `binary`'s loop does it all.
 */
function sigmoidCrossEntropyForward(z: Tensor, y: Tensor): Tensor {
  const n = z.data.length;
  const yd = y.data;
  const shape = shapesEqual(z.shape, y.shape) ? z.shape : tryBroadcastShapes(z.shape, y.shape)!;
  // z not broadcast, y elementwise beside it (same size: the same flat order) or a single label
  if (shapeSize(shape) === n && (yd.length === n || yd.length === 1)) {
    const out = new Float64Array(n);
    if (elementwiseWasm("softplusNegAbs", z.data, out)) {
      const zd = z.data;
      if (yd.length === n) {
        for (let j = 0; j < n; j++) out[j] = Math.max(zd[j]!, 0) - zd[j]! * yd[j]! + out[j]!;
      } else {
        const v = yd[0]!;
        for (let j = 0; j < n; j++) out[j] = Math.max(zd[j]!, 0) - zd[j]! * v + out[j]!;
      }
      return new Tensor(out, shape);
    }
  }
  return binary(z, y, "sigmoidCrossEntropy");
}

function compare(x: Tensor, y: Tensor, op: CompareOp): Tensor {
  const shape = shapesEqual(x.shape, y.shape) ? x.shape : tryBroadcastShapes(x.shape, y.shape)!;
  const a = expandData(x.data, x.shape, shape);
  const b = expandData(y.data, y.shape, shape);
  const n = shapeSize(shape);
  const out = new Float64Array(n);
  const sa = a.length === n ? 1 : 0;
  const sb = b.length === n ? 1 : 0;
  for (let i = 0; i < n; i++) {
    const p = a[i * sa]!;
    const q = b[i * sb]!;
    const r =
      op === ">"
        ? p > q
        : op === ">="
          ? p >= q
          : op === "<"
            ? p < q
            : op === "<="
              ? p <= q
              : op === "=="
                ? p === q
                : p !== q;
    out[i] = r ? 1 : 0;
  }
  return new Tensor(out, shape);
}

/** The shape of a reduction's result. */
function reducedShape(shape: Shape, { axes, keepdims }: ReduceAttrs): number[] {
  return keepdims
    ? shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : shape.filter((_, i) => !axes.includes(i));
}

/** g of a reduction, reshaped with the reduced axes kept (size 1) and broadcast back to the input shape. */
function expandReduced(g: Tensor, x: Tensor, attrs: ReduceAttrs): Tensor {
  return o.broadcastTo(o.reshape(g, reducedShape(x.shape, { axes: attrs.axes, keepdims: true })), x.shape);
}

/** vjp of max/min over axes: the gradient goes to the extremal elements, split evenly between ties. */
function extremumVjp(g: Tensor, x: Tensor, out: Tensor, attrs: ReduceAttrs): Tensor {
  const kept = { axes: attrs.axes, keepdims: true };
  const mask = o.compare(x, o.reshape(out.detach(), reducedShape(x.shape, kept)), "==");
  const count = o.sum(mask, attrs.axes, true);
  return o.mul(expandReduced(g, x, attrs), o.div(mask, count));
}

/** Batched matrix product with flags for transposed storage; batch axes broadcast like numpy. */
function matmulForward(x: Tensor, y: Tensor, transA: boolean, transB: boolean): Tensor {
  const ra = x.ndim;
  const rb = y.ndim;
  const M = transA ? x.shape[ra - 1]! : x.shape[ra - 2]!;
  const K = transA ? x.shape[ra - 2]! : x.shape[ra - 1]!;
  const N = transB ? y.shape[rb - 2]! : y.shape[rb - 1]!;
  const batchA = x.shape.slice(0, ra - 2);
  const batchB = y.shape.slice(0, rb - 2);
  const batch = tryBroadcastShapes(batchA, batchB)!;
  const nBatch = shapeSize(batch);
  const out = new Float64Array(nBatch * M * N);
  if (nBatch === 1) {
    gemm(transA, transB, M, N, K, x.data, 0, y.data, 0, out, 0);
  } else {
    const sA = broadcastStrides(batchA, batch);
    const sB = broadcastStrides(batchB, batch);
    const bstr = stridesOf(batch);
    const mA = M * K;
    const mB = K * N;
    for (let bi = 0; bi < nBatch; bi++) {
      let offA = 0;
      let offB = 0;
      for (let ax = 0, rem = bi; ax < batch.length; ax++) {
        const i = Math.floor(rem / bstr[ax]!);
        rem -= i * bstr[ax]!;
        offA += i * sA[ax]!;
        offB += i * sB[ax]!;
      }
      gemm(transA, transB, M, N, K, x.data, offA * mA, y.data, offB * mB, out, bi * M * N);
    }
  }
  return new Tensor(out, [...batch, M, N]);
}

/** Gradients of op(A)·op(B) for each operand (null when it does not require grad). */
function matmulVjp(g: Tensor, x: Tensor, y: Tensor, transA: boolean, transB: boolean): (Tensor | null)[] {
  const mm = (p: Tensor, q: Tensor, tp: boolean, tq: boolean) =>
    o.matmul(p, q, { transposeA: tp, transposeB: tq });
  const dx = x.requiresGrad ? (transA ? mm(y, g, transB, true) : mm(g, y, false, !transB)) : null;
  const dy = y.requiresGrad ? (transB ? mm(g, x, true, transA) : mm(x, g, !transA, false)) : null;
  return [dx && o.sumTo(dx, x.shape), dy && o.sumTo(dy, y.shape)];
}

/**
 * The backward of tanh (g·(1 − y²)) or sigmoid (g·y·(1 − y)) from the forward output y, in one pass and one
 * allocation instead of three ops; g and y have the same shape (the incoming gradient of y).
 */
function fusedActivationGrad(g: Tensor, y: Tensor, tanhRule: boolean): Tensor {
  const gd = g.data;
  const yd = y.data;
  const out = new Float64Array(yd.length);
  if (tanhRule) for (let i = 0; i < out.length; i++) out[i] = gd[i]! * (1 - yd[i]! * yd[i]!);
  else for (let i = 0; i < out.length; i++) out[i] = gd[i]! * (yd[i]! * (1 - yd[i]!));
  return new Tensor(out, y.shape);
}

/** Record tanh's or sigmoid's fused backward; g always has the output's shape here. */
function activationGrad(name: "tanhGrad" | "sigmoidGrad", g: Tensor, out: Tensor): Tensor {
  return apply(name, [g, out], undefined);
}

function unaryPrim(name: keyof typeof unaryCodes, vjp: Primitive<undefined>["vjp"]): Primitive<undefined> {
  return { name, forward: ([x]) => unary(x!, name), vjp };
}

function binaryPrim(name: keyof typeof binaryCodes, vjp: Primitive<undefined>["vjp"]): Primitive<undefined> {
  return { name, forward: ([x, y]) => binary(x!, y!, name), vjp };
}

const nonDifferentiable = (): null[] => [null, null, null];

/** Every primitive: forward beside vjp, with the derivative each rule implements. */
export const primitives: { [K in PrimitiveName]: Primitive<PrimitiveAttrs[K]> } = {
  // d(-x) = -g
  neg: unaryPrim("neg", (g) => [o.neg(g)]),
  // d x² = 2x·g
  square: unaryPrim("square", (g, [x]) => [o.mul(g, o.mul(2, x!))]),
  // d √x = g / (2√x) — reuse the output
  sqrt: unaryPrim("sqrt", (g, _, out) => [o.div(g, o.mul(2, out))]),
  // d eˣ = eˣ·g — reuse the output
  exp: unaryPrim("exp", (g, _, out) => [o.mul(g, out)]),
  // d log x = g / x
  log: unaryPrim("log", (g, [x]) => [o.div(g, x!)]),
  // d |x| = sign(x)·g (0 at x = 0, like PyTorch)
  abs: unaryPrim("abs", (g, [x]) => [o.mul(g, o.sign(x!))]),
  // d tanh x = (1 − tanh²x)·g — reuse the output
  tanh: unaryPrim("tanh", (g, _, out) => [activationGrad("tanhGrad", g, out)]),
  // tanhGrad(g, y) = g·(1 − y²), tanh's backward fused into one pass (PyTorch's tanh_backward):
  // ∂/∂g = 1 − y², ∂/∂y = −2·g·y
  tanhGrad: {
    name: "tanhGrad",
    forward: ([g, y]) => fusedActivationGrad(g!, y!, true),
    vjp: (G, [g, y]) => [
      g!.requiresGrad ? o.mul(G, o.sub(1, o.square(y!))) : null,
      y!.requiresGrad ? o.mul(G, o.mul(-2, o.mul(g!, y!))) : null,
    ],
  },
  // d σ(x) = σ(x)(1 − σ(x))·g — reuse the output
  sigmoid: unaryPrim("sigmoid", (g, _, out) => [activationGrad("sigmoidGrad", g, out)]),
  // sigmoidGrad(g, y) = g·y·(1 − y), sigmoid's backward fused into one pass: ∂/∂g = y(1 − y), ∂/∂y = g(1 − 2y)
  sigmoidGrad: {
    name: "sigmoidGrad",
    forward: ([g, y]) => fusedActivationGrad(g!, y!, false),
    vjp: (G, [g, y]) => [
      g!.requiresGrad ? o.mul(G, o.mul(y!, o.sub(1, y!))) : null,
      y!.requiresGrad ? o.mul(G, o.mul(g!, o.sub(1, o.mul(2, y!)))) : null,
    ],
  },
  // d relu x = [x > 0]·g (0 at x = 0, like PyTorch)
  relu: unaryPrim("relu", (g, [x]) => [o.mul(g, o.compare(x!, 0, ">"))]),
  // sign is piecewise constant: zero gradient almost everywhere
  sign: { ...unaryPrim("sign", nonDifferentiable), differentiable: false },

  // d(x + y) = (g, g), each summed back to its input's shape
  add: binaryPrim("add", (g, [x, y]) => [o.sumTo(g, x!.shape), o.sumTo(g, y!.shape)]),
  // d(x − y) = (g, −g)
  sub: binaryPrim("sub", (g, [x, y]) => [o.sumTo(g, x!.shape), o.sumTo(o.neg(g), y!.shape)]),
  // d(x·y) = (g·y, g·x)
  mul: binaryPrim("mul", (g, [x, y]) => [
    x!.requiresGrad ? o.sumTo(o.mul(g, y!), x!.shape) : null,
    y!.requiresGrad ? o.sumTo(o.mul(g, x!), y!.shape) : null,
  ]),
  // d(x / y) = (g / y, −g·x / y²)
  div: binaryPrim("div", (g, [x, y]) => [
    x!.requiresGrad ? o.sumTo(o.div(g, y!), x!.shape) : null,
    y!.requiresGrad ? o.sumTo(o.neg(o.div(o.mul(g, x!), o.square(y!))), y!.shape) : null,
  ]),
  // d xʸ = (g·y·xʸ⁻¹, g·xʸ·log x); the exponent's gradient is computed only when it requires grad
  pow: binaryPrim("pow", (g, [x, y], out) => [
    x!.requiresGrad ? o.sumTo(o.mul(g, o.mul(y!, o.pow(x!, o.sub(y!, 1)))), x!.shape) : null,
    y!.requiresGrad ? o.sumTo(o.mul(g, o.mul(out, o.log(x!))), y!.shape) : null,
  ]),
  // d max(x, y) = (g·[x > y], g·[x < y]); ties split the gradient evenly (½ each)
  maximum: binaryPrim("maximum", (g, [x, y]) => {
    const wx = o.add(o.compare(x!, y!, ">"), o.mul(0.5, o.compare(x!, y!, "==")));
    return [o.sumTo(o.mul(g, wx), x!.shape), o.sumTo(o.mul(g, o.sub(1, wx)), y!.shape)];
  }),
  // d min(x, y) = (g·[x < y], g·[x > y]); ties split evenly
  minimum: binaryPrim("minimum", (g, [x, y]) => {
    const wx = o.add(o.compare(x!, y!, "<"), o.mul(0.5, o.compare(x!, y!, "==")));
    return [o.sumTo(o.mul(g, wx), x!.shape), o.sumTo(o.mul(g, o.sub(1, wx)), y!.shape)];
  }),
  // ℓ(z, y) = −[y log σ(z) + (1 − y) log(1 − σ(z))]: dℓ/dz = σ(z) − y, dℓ/dy = −z
  sigmoidCrossEntropy: {
    name: "sigmoidCrossEntropy",
    forward: ([z, y]) => sigmoidCrossEntropyForward(z!, y!),
    vjp: (g, [z, y]) => [
      z!.requiresGrad ? o.sumTo(o.mul(g, o.sub(o.sigmoid(z!), y!)), z!.shape) : null,
      y!.requiresGrad ? o.sumTo(o.neg(o.mul(g, z!)), y!.shape) : null,
    ],
  },
  // comparisons are piecewise constant: no gradient
  compare: {
    name: "compare",
    forward: ([x, y], { op }) => compare(x!, y!, op),
    vjp: nonDifferentiable,
    differentiable: false,
  },
  // d where(c, x, y) = (none, g·[c], g·[¬c])
  where: {
    name: "where",
    forward: ([c, x, y]) => {
      const shape = tryBroadcastShapes(tryBroadcastShapes(c!.shape, x!.shape)!, y!.shape)!;
      const cd = expandData(c!.data, c!.shape, shape);
      const xd = expandData(x!.data, x!.shape, shape);
      const yd = expandData(y!.data, y!.shape, shape);
      const n = shapeSize(shape);
      const [sc, sx, sy] = [cd, xd, yd].map((d) => (d.length === n ? 1 : 0)) as [number, number, number];
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = cd[i * sc] !== 0 ? xd[i * sx]! : yd[i * sy]!;
      return new Tensor(out, shape);
    },
    vjp: (g, [c, x, y]) => [null, o.sumTo(o.where(c!, g, 0), x!.shape), o.sumTo(o.where(c!, 0, g), y!.shape)],
  },
  // d clip(x, lo, hi) = g·[lo ≤ x ≤ hi]
  clip: {
    name: "clip",
    forward: ([x], { lo, hi }) => {
      const a = x!.data;
      const out = new Float64Array(a.length);
      for (let i = 0; i < a.length; i++) {
        const v = a[i]!;
        out[i] = v < lo ? lo : v > hi ? hi : v;
      }
      return new Tensor(out, x!.shape);
    },
    vjp: (g, [x], _, { lo, hi }) => [o.mul(g, o.mul(o.compare(x!, lo, ">="), o.compare(x!, hi, "<=")))],
  },
  // C = op(A)·op(B): dA = g·op(B)ᵀ, dB = op(A)ᵀ·g, written with the transpose flags (no copies),
  // then summed over broadcast batch axes
  matmul: {
    name: "matmul",
    forward: ([x, y], { transA, transB }) => matmulForward(x!, y!, transA, transB),
    vjp: (g, [x, y], _, { transA, transB }) => matmulVjp(g, x!, y!, transA, transB),
  },
  // C = c + op(A)·op(B) (bias fused into the product, one pass less): dc = sumTo(g), dA and dB as matmul
  addmm: {
    name: "addmm",
    forward: ([c, x, y], { transA, transB }) => {
      const out = matmulForward(x!, y!, transA, transB);
      binaryInto(binaryCodes.add, out.data, out.shape, c!.data, c!.shape, out.data, out.shape);
      return out;
    },
    vjp: (g, [c, x, y], _, { transA, transB }) => [
      c!.requiresGrad ? o.sumTo(g, c!.shape) : null,
      ...matmulVjp(g, x!, y!, transA, transB),
    ],
  },
  // reshape only relabels the data: d reshape(x) = reshape(g, x.shape)
  reshape: {
    name: "reshape",
    forward: ([x], { shape }) => new Tensor(x!.data, shape),
    vjp: (g, [x]) => [o.reshape(g, x!.shape)],
  },
  // d transpose(x, p) = transpose(g, p⁻¹)
  transpose: {
    name: "transpose",
    forward: ([x], { axes }) => {
      const strides = stridesOf(x!.shape);
      return new Tensor(
        gatherStrided(
          x!.data,
          0,
          axes.map((a) => x!.shape[a]!),
          axes.map((a) => strides[a]!),
        ),
        axes.map((a) => x!.shape[a]!),
      );
    },
    vjp: (g, _, __, { axes }) => {
      const inverse = new Array<number>(axes.length);
      axes.forEach((a, i) => {
        inverse[a] = i;
      });
      return [o.transpose(g, inverse)];
    },
  },
  // d broadcastTo(x) = sumTo(g, x.shape)
  broadcastTo: {
    name: "broadcastTo",
    forward: ([x], { shape }) => new Tensor(expandData(x!.data, x!.shape, shape), shape),
    vjp: (g, [x]) => [o.sumTo(g, x!.shape)],
  },
  // d Σx = g broadcast back over the reduced axes
  sum: {
    name: "sum",
    forward: ([x], attrs) =>
      new Tensor(reduce("sum", x!.data, x!.shape, attrs.axes), reducedShape(x!.shape, attrs)),
    vjp: (g, [x], _, attrs) => [expandReduced(g, x!, attrs)],
  },
  // d max x = g at the arg-max (ties split evenly)
  max: {
    name: "max",
    forward: ([x], attrs) =>
      new Tensor(reduce("max", x!.data, x!.shape, attrs.axes), reducedShape(x!.shape, attrs)),
    vjp: (g, [x], out, attrs) => [extremumVjp(g, x!, out, attrs)],
  },
  // d min x = g at the arg-min (ties split evenly)
  min: {
    name: "min",
    forward: ([x], attrs) =>
      new Tensor(reduce("min", x!.data, x!.shape, attrs.axes), reducedShape(x!.shape, attrs)),
    vjp: (g, [x], out, attrs) => [extremumVjp(g, x!, out, attrs)],
  },
  // d take(x, idx) = scatter-add of g at idx (repeated indices add up)
  take: {
    name: "take",
    forward: ([x], { indices, axis }) => {
      const shape = x!.shape.slice();
      shape[axis] = indices.length;
      return new Tensor(takeAlong(x!.data, x!.shape, indices, axis), shape);
    },
    vjp: (g, [x], _, { indices, axis }) => [o.scatterAdd(g, indices, axis, x!.shape)],
  },
  // scatterAdd is linear; its adjoint is take
  scatterAdd: {
    name: "scatterAdd",
    forward: ([x], { indices, axis, shape }) =>
      new Tensor(scatterAddAlong(x!.data, shape, indices, axis), shape),
    vjp: (g, _, __, { indices, axis }) => [o.take(g, indices, axis)],
  },
  // d concat(xs) = the slices of g that each input occupies
  concat: {
    name: "concat",
    forward: (xs, { axis }) => {
      const shape = xs[0]!.shape.slice();
      shape[axis] = xs.reduce((s, x) => s + x.shape[axis]!, 0);
      return new Tensor(concatAlong(xs, axis, shape), shape);
    },
    vjp: (g, xs, _, { axis }) => {
      let start = 0;
      return xs.map((x) => {
        const n = x.shape[axis]!;
        const idx = Int32Array.from({ length: n }, (_, i) => start + i);
        start += n;
        return o.take(g, idx, axis);
      });
    },
  },
  ...convPrimitives,
};

/**
 * Run primitive `name` on validated inputs: compute the forward, and record a tape node when grad mode
 * is on and an input requires grad (otherwise nothing is recorded and nothing extra is paid).
 */
export function apply<K extends PrimitiveName>(
  name: K,
  inputs: readonly Tensor[],
  attrs: PrimitiveAttrs[K],
): Tensor {
  const prim = primitives[name] as Primitive<PrimitiveAttrs[K]>;
  const out = prim.forward(inputs, attrs);
  if (isAnomalyEnabled()) anomalyForwardCheck(name, inputs, out);
  if (isGradEnabled() && prim.differentiable !== false) {
    for (let i = 0; i < inputs.length; i++) {
      if (inputs[i]!._requiresGrad) {
        recordNode(out, prim, inputs, attrs);
        break;
      }
    }
  }
  return out;
}

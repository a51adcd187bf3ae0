/**
 * @file The Tensor class: float64 data, shape, grad bookkeeping, and the declarations of the method forms
 * of the ops (`x.add(y)`), which tensor-methods.ts installs: the ops import this class, so this class
 * does not import them back.
 */
import type { Indices, MatmulOptions, TensorLike } from "./ops/index.js";
import { formatShape, type Shape, shapeSize } from "./shape.js";
import type { TapeNode } from "./tape.js";
import { runBackward } from "./tape.js";

/** A nested array of numbers, as returned by `toArray()` (a number for a 0-d tensor). */
export type NestedArray = number | NestedArray[];

/** A gradient hook: inspect `g`, or return a tensor of the same shape to replace it. */
export type GradHook = (g: Tensor) => Tensor | undefined | void;

/** Options of `Tensor.backward`. */
export interface TensorBackwardOptions {
  /** Record the backward pass on the tape so that gradients are differentiable (higher order). */
  createGraph?: boolean;
}

/**
 * An n-dimensional array of float64 values (row-major), optionally tracked by the autograd tape.
 *
 * Create tensors with `tensor`, `zeros`, `ones`, `full`, `arange`, `eye`; every op has a function form
 * (`add(x, y)`) and a method form (`x.add(y)`). Tensors are immutable from the library's side: ops return
 * new tensors.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: see the interface Tensor at the end of this file
export class Tensor {
  /** The values, row-major. Length `size`. */
  readonly data: Float64Array;
  /** Length of each axis, outermost first; `[]` for a scalar. */
  readonly shape: readonly number[];
  /** The gradient accumulated by `backward()` (leaves and `retainGrad()` tensors only), else null. */
  grad: Tensor | null = null;
  /** @internal */ _requiresGrad: boolean;
  /** @internal The op that produced this tensor, when it was recorded on the tape. */
  _node: TapeNode | null = null;
  /** @internal */ _retainsGrad = false;
  /** @internal */ _hooks: GradHook[] | null = null;

  /**
   * Wrap `data` (not copied) as a tensor of `shape`. Prefer `tensor(...)`, which validates its input.
   * @throws Error if `data.length` differs from the product of `shape`.
   */
  constructor(data: Float64Array, shape: Shape, requiresGrad = false) {
    if (data.length !== shapeSize(shape)) {
      throw new Error(
        `Tensor: data has ${data.length} elements but shape ${formatShape(shape)} needs ${shapeSize(shape)}`,
      );
    }
    this.data = data;
    this.shape = shape;
    this._requiresGrad = requiresGrad;
  }

  /** Always `"float64"`. */
  get dtype(): "float64" {
    return "float64";
  }
  /** Number of axes. */
  get ndim(): number {
    return this.shape.length;
  }
  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }
  /** Whether gradients flow to this tensor (leaves: set by the user; results: if an input requires grad). */
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  set requiresGrad(value: boolean) {
    if (this._node !== null && !value) {
      throw new Error(
        "requiresGrad: cannot turn off requiresGrad of a tensor computed by a recorded op; use detach()",
      );
    }
    this._requiresGrad = value;
  }
  /** True for tensors not produced by a recorded op (user-created data, parameters). */
  get isLeaf(): boolean {
    return this._node === null;
  }

  /**
   * The single value of a tensor with one element.
   * @throws Error naming the shape when the tensor has more than one element.
   */
  item(): number {
    if (this.data.length !== 1) {
      throw new Error(
        `item: only a tensor with one element can be converted to a number, got shape ${formatShape(this.shape)}`,
      );
    }
    return this.data[0]!;
  }

  /** The values as nested arrays (a number for a 0-d tensor). */
  toArray(): NestedArray {
    const build = (axis: number, offset: number, stride: number): NestedArray => {
      if (axis === this.shape.length) return this.data[offset]!;
      const n = this.shape[axis]!;
      const inner = stride / Math.max(n, 1);
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(build(axis + 1, offset + i * inner, inner));
      return out;
    };
    return build(0, 0, this.data.length);
  }

  /** numpy-like text: `tensor([[1, 2.5], [3, 4]], requiresGrad=true)`; long axes are elided with `...`. */
  toString(): string {
    const fmt = (v: number): string => {
      if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.`;
      if (!Number.isFinite(v)) return Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
      const a = Math.abs(v);
      return a !== 0 && (a < 1e-4 || a >= 1e16) ? v.toExponential(4) : String(Number(v.toPrecision(8)));
    };
    const edge = 3;
    const build = (axis: number, offset: number, stride: number, indent: string): string => {
      if (axis === this.shape.length) return fmt(this.data[offset]!);
      const n = this.shape[axis]!;
      const inner = stride / Math.max(n, 1);
      const idx =
        n > 2 * edge + 1
          ? [...Array(edge).keys(), -1, ...Array.from({ length: edge }, (_, i) => n - edge + i)]
          : [...Array(n).keys()];
      const parts = idx.map((i) =>
        i < 0 ? "..." : build(axis + 1, offset + i * inner, inner, `${indent} `),
      );
      // numpy's layout: rows on new lines, and a blank line between the blocks of ≥ 3-D tensors
      const rank = this.shape.length;
      const sep = axis === rank - 1 ? ", " : axis === rank - 2 ? `,\n${indent} ` : `,\n\n${indent} `;
      return `[${parts.join(sep)}]`;
    };
    // an empty tensor's brackets hide its shape, so print it (PyTorch: `tensor([], size=(0, 3))`)
    const body =
      this.data.length === 0
        ? `[], shape=${formatShape(this.shape)}`
        : build(0, 0, this.data.length, "       ");
    const grad =
      this._node !== null
        ? `, gradFn=<${this._node.rule.name}>`
        : this._requiresGrad
          ? ", requiresGrad=true"
          : "";
    return `tensor(${body}${grad})`;
  }

  /** What `console.log(t)` and Node's `util.inspect` print: `toString()`, not the internal fields. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /**
   * Reverse-mode differentiation from this tensor: accumulates d(this)/d(leaf) into `.grad` of every leaf
   * that requires grad (gradients add up across calls until `zeroGrad()`).
   * @param seed the cotangent; optional for a tensor with one element (seeded with 1), required otherwise,
   *   with this tensor's shape. May be omitted with options given first: `y.backward({ createGraph: true })`.
   * @param options `createGraph: true` records the backward pass so that `.grad` is differentiable.
   * @throws Error if this tensor does not require grad, or is not a scalar and no seed is given.
   */
  backward(seed?: Tensor | number | TensorBackwardOptions, options: TensorBackwardOptions = {}): void {
    if (seed !== undefined && !(seed instanceof Tensor) && typeof seed === "object" && seed !== null) {
      options = seed;
      seed = undefined;
    }
    if (!this._requiresGrad) {
      throw new Error(
        "backward: this tensor does not require grad (no input of the ops that made it has requiresGrad: true, or it was computed inside noGrad)",
      );
    }
    let s: Tensor;
    if (seed === undefined) {
      if (this.data.length !== 1) {
        throw new Error(
          `backward: a seed gradient is required for a non-scalar output of shape ${formatShape(this.shape)} (pass a tensor of that shape, or reduce to a scalar first, e.g. with sum)`,
        );
      }
      s = new Tensor(new Float64Array([1]), this.shape);
    } else if (typeof seed === "number") {
      s = new Tensor(new Float64Array(this.data.length).fill(seed), this.shape);
    } else if (seed instanceof Tensor) {
      s = seed;
    } else {
      throw new Error(`backward: the seed must be a Tensor or a number, got ${typeof seed}`);
    }
    runBackward(this, s, options.createGraph ?? false);
  }

  /** A tensor with the same data (shared, not copied) that is not connected to the tape. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** Keep `.grad` on this non-leaf tensor during `backward` (leaves always keep it). Returns `this`. */
  retainGrad(): this {
    this._retainsGrad = true;
    return this;
  }

  /** Reset `.grad` to null. Returns `this`. */
  zeroGrad(): this {
    this.grad = null;
    return this;
  }

  /**
   * Register a hook called with this tensor's gradient during `backward`, once all contributions are
   * summed; return a tensor of the same shape to replace the gradient that flows on. Returns a function
   * that removes the hook.
   */
  registerHook(hook: GradHook): () => void {
    if (!this._requiresGrad)
      throw new Error("registerHook: cannot register a hook on a tensor that does not require grad");
    if (this._hooks === null) this._hooks = [];
    this._hooks.push(hook);
    return () => {
      const i = this._hooks?.indexOf(hook) ?? -1;
      if (i >= 0) this._hooks!.splice(i, 1);
    };
  }
}

/**
 * The method forms of the ops: `x.add(y)` is `add(x, y)`. Declared here (declaration merging with the
 * class), installed on the prototype by tensor-methods.ts when the package's entry is imported.
 */
export interface TensorMethods {
  /** Transpose of a 2-D tensor (`transpose(x)` for other ranks). @throws Error for other ranks. */
  readonly T: Tensor;
  /** `add(this, y)` */
  add(y: TensorLike): Tensor;
  /** `sub(this, y)` */
  sub(y: TensorLike): Tensor;
  /** `mul(this, y)` */
  mul(y: TensorLike): Tensor;
  /** `div(this, y)` */
  div(y: TensorLike): Tensor;
  /** `pow(this, y)` */
  pow(y: TensorLike): Tensor;
  /** `maximum(this, y)` */
  maximum(y: TensorLike): Tensor;
  /** `minimum(this, y)` */
  minimum(y: TensorLike): Tensor;
  /** `neg(this)` */
  neg(): Tensor;
  /** `square(this)` */
  square(): Tensor;
  /** `sqrt(this)` */
  sqrt(): Tensor;
  /** `exp(this)` */
  exp(): Tensor;
  /** `log(this)` */
  log(): Tensor;
  /** `abs(this)` */
  abs(): Tensor;
  /** `tanh(this)` */
  tanh(): Tensor;
  /** `sigmoid(this)` */
  sigmoid(): Tensor;
  /** `relu(this)` */
  relu(): Tensor;
  /** `clip(this, lo, hi)` */
  clip(lo: number, hi: number): Tensor;
  /** `matmul(this, y, options)` */
  matmul(y: Tensor, options?: MatmulOptions): Tensor;
  /** `transpose(this, axes)` */
  transpose(axes?: readonly number[]): Tensor;
  /** `reshape(this, shape)` */
  reshape(shape: readonly number[]): Tensor;
  /** `take(this, indices, axis)` */
  take(indices: Indices, axis?: number): Tensor;
  /** `sum(this, axis, keepdims)` */
  sum(axis?: number | readonly number[], keepdims?: boolean): Tensor;
  /** `mean(this, axis, keepdims)` */
  mean(axis?: number | readonly number[], keepdims?: boolean): Tensor;
  /** `max(this, axis, keepdims)` */
  max(axis?: number | readonly number[], keepdims?: boolean): Tensor;
  /** `min(this, axis, keepdims)` */
  min(axis?: number | readonly number[], keepdims?: boolean): Tensor;
  /** `logsumexp(this, axis, keepdims)` */
  logsumexp(axis?: number | readonly number[], keepdims?: boolean): Tensor;
  /** `softmax(this, axis)` */
  softmax(axis?: number): Tensor;
  /** `logSoftmax(this, axis)` */
  logSoftmax(axis?: number): Tensor;
}

// Declaration merging: every Tensor has the method forms. Safe here, unlike the case the lint rule guards
// against: tensor-methods.ts installs every member of TensorMethods on the prototype.
export interface Tensor extends TensorMethods {}

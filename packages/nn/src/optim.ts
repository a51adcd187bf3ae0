/**
 * @file Optimizers with PyTorch semantics. `step()` updates each parameter in place (writes into
 * `param.data`, so modules keep their tensors) from its `.grad`; parameters without a gradient are skipped.
 * The updates are plain loops over Float64Arrays: nothing is recorded on the tape.
 */
import { noGrad, Tensor } from "@tapegrad/autograd";
import { describeValue, expectNumber } from "@tapegrad/autograd/validate";

/** What every optimizer offers. */
export abstract class Optimizer {
  /** The parameters updated by `step()`. */
  readonly params: readonly Tensor[];

  /** @throws Error naming the position of an argument that is not a tensor requiring grad. */
  constructor(name: string, params: Iterable<Tensor>) {
    this.params = [...params];
    this.params.forEach((p, i) => {
      if (!(p instanceof Tensor))
        throw new Error(`${name}: parameter ${i} must be a Tensor, got ${describeValue(p)}`);
      if (!p.requiresGrad) {
        throw new Error(`${name}: parameter ${i} does not require grad (create it with requiresGrad: true)`);
      }
    });
  }

  /** Set every parameter's `.grad` to null. */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** Update every parameter that has a gradient, in place. */
  step(): void {
    noGrad(() => {
      this.params.forEach((p, i) => {
        if (p.grad !== null) this.update(i, p.data, p.grad.data);
      });
    });
  }

  /** Update parameter `i` (values `w`) in place given its gradient `g`. */
  protected abstract update(i: number, w: Float64Array, g: Float64Array): void;
}

/** Options of `SGD`. */
export interface SGDOptions {
  /** Learning rate (required). */
  lr: number;
  /** Momentum factor; default 0 (plain gradient descent). */
  momentum?: number;
  /** L2 penalty added to the gradient: g + weightDecay·θ; default 0. */
  weightDecay?: number;
}

/**
 * Stochastic gradient descent (torch.optim.SGD, no dampening, not Nesterov):
 * g ← ∇θ + λθ; with momentum μ: b ← g at the first step, then b ← μ·b + g, and g ← b; θ ← θ − lr·g.
 */
export class SGD extends Optimizer {
  /** Learning rate. */
  lr: number;
  /** Momentum factor. */
  readonly momentum: number;
  /** L2 penalty. */
  readonly weightDecay: number;
  private readonly buffers: (Float64Array | null)[];

  /** @throws Error for a negative or non-numeric lr, momentum or weightDecay. */
  constructor(params: Iterable<Tensor>, options: SGDOptions) {
    super("SGD", params);
    this.lr = expectNumber("SGD", "lr", options?.lr, { min: 0 });
    this.momentum = expectNumber("SGD", "momentum", options.momentum ?? 0, { min: 0 });
    this.weightDecay = expectNumber("SGD", "weightDecay", options.weightDecay ?? 0, { min: 0 });
    this.buffers = this.params.map(() => null);
  }

  protected update(i: number, w: Float64Array, g: Float64Array): void {
    const { lr, momentum: mu, weightDecay: wd } = this;
    let buf = this.buffers[i]!;
    if (mu !== 0 && buf === null) {
      // PyTorch starts the momentum buffer at the first (decayed) gradient
      buf = this.buffers[i] = new Float64Array(w.length);
      for (let k = 0; k < w.length; k++) buf[k] = g[k]! + wd * w[k]!;
      for (let k = 0; k < w.length; k++) w[k] = w[k]! - lr * buf[k]!;
      return;
    }
    for (let k = 0; k < w.length; k++) {
      let d = wd === 0 ? g[k]! : g[k]! + wd * w[k]!;
      if (buf !== null) d = buf[k] = mu * buf[k]! + d;
      w[k] = w[k]! - lr * d;
    }
  }
}

/** Options of `Adam`. */
export interface AdamOptions {
  /** Learning rate; default 1e-3. */
  lr?: number;
  /** Decay rates of the first and second moment estimates; default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Added to √v̂ to avoid dividing by 0; default 1e-8. */
  eps?: number;
  /** L2 penalty added to the gradient (Adam's, not AdamW's decoupled decay); default 0. */
  weightDecay?: number;
}

/**
 * Adam (torch.optim.Adam, amsgrad off), per element, at step t = 1, 2, …:
 * g ← ∇θ + λθ; m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 * θ ← θ − (lr / (1−β1ᵗ)) · (m / (√v / √(1−β2ᵗ) + ε)) — PyTorch's order of operations.
 */
export class Adam extends Optimizer {
  /** Learning rate. */
  lr: number;
  /** [β1, β2]. */
  readonly betas: readonly [number, number];
  /** ε. */
  readonly eps: number;
  /** L2 penalty. */
  readonly weightDecay: number;
  private readonly m: Float64Array[];
  private readonly v: Float64Array[];
  private readonly t: number[];

  /** @throws Error for a negative lr/eps/weightDecay or a beta outside [0, 1). */
  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super("Adam", params);
    this.lr = expectNumber("Adam", "lr", options.lr ?? 1e-3, { min: 0 });
    const [b1, b2] = options.betas ?? [0.9, 0.999];
    this.betas = [
      expectNumber("Adam", "betas[0]", b1, { min: 0, max: 1, maxOpen: true }),
      expectNumber("Adam", "betas[1]", b2, { min: 0, max: 1, maxOpen: true }),
    ];
    this.eps = expectNumber("Adam", "eps", options.eps ?? 1e-8, { min: 0 });
    this.weightDecay = expectNumber("Adam", "weightDecay", options.weightDecay ?? 0, { min: 0 });
    this.m = this.params.map((p) => new Float64Array(p.size));
    this.v = this.params.map((p) => new Float64Array(p.size));
    this.t = this.params.map(() => 0);
  }

  protected update(i: number, w: Float64Array, g: Float64Array): void {
    const [b1, b2] = this.betas;
    const { lr, eps, weightDecay: wd } = this;
    const m = this.m[i]!;
    const v = this.v[i]!;
    const t = (this.t[i] = this.t[i]! + 1);
    const stepSize = lr / (1 - b1 ** t);
    const bc2Sqrt = Math.sqrt(1 - b2 ** t);
    for (let k = 0; k < w.length; k++) {
      const d = wd === 0 ? g[k]! : g[k]! + wd * w[k]!;
      // PyTorch: m.lerp_(g, 1 − β1) — m + (1−β1)(g − m); v.mul_(β2).addcmul_(g, g, 1 − β2)
      m[k] = m[k]! + (1 - b1) * (d - m[k]!);
      v[k] = v[k]! * b2 + (1 - b2) * d * d;
      w[k] = w[k]! - stepSize * (m[k]! / (Math.sqrt(v[k]!) / bc2Sqrt + eps));
    }
  }
}

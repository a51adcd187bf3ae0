/**
 * @file Optimizers with PyTorch semantics. `step()` updates each parameter in place (writes into
 * `param.data`, so modules keep their tensors) from its `.grad`; parameters without a gradient are skipped.
 * The updates are plain loops over Float64Arrays: nothing is recorded on the tape.
 */
import { noGrad, type Tensor } from "@tapegrad/autograd";
import { describeValue, expectNumber, expectTensor } from "@tapegrad/autograd/validate";
import { isParameter } from "./module.js";
import {
  exportState,
  type Hyperparameter,
  importState,
  type OptimizerStateDict,
  type ParamState,
} from "./optim-state.js";

/** What every optimizer offers. */
export abstract class Optimizer<S extends ParamState = ParamState> {
  /** The parameters updated by `step()`. */
  readonly params: readonly Tensor[];
  /** Learning rate (schedulers set it before each epoch). */
  abstract lr: number;
  /** Each parameter's state, under PyTorch's names; undefined until its first step. */
  protected state: (S | undefined)[];
  /** The class name, for messages. */
  protected readonly name: string;

  /**
   * @throws Error for an empty list, and naming the position of an argument that is not a Tensor, not a
   *   leaf (the result of an operation: stepping it would never reach the tensor you created), repeated, or
   *   a tensor that never required grad (frozen Module parameters are accepted and skipped, as PyTorch).
   */
  constructor(name: string, params: Iterable<Tensor>) {
    this.name = name;
    if (params === null || typeof (params as Partial<Iterable<Tensor>>)?.[Symbol.iterator] !== "function") {
      throw new Error(
        `${name}: params must be an iterable of Tensors (e.g. model.parameters()), got ${describeValue(params)}`,
      );
    }
    this.params = [...params];
    if (this.params.length === 0) {
      throw new Error(
        `${name}: got an empty parameter list; expected the tensors to optimize (e.g. model.parameters())`,
      );
    }
    const seen = new Map<Tensor, number>();
    this.params.forEach((p, i) => {
      expectTensor(name, `parameter ${i}`, p);
      if (!p.isLeaf) {
        throw new Error(
          `${name}: parameter ${i} (shape [${p.shape.join(", ")}]) is not a leaf tensor: it is the result of an operation, so step() could never update the tensor it came from (PyTorch: "can't optimize a non-leaf Tensor"); pass the tensor created with requiresGrad: true`,
        );
      }
      if (!isParameter(p)) {
        throw new Error(`${name}: parameter ${i} does not require grad (create it with requiresGrad: true)`);
      }
      const first = seen.get(p);
      if (first !== undefined)
        throw new Error(`${name}: parameter ${i} is the same tensor as parameter ${first}`);
      seen.set(p, i);
    });
    this.state = this.params.map(() => undefined);
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

  /**
   * A copy of the optimizer's state (PyTorch's `state_dict()` layout, see `OptimizerStateDict`): with the
   * model's `stateDict()`, what a run needs to resume exactly where it stopped.
   */
  stateDict(): OptimizerStateDict {
    return exportState(this.params, this.state, this.hyperparameters());
  }

  /**
   * Restore a `stateDict()` (copied in): the per-parameter state and the hyperparameters (lr included).
   * Parameters are matched by position, so build the optimizer over the same parameters in the same order.
   * @throws Error naming what does not match (parameter count, state keys, shapes, hyperparameter kinds);
   *   nothing is changed unless every check passes.
   */
  loadStateDict(dict: OptimizerStateDict): void {
    const fn = `${this.name}.loadStateDict`;
    const loaded = importState(fn, this.params, (n) => this.initState(n), this.hyperparameters(), dict);
    this.state = loaded.state;
    Object.assign(this, loaded.hyperparameters);
  }

  /** The hyperparameters by option name, as `stateDict()` saves them (each is a public field). */
  protected abstract hyperparameters(): Record<string, Hyperparameter>;

  /** A parameter's fresh state (zeros and counters at 0) for a parameter of `size` elements. */
  protected abstract initState(size: number): S;

  /** Update parameter `i` (values `w`) in place given its gradient `g`. */
  protected abstract update(i: number, w: Float64Array, g: Float64Array): void;
}

/** Options of `SGD`. */
export interface SGDOptions {
  /** Learning rate (required). */
  lr: number;
  /** Momentum factor; default 0 (plain gradient descent). */
  momentum?: number;
  /** Dampening of the gradient in the momentum buffer: b ← μ·b + (1 − dampening)·g; default 0. */
  dampening?: number;
  /** L2 penalty added to the gradient: g + weightDecay·θ; default 0. */
  weightDecay?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0); default false. */
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent (torch.optim.SGD): g ← ∇θ + λθ; with momentum μ: b ← g at the first step,
 * then b ← μ·b + (1 − dampening)·g, and g ← b, or with Nesterov g ← g + μ·b; θ ← θ − lr·g.
 */
export class SGD extends Optimizer<{ momentum_buffer: Float64Array }> {
  /** Learning rate. */
  lr: number;
  /** Momentum factor. */
  momentum: number;
  /** Dampening. */
  dampening: number;
  /** L2 penalty. */
  weightDecay: number;
  /** Nesterov momentum. */
  nesterov: boolean;

  /**
   * @throws Error for a negative or non-numeric lr, momentum, dampening or weightDecay, and for nesterov
   *   without momentum or with dampening (as PyTorch).
   */
  constructor(params: Iterable<Tensor>, options: SGDOptions) {
    super("SGD", params);
    this.lr = expectNumber("SGD", "lr", options?.lr, { min: 0 });
    this.momentum = expectNumber("SGD", "momentum", options.momentum ?? 0, { min: 0 });
    this.dampening = expectNumber("SGD", "dampening", options.dampening ?? 0, { min: 0 });
    this.weightDecay = expectNumber("SGD", "weightDecay", options.weightDecay ?? 0, { min: 0 });
    this.nesterov = options.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new Error(
        `SGD: nesterov momentum requires a momentum > 0 and zero dampening, got momentum ${this.momentum} and dampening ${this.dampening}`,
      );
    }
  }

  protected hyperparameters(): Record<string, Hyperparameter> {
    const { lr, momentum, dampening, weightDecay, nesterov } = this;
    return { lr, momentum, dampening, weightDecay, nesterov };
  }

  protected initState(size: number): { momentum_buffer: Float64Array } {
    return { momentum_buffer: new Float64Array(size) };
  }

  protected update(i: number, w: Float64Array, g: Float64Array): void {
    const { lr, momentum: mu, dampening, weightDecay: wd, nesterov } = this;
    if (mu === 0) {
      for (let k = 0; k < w.length; k++) w[k] = w[k]! - lr * (wd === 0 ? g[k]! : g[k]! + wd * w[k]!);
      return;
    }
    // PyTorch starts the momentum buffer at the first (decayed) gradient, undampened
    const first = this.state[i] === undefined;
    const buf = (this.state[i] ??= this.initState(w.length)).momentum_buffer;
    for (let k = 0; k < w.length; k++) {
      const d = wd === 0 ? g[k]! : g[k]! + wd * w[k]!;
      buf[k] = first ? d : mu * buf[k]! + (1 - dampening) * d;
      w[k] = w[k]! - lr * (nesterov ? d + mu * buf[k]! : buf[k]!);
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
export class Adam extends Optimizer<AdamState> {
  /** Learning rate. */
  lr: number;
  /** [β1, β2]. */
  betas: readonly [number, number];
  /** ε. */
  eps: number;
  /** Weight decay: an L2 penalty for Adam, decoupled for AdamW. */
  weightDecay: number;

  /**
   * @param name the class name in messages (subclasses pass theirs).
   * @throws Error for a negative lr/eps/weightDecay or a beta outside [0, 1).
   */
  constructor(params: Iterable<Tensor>, options: AdamOptions = {}, name = "Adam") {
    super(name, params);
    this.lr = expectNumber(name, "lr", options.lr ?? 1e-3, { min: 0 });
    const [b1, b2] = options.betas ?? [0.9, 0.999];
    this.betas = [
      expectNumber(name, "betas[0]", b1, { min: 0, max: 1, maxOpen: true }),
      expectNumber(name, "betas[1]", b2, { min: 0, max: 1, maxOpen: true }),
    ];
    this.eps = expectNumber(name, "eps", options.eps ?? 1e-8, { min: 0 });
    this.weightDecay = expectNumber(name, "weightDecay", options.weightDecay ?? 0, { min: 0 });
  }

  protected hyperparameters(): Record<string, Hyperparameter> {
    const { lr, betas, eps, weightDecay } = this;
    return { lr, betas, eps, weightDecay };
  }

  protected initState(size: number): AdamState {
    return { step: 0, exp_avg: new Float64Array(size), exp_avg_sq: new Float64Array(size) };
  }

  protected update(i: number, w: Float64Array, g: Float64Array): void {
    const [b1, b2] = this.betas;
    const { lr, eps, weightDecay: wd } = this;
    const s = (this.state[i] ??= this.initState(w.length));
    const { exp_avg: m, exp_avg_sq: v } = s;
    const t = ++s.step;
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

/** Adam's per-parameter state, under PyTorch's names. */
export interface AdamState extends ParamState {
  /** Steps taken. */
  step: number;
  /** First moment estimate m. */
  exp_avg: Float64Array;
  /** Second moment estimate v. */
  exp_avg_sq: Float64Array;
}

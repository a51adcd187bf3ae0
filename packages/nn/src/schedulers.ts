/**
 * @file Learning-rate schedulers (torch.optim.lr_scheduler), in PyTorch's closed forms: `step()` once per
 * epoch sets `optimizer.lr` for the next one, `getLastLr()` reads it.
 */
import { describeValue, expectInteger, expectNumber } from "@tapegrad/autograd/validate";
import { Optimizer } from "./optim.js";

/** A scheduler's state: the epoch counter and the learning rate it started from. */
export interface SchedulerStateDict {
  /** Steps taken (PyTorch's `last_epoch`). */
  lastEpoch: number;
  /** The optimizer's lr when the scheduler was made (PyTorch's `base_lrs[0]`). */
  baseLr: number;
}

/**
 * Base of the schedulers: remembers the optimizer's lr at construction (`baseLr`) and, at each `step()`,
 * sets `optimizer.lr = lrAt(lastEpoch)`. As in PyTorch, construction counts as epoch 0 (the lr stays
 * `baseLr`) and `step()` is called after each epoch's optimizer steps.
 */
export abstract class LRScheduler {
  /** The optimizer whose `lr` is scheduled. */
  readonly optimizer: Optimizer;
  /** The learning rate at epoch 0. */
  baseLr: number;
  /** The number of `step()` calls so far. */
  lastEpoch = 0;
  /** The class name, for messages. */
  private readonly name: string;

  /** @throws Error starting with `name` if `optimizer` is not an Optimizer. */
  constructor(name: string, optimizer: Optimizer) {
    if (!(optimizer instanceof Optimizer)) {
      throw new Error(
        `${name}: optimizer must be an Optimizer (SGD, Adam, AdamW), got ${describeValue(optimizer)}`,
      );
    }
    this.name = name;
    this.optimizer = optimizer;
    this.baseLr = optimizer.lr;
  }

  /** The learning rate of epoch `epoch` (closed form). */
  protected abstract lrAt(epoch: number): number;

  /** Advance one epoch and set the optimizer's lr. */
  step(): void {
    this.lastEpoch += 1;
    this.optimizer.lr = this.lrAt(this.lastEpoch);
  }

  /** The learning rate of each parameter group as last set (one group: `[lr]`), as PyTorch's `get_last_lr()`. */
  getLastLr(): number[] {
    return [this.optimizer.lr];
  }

  /** A copy of the scheduler's state, to resume with `loadStateDict` (after the optimizer's). */
  stateDict(): SchedulerStateDict {
    return { lastEpoch: this.lastEpoch, baseLr: this.baseLr };
  }

  /** Restore a `stateDict()`. @throws Error for a state that is not `{ lastEpoch, baseLr }`. */
  loadStateDict(state: SchedulerStateDict): void {
    const fn = `${this.name}.loadStateDict`;
    const lastEpoch = expectInteger(fn, "lastEpoch", state?.lastEpoch, 0);
    this.baseLr = expectNumber(fn, "baseLr", state.baseLr, { min: 0 });
    this.lastEpoch = lastEpoch;
  }
}

/**
 * Decay the learning rate by `gamma` every `stepSize` epochs (torch.optim.lr_scheduler.StepLR):
 * lr = baseLr · gamma^⌊epoch / stepSize⌋.
 * @example
 * const scheduler = new StepLR(opt, { stepSize: 30, gamma: 0.1 });
 * for (let epoch = 0; epoch < 100; epoch++) { train(); scheduler.step(); }
 */
export class StepLR extends LRScheduler {
  /** Epochs between decays. */
  readonly stepSize: number;
  /** Factor of each decay; default 0.1. */
  readonly gamma: number;

  /** @throws Error for a stepSize that is not a positive integer or a negative gamma. */
  constructor(optimizer: Optimizer, options: { stepSize: number; gamma?: number }) {
    super("StepLR", optimizer);
    this.stepSize = expectInteger("StepLR", "stepSize", options?.stepSize);
    this.gamma = expectNumber("StepLR", "gamma", options.gamma ?? 0.1, { min: 0 });
  }

  protected lrAt(epoch: number): number {
    return this.baseLr * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/**
 * Cosine annealing from baseLr down to etaMin over tMax epochs (torch.optim.lr_scheduler.CosineAnnealingLR,
 * without restarts): lr = etaMin + (baseLr − etaMin)·(1 + cos(π·epoch / tMax))/2. Past tMax the cosine
 * goes back up, as PyTorch's.
 * @example
 * const scheduler = new CosineAnnealingLR(opt, { tMax: epochs });
 */
export class CosineAnnealingLR extends LRScheduler {
  /** Epochs of one half cosine. */
  readonly tMax: number;
  /** The lowest learning rate; default 0. */
  readonly etaMin: number;

  /** @throws Error for a tMax that is not a positive integer or a negative etaMin. */
  constructor(optimizer: Optimizer, options: { tMax: number; etaMin?: number }) {
    super("CosineAnnealingLR", optimizer);
    this.tMax = expectInteger("CosineAnnealingLR", "tMax", options?.tMax);
    this.etaMin = expectNumber("CosineAnnealingLR", "etaMin", options.etaMin ?? 0, { min: 0 });
  }

  protected lrAt(epoch: number): number {
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

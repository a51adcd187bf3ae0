/**
 * @file The playground's model, free of the DOM (it runs in the Web Worker and in Node tests): the course's
 * two-layer network on the flower data set, one gradient step at a time, with gradients from the six
 * equations (typos planted or not) or from the tape, and `checkBackprop`'s verdict on each equation.
 */

import { noGrad, type Tensor } from "@tapegrad/autograd";
import { expectInteger, expectNumber, expectOneOf } from "@tapegrad/autograd/validate";
import {
  type Activation,
  autogradBackward,
  checkBackprop,
  computeCost,
  EQUATIONS,
  type EquationName,
  forwardEquations,
  type Grads,
  initializeParameters,
  loadPlanarDataset,
  type Params,
} from "@tapegrad/nn";
import { NO_TYPOS, plantedBackward, plantedUpdate, type Typos } from "./planted.js";

/** The four hidden activations, in the order the page lists them. */
export const ACTIVATIONS: readonly Activation[] = ["tanh", "relu", "sigmoid", "leakyRelu"];

/** Where the gradients that train the network come from. */
export type GradientSource = "equations" | "tape";

/** Everything the controls set. */
export interface TrainerConfig {
  /** Hidden units nH, 1–50 (the course: 4). */
  hiddenUnits: number;
  /** The hidden activation g (the course: tanh). */
  activation: Activation;
  /** α (the course: 1.2). */
  learningRate: number;
  /** Train with the six equations as written (typos included) or with the tape's gradients. */
  gradients: GradientSource;
  /** The notes' mistakes planted in the six equations and the update. */
  typos: Typos;
}

/** The course's settings: 4 tanh units, α = 1.2, the six equations, no typo. */
export const DEFAULT_CONFIG: Readonly<TrainerConfig> = {
  hiddenUnits: 4,
  activation: "tanh",
  learningRate: 1.2,
  gradients: "equations",
  typos: NO_TYPOS,
};

/** The most hidden units the page offers. */
export const MAX_HIDDEN_UNITS = 50;

/** One equation's verdict, as the panel shows it (plain data: it crosses the worker boundary). */
export interface EquationVerdict {
  status: "ok" | "mismatch";
  /** ‖manual − tape‖ / (‖manual‖ + ‖tape‖) for this equation alone (see checkBackprop). */
  relativeDifference: number;
  /** Why it differs, or null. */
  diagnosis: string | null;
}

/** `checkBackprop`'s result on the current parameters, as plain data. */
export interface EquationsReport {
  equations: Record<EquationName, EquationVerdict>;
  firstMismatch: EquationName | null;
  summary: string;
}

/**
 * Check a configuration from the page, with errors that name the field (the worker passes them on).
 * @throws Error starting with `TrainerConfig:` for hidden units outside 1–50, an unknown activation or
 *   gradient source, or a learning rate that is not a finite number ≥ 0.
 */
export function checkConfig(config: TrainerConfig): TrainerConfig {
  const fn = "TrainerConfig";
  expectInteger(fn, "hiddenUnits", config.hiddenUnits, 1);
  if (config.hiddenUnits > MAX_HIDDEN_UNITS) {
    throw new Error(
      `${fn}: hiddenUnits must be an integer in [1, ${MAX_HIDDEN_UNITS}], got ${config.hiddenUnits}`,
    );
  }
  expectOneOf(fn, "activation", config.activation, ACTIVATIONS);
  expectNumber(fn, "learningRate", config.learningRate, { min: 0 });
  expectOneOf(fn, "gradients", config.gradients, ["equations", "tape"] as const);
  return config;
}

/** The course's cost (`computeCost`), or NaN when A2 is not finite (parameters blown up) instead of throwing. */
function costOf(A2: Tensor, Y: Tensor): number {
  return A2.data.every(Number.isFinite) ? computeCost(A2, Y) : Number.NaN;
}

/** The course network learning the flower, one full-batch gradient step per `step()`. */
export class Trainer {
  /** The examples, X (2, m), one per column: the flower's 400 unless given. */
  readonly X: Tensor;
  /** Their labels, Y (1, m), 0 or 1. */
  readonly Y: Tensor;
  /** The current parameters. */
  params!: Params;
  /** Gradient steps taken since the last reset. */
  iteration = 0;
  /** The cost before each step (`costs[i]` is the cost at iteration i, as the course's nn_model logs it). */
  costs: number[] = [];
  /** Set when the parameters stopped being finite: training cannot go on. */
  diverged: string | null = null;
  private config: TrainerConfig;

  /**
   * @param config the controls' settings (checked: see `checkConfig`).
   * @param data the examples, X (2, m) and Y (1, m) 0/1; default the flower (`loadPlanarDataset`).
   */
  constructor(config: TrainerConfig = DEFAULT_CONFIG, data: { X: Tensor; Y: Tensor } = loadPlanarDataset()) {
    const { X, Y } = data;
    this.X = X;
    this.Y = Y;
    this.config = checkConfig({ ...config, typos: { ...config.typos } });
    this.reset();
  }

  /** The configuration in use (a copy). */
  get settings(): TrainerConfig {
    return { ...this.config, typos: { ...this.config.typos } };
  }

  /** New initial parameters (the course's `initialize_parameters`, seed 2), iteration 0, no costs. */
  reset(): void {
    const nX = this.X.shape[0]!;
    const nY = this.Y.shape[0]!;
    this.params = initializeParameters(nX, this.config.hiddenUnits, nY, { seed: 2 });
    this.iteration = 0;
    this.costs = [];
    this.diverged = null;
  }

  /**
   * Change settings. A new hidden size or activation is a new network: it resets. The learning rate, the
   * gradient source and the typos apply from the next step.
   * @returns whether it reset.
   */
  configure(change: Partial<TrainerConfig>): boolean {
    const next = checkConfig({ ...this.config, ...change, typos: { ...this.config.typos, ...change.typos } });
    const reset = next.hiddenUnits !== this.config.hiddenUnits || next.activation !== this.config.activation;
    this.config = next;
    if (reset) this.reset();
    return reset;
  }

  /**
   * One iteration of the course's loop: forward, cost, backward (the six equations as planted, or the
   * tape), update (as planted). Does nothing once diverged.
   * @returns the cost before the update.
   */
  step(): number {
    if (this.diverged) return Number.NaN;
    const { activation, learningRate, gradients, typos } = this.config;
    const { X, Y } = this;
    const cache = noGrad(() => forwardEquations(X, this.params, activation));
    const cost = costOf(cache.A2, Y);
    const grads: Grads =
      gradients === "tape"
        ? autogradBackward(this.params, X, Y, { activation })
        : plantedBackward(typos)(this.params, cache, X, Y, { activation });
    this.costs.push(cost);
    this.params = plantedUpdate(this.params, grads, learningRate, typos);
    this.iteration++;
    const bad = Object.entries(this.params).find(([, t]) => !t.data.every(Number.isFinite));
    if (bad || !cache.A2.data.every(Number.isFinite)) {
      const what = bad ? `${bad[0]} has NaN or ±Infinity` : "A2 has NaN (∞ − ∞ in Z)";
      this.diverged = `training diverged at iteration ${this.iteration} (${what}; last cost ${cost}): lower the learning rate or remove a typo, then reset`;
    }
    return cost;
  }

  /** Run `n` steps (fewer if it diverges). */
  run(n: number): void {
    for (let i = 0; i < n && !this.diverged; i++) this.step();
  }

  /** The cost of the current parameters, J = −(1/m) Σ [Y log A2 + (1 − Y) log(1 − A2)]. */
  cost(): number {
    return costOf(this.probabilities(this.X), this.Y);
  }

  /** The percentage of examples classified right (A2 > 0.5 means class 1), as the course's accuracy. */
  accuracy(): number {
    const A2 = this.probabilities(this.X);
    let right = 0;
    for (let i = 0; i < A2.size; i++) if (A2.data[i]! > 0.5 === (this.Y.data[i] === 1)) right++;
    return (100 * right) / A2.size;
  }

  /** The probability of class 1, A2, at each column of `points` (2, k). */
  probabilities(points: Tensor): Tensor {
    return noGrad(() => forwardEquations(points, this.params, this.config.activation).A2);
  }

  /** The six equations (typos planted) and the tape's gradients at the current parameters. */
  gradients(): { equations: Grads; tape: Grads } {
    const { activation, typos } = this.config;
    const cache = noGrad(() => forwardEquations(this.X, this.params, activation));
    return {
      equations: plantedBackward(typos)(this.params, cache, this.X, this.Y, { activation }),
      tape: autogradBackward(this.params, this.X, this.Y, { activation }),
    };
  }

  /**
   * `checkBackprop` of the six equations as planted against the tape, at the current parameters.
   * The update typo is not an equation: it never shows here (it shows in the cost).
   * @throws Error once training diverged (the parameters are not finite).
   */
  check(): EquationsReport {
    // with NaN parameters every equation would "differ" (NaN ≠ NaN): no verdict rather than a wrong one
    if (this.diverged) throw new Error(`no check of the six equations: ${this.diverged}`);
    const { activation, typos } = this.config;
    const result = checkBackprop(this.params, this.X, this.Y, plantedBackward(typos), { activation });
    const equations = {} as Record<EquationName, EquationVerdict>;
    for (const name of EQUATIONS) {
      const e = result.equations[name];
      equations[name] = {
        status: e.ok ? "ok" : "mismatch",
        relativeDifference: e.relativeDifference,
        diagnosis: e.diagnosis,
      };
    }
    return { equations, firstMismatch: result.firstMismatch, summary: result.summary };
  }
}

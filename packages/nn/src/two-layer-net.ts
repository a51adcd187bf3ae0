/**
 * @file TwoLayerNet: the course network as a Module, so it trains with the optimizers and losses of the
 * Module API. It keeps the course's column layout: X is (nX, m), one example per column, and its
 * parameters are W1 (nH, nX), b1 (nH, 1), W2 (nY, nH), b2 (nY, 1).
 */
import { Tensor } from "@tapegrad/autograd";
import {
  type Activation,
  checkActivation,
  checkedForward,
  initializeParameters,
  type Params,
} from "./course.js";
import { Module } from "./module.js";
import { checkParams } from "./validate.js";

/**
 * The course's one-hidden-layer network as a Module: forward(X) = σ(W2·g(W1·X + b1) + b2).
 * Column layout (features × examples), unlike the batch-first layers. `bceLoss(net.forward(X), Y)` is the
 * course's cost J, so `SGD(net.parameters(), { lr: 1.2 })` reproduces nnModel step by step.
 */
export class TwoLayerNet extends Module {
  /** (nH, nX) */
  readonly W1: Tensor;
  /** (nH, 1) */
  readonly b1: Tensor;
  /** (nY, nH) */
  readonly W2: Tensor;
  /** (nY, 1) */
  readonly b2: Tensor;
  /** The hidden activation g. */
  readonly activation: Activation;

  /**
   * Initialised as the course's `initialize_parameters` (W = randn·0.01 from `RandomState(seed)`, b = 0),
   * or from `options.params` (copied).
   * @throws Error if a size is not a positive integer, or given params have other shapes.
   */
  constructor(
    nX: number,
    nH: number,
    nY: number,
    options: { seed?: number; activation?: Activation; params?: Params } = {},
  ) {
    super();
    this.activation = checkActivation("TwoLayerNet", options.activation ?? "tanh");
    const init = initializeParameters(nX, nH, nY, { seed: options.seed ?? 2 });
    if (options.params !== undefined) checkParams("TwoLayerNet", options.params, nX);
    const src = options.params ?? init;
    const leaf = (t: Tensor, like: Tensor, name: string): Tensor => {
      if (t.shape[0] !== like.shape[0] || t.shape[1] !== like.shape[1]) {
        throw new Error(
          `TwoLayerNet: params.${name} has shape [${t.shape.join(", ")}], expected [${like.shape.join(", ")}] for sizes ${nX}-${nH}-${nY}`,
        );
      }
      return new Tensor(t.data.slice(), [...t.shape], true);
    };
    this.W1 = leaf(src.W1, init.W1, "W1");
    this.b1 = leaf(src.b1, init.b1, "b1");
    this.W2 = leaf(src.W2, init.W2, "W2");
    this.b2 = leaf(src.b2, init.b2, "b2");
  }

  /**
   * @param X (nX, m), one example per column. @returns A2 (nY, m), probabilities; recorded on the tape.
   * @throws Error as forwardPropagation.
   */
  forward(X: Tensor): Tensor {
    return checkedForward("TwoLayerNet", X, this.asParams(), { activation: this.activation }).A2;
  }

  /** The parameters as the course's object (the same tensors, not copies). */
  asParams(): Params {
    return { W1: this.W1, b1: this.b1, W2: this.W2, b2: this.b2 };
  }
}

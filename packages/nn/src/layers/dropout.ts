/**
 * @file Dropout (PyTorch's nn.Dropout): inverted dropout in training mode, the identity in eval mode.
 */
import { mul, RandomState, Tensor } from "@tapegrad/autograd";
import { expectNumber, expectTensor } from "@tapegrad/autograd/validate";
import { defaultGenerator, type RngOptions } from "../init.js";
import { Module, pyBool, pyFloat } from "../module.js";

/**
 * Inverted dropout: in training mode each element is zeroed with probability p and the survivors are scaled
 * by 1/(1 − p), so the expected output equals the input and eval mode is the identity (no rescaling there).
 * The mask is a constant of the tape: the gradient is the same mask times the incoming gradient.
 *
 * Random numbers come from `rng`, a `RandomState(seed)` made once for the layer, or (neither given) the
 * package's default generator at each call (`manualSeed` reseeds it).
 * @example
 * const drop = new Dropout(0.2, { seed: 0 });
 * drop.forward(x);        // training: about 20 % zeros, the rest ×1.25
 * drop.eval().forward(x); // x itself
 */
export class Dropout extends Module {
  /** Probability of zeroing an element, in [0, 1]. */
  readonly p: number;
  private readonly rng: RandomState | null;

  /** @throws Error if p is not a number in [0, 1]. */
  constructor(p = 0.5, options: RngOptions = {}) {
    super();
    this.p = expectNumber("Dropout", "p", p, { min: 0, max: 1 });
    this.rng = options.rng ?? (options.seed !== undefined ? new RandomState(options.seed) : null);
  }

  /** @param x any shape. @returns the same shape. @throws Error if x is not a Tensor. */
  forward(x: Tensor): Tensor {
    expectTensor("Dropout", "input", x);
    if (!this.training || this.p === 0) return x;
    const keep = 1 - this.p;
    const scale = 1 / keep;
    const u = (this.rng ?? defaultGenerator()).rand(...x.shape).data;
    const mask = new Float64Array(u.length);
    // P(u < 1 − p) = 1 − p: a survivor; p = 1 zeroes everything (and never forms 0·∞)
    for (let i = 0; i < u.length; i++) mask[i] = u[i]! < keep ? scale : 0;
    return mul(x, new Tensor(mask, x.shape));
  }

  /** `p=0.5, inplace=False` */
  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=${pyBool(false)}`;
  }
}

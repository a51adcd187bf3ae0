/**
 * @file Layers, batch-first like PyTorch: an input is (N, features), one example per row.
 * Linear, Sequential and the activation modules.
 */
import {
  add,
  formatShape,
  greater,
  matmul,
  mul,
  relu,
  sigmoid,
  type Tensor,
  tanh,
  where,
  zeros,
} from "@tapegrad/autograd";
import { describeValue, expectInteger, expectTensor } from "@tapegrad/autograd/validate";
import { type RngOptions, resolveRng, uniform } from "./init.js";
import { Module, pyBool, pyFloat } from "./module.js";

/**
 * y = x·Wᵀ + b (PyTorch's nn.Linear). weight is (outFeatures, inFeatures), bias (outFeatures).
 * Initialised as PyTorch does: weight and bias ~ U(−1/√in, 1/√in), drawn (weight first, row-major) from
 * `rng`, a fresh `RandomState(seed)`, or the package default generator (`manualSeed`).
 */
export class Linear extends Module {
  /** (outFeatures, inFeatures) */
  readonly weight: Tensor;
  /** (outFeatures), or null when constructed with `bias: false`. */
  readonly bias: Tensor | null;
  /** Number of input features. */
  readonly inFeatures: number;
  /** Number of output features. */
  readonly outFeatures: number;

  /** @throws Error if a size is not a positive integer. */
  constructor(inFeatures: number, outFeatures: number, options: RngOptions & { bias?: boolean } = {}) {
    super();
    this.inFeatures = expectInteger("Linear", "inFeatures", inFeatures);
    this.outFeatures = expectInteger("Linear", "outFeatures", outFeatures);
    // kaiming_uniform(a = √5) on the weight reduces to U(−1/√in, 1/√in); PyTorch draws the bias the same way
    const bound = 1 / Math.sqrt(inFeatures);
    const rng = { rng: resolveRng(options) };
    const weight = uniform(zeros([outFeatures, inFeatures], { requiresGrad: true }), -bound, bound, rng);
    this.weight = this.registerParameter("weight", weight);
    this.bias =
      options.bias === false
        ? null
        : this.registerParameter(
            "bias",
            uniform(zeros([outFeatures], { requiresGrad: true }), -bound, bound, rng),
          );
  }

  /**
   * @param x (N, inFeatures) or (inFeatures). @returns (N, outFeatures) or (outFeatures).
   * @throws Error naming the shapes when x's last axis is not inFeatures.
   */
  forward(x: Tensor): Tensor {
    expectTensor("Linear", "input", x);
    if (x.ndim < 1 || x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new Error(
        `Linear: input has shape ${formatShape(x.shape)} but the layer expects ${this.inFeatures} features on the last axis (batch-first: [N, ${this.inFeatures}])`,
      );
    }
    // x·Wᵀ without materialising Wᵀ
    const y = matmul(x, this.weight, { transposeB: true });
    return this.bias === null ? y : add(y, this.bias);
  }

  /** `in_features=2, out_features=3, bias=True` */
  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyBool(this.bias !== null)}`;
  }
}

/** Modules applied in order (PyTorch's nn.Sequential); parameters are named "0.weight", "1.bias", …. */
export class Sequential extends Module {
  /** The layers, in order. */
  readonly layers: Module[];

  /** @throws Error if an argument is not a Module. */
  constructor(...layers: Module[]) {
    super();
    layers.forEach((l, i) => {
      if (!(l instanceof Module))
        throw new Error(`Sequential: argument ${i} must be a Module, got ${describeValue(l)}`);
    });
    this.layers = layers;
  }

  /** Children named by position, as PyTorch. */
  override namedChildren(): [string, Module][] {
    return this.layers.map((l, i) => [String(i), l]);
  }

  /** x through every layer in turn. */
  forward(x: Tensor): Tensor {
    for (const layer of this.layers) x = layer.forward(x);
    return x;
  }
}

/** tanh, elementwise. */
export class Tanh extends Module {
  /** tanh(x) */
  forward(x: Tensor): Tensor {
    expectTensor("Tanh", "input", x);
    return tanh(x);
  }
}

/** max(x, 0), elementwise (gradient 0 at 0). */
export class ReLU extends Module {
  /** relu(x) */
  forward(x: Tensor): Tensor {
    expectTensor("ReLU", "input", x);
    return relu(x);
  }
}

/** The logistic sigmoid 1/(1 + e⁻ˣ), elementwise. */
export class Sigmoid extends Module {
  /** σ(x) */
  forward(x: Tensor): Tensor {
    expectTensor("Sigmoid", "input", x);
    return sigmoid(x);
  }
}

/** x for x > 0, negativeSlope·x otherwise (PyTorch's nn.LeakyReLU; gradient negativeSlope at 0). */
export class LeakyReLU extends Module {
  /** @param negativeSlope the slope for x ≤ 0; default 0.01 as PyTorch. */
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  /** leakyRelu(x) */
  forward(x: Tensor): Tensor {
    expectTensor("LeakyReLU", "input", x);
    return where(greater(x, 0), x, mul(x, this.negativeSlope));
  }
  /** `negative_slope=0.01` */
  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}`;
  }
}

const GELU_C = Math.sqrt(2 / Math.PI);

/**
 * GELU, with the tanh approximation (PyTorch's `nn.GELU(approximate="tanh")`):
 * 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). The library has no erf op, so the exact form x·Φ(x) is not
 * used; the two differ by less than 1e-3 everywhere.
 */
export class GELU extends Module {
  /** gelu(x), tanh approximation */
  forward(x: Tensor): Tensor {
    expectTensor("GELU", "input", x);
    const inner = mul(GELU_C, add(x, mul(0.044715, mul(x, mul(x, x)))));
    return mul(mul(0.5, x), add(1, tanh(inner)));
  }
  /** `approximate='tanh'` */
  override extraRepr(): string {
    return "approximate='tanh'";
  }
}

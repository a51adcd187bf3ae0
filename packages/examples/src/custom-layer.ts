/**
 * @file Writing your own layer: (1) a new activation, swish(x) = x·σ(x), as a custom op with a hand-written
 * backward, verified with `gradcheck` (and a wrong backward shown failing), then used as the hidden
 * activation of the course's flower classifier; (2) a layer composed from autograd ops — layer
 * normalisation — as a `Module`, checked the same way and trained in a batch-first model with Adam.
 *
 * Usage: `tsx src/custom-layer.ts [--quick]`.
 */
import {
  add,
  defineOp,
  div,
  gradcheck,
  greater,
  matmul,
  mean,
  mul,
  noGrad,
  RandomState,
  sigmoid,
  sqrt,
  square,
  sub,
  sum,
  Tensor,
  transpose,
} from "@tapegrad/autograd";
import {
  Adam,
  bceWithLogitsLoss,
  costTensor,
  initializeParameters,
  Linear,
  loadPlanarDataset,
  Module,
  Sequential,
  SGD,
} from "@tapegrad/nn";
import { courseAccuracy } from "./accuracy.js";
import { hasFlag, isMain, type Log } from "./main.js";

// ---------------------------------------------------------------- (1) swish as a custom op

/**
 * swish(x) = x·σ(x) (also called SiLU), elementwise, with its derivative written by hand:
 * d/dx x·σ(x) = σ(x) + x·σ(x)(1 − σ(x)) = σ + out·(1 − σ), reusing the forward output.
 */
export const swish = defineOp({
  name: "swish",
  forward: (x) => mul(x, sigmoid(x)),
  backward: (g, [x], out) => {
    const s = sigmoid(x!);
    return [mul(g, add(s, mul(out, sub(1, s))))];
  },
});

/** The same op with a classic mistake in the backward: only σ(x), the product rule's second term forgotten. */
export const swishWrongBackward = defineOp({
  name: "swish (backward forgets x·σ′(x))",
  forward: (x) => mul(x, sigmoid(x)),
  backward: (g, [x]) => [mul(g, sigmoid(x!))],
});

/** swish as a Module, to put in a `Sequential`. */
export class Swish extends Module {
  forward(x: Tensor): Tensor {
    return swish(x);
  }
}

/**
 * The course's network with swish as the hidden activation, trained by the tape: the course's
 * initialisation (seed 2), the course's cost, plain gradient descent.
 * @param X (2, m). @param Y (1, m). @returns the training accuracy (course formula) and the final cost.
 */
export function trainSwishFlower(
  X: Tensor,
  Y: Tensor,
  options: { nH?: number; numIterations?: number; learningRate?: number } = {},
): { accuracy: number; cost: number } {
  const { nH = 4, numIterations = 5000, learningRate = 1.2 } = options;
  const init = initializeParameters(X.shape[0]!, nH, Y.shape[0]!, { seed: 2 });
  const leaf = (t: Tensor) => new Tensor(t.data.slice(), t.shape, true);
  const W1 = leaf(init.W1);
  const b1 = leaf(init.b1);
  const W2 = leaf(init.W2);
  const b2 = leaf(init.b2);
  const forward = () => sigmoid(add(matmul(W2, swish(add(matmul(W1, X), b1))), b2));
  const optimizer = new SGD([W1, b1, W2, b2], { lr: learningRate });
  let cost = Number.NaN;
  for (let i = 0; i < numIterations; i++) {
    optimizer.zeroGrad();
    const J = costTensor(forward(), Y);
    J.backward();
    cost = J.item();
    optimizer.step();
  }
  const predictions = noGrad(() => greater(forward(), 0.5));
  return { accuracy: courseAccuracy(Y, predictions), cost };
}

// ---------------------------------------------------------------- (2) a layer composed from autograd ops

/**
 * Layer normalisation (Ba et al. 2016), batch-first: each row x of (N, features) becomes
 * γ ⊙ (x − mean(x)) / √(var(x) + ε) + β. Written with autograd ops only, so its backward comes from the
 * tape; γ (features) starts at 1 and β (features) at 0.
 */
export class LayerNorm extends Module {
  readonly gamma: Tensor;
  readonly beta: Tensor;

  constructor(
    readonly features: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.gamma = new Tensor(new Float64Array(features).fill(1), [features], true);
    this.beta = new Tensor(new Float64Array(features), [features], true);
  }

  forward(x: Tensor): Tensor {
    if (x.shape[x.ndim - 1] !== this.features) {
      throw new Error(
        `LayerNorm: input has shape [${x.shape.join(", ")}], expected ${this.features} features on the last axis`,
      );
    }
    return layerNorm(x, this.gamma, this.beta, this.eps);
  }
}

/** The computation of `LayerNorm`, as a function of its input and parameters (what gradcheck varies). */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  const axis = x.ndim - 1;
  const centred = sub(x, mean(x, axis, true));
  const variance = mean(square(centred), axis, true); // biased, as PyTorch's LayerNorm
  return add(mul(div(centred, sqrt(add(variance, eps))), gamma), beta);
}

/**
 * A batch-first flower classifier built from library layers and the two new ones:
 * Linear(2, nH) → LayerNorm → Swish → Linear(nH, 1), trained with Adam on bceWithLogitsLoss.
 * @param X (2, m) and Y (1, m) in the course's layout (transposed here to (m, 2), (m, 1)).
 */
export function trainLayerNormFlower(
  X: Tensor,
  Y: Tensor,
  options: { nH?: number; numIterations?: number } = {},
): { accuracy: number; cost: number; model: Sequential } {
  const { nH = 16, numIterations = 1000 } = options;
  const rng = new RandomState(0);
  const model = new Sequential(
    new Linear(2, nH, { rng }),
    new LayerNorm(nH),
    new Swish(),
    new Linear(nH, 1, { rng }),
  );
  const inputs = transpose(X);
  const targets = transpose(Y);
  const optimizer = new Adam(model.parameters(), { lr: 0.01 });
  let cost = Number.NaN;
  for (let i = 0; i < numIterations; i++) {
    optimizer.zeroGrad();
    const loss = bceWithLogitsLoss(model.forward(inputs), targets);
    loss.backward();
    cost = loss.item();
    optimizer.step();
  }
  const predictions = noGrad(() => transpose(greater(model.forward(inputs), 0)));
  return { accuracy: courseAccuracy(Y, predictions), cost, model };
}

// ---------------------------------------------------------------- the program

/** Options of `run`. */
export interface CustomLayerOptions {
  /** Fewer training steps (for tests). */
  quick?: boolean;
  log?: Log;
}

/** Run the example; returns the gradcheck reports and accuracies. */
export function run(options: CustomLayerOptions = {}) {
  const log = options.log ?? console.log;
  const quick = options.quick ?? false;
  const rng = new RandomState(3);

  log("swish(x) = x·σ(x) as a custom op (defineOp) with a hand-written backward σ + out·(1 − σ):");
  const x = rng.randn(4, 5);
  const swishCheck = gradcheck((t) => sum(swish(t!)), [x], { names: ["x"] });
  log(indent(swishCheck.toString()));
  log("The same op with a wrong backward (σ(x) only — the product rule's x·σ′(x) forgotten):");
  const wrongCheck = gradcheck((t) => sum(swishWrongBackward(t!)), [x], { names: ["x"] });
  log(indent(wrongCheck.toString()));
  log("");

  const { X, Y } = loadPlanarDataset();
  const swishIterations = quick ? 300 : 5000;
  log(
    `The flower classifier with swish as g (n_h = 4, learning rate 1.2, ${swishIterations} iterations, tape):`,
  );
  const swishFlower = trainSwishFlower(X, Y, { numIterations: swishIterations });
  log(
    `  cost ${swishFlower.cost.toFixed(6)}, training accuracy ${swishFlower.accuracy} % (tanh, the course: 90.75 %)`,
  );
  log("");

  log("LayerNorm: a Module composed from autograd ops (mean, sub, square, sqrt, div, mul, add):");
  // random γ and β rather than 1 and 0, so that the check exercises every term
  const layerNormCheck = gradcheck(
    (input, gamma, beta) => layerNorm(input!, gamma!, beta!),
    [rng.randn(3, 5), rng.randn(5), rng.randn(5)],
    {
      names: ["x", "gamma", "beta"],
    },
  );
  log(indent(layerNormCheck.toString()));
  const lnIterations = quick ? 400 : 1000;
  log(
    `Linear(2, 16) → LayerNorm(16) → Swish → Linear(16, 1), Adam (lr 0.01), ${lnIterations} steps, batch-first:`,
  );
  const lnFlower = trainLayerNormFlower(X, Y, { numIterations: lnIterations });
  log(`  loss ${lnFlower.cost.toFixed(6)}, training accuracy ${lnFlower.accuracy} %`);
  return { swishCheck, wrongCheck, swishFlower, layerNormCheck, lnFlower };
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}

if (isMain(import.meta.url)) run({ quick: hasFlag("quick") });

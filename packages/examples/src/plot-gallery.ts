/**
 * @file `@tapegrad/plot`'s four figures on real runs: a 3-class spiral classifier's decision regions, its
 * cost curves for two learning rates on a log scale, heat maps of its confusion matrix and its output
 * layer's weights, and the tape of the course's network coloured by `checkBackprop`'s verdicts on a
 * backward pass with a planted typo (g instead of g′ in dZ1).
 *
 * Usage: `tsx src/plot-gallery.ts [--quick] [--out DIR]`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  add,
  matmul,
  mul,
  noGrad,
  RandomState,
  sigmoid,
  sum,
  Tensor,
  tanh,
  transpose,
} from "@tapegrad/autograd";
import {
  Adam,
  backwardPropagation,
  checkBackprop,
  costTensor,
  crossEntropyLoss,
  initializeParameters,
  Linear,
  loadPlanarDataset,
  type ManualBackward,
  Sequential,
  Tanh,
} from "@tapegrad/nn";
import { decisionRegionsSvg, graphSvg, heatmapSvg, lineChartSvg } from "@tapegrad/plot";
import { hasFlag, isMain, type Log } from "./main.js";

/** Options of `run`. */
export interface GalleryOptions {
  /** Adam steps of each spiral run (default 1500). */
  steps?: number;
  /** Directory for the SVG files (default `out/` where the command was started); null: none. */
  outDir?: string | null;
  log?: Log;
}

/** What the gallery drew: SVG text by file name, and the spiral classifier's training accuracy. */
export interface GalleryResult {
  svgs: Record<string, string>;
  accuracy: number;
}

/** cs231n's spiral: k arms of n points, radius 0…1, angle 4 radians per arm plus noise (σ 0.2). */
export function spiral(n: number, k: number, rng: RandomState): { X: Tensor; y: number[] } {
  const X = new Float64Array(n * k * 2);
  const y: number[] = [];
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < n; i++) {
      const r = i / (n - 1);
      const t = c * 4 + (4 * i) / (n - 1) + 0.2 * rng.randn(1).data[0]!;
      const row = c * n + i;
      X[2 * row] = r * Math.sin(t);
      X[2 * row + 1] = r * Math.cos(t);
      y.push(c);
    }
  }
  return { X: new Tensor(X, [n * k, 2]), y };
}

function trainSpiral(X: Tensor, y: number[], learningRate: number, steps: number) {
  const model = new Sequential(new Linear(2, 64, { seed: 1 }), new Tanh(), new Linear(64, 3, { seed: 2 }));
  const optimizer = new Adam(model.parameters(), { lr: learningRate });
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    optimizer.zeroGrad();
    const loss = crossEntropyLoss(model.forward(X), y);
    losses.push(loss.item());
    loss.backward();
    optimizer.step();
  }
  return { model, losses };
}

/** The class with the largest score in each row of (n, k) logits. */
function argmaxRows(logits: Tensor): number[] {
  const [n, k] = logits.shape as [number, number];
  return Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let c = 1; c < k; c++) if (logits.data[i * k + c]! > logits.data[i * k + best]!) best = c;
    return best;
  });
}

/** The notes' classic typo in equation (4): g(Z1) where g′(Z1) belongs (tanh: A1 instead of 1 − A1²). */
const gInsteadOfGPrime: ManualBackward = (params, cache, X, Y) => {
  const grads = backwardPropagation(params, cache, X, Y);
  const m = X.shape[1]!;
  const dZ1 = mul(matmul(transpose(params.W2), grads.dZ2), cache.A1);
  return { ...grads, dZ1, dW1: mul(1 / m, matmul(dZ1, transpose(X))), db1: mul(1 / m, sum(dZ1, 1, true)) };
};

/** Draw the gallery. @returns the SVG texts and the spiral classifier's accuracy. */
export function run(options: GalleryOptions = {}): GalleryResult {
  const { steps = 1500, log = console.log } = options;
  const { X, y } = spiral(100, 3, new RandomState(0));
  const fast = trainSpiral(X, y, 0.01, steps);
  const slow = trainSpiral(X, y, 0.001, steps);
  const predicted = argmaxRows(noGrad(() => fast.model.forward(X)));
  const accuracy = (100 * predicted.filter((c, i) => c === y[i]).length) / y.length;
  log(
    `3-class spiral, 64 tanh units, Adam (lr 0.01), ${steps} steps: training accuracy ${accuracy.toFixed(2)} %`,
  );
  const confusion = [0, 1, 2].map((t) =>
    [0, 1, 2].map((p) => predicted.filter((c, i) => y[i] === t && c === p).length),
  );

  // the course's network on the tape, and checkBackprop's verdicts on a backward pass with a typo
  const flower = loadPlanarDataset();
  const params = initializeParameters(2, 4, 1, { seed: 2 });
  const leaf = (t: Tensor) => new Tensor(Float64Array.from(t.data), [...t.shape], true);
  const [W1, b1, W2, b2] = [params.W1, params.b1, params.W2, params.b2].map(leaf) as [
    Tensor,
    Tensor,
    Tensor,
    Tensor,
  ];
  const Z1 = add(matmul(W1, flower.X), b1);
  const A1 = tanh(Z1);
  const Z2 = add(matmul(W2, A1), b2);
  const A2 = sigmoid(Z2);
  const J = costTensor(A2, flower.Y);
  const check = checkBackprop(params, flower.X, flower.Y, gInsteadOfGPrime);
  log(`checkBackprop on a backward pass with g instead of g′: ${check.summary}`);

  const layers = [...fast.model.parameters()];
  const svgs: Record<string, string> = {
    "spiral-regions.svg": decisionRegionsSvg({
      points: X,
      labels: y,
      predict: (grid) => fast.model.forward(grid),
      title: `3-class spiral: training accuracy ${accuracy.toFixed(2)} %`,
      classNames: ["arm 0", "arm 1", "arm 2"],
    }),
    "spiral-cost.svg": lineChartSvg({
      series: [
        { name: "Adam, lr 0.01", y: fast.losses },
        { name: "Adam, lr 0.001", y: slow.losses, dash: "6 3" },
      ],
      logY: true,
      title: "Cross-entropy loss on the spiral",
      yLabel: "loss",
      xLabel: "step",
    }),
    "spiral-confusion.svg": heatmapSvg(confusion, {
      title: "Confusion matrix (training set)",
      rowLabels: ["arm 0", "arm 1", "arm 2"],
      colLabels: ["arm 0", "arm 1", "arm 2"],
      yLabel: "true",
      xLabel: "predicted",
    }),
    "spiral-weights.svg": heatmapSvg(layers[2]!, {
      title: "Output layer weights (3 × 64)",
      xLabel: "hidden unit",
      yLabel: "class",
    }),
    "course-tape.svg": graphSvg(J, {
      names: { X: flower.X, Y: flower.Y, W1, b1, W2, b2, Z1, A1, Z2, A2, J },
      verdicts: check.equations,
      direction: "TB",
      title: "The course's network on the tape: checkBackprop with g instead of g′ in dZ1",
    }),
  };
  const outDir =
    options.outDir === undefined ? resolve(process.env.INIT_CWD ?? process.cwd(), "out") : options.outDir;
  if (outDir !== null) {
    mkdirSync(outDir, { recursive: true });
    for (const [name, svg] of Object.entries(svgs)) {
      writeFileSync(join(outDir, name), svg);
      log(`  ${join(outDir, name)}  (${(svg.length / 1024).toFixed(0)} kB)`);
    }
  }
  return { svgs, accuracy };
}

if (isMain(import.meta.url)) {
  const argv = process.argv.slice(2);
  const k = argv.indexOf("--out");
  run({
    ...(hasFlag("quick", argv) ? { steps: 300 } : {}),
    ...(k >= 0 && argv[k + 1] ? { outDir: resolve(argv[k + 1]!) } : {}),
  });
}

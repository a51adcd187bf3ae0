/**
 * @file `pnpm soak`: a long training run that proves memory stays flat. 10 000 full-batch steps of the
 * two-layer network 784-128-1 (m = 256) through the tape (TwoLayerNet, bceLoss, backward, Adam), with the
 * heap sampled after a forced garbage collection every 1000 steps once warmed up. Growth over the run
 * must stay under 5 %: every step builds a new graph, and nothing may keep old graphs alive.
 *
 * Usage: `pnpm soak [--steps 10000] [--every 1000]`.
 */

import { pathToFileURL } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { greater, RandomState, type Tensor } from "@tapegrad/autograd";
import { Adam, bceLoss, TwoLayerNet } from "@tapegrad/nn";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Options of `runSoak`. */
export interface SoakOptions {
  /** Training steps after warm-up (default 10 000). */
  steps?: number;
  /** Heap sampled every this many steps (default 1000). */
  every?: number;
  /** Steps before the first sample (default 1000: V8 keeps optimising code for the first ~2000 steps). */
  warmup?: number;
  /** Sizes (default 784-128-1, m = 256). */
  nX?: number;
  nH?: number;
  m?: number;
  /** Called with each sample as it is taken. */
  onSample?: (sample: SoakSample) => void;
}

/** One heap sample. */
export interface SoakSample {
  step: number;
  /** V8 heap in use after a full GC, bytes. */
  heapUsed: number;
  /** Memory held by ArrayBuffers (tensor data) after a full GC, bytes. */
  arrayBuffers: number;
  loss: number;
}

/** The outcome of a soak run. */
export interface SoakResult {
  steps: number;
  samples: SoakSample[];
  /** (last − first) / first of heapUsed + arrayBuffers, over the samples. */
  growth: number;
  msPerStep: number;
}

function sample(step: number, loss: number): SoakSample {
  gc();
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { step, heapUsed, arrayBuffers, loss };
}

/** Train for `warmup + steps` steps, sampling memory; returns the samples and the growth. */
export function runSoak(options: SoakOptions = {}): SoakResult {
  const { steps = 10_000, every = 1000, warmup = 1000, nX = 784, nH = 128, m = 256 } = options;
  const rng = new RandomState(0);
  const X = rng.randn(nX, m);
  // Labels from a fixed random linear rule, so there is something to learn.
  const w = rng.randn(1, nX);
  const Y: Tensor = greater(w.matmul(X), 0);
  const net = new TwoLayerNet(nX, nH, 1, { seed: 1 });
  const opt = new Adam(net.parameters(), { lr: 1e-3 });
  const train = (): number => {
    opt.zeroGrad();
    const loss = bceLoss(net.forward(X), Y);
    loss.backward();
    opt.step();
    return loss.item();
  };
  let loss = 0;
  for (let i = 0; i < warmup; i++) loss = train();
  const samples: SoakSample[] = [sample(0, loss)];
  options.onSample?.(samples[0]!);
  const t0 = performance.now();
  for (let i = 1; i <= steps; i++) {
    loss = train();
    if (i % every === 0) {
      const s = sample(i, loss);
      samples.push(s);
      options.onSample?.(s);
    }
  }
  const msPerStep = (performance.now() - t0) / steps;
  const total = (s: SoakSample) => s.heapUsed + s.arrayBuffers;
  const first = total(samples[0]!);
  const last = total(samples[samples.length - 1]!);
  return { steps, samples, growth: (last - first) / first, msPerStep };
}

function flag(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const steps = flag("steps") ?? 10_000;
  const every = flag("every") ?? 1000;
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
  console.log(
    `Soak: ${steps} training steps of 784-128-1 (m = 256) through the tape, heap sampled every ${every} steps`,
  );
  const result = runSoak({
    steps,
    every,
    warmup: flag("warmup") ?? 1000,
    onSample: (s) =>
      console.log(
        `  step ${String(s.step).padStart(6)}  heap ${mb(s.heapUsed)}  tensor data ${mb(s.arrayBuffers)}  loss ${s.loss.toFixed(6)}`,
      ),
  });
  const pct = (result.growth * 100).toFixed(2);
  console.log(
    `\n${result.steps} steps, ${result.msPerStep.toFixed(2)} ms/step; memory growth ${pct} % (limit 5 %)`,
  );
  if (!(result.growth < 0.05)) {
    console.error("FAILED: memory grew by 5 % or more");
    process.exit(1);
  }
}

/**
 * @file The benchmark's convolutional step: a LeNet-5-like network on a batch of 64 images of 28×28 —
 * conv 1→6 5×5 padding 2, relu, maxpool 2, conv 6→16 5×5, relu, maxpool 2, flatten, linear 400→120→84→10
 * with relus, softmax cross-entropy, one SGD step. The problem (images, labels, initial weights) is plain
 * float64 arrays in PyTorch's layouts that every implementation copies; tapegrad's runner is written with
 * @tapegrad/nn modules as a user would write it. Then the correctness check, the interleaved timing and the
 * report of the LeNet table.
 */
import { RandomState, Tensor } from "@tapegrad/autograd";
import { Conv2d, crossEntropyLoss, Flatten, Linear, MaxPool2d, ReLU, Sequential, SGD } from "@tapegrad/nn";
import type { Log } from "../main.js";
import type { StepRunner } from "./implementation.js";
import { formatMs, formatRatio, table } from "./report.js";
import { type Measurement, measureInterleaved, type TimingPlan } from "./timing.js";

/** Images per step. */
export const LENET_BATCH = 64;
/** SGD learning rate of the step. */
export const LENET_LR = 0.05;

/** The parameters in PyTorch's state-dict order and layouts (weights (out, in, kH, kW) and (out, in)). */
export const LENET_PARAMS = [
  ["0.weight", [6, 1, 5, 5]],
  ["0.bias", [6]],
  ["3.weight", [16, 6, 5, 5]],
  ["3.bias", [16]],
  ["7.weight", [120, 400]],
  ["7.bias", [120]],
  ["9.weight", [84, 120]],
  ["9.bias", [84]],
  ["11.weight", [10, 84]],
  ["11.bias", [10]],
] as const;

/** Parameter names. */
export type LenetParam = (typeof LENET_PARAMS)[number][0];

/** One batch and the initial parameters, row-major float64, NCHW. */
export interface LenetProblem {
  /** (64, 1, 28, 28), pixels in [0, 1). */
  X: Float64Array;
  /** 64 class indices 0 … 9. */
  labels: Int32Array;
  params: Record<LenetParam, Float64Array>;
}

/**
 * A deterministic batch (`RandomState(11)`) and PyTorch's default initialisation drawn from `RandomState(3)`:
 * every weight and bias U(−1/√fanIn, 1/√fanIn) of its layer.
 */
export function makeLenetProblem(): LenetProblem {
  const data = new RandomState(11);
  const X = data.rand(LENET_BATCH * 28 * 28).data;
  const labels = Int32Array.from(data.randint(0, 10, LENET_BATCH).data);
  const rng = new RandomState(3);
  const params = {} as Record<LenetParam, Float64Array>;
  for (let i = 0; i < LENET_PARAMS.length; i += 2) {
    const [wName, wShape] = LENET_PARAMS[i]!;
    const [bName, bShape] = LENET_PARAMS[i + 1]!;
    const fanIn = wShape.slice(1).reduce((p: number, d: number) => p * d, 1);
    const bound = 1 / Math.sqrt(fanIn);
    params[wName] = rng.uniform(-bound, bound, [...wShape]).data;
    params[bName] = rng.uniform(-bound, bound, [...bShape]).data;
  }
  return { X, labels, params };
}

/** The network as @tapegrad/nn modules (the indices are the state-dict prefixes of LENET_PARAMS). */
export function lenetModel(): Sequential {
  return new Sequential(
    new Conv2d(1, 6, 5, { padding: 2 }),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(6, 16, 5),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    new Linear(400, 120),
    new ReLU(),
    new Linear(120, 84),
    new ReLU(),
    new Linear(84, 10),
  );
}

/** One library (or backend) under test on the LeNet step. */
export interface LenetImplementation {
  id: string;
  label: string;
  dtype: "float64" | "float32";
  tapegrad: boolean;
  createRunner(problem: LenetProblem): StepRunner;
}

/** tapegrad: the modules above, `crossEntropyLoss`, `backward()`, `SGD.step()`. */
export const tapegradLenet: LenetImplementation = {
  id: "tapegrad",
  label: "tapegrad, float64 (nn modules, crossEntropyLoss, backward, SGD)",
  dtype: "float64",
  tapegrad: true,
  createRunner(problem) {
    const net = lenetModel();
    const state: Record<string, Tensor> = {};
    for (const [name, shape] of LENET_PARAMS)
      state[name] = new Tensor(problem.params[name].slice(), [...shape]);
    net.loadStateDict(state);
    const X = new Tensor(problem.X.slice(), [LENET_BATCH, 1, 28, 28]);
    const optimizer = new SGD(net.parameters(), { lr: LENET_LR });
    const loss = (): Tensor => crossEntropyLoss(net.forward(X), problem.labels);
    return {
      step() {
        optimizer.zeroGrad();
        loss().backward();
        optimizer.step();
      },
      cost: () => loss().item(),
      dispose() {},
    };
  },
};

/** Steps of the check, and how close a float32 loss must stay to tapegrad's float64 one after them. */
export const LENET_CHECK_STEPS = 3;
export const LENET_FLOAT32_TOLERANCE = 1e-5;

/** One implementation's check: the loss goes down and follows tapegrad's float64 loss. */
export interface LenetCheck {
  lossBefore: number;
  lossAfter: number;
  /** tapegrad's loss after the same steps. */
  referenceAfter: number;
  relativeToReference: number;
  ok: boolean;
}

/** Run the check of one implementation against tapegrad's loss after LENET_CHECK_STEPS steps. */
export async function lenetCheck(
  impl: LenetImplementation,
  problem: LenetProblem,
  referenceAfter: number,
): Promise<LenetCheck> {
  const runner = impl.createRunner(problem);
  try {
    const lossBefore = await runner.cost();
    for (let i = 0; i < LENET_CHECK_STEPS; i++) await runner.step();
    const lossAfter = await runner.cost();
    const relativeToReference = Math.abs(lossAfter - referenceAfter) / Math.abs(referenceAfter);
    const tolerance = impl.dtype === "float64" ? 1e-12 : LENET_FLOAT32_TOLERANCE;
    return {
      lossBefore,
      lossAfter,
      referenceAfter,
      relativeToReference,
      ok: lossAfter < lossBefore && relativeToReference < tolerance,
    };
  } finally {
    runner.dispose();
  }
}

/** What the LeNet part of a bench run measured. */
export interface LenetResult {
  description: string;
  implementations: { id: string; label: string; dtype: string; tapegrad: boolean; status: string }[];
  checks: Record<string, LenetCheck>;
  /** Median ms per step by id (null: not timed). */
  ms: Record<string, number | null>;
  measurements: Record<string, Measurement>;
  /** peer ms / tapegrad ms: above 1, tapegrad is faster. */
  ratios: { peer: string; ratio: number }[];
}

/** The description of the step, as printed. */
export const LENET_DESCRIPTION =
  "LeNet-5-like training step, batch 64 of 1×28×28: conv 1→6 5×5 pad 2, relu, maxpool 2, conv 6→16 5×5, relu, maxpool 2, linear 400→120→84→10, softmax cross-entropy, SGD";

/**
 * Check every runnable implementation against tapegrad (a failing one is excluded, its status says why),
 * then time the rest interleaved.
 * @param candidates implementations with "ok" or why they cannot run here; tapegrad's must come first.
 */
export async function runLenet(
  candidates: { impl: LenetImplementation; status: string }[],
  plan: TimingPlan,
  say: Log,
  status: (text: string) => void = () => {},
): Promise<LenetResult> {
  say(`LeNet: ${LENET_DESCRIPTION}`);
  const problem = makeLenetProblem();
  const reference = tapegradLenet.createRunner(problem);
  for (let i = 0; i < LENET_CHECK_STEPS; i++) reference.step();
  const referenceAfter = await reference.cost();
  const checks: Record<string, LenetCheck> = {};
  for (const c of candidates) {
    if (c.status !== "ok") continue;
    const check = await lenetCheck(c.impl, problem, referenceAfter).catch((e: unknown) =>
      e instanceof Error ? e.message : String(e),
    );
    if (typeof check === "string") {
      c.status = `excluded: its LeNet check threw: ${check}`;
      say(`check: LeNet ${c.impl.id} ✗ ${check}`);
      continue;
    }
    checks[c.impl.id] = check;
    say(
      `check: LeNet ${c.impl.id} loss ${check.lossBefore.toFixed(6)} → ${check.lossAfter.toFixed(6)} after ${LENET_CHECK_STEPS} steps ` +
        `(tapegrad float64 ${referenceAfter.toFixed(6)}, relative difference ${check.relativeToReference.toExponential(1)}) ${check.ok ? "✓" : "✗"}`,
    );
    if (!check.ok) c.status = "excluded: its LeNet check failed (loss not decreasing, or off tapegrad's)";
  }
  const active = candidates.filter((c) => c.status === "ok");
  const runners = active.map(({ impl }) => ({ impl, runner: impl.createRunner(problem) }));
  let measured: Map<string, Measurement>;
  try {
    status("  LeNet: warming up…");
    measured = await measureInterleaved(
      runners.map(({ impl, runner }) => ({ id: impl.id, run: () => runner.step() })),
      plan,
      {
        onDone: (task, m) =>
          say(
            `  LeNet ${task.id.padEnd(10)} ${formatMs(m.medianMs).padStart(9)} ms/step   median of ${m.samplesMs.length}`,
          ),
        onRound: (round, rounds) => status(`  LeNet: round ${round}/${rounds}`),
      },
    );
  } finally {
    for (const { runner } of runners) runner.dispose();
  }
  const ms: Record<string, number | null> = {};
  for (const c of candidates) ms[c.impl.id] = measured.get(c.impl.id)?.medianMs ?? null;
  const mine = ms[tapegradLenet.id];
  const ratios = candidates
    .filter((c) => !c.impl.tapegrad && ms[c.impl.id] != null && mine != null)
    .map((c) => ({ peer: c.impl.id, ratio: ms[c.impl.id]! / mine! }));
  return {
    description: LENET_DESCRIPTION,
    implementations: candidates.map(({ impl, status }) => ({
      id: impl.id,
      label: impl.label,
      dtype: impl.dtype,
      tapegrad: impl.tapegrad,
      status,
    })),
    checks,
    ms,
    measurements: Object.fromEntries(measured),
    ratios,
  };
}

/** The LeNet table: ms per step and tapegrad against each peer. */
export function formatLenetReport(r: LenetResult): string[] {
  const lines = [
    `LeNet-5-like training step, batch 64, 28×28 (ms per step, median; ratio = peer ms / tapegrad ms)`,
  ];
  lines.push(
    ...table([
      ["implementation", "dtype", "ms/step", "tapegrad is"],
      ...r.implementations.map((i) => {
        const ms = r.ms[i.id];
        const ratio = r.ratios.find((x) => x.peer === i.id)?.ratio;
        return [
          i.id,
          i.dtype,
          ms == null ? "–" : formatMs(ms),
          ratio === undefined ? "" : formatRatio(ratio),
        ];
      }),
    ]),
  );
  for (const i of r.implementations.filter((x) => x.status !== "ok")) lines.push(`  ${i.id}: ${i.status}`);
  return lines;
}

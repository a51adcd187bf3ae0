/**
 * @file `pnpm demo`: the course's planar "flower" classifier end to end — the data set, a logistic-regression
 * baseline, a backprop check, the 4-hidden-unit network trained with the six hand-written equations, the
 * hidden-layer-size sweep, and SVG pictures of the decision boundaries and the cost curve.
 *
 * Usage: `tsx src/demo.ts [--quick] [--out DIR]`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { formatShape, type Tensor } from "@tapegrad/autograd";
import {
  type BackpropCheck,
  checkBackprop,
  EQUATION_TEXT,
  EQUATIONS,
  initializeParameters,
  loadPlanarDataset,
  nnModel,
  type Params,
  predict,
} from "@tapegrad/nn";
import { decisionRegionsPanel, lineChartPanel, PALETTE, renderFigure } from "@tapegrad/plot";
import { courseAccuracy } from "./accuracy.js";
import { runSweep } from "./hidden-size-sweep.js";
import { predictLogistic, trainLogisticRegression } from "./logistic-regression.js";
import { hasFlag, isMain, type Log } from "./main.js";
import { createProgressGroup, type Progress } from "./progress.js";

/** The course's published figures this demo prints beside ours. */
export const COURSE = {
  logisticRegressionAccuracy: 47,
  costs: { 0: 0.693048, 1000: 0.288083, 2000: 0.254385 } as Record<number, number>,
  /** The course prints `Accuracy: %d` of 90.75, i.e. 90. */
  accuracy: 90.75,
  accuracyPrinted: 90,
  sweepAccuracy: { 5: 91.25 } as Record<number, number>,
} as const;

/** Options of `run`; the defaults are the course's full job. */
export interface DemoOptions {
  /** Iterations of the n_h = 4 network (default 10 000). */
  iterations?: number;
  /** Iterations of each network of the sweep (default 5000). */
  sweepIterations?: number;
  /** Hidden sizes of the sweep (default 1, 2, 3, 4, 5, 20, 50). */
  hiddenSizes?: readonly number[];
  /** Gradient steps of the logistic-regression baseline (default 2000). */
  baselineIterations?: number;
  /** Grid step of the decision-boundary pictures (default 0.05; the course uses 0.01). */
  gridStep?: number;
  /** Directory for the SVG files (default `out/` in the directory the command was started from); null: none. */
  outDir?: string | null;
  /** Where lines go (default console.log). */
  log?: Log;
  /** Progress bars (default: when stdout is a TTY). */
  bar?: boolean;
  /**
   * Worker threads for the hidden-layer sweep (default 2: its networks train in parallel with each other and
   * with the main network); 0 trains them one after another on this thread. Workers need the tsx loader.
   */
  workers?: number;
}

/** What the demo computed, for tests and other programs. */
export interface DemoResult {
  X: Tensor;
  Y: Tensor;
  baselineAccuracy: number;
  check: BackpropCheck;
  parameters: Params;
  /** Cost before each iteration of the n_h = 4 network. */
  costs: number[];
  /** Training accuracy of the n_h = 4 network, in percent. */
  accuracy: number;
  sweep: { nH: number; accuracy: number }[];
  /** SVG text by file name (decision-boundary.svg, hidden-layer-sweep.svg, cost.svg). */
  svgs: Record<string, string>;
  /** Absolute paths of the files written. */
  files: string[];
  elapsedMs: number;
}

/** The default full job; `--quick` shortens training for smoke runs (the course's figures need the full job). */
export const QUICK: DemoOptions = { iterations: 3000, sweepIterations: 500, baselineIterations: 500 };

/** Where the pictures go by default: `out/` where the user typed the command (pnpm sets INIT_CWD). */
export function defaultOutDir(): string {
  return resolve(process.env.INIT_CWD ?? process.cwd(), "out");
}

/** Run the demo. @returns everything it computed (see `DemoResult`). */
export async function run(options: DemoOptions = {}): Promise<DemoResult> {
  const start = performance.now();
  const {
    iterations = 10000,
    sweepIterations = 5000,
    hiddenSizes = [1, 2, 3, 4, 5, 20, 50],
    baselineIterations = 2000,
    gridStep = 0.05,
    bar,
    workers = 2,
  } = options;
  const outDir = options.outDir === undefined ? defaultOutDir() : options.outDir;
  const progress = createProgressGroup({
    ...(options.log ? { log: options.log } : {}),
    ...(bar === undefined ? {} : { bar }),
  });
  const log = progress.log;

  // 1. The data
  const { X, Y } = loadPlanarDataset();
  log(`The planar "flower" data set: X ${formatShape(X.shape)}, Y ${formatShape(Y.shape)}`);
  log(`  ${X.shape[1]} examples (one per column), ${X.shape[0]} features, labels 0 (red) and 1 (blue)`);
  log("");

  // 5 (started now, so that it runs beside steps 2–4). The hidden-layer sweep.
  const bars = new Map<number, Progress>();
  const sweepPromise = runSweep(X, Y, hiddenSizes, sweepIterations, {
    workers,
    onStart: (nH) => bars.set(nH, progress.add(`n_h = ${nH}`.padEnd(7), sweepIterations)),
    onProgress: (nH, i, cost) => bars.get(nH)?.update(i, cost),
    onDone: (r) => bars.get(r.nH)?.stop(),
  });
  // keep an early worker failure from being reported as unhandled before it is awaited below
  sweepPromise.catch(() => {});

  // 2. Baseline
  const lrAlpha = 0.1;
  const { model: logistic } = trainLogisticRegression(X, Y, {
    numIterations: baselineIterations,
    learningRate: lrAlpha,
  });
  const baselineAccuracy = courseAccuracy(Y, predictLogistic(logistic, X));
  log(
    `Logistic regression (${baselineIterations} steps of gradient descent, α = ${lrAlpha}, tapegrad): accuracy ${fmtPercent(baselineAccuracy)}`,
  );
  log(
    `  (the course, scikit-learn's LogisticRegressionCV: ${COURSE.logisticRegressionAccuracy} % — the data is not linearly separable)`,
  );
  log("");

  // 3. Backprop check on the initial parameters
  const initial = initializeParameters(X.shape[0]!, 4, Y.shape[0]!, { seed: 2 });
  const check = checkBackprop(initial, X, Y);
  log("Before training: the six hand-written backward equations against the tape (initial parameters):");
  for (const name of EQUATIONS) {
    const eq = check.equations[name];
    log(
      `  ${EQUATION_TEXT[name].padEnd(58)} relative difference ${eq.relativeDifference.toExponential(2)}  ${eq.ok ? "ok" : `WRONG: ${eq.diagnosis}`}`,
    );
  }
  log(`  ${check.summary}`);
  log("");

  // 4. The course's network (after a turn of the event loop: nothing else is held up by steps 2–4)
  await new Promise((resolve) => setTimeout(resolve, 0));
  log(`Training n_h = 4, learning rate 1.2, ${iterations} iterations (the six equations):`);
  const mainBar = progress.add("n_h = 4", iterations);
  const { parameters, costs } = nnModel(X, Y, 4, {
    numIterations: iterations,
    learningRate: 1.2,
    onIteration(i, cost) {
      mainBar.update(i, cost);
      if (i % 1000 === 0) {
        const course = COURSE.costs[i];
        log(
          `Cost after iteration ${i}: ${cost.toFixed(6)}${course === undefined ? "" : `   (course: ${course.toFixed(6)})`}`,
        );
      }
    },
  });
  mainBar.stop();
  const accuracy = courseAccuracy(Y, predict(parameters, X));
  log(
    `Accuracy: ${fmtPercent(accuracy)}${iterations === 10000 ? `   (course: ${COURSE.accuracy} %, printed as "Accuracy: ${COURSE.accuracyPrinted}%" by %d)` : ""}`,
  );
  log("");

  // 5. The hidden-layer sweep
  log(`Hidden layer sizes (${sweepIterations} iterations each, learning rate 1.2):`);
  const sweep = await sweepPromise;
  for (const { nH, accuracy: acc } of sweep) {
    const course = COURSE.sweepAccuracy[nH];
    log(
      `Accuracy for ${nH} hidden units: ${acc} %${course === undefined || sweepIterations !== 5000 ? "" : `   (course: ${course} %)`}`,
    );
  }
  log("");

  // 6. Pictures
  const courseIters = Object.keys(COURSE.costs)
    .map(Number)
    .filter((i) => i < costs.length);
  // the course's plot_decision_boundary: points one per column, labels 0/1 in red and blue, ±1 around the data
  const course = { points: X, labels: Y, layout: "columns", pad: 1, classNames: ["y = 0", "y = 1"] } as const;
  const svgs: Record<string, string> = {
    "decision-boundary.svg": renderFigure(
      [
        decisionRegionsPanel({
          ...course,
          predict: (P) => predict(parameters, P),
          title: `n_h = 4, ${iterations} iterations: training accuracy ${fmtPercent(accuracy)}`,
          h: gridStep,
        }),
      ],
      { title: "Decision boundary for hidden layer size 4", panelWidth: 560, panelHeight: 520 },
    ),
    "hidden-layer-sweep.svg": renderFigure(
      sweep.map((s) =>
        decisionRegionsPanel({
          ...course,
          predict: (P) => predict(s.parameters, P),
          title: `n_h = ${s.nH}: ${fmtPercent(s.accuracy)}`,
          h: gridStep * 2,
          radius: 1.6,
          legend: false,
        }),
      ),
      {
        title: `Decision boundary by hidden layer size (${sweepIterations} iterations each)`,
        columns: 4,
        panelWidth: 300,
        panelHeight: 290,
      },
    ),
    "cost.svg": renderFigure(
      [
        lineChartPanel({
          title: "Cross-entropy cost J, n_h = 4, learning rate 1.2",
          series: [
            { name: "tapegrad", y: costs },
            {
              name: "the course's printed costs",
              x: courseIters,
              y: courseIters.map((i) => COURSE.costs[i]!),
              style: "points",
              color: PALETTE[0]!,
            },
          ],
          x: [0, Math.max(1, costs.length - 1)],
          y: [0, Math.max(0.7, ...costs.filter(Number.isFinite))],
        }),
      ],
      { panelWidth: 640, panelHeight: 400 },
    ),
  };
  const files: string[] = [];
  if (outDir !== null) {
    mkdirSync(outDir, { recursive: true });
    log(`Pictures (SVG, open in a browser):`);
    for (const [name, svg] of Object.entries(svgs)) {
      const path = join(outDir, name);
      writeFileSync(path, svg);
      files.push(path);
      const shown = relative(process.env.INIT_CWD ?? process.cwd(), path);
      log(`  ${shown.startsWith("..") ? path : shown}  (${(svg.length / 1024).toFixed(0)} kB)`);
    }
    log("");
  }

  const elapsedMs = performance.now() - start;
  log(`Elapsed: ${(elapsedMs / 1000).toFixed(2)} s`);
  progress.stop();
  return {
    X,
    Y,
    baselineAccuracy,
    check,
    parameters,
    costs,
    accuracy,
    sweep: sweep.map(({ nH, accuracy }) => ({ nH, accuracy })),
    svgs,
    files,
    elapsedMs,
  };
}

function fmtPercent(p: number): string {
  return `${p.toFixed(2)} %`;
}

/** `--out DIR` from the command line, if given. */
function outArg(argv: readonly string[]): string | undefined {
  const k = argv.indexOf("--out");
  return k >= 0 ? argv[k + 1] : undefined;
}

if (isMain(import.meta.url)) {
  const argv = process.argv.slice(2);
  const out = outArg(argv);
  await run({
    ...(hasFlag("quick", argv) ? QUICK : {}),
    ...(out === undefined ? {} : { outDir: resolve(out) }),
  });
}

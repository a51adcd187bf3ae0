/**
 * @file The course's hidden-layer-size experiment: one network per n_h on the planar data set, each
 * trained from the course's initialisation, with its training accuracy. The networks are independent, so
 * they can train in parallel on worker threads (the 50-unit network alone is a third of the demo's work).
 */
import { Worker } from "node:worker_threads";
import { Tensor } from "@tapegrad/autograd";
import { nnModel, type Params, predict } from "@tapegrad/nn";
import { courseAccuracy } from "./accuracy.js";

/** One trained network of the sweep. */
export interface SweepResult {
  nH: number;
  /** Training accuracy in percent, as the course computes it. */
  accuracy: number;
  parameters: Params;
}

/**
 * Train the course's network with `nH` hidden units (learning rate 1.2, seed 2) and measure its training
 * accuracy. @param X (2, m). @param Y (1, m).
 */
export function trainHiddenSize(
  X: Tensor,
  Y: Tensor,
  nH: number,
  numIterations: number,
  onIteration?: (i: number, cost: number) => void,
): SweepResult {
  const { parameters } = nnModel(X, Y, nH, {
    numIterations,
    learningRate: 1.2,
    ...(onIteration ? { onIteration } : {}),
  });
  return { nH, accuracy: courseAccuracy(Y, predict(parameters, X)), parameters };
}

/** Options of `runSweep`. */
export interface SweepOptions {
  /** Worker threads to train on; 0 trains every size on this thread, in order. */
  workers: number;
  /** Called when a size starts training. */
  onStart?: (nH: number) => void;
  /** Progress of a size's training, about every 1 % of its iterations. */
  onProgress?: (nH: number, i: number, cost: number) => void;
  /** Called when a size is trained. */
  onDone?: (result: SweepResult) => void;
}

/** Messages from a worker (see sweep-worker.ts). */
export type WorkerMessage =
  | { type: "progress"; nH: number; i: number; cost: number }
  | {
      type: "done";
      nH: number;
      accuracy: number;
      parameters: Record<keyof Params, { data: Float64Array; shape: number[] }>;
    };

/**
 * Train one network per hidden size. With workers, sizes are handed out largest first to whichever worker
 * is free (the planar data set is rebuilt in each worker: it is deterministic).
 * @param X (2, m) and Y (1, m): the planar data set (used on this thread only).
 * @returns the results in the order of `sizes`.
 */
export async function runSweep(
  X: Tensor,
  Y: Tensor,
  sizes: readonly number[],
  numIterations: number,
  options: SweepOptions,
): Promise<SweepResult[]> {
  const { onStart, onProgress, onDone } = options;
  const results = new Map<number, SweepResult>();
  const every = Math.max(1, Math.floor(numIterations / 100));
  if (options.workers <= 0) {
    for (const nH of sizes) {
      // let the event loop turn between networks: the caller's work goes first, and a test runner's
      // messages are not held up for the whole sweep
      await new Promise((resolve) => setTimeout(resolve, 0));
      onStart?.(nH);
      const r = trainHiddenSize(X, Y, nH, numIterations, (i, cost) => {
        if ((i + 1) % every === 0) onProgress?.(nH, i, cost);
      });
      results.set(nH, r);
      onDone?.(r);
    }
    return sizes.map((nH) => results.get(nH)!);
  }
  // largest first: the long jobs start early and the short ones fill the gaps at the end
  const queue = [...new Set(sizes)].sort((a, b) => b - a);
  const runWorker = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = startWorker();
      const next = (): void => {
        const nH = queue.shift();
        if (nH === undefined) {
          void worker.terminate().then(() => resolve());
          return;
        }
        onStart?.(nH);
        worker.postMessage({ nH, numIterations, every });
      };
      worker.on("message", (m: WorkerMessage) => {
        if (m.type === "progress") {
          onProgress?.(m.nH, m.i, m.cost);
          return;
        }
        const p = m.parameters;
        const tensorOf = (t: { data: Float64Array; shape: number[] }) => new Tensor(t.data, t.shape);
        const r: SweepResult = {
          nH: m.nH,
          accuracy: m.accuracy,
          parameters: { W1: tensorOf(p.W1), b1: tensorOf(p.b1), W2: tensorOf(p.W2), b2: tensorOf(p.b2) },
        };
        results.set(m.nH, r);
        onDone?.(r);
        next();
      });
      worker.on("error", (e) =>
        reject(
          new Error(
            `hidden-size sweep: a worker failed (workers: 0 trains on this thread instead): ${e.message}`,
          ),
        ),
      );
      next();
    });
  const n = Math.min(options.workers, queue.length);
  await Promise.all(Array.from({ length: n }, runWorker));
  return sizes.map((nH) => results.get(nH)!);
}

/**
 * A worker running sweep-worker.ts. Workers do not inherit tsx's TypeScript loader, so the worker first
 * registers it (tsx's API) and then imports the TypeScript file.
 */
function startWorker(): Worker {
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const entry = new URL("./sweep-worker.ts", import.meta.url).href;
  const code = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true });
}

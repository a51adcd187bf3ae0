/**
 * @file Worker thread of the hidden-size sweep (hidden-size-sweep.ts): receives `{ nH, numIterations,
 * every }`, trains that network on the planar data set, posts progress and then the result.
 */
import { parentPort } from "node:worker_threads";
import { loadPlanarDataset } from "@tapegrad/nn";
import { trainHiddenSize, type WorkerMessage } from "./hidden-size-sweep.js";

const port = parentPort;
if (port === null) throw new Error("sweep-worker: must run as a worker thread (see hidden-size-sweep.ts)");
const { X, Y } = loadPlanarDataset();
port.on("message", (job: { nH: number; numIterations: number; every: number }) => {
  const { nH, numIterations, every } = job;
  const r = trainHiddenSize(X, Y, nH, numIterations, (i, cost) => {
    if ((i + 1) % every === 0) port.postMessage({ type: "progress", nH, i, cost } satisfies WorkerMessage);
  });
  const pack = (t: { data: Float64Array; shape: readonly number[] }) => ({
    data: t.data,
    shape: [...t.shape],
  });
  const p = r.parameters;
  port.postMessage({
    type: "done",
    nH,
    accuracy: r.accuracy,
    parameters: { W1: pack(p.W1), b1: pack(p.b1), W2: pack(p.W2), b2: pack(p.b2) },
  } satisfies WorkerMessage);
});

/** @file The page's worker: tapegrad off the main thread, where its GEMM may start a pool of Web Workers. */
import type { WorkerRequest } from "./protocol.js";
import { runProducts } from "./run-products.js";

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  self.postMessage(await runProducts(event.data.timing));
};

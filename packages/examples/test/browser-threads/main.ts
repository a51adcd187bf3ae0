/**
 * @file tapegrad's threads on a page: the products on the main thread (one thread, no exception, the reason
 * given) and in a dedicated Worker (threads when the page is cross-origin isolated). `?timing` also times the
 * 1024³ product in the worker. Results go to `window.threadsResult`.
 */
import type { ThreadReport, ThreadsResult, WorkerRequest } from "./protocol.js";
import { runProducts } from "./run-products.js";

declare global {
  interface Window {
    threadsResult?: ThreadsResult;
  }
}

function inWorker(request: WorkerRequest): Promise<ThreadReport> {
  const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
  return new Promise((resolve) => {
    worker.onmessage = (event: MessageEvent<ThreadReport>) => resolve(event.data);
    worker.onerror = (event) => resolve({ error: `worker: ${event.message}` } as ThreadReport);
    worker.postMessage(request);
  });
}

const main = await runProducts(false);
const worker = await inWorker({ timing: new URLSearchParams(location.search).has("timing") });
window.threadsResult = { crossOriginIsolated: globalThis.crossOriginIsolated === true, main, worker };
document.getElementById("result")!.textContent = JSON.stringify(window.threadsResult, null, 2);

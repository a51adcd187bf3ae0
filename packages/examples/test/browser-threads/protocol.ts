/** @file What the browser-threads page and its worker report (read by test/browser-threads.test.ts). */
import type { BackendInfo } from "@tapegrad/autograd";

/** One thread's view: its backend, and the products it computed. */
export interface ThreadReport {
  /** backendInfo() at once, before the event loop turned (workers cannot have started yet). */
  early: BackendInfo;
  /** backendInfo() once the workers are up (or once the reason says they cannot start). */
  backend: BackendInfo;
  /** Digest of the bits of the 512³ product with the default thread count, and with setNumThreads(1). */
  product: { defaultThreads: string; oneThread: string; entries: number[] };
  /** Median ms of the 1024³ product on the default thread count and on one thread (reported, not asserted). */
  ms1024?: { defaultThreads: number; oneThread: number; threads: number };
  error?: string;
}

/** What the page puts on `window.threadsResult`. */
export interface ThreadsResult {
  crossOriginIsolated: boolean;
  main: ThreadReport;
  worker: ThreadReport;
}

/** The message the page sends its worker. */
export interface WorkerRequest {
  timing: boolean;
}

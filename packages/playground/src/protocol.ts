/**
 * @file The messages between the page and the training worker (plain data: they are structured-cloned).
 */
import type { EquationsReport, TrainerConfig } from "./trainer.js";

/** What the kernels run on, as `backendInfo()` reports it, and whether the page is cross-origin isolated. */
export interface BackendReport {
  wasm: boolean;
  simd: boolean;
  relaxedSimd: boolean;
  threads: number;
  /** Why a feature is off ("" when all are on). */
  reason: string;
  /** `crossOriginIsolated` in the worker: shared memory (threads) needs COOP/COEP headers. */
  crossOriginIsolated: boolean;
}

/** The six gradients of one backward pass, each as its shape and its doubles. */
export type GradsData = Record<
  "dZ2" | "dW2" | "db2" | "dZ1" | "dW1" | "db1",
  { shape: number[]; data: Float64Array }
>;

/** Examples as doubles: X (2, m) in row-major order (x1 of every example, then x2), Y (1, m). */
export interface ExamplesData {
  X: Float64Array;
  Y: Float64Array;
}

/** Page → worker. */
export type ToWorker =
  | { type: "configure"; change: Partial<TrainerConfig> }
  | { type: "start" }
  | { type: "pause" }
  | { type: "reset" }
  /**
   * Train a fresh network `iterations` steps with `config` (apart from the page's) and send its gradients;
   * on the flower, or on `data` (X (2, m) column by column as X.data, Y (1, m)) when given.
   */
  | { type: "gradients"; id: number; config: TrainerConfig; iterations: number; data?: ExamplesData };

/** One redraw's worth of state. Cost arrays hold only the costs since the previous frame. */
export interface Frame {
  type: "frame";
  running: boolean;
  /** True when training restarted since the previous frame: the page drops the costs it holds. */
  reset: boolean;
  iteration: number;
  /** The cost of the current parameters. */
  cost: number;
  /** Percent of the 400 examples classified right. */
  accuracy: number;
  /** New costs of the run, the first at iteration `costsFrom`. */
  costs: number[];
  costsFrom: number;
  /** New costs of the reference run (same controls, tape gradients, no typo), from `referenceFrom`. */
  referenceCosts: number[];
  referenceFrom: number;
  /** The decision regions with the flower (SVG), when redrawn. */
  regions?: string;
  /** checkBackprop's verdicts, when rechecked; null when the check could not run (see `error`). */
  check?: EquationsReport | null;
  /** The tape's graph coloured by the verdicts (SVG), when redrawn. */
  graph?: string;
  /** Why training stopped or a figure failed, or null. */
  error: string | null;
}

/** Worker → page. */
export type FromWorker =
  | { type: "backend"; backend: BackendReport }
  | Frame
  /** The gradients asked for, and the examples they were computed on. */
  | { type: "gradients"; id: number; equations: GradsData; tape: GradsData; data: ExamplesData }
  | { type: "failed"; id?: number; message: string };

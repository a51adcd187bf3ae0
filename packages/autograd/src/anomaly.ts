/**
 * @file Anomaly mode: find the op that *made* a NaN or Infinity.
 *
 * PyTorch's anomaly mode blames the backward op that first saw a NaN; here every op checks its own
 * forward output (and, in backward, the gradients it produces), so the error names the op that created
 * the bad value, where in the output it is, whether its inputs were already bad, and the user's line
 * that created the op. Off by default and free when off (one boolean test per op).
 */
import { formatShape } from "./shape.js";
import type { TapeNode } from "./tape.js";
import type { Tensor } from "./tensor.js";

let anomalyEnabled = false;
/** > 0 while a gradient rule runs in anomaly mode: its inner ops are not checked one by one. */
let vjpDepth = 0;

/** Whether anomaly mode is on (inside `detectAnomaly`). */
export function isAnomalyEnabled(): boolean {
  return anomalyEnabled;
}

/**
 * Run `fn` with anomaly mode on: every op records the user's source line that created it, and the first
 * op whose forward output or backward gradient contains NaN or ±Infinity throws an `AnomalyError` naming
 * the op, its input shapes, the first bad position, whether the inputs were already bad, and that line.
 * Slower (a stack trace per op): use it to debug, not to train. The previous mode is restored afterwards.
 * @example detectAnomaly(() => { const loss = computeLoss(); loss.backward(); });
 */
export function detectAnomaly<T>(fn: () => T): T {
  const previous = anomalyEnabled;
  anomalyEnabled = true;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    anomalyEnabled = previous;
    throw e;
  }
  // An async fn: keep the mode on until its promise settles.
  if (result instanceof Promise) return result.finally(() => (anomalyEnabled = previous)) as T;
  anomalyEnabled = previous;
  return result;
}

/**
 * Run a node's gradient rule in anomaly mode. The ops inside a vjp are not blamed one by one (a `div`
 * inside sqrt's gradient is not the culprit, sqrt's backward is): `anomalyBackwardCheck` then checks
 * the gradients the rule returned, naming the node's op and the line that created it.
 */
export function anomalyVjp(node: TapeNode, g: Tensor, out: Tensor): (Tensor | null)[] {
  vjpDepth++;
  try {
    return node.rule.vjp(g, node.inputs, out, node.attrs as never);
  } finally {
    vjpDepth--;
  }
}

/** The error anomaly mode throws; `op` and `phase` allow programmatic handling. */
export class AnomalyError extends Error {
  constructor(
    message: string,
    /** The op that produced the non-finite value. */
    readonly op: string,
    /** Whether it appeared in the forward output or in a gradient computed by backward. */
    readonly phase: "forward" | "backward",
    /** Index of the first non-finite element, per axis. */
    readonly position: readonly number[],
  ) {
    super(message);
    this.name = "AnomalyError";
  }
}

function firstNonFinite(t: Tensor): number {
  const d = t.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return i;
  return -1;
}

function unravel(index: number, shape: readonly number[]): number[] {
  const pos = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    pos[i] = index % shape[i]!;
    index = Math.floor(index / shape[i]!);
  }
  return pos;
}

/**
 * The directory of the library's sources (or of dist/ when built); frames inside it are not the user's.
 * Only for a file: URL: in a bundle import.meta.url is the bundle's (http:, blob:, or missing), which holds
 * the user's code too; then no frame is skipped, and loading never throws. The URL goes through a variable
 * so that bundlers do not take `new URL(".", import.meta.url)` for an asset to inline.
 */
const libraryDir = ((): string | null => {
  try {
    const here: unknown = import.meta.url;
    if (typeof here !== "string" || !here.startsWith("file:")) return null;
    return decodeURIComponent(new URL(".", here).pathname);
  } catch {
    return null;
  }
})();

/** The first stack frame outside this library: the user's line that created the op. */
export function userSite(stack: string | null): string {
  if (stack === null) return "unknown location";
  for (const line of stack.split("\n").slice(1)) {
    const frame = line.trim();
    if ((libraryDir !== null && frame.includes(libraryDir)) || frame.includes("node:internal")) continue;
    return frame.replace(/^at /, "");
  }
  return "unknown location";
}

function describeInputs(inputs: readonly Tensor[]): { shapes: string; bad: boolean } {
  return {
    shapes: inputs.map((t) => formatShape(t.shape)).join(", "),
    bad: inputs.some((t) => firstNonFinite(t) >= 0),
  };
}

/** Called by every op after its forward when anomaly mode is on. */
export function anomalyForwardCheck(name: string, inputs: readonly Tensor[], out: Tensor): void {
  if (vjpDepth > 0) return;
  const bad = firstNonFinite(out);
  if (bad < 0) return;
  const { shapes, bad: inputsBad } = describeInputs(inputs);
  const pos = unravel(bad, out.shape);
  throw new AnomalyError(
    `detectAnomaly: forward of ${name} produced ${out.data[bad]} at [${pos.join(", ")}] of its output ${formatShape(out.shape)}` +
      ` (inputs ${shapes}; ${inputsBad ? "an input already contained NaN/Infinity" : "all inputs were finite"})` +
      `\n  created at ${userSite(new Error().stack ?? null)}`,
    name,
    "forward",
    pos,
  );
}

/** Called by backward for every node when anomaly mode is on. */
export function anomalyBackwardCheck(node: TapeNode, g: Tensor, grads: readonly (Tensor | null)[]): void {
  for (let i = 0; i < grads.length; i++) {
    const gi = grads[i];
    if (gi === null || gi === undefined) continue;
    const bad = firstNonFinite(gi);
    if (bad < 0) continue;
    const pos = unravel(bad, gi.shape);
    const { shapes, bad: inputsBad } = describeInputs(node.inputs);
    const gBad = firstNonFinite(g) >= 0;
    throw new AnomalyError(
      `detectAnomaly: backward of ${node.rule.name} produced ${gi.data[bad]} at [${pos.join(", ")}] of the gradient for input ${i} ${formatShape(gi.shape)}` +
        ` (inputs ${shapes}; ${gBad ? "the incoming gradient already contained NaN/Infinity" : "the incoming gradient was finite"}` +
        `${inputsBad ? ", an input contained NaN/Infinity" : ", all inputs were finite"})` +
        `\n  op created at ${userSite(node.site)}`,
      node.rule.name,
      "backward",
      pos,
    );
  }
}

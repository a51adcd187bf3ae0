/**
 * @file The training worker: the network learns here, off the page's thread, in slices of ~25 ms so that
 * pause, reset and new settings are handled between slices; a frame of state goes to the page every
 * ~100 ms, with checkBackprop's verdicts and the tape's graph every ~400 ms (and at once after a change).
 */
import { backendInfo, Tensor } from "@tapegrad/autograd";
import type { Grads } from "@tapegrad/nn";
import { regionsFigure, tapeFigure } from "./figures.js";
import type { Frame, FromWorker, GradsData, ToWorker } from "./protocol.js";
import { DEFAULT_CONFIG, type EquationsReport, Trainer } from "./trainer.js";

const SLICE_MS = 25;
const FRAME_MS = 100;
const CHECK_MS = 400;

const scope = self as unknown as {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};

const trainer = new Trainer(DEFAULT_CONFIG);
// The same controls without typos, trained by the tape: the cost curve the run would have had.
const reference = new Trainer({ ...DEFAULT_CONFIG, gradients: "tape" });
let running = false;
let wasReset = true;
let sentCosts = 0;
let sentReference = 0;
let lastFrame = 0;
let lastCheck = Number.NEGATIVE_INFINITY;
let report: EquationsReport | null = null;
let scheduled = false;

function anyTypo(): boolean {
  const { gPrime, update, dW2 } = trainer.settings.typos;
  return gPrime || update || dW2;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Build and post a frame; `full` forces the verdicts and the tape's graph to be redone now. */
function sendFrame(full: boolean): void {
  const now = performance.now();
  let error: string | null = trainer.diverged;
  const frame: Frame = {
    type: "frame",
    running,
    reset: wasReset,
    iteration: trainer.iteration,
    cost: trainer.cost(),
    accuracy: trainer.accuracy(),
    costs: trainer.costs.slice(sentCosts),
    costsFrom: sentCosts,
    referenceCosts: anyTypo() ? reference.costs.slice(sentReference) : [],
    referenceFrom: sentReference,
    error,
  };
  try {
    frame.regions = regionsFigure(trainer);
  } catch (e) {
    error ??= message(e);
  }
  if (full || now - lastCheck >= CHECK_MS) {
    lastCheck = now;
    try {
      report = trainer.check();
      frame.check = report;
    } catch (e) {
      report = null;
      frame.check = null;
      error ??= message(e);
    }
    try {
      frame.graph = tapeFigure(trainer, report);
    } catch (e) {
      error ??= message(e);
    }
  }
  frame.error = error;
  sentCosts = trainer.costs.length;
  if (anyTypo()) sentReference = reference.costs.length;
  wasReset = false;
  lastFrame = now;
  scope.postMessage(frame);
}

/** Train for one slice, then yield to the message queue. */
function slice(): void {
  scheduled = false;
  if (!running) return;
  const start = performance.now();
  const typo = anyTypo();
  while (performance.now() - start < SLICE_MS && !trainer.diverged) {
    trainer.step();
    // the reference catches up at up to two steps per step of the run
    for (let k = 0; typo && k < 2 && reference.iteration < trainer.iteration && !reference.diverged; k++) {
      reference.step();
    }
  }
  if (trainer.diverged) running = false;
  if (!running || performance.now() - lastFrame >= FRAME_MS) sendFrame(!running);
  schedule();
}

function schedule(): void {
  if (running && !scheduled) {
    scheduled = true;
    setTimeout(slice, 0);
  }
}

function resetBoth(): void {
  trainer.reset();
  reference.reset();
  wasReset = true;
  sentCosts = 0;
  sentReference = 0;
}

function pack(grads: Grads): GradsData {
  const out = {} as GradsData;
  for (const [name, t] of Object.entries(grads) as [keyof Grads, Grads[keyof Grads]][]) {
    out[name] = { shape: [...t.shape], data: Float64Array.from(t.data) };
  }
  return out;
}

scope.onmessage = (event) => {
  const msg = event.data;
  try {
    switch (msg.type) {
      case "configure": {
        const { typos: _, gradients: __, ...network } = msg.change;
        const wasTypo = anyTypo();
        const reset = trainer.configure(msg.change);
        reference.configure(network);
        if (reset) resetBoth();
        // the reference restarts from 0 when a typo appears: it then catches up with the run
        if (!wasTypo && anyTypo()) {
          reference.reset();
          sentReference = 0;
          wasReset = true;
          sentCosts = 0;
        }
        sendFrame(true);
        break;
      }
      case "start":
        running = !trainer.diverged;
        schedule();
        sendFrame(true);
        break;
      case "pause":
        running = false;
        sendFrame(true);
        break;
      case "reset":
        running = false;
        resetBoth();
        sendFrame(true);
        break;
      case "gradients": {
        const m = msg.data ? msg.data.Y.length : 0;
        const fresh = msg.data
          ? new Trainer(msg.config, { X: new Tensor(msg.data.X, [2, m]), Y: new Tensor(msg.data.Y, [1, m]) })
          : new Trainer(msg.config);
        fresh.run(msg.iterations);
        const { equations, tape } = fresh.gradients();
        const data = { X: Float64Array.from(fresh.X.data), Y: Float64Array.from(fresh.Y.data) };
        scope.postMessage({
          type: "gradients",
          id: msg.id,
          equations: pack(equations),
          tape: pack(tape),
          data,
        });
        break;
      }
    }
  } catch (e) {
    const id = msg.type === "gradients" ? msg.id : undefined;
    scope.postMessage({ type: "failed", ...(id === undefined ? {} : { id }), message: message(e) });
  }
};

scope.postMessage({
  type: "backend",
  backend: { ...backendInfo(), crossOriginIsolated: self.crossOriginIsolated },
});
sendFrame(true);

/**
 * @file The page: wires the controls to the training worker and draws what it sends — the stats, the
 * decision regions, the cost curves, the six-equation panel and the tape's graph.
 */
import { EQUATION_TEXT, EQUATIONS, type EquationName } from "@tapegrad/nn";
import { costFigure } from "./figures.js";
import type { Typos } from "./planted.js";
import type { BackendReport, ExamplesData, Frame, FromWorker, GradsData, ToWorker } from "./protocol.js";
import {
  ACTIVATIONS,
  checkConfig,
  DEFAULT_CONFIG,
  type EquationsReport,
  type TrainerConfig,
} from "./trainer.js";

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`playground: the page has no #${id}`);
  return found as T;
}

const ui = {
  start: element<HTMLButtonElement>("start"),
  pause: element<HTMLButtonElement>("pause"),
  reset: element<HTMLButtonElement>("reset"),
  hiddenUnits: element<HTMLInputElement>("hidden-units"),
  activation: element<HTMLSelectElement>("activation"),
  learningRate: element<HTMLInputElement>("learning-rate"),
  typoGPrime: element<HTMLInputElement>("typo-gprime"),
  typoUpdate: element<HTMLInputElement>("typo-update"),
  typoDW2: element<HTMLInputElement>("typo-dw2"),
  error: element<HTMLParagraphElement>("error"),
  iteration: element<HTMLSpanElement>("iteration"),
  cost: element<HTMLSpanElement>("cost"),
  accuracy: element<HTMLSpanElement>("accuracy"),
  regions: element<HTMLElement>("regions"),
  costs: element<HTMLElement>("costs"),
  summary: element<HTMLParagraphElement>("summary"),
  equations: element<HTMLOListElement>("equation-list"),
  update: element<HTMLParagraphElement>("update"),
  graph: element<HTMLDivElement>("graph"),
  backend: element<HTMLParagraphElement>("backend"),
};

const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
const send = (msg: ToWorker) => worker.postMessage(msg);

// ---------------------------------------------------------------- the equation panel

const rows = {} as Record<
  EquationName,
  { li: HTMLLIElement; status: HTMLElement; rel: HTMLElement; why: HTMLElement }
>;
for (const name of EQUATIONS) {
  const li = document.createElement("li");
  li.dataset.testid = `equation-${name}`;
  li.dataset.status = "ok";
  const text = document.createElement("code");
  text.textContent = EQUATION_TEXT[name];
  const status = document.createElement("span");
  status.className = "status";
  const rel = document.createElement("span");
  rel.className = "rel";
  const why = document.createElement("p");
  why.className = "diagnosis";
  li.append(status, text, rel, why);
  ui.equations.append(li);
  rows[name] = { li, status, rel, why };
}

function showReport(report: EquationsReport | null): void {
  for (const name of EQUATIONS) {
    const row = rows[name];
    const v = report?.equations[name];
    row.li.dataset.status = v?.status ?? "ok";
    row.li.classList.toggle("unknown", !v);
    row.status.textContent = !v ? "?" : v.status === "ok" ? "✓ ok" : "✗ mismatch";
    row.rel.textContent = v ? `rel. diff ${formatRel(v.relativeDifference)}` : "";
    row.why.textContent = v?.diagnosis ?? "";
  }
  ui.summary.textContent = !report
    ? "The check could not run (see the message above)."
    : report.firstMismatch === null
      ? report.summary
      : `checkBackprop: ${EQUATION_TEXT[report.firstMismatch]} is the first wrong equation (its diagnosis below).`;
}

function formatRel(x: number): string {
  return x === 0 ? "0" : Number.isFinite(x) ? x.toExponential(2) : String(x);
}

function showUpdate(typos: Typos): void {
  ui.update.classList.toggle("planted", typos.update);
  ui.update.innerHTML = typos.update
    ? "<strong>Update (planted):</strong> <code>θ ← θ − α·θ</code> — the notes' typo. Not one of the six equations, so every line above stays green: it shows in the cost, which stops falling (compare the grey curve)."
    : "<strong>Update:</strong> <code>θ ← θ − α·dθ</code>";
}

// ---------------------------------------------------------------- controls → worker

function typos(): Typos {
  return { gPrime: ui.typoGPrime.checked, update: ui.typoUpdate.checked, dW2: ui.typoDW2.checked };
}

function gradientSource(): TrainerConfig["gradients"] {
  const picked = document.querySelector<HTMLInputElement>('input[name="gradients"]:checked');
  return picked?.value === "tape" ? "tape" : "equations";
}

/** The controls as a configuration, or an Error naming the bad field (shown, not sent). */
function readConfig(): TrainerConfig {
  return checkConfig({
    hiddenUnits: ui.hiddenUnits.valueAsNumber,
    activation: ui.activation.value as TrainerConfig["activation"],
    learningRate: ui.learningRate.valueAsNumber,
    gradients: gradientSource(),
    typos: typos(),
  });
}

function showError(text: string | null): void {
  ui.error.hidden = text === null;
  ui.error.textContent = text ?? "";
}

let inputError: string | null = null;

function configure(): void {
  try {
    const config = readConfig();
    inputError = null;
    showError(null);
    showUpdate(config.typos);
    send({ type: "configure", change: config });
  } catch (e) {
    inputError = e instanceof Error ? e.message.replace(/^TrainerConfig: /, "") : String(e);
    showError(inputError);
  }
}

for (const input of [
  ui.hiddenUnits,
  ui.activation,
  ui.learningRate,
  ui.typoGPrime,
  ui.typoUpdate,
  ui.typoDW2,
]) {
  input.addEventListener("change", configure);
}
for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="gradients"]')) {
  radio.addEventListener("change", configure);
}
ui.start.addEventListener("click", () => send({ type: "start" }));
ui.pause.addEventListener("click", () => send({ type: "pause" }));
ui.reset.addEventListener("click", () => send({ type: "reset" }));

// ---------------------------------------------------------------- worker → page

let costs: number[] = [];
let referenceCosts: number[] = [];

function formatCost(x: number): string {
  return Number.isFinite(x) ? x.toFixed(6) : String(x);
}

/** `values` in place of `list`'s elements from `from` on (no spread: a resend after a reset can be long). */
function replaceFrom(list: number[], from: number, values: readonly number[]): void {
  list.length = Math.min(list.length, from);
  for (const v of values) list.push(v);
}

function showFrame(frame: Frame): void {
  if (frame.reset) {
    costs = [];
    referenceCosts = [];
  }
  replaceFrom(costs, frame.costsFrom, frame.costs);
  if (frame.referenceCosts.length > 0 || frame.referenceFrom === 0) {
    replaceFrom(referenceCosts, frame.referenceFrom, frame.referenceCosts);
  }
  ui.iteration.textContent = String(frame.iteration);
  ui.cost.textContent = formatCost(frame.cost);
  ui.accuracy.textContent = frame.accuracy.toFixed(2);
  ui.start.disabled = frame.running;
  ui.pause.disabled = !frame.running;
  const t = typos();
  const planted = t.gPrime || t.update || t.dW2;
  ui.costs.innerHTML = costFigure(costs, planted ? referenceCosts : null);
  if (frame.regions !== undefined) ui.regions.innerHTML = frame.regions;
  if (frame.check !== undefined) showReport(frame.check);
  if (frame.graph !== undefined) ui.graph.innerHTML = frame.graph;
  showError(inputError ?? frame.error);
}

function showBackend(b: BackendReport): void {
  const features = [
    b.wasm ? "WebAssembly" : "no WebAssembly",
    b.simd ? "SIMD" : "no SIMD",
    b.relaxedSimd ? "relaxed SIMD" : null,
    `${b.threads} thread${b.threads === 1 ? "" : "s"}`,
    b.crossOriginIsolated ? "cross-origin isolated" : "not cross-origin isolated",
  ].filter((f) => f !== null);
  ui.backend.textContent = `backend: ${features.join(", ")}${b.reason ? ` — ${b.reason}` : ""}`;
  ui.backend.dataset.wasm = String(b.wasm);
}

/** What `playground.gradients` resolves to. */
export interface GradientsReply {
  equations: GradsData;
  tape: GradsData;
  data: ExamplesData;
}

const pending = new Map<number, { resolve: (g: GradientsReply) => void; reject: (e: Error) => void }>();
let nextId = 1;

worker.addEventListener("message", (event: MessageEvent<FromWorker>) => {
  const msg = event.data;
  if (msg.type === "frame") showFrame(msg);
  else if (msg.type === "backend") showBackend(msg.backend);
  else if (msg.type === "gradients") {
    pending.get(msg.id)?.resolve(msg);
    pending.delete(msg.id);
  } else if (msg.id !== undefined) {
    pending.get(msg.id)?.reject(new Error(msg.message));
    pending.delete(msg.id);
  } else showError(msg.message);
});
worker.addEventListener("error", (event) => showError(`the training worker failed: ${event.message}`));

/**
 * For tests and the curious (in the console, as `playground`): train a fresh network `iterations` steps in
 * the worker and get both backward passes' gradients at its parameters, doubles exactly as the page
 * computes them; on the flower, or on the examples given (X (2, m) row-major, Y (1, m)).
 */
export interface PlaygroundHooks {
  gradients(
    config: TrainerConfig,
    iterations: number,
    data?: { X: ArrayLike<number>; Y: ArrayLike<number> },
  ): Promise<GradientsReply>;
  /** The activations the page offers and its default settings. */
  activations: readonly string[];
  defaults: TrainerConfig;
}

const hooks: PlaygroundHooks = {
  gradients(config, iterations, data) {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      const examples = data && { X: Float64Array.from(data.X), Y: Float64Array.from(data.Y) };
      send({ type: "gradients", id, config, iterations, ...(examples ? { data: examples } : {}) });
    });
  },
  activations: ACTIVATIONS,
  defaults: DEFAULT_CONFIG,
};
(window as unknown as { playground: PlaygroundHooks }).playground = hooks;

showUpdate(typos());
configure();

/**
 * @file TensorFlow.js (float32) under test, on its cpu backend (plain JavaScript kernels) and its wasm
 * backend (XNNPACK, SIMD; single-threaded in Node). The training step is the same network written with
 * tfjs ops: `tf.variableGrads` of the cost, then θ ← θ − α·dθ with `assign`, all inside `tf.tidy`.
 */
import { createRequire } from "node:module";
import { dirname, sep } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import {
  benchMatrix,
  type Implementation,
  type MatmulImplementation,
  type MatmulVariant,
  type StepRunner,
} from "./implementation.js";
import { LEARNING_RATE, type Problem, paramShapes } from "./problem.js";

/** The two backends benchmarked. */
export type TfBackend = "cpu" | "wasm";

/** What `initTfjs` found. */
export interface TfjsInfo {
  version: string;
  /** Backends that initialised, and why the others did not. */
  backends: Record<TfBackend, { ok: true } | { ok: false; reason: string }>;
  wasmSimd: boolean | null;
  wasmThreads: boolean | null;
}

let info: Promise<TfjsInfo> | null = null;

/**
 * tfjs-core ships its gradient registrations only as ES-module files whose imports have no extensions and
 * point at directories, which Node's ES-module resolver rejects. Under tsx, `require` compiles them; under
 * Vite (vitest) a plain import resolves them. Without this, `variableGrads` finds no gradient for MatMul.
 */
async function registerGradients(): Promise<void> {
  try {
    createRequire(import.meta.url)("@tensorflow/tfjs-core/dist/register_all_gradients.js");
  } catch {
    await import("@tensorflow/tfjs-core/dist/register_all_gradients.js");
  }
}

/**
 * Load the gradients, point the wasm backend at its binaries (a directory path: Node's loader reads the
 * .wasm with fs) and initialise both backends; once per process.
 */
export function initTfjs(): Promise<TfjsInfo> {
  info ??= (async () => {
    await registerGradients();
    // Production mode: no debug checks, and no "install tfjs-node" banner on the first tensor.
    tf.enableProdMode();
    const wasmDist = dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm"));
    setWasmPaths(`${wasmDist}${sep}`);
    const backends = {} as TfjsInfo["backends"];
    // The wasm backend's Emscripten glue adds process-wide uncaughtException/unhandledRejection handlers
    // that rethrow, so that any later error of ours is reported at a line of its minified source (and
    // printed whole); remove what it added.
    // (typed as a plain emitter: Node's typings overload `listeners` per event name, not for a union)
    const emitter: NodeJS.EventEmitter = process;
    const events = ["uncaughtException", "unhandledRejection"];
    const before = events.map((event) => new Set(emitter.listeners(event)));
    for (const name of ["cpu", "wasm"] as const) {
      try {
        backends[name] = (await tf.setBackend(name))
          ? { ok: true }
          : { ok: false, reason: `tf.setBackend("${name}") returned false` };
      } catch (e) {
        backends[name] = { ok: false, reason: e instanceof Error ? e.message : String(e) };
      }
    }
    events.forEach((event, i) => {
      for (const listener of emitter.listeners(event)) {
        if (!before[i]!.has(listener))
          emitter.removeListener(event, listener as (...args: unknown[]) => void);
      }
    });
    const flag = async (name: string): Promise<boolean | null> =>
      backends.wasm.ok ? Boolean(await tf.env().getAsync(name)) : null;
    return {
      version: tf.version_core,
      backends,
      wasmSimd: await flag("WASM_HAS_SIMD_SUPPORT"),
      wasmThreads: await flag("WASM_HAS_MULTITHREAD_SUPPORT"),
    };
  })();
  return info;
}

/**
 * Make `backend` the active one. Switching is synchronous once a backend is initialised (setBackend only
 * awaits a first initialisation), so the timed calls that follow run on it.
 */
function use(backend: TfBackend): void {
  if (tf.getBackend() !== backend) void tf.setBackend(backend);
  if (tf.getBackend() !== backend) throw new Error(`tfjs: could not switch to the ${backend} backend`);
}

type TfParams = Record<"W1" | "b1" | "W2" | "b2", tf.Variable>;

/** J = −(1/m) Σ [Y log A2 + (1 − Y) log(1 − A2)], A2 = σ(W2·tanh(W1·X + b1) + b2). */
function cost(p: TfParams, X: tf.Tensor2D, Y: tf.Tensor2D): tf.Scalar {
  const Z1 = tf.add(tf.matMul(p.W1, X), p.b1);
  const A1 = tf.tanh(Z1);
  const Z2 = tf.add(tf.matMul(p.W2, A1), p.b2);
  const A2 = tf.sigmoid(Z2);
  const logprobs = tf.add(tf.mul(Y, tf.log(A2)), tf.mul(tf.sub(1, Y), tf.log(tf.sub(1, A2))));
  return tf.neg(tf.mean(logprobs));
}

function createRunner(backend: TfBackend, problem: Problem): StepRunner {
  use(backend);
  const { size } = problem;
  const shapes = paramShapes(size);
  const X = tf.tensor2d(Float32Array.from(problem.X), [size.nX, size.m]);
  const Y = tf.tensor2d(Float32Array.from(problem.Y), [size.nY, size.m]);
  // tidy frees the initial-value tensor; the variable keeps its own reference to the data
  const variable = (key: keyof TfParams): tf.Variable =>
    tf.tidy(() => tf.variable(tf.tensor2d(Float32Array.from(problem.params[key]), shapes[key])));
  const p: TfParams = { W1: variable("W1"), b1: variable("b1"), W2: variable("W2"), b2: variable("b2") };
  const list = Object.values(p);
  return {
    step() {
      use(backend);
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => cost(p, X, Y), list);
        // θ ← θ − α·dθ; assign keeps the new value's data, tidy frees every intermediate
        for (const v of list) v.assign(tf.sub(v, tf.mul(grads[v.name]!, LEARNING_RATE)));
      });
    },
    cost() {
      use(backend);
      return tf.tidy(() => cost(p, X, Y).dataSync()[0]!);
    },
    dispose() {
      tf.dispose([X, Y, ...list]);
    },
  };
}

/** The tfjs step on one backend. */
export function tfjsImplementation(backend: TfBackend): Implementation {
  return {
    id: `tfjs-${backend}`,
    label: `TensorFlow.js ${backend} backend, float32 (variableGrads + assign, in tidy)`,
    dtype: "float32",
    tapegrad: false,
    createRunner: (problem) => createRunner(backend, problem),
  };
}

/** `tf.matMul(a, b, transposeA, transposeB)` on one backend. */
export function tfjsMatmul(backend: TfBackend): MatmulImplementation {
  return {
    id: `tfjs-${backend}`,
    dtype: "float32",
    create(n: number, variant: MatmulVariant) {
      use(backend);
      const a = tf.tensor2d(Float32Array.from(benchMatrix(n, 1)), [n, n]);
      const b = tf.tensor2d(Float32Array.from(benchMatrix(n, 2)), [n, n]);
      return {
        run() {
          use(backend);
          tf.matMul(a, b, variant === "TN", variant === "NT").dispose();
        },
        dispose: () => tf.dispose([a, b]),
      };
    },
  };
}

/** The number of tensors tfjs holds (all backends): flat across steps when nothing leaks. */
export function tfjsTensorCount(): number {
  return tf.memory().numTensors;
}

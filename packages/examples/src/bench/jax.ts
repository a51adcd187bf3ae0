/**
 * @file jax-js (float32, wasm device) under test: the training step is one `jit`-compiled function of
 * (params, X, Y) that takes `valueAndGrad` of the cost and returns the updated parameters. jax-js counts
 * references: every function consumes its array arguments, so an array used twice is passed as `.ref` the
 * first time, and what the step returns (the cost, the new parameters) is disposed or kept by the caller.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { blockUntilReady, defaultDevice, init, jit, nn, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import {
  benchMatrix,
  type Implementation,
  type MatmulImplementation,
  type MatmulVariant,
  type StepRunner,
} from "./implementation.js";
import { LEARNING_RATE, type Problem, paramShapes } from "./problem.js";

/** What `initJax` found: the version, and null or why jax-js cannot run here. */
export interface JaxInfo {
  version: string;
  device: "wasm";
  /** jax-js runs its wasm kernels on Web Workers when the platform has them; Node has none. */
  threads: boolean;
  problem: string | null;
}

let info: Promise<JaxInfo> | null = null;

function jaxVersion(): string {
  try {
    // the package's "exports" hide package.json; it sits one level above the entry's dist/
    const entry = createRequire(import.meta.url).resolve("@jax-js/jax");
    return (
      JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8")) as { version: string }
    ).version;
  } catch {
    return "unknown";
  }
}

/**
 * Initialise the wasm device only: `init()` with no argument also probes WebGPU through `navigator`, which
 * Node 20 does not define. Then run a tiny jitted gradient to prove the path works; once per process.
 */
export function initJax(): Promise<JaxInfo> {
  info ??= (async (): Promise<JaxInfo> => {
    const base = {
      version: jaxVersion(),
      device: "wasm" as const,
      threads: typeof (globalThis as { Worker?: unknown }).Worker !== "undefined",
    };
    try {
      const devices = await init("wasm");
      if (!devices.includes("wasm")) return { ...base, problem: `init("wasm") returned [${devices}]` };
      defaultDevice("wasm");
      const f = jit((x: np.Array) => valueAndGrad((y: np.Array) => np.tanh(y).sum())(x));
      const [v, g] = f(np.array([0, 0.5]));
      const got = [...(await v.data()), ...(await g.data())];
      f.dispose();
      const want = [Math.tanh(0.5), 1, 1 - Math.tanh(0.5) ** 2];
      if (got.some((x, i) => Math.abs(x - want[i]!) > 1e-5)) {
        return { ...base, problem: `a test gradient came out [${got}], expected [${want}]` };
      }
      return { ...base, problem: null };
    } catch (e) {
      return { ...base, problem: e instanceof Error ? e.message : String(e) };
    }
  })();
  return info;
}

type JaxParams = { W1: np.Array; b1: np.Array; W2: np.Array; b2: np.Array };

/** J = −mean(Y log A2 + (1 − Y) log(1 − A2)); consumes its arguments (Y and A2 are used twice: `.ref`). */
function cost(p: JaxParams, X: np.Array, Y: np.Array): np.Array {
  const Z1 = np.matmul(p.W1, X).add(p.b1);
  const A1 = np.tanh(Z1);
  const Z2 = np.matmul(p.W2, A1).add(p.b2);
  const A2 = nn.sigmoid(Z2);
  const logprobs = Y.ref.mul(np.log(A2.ref)).add(np.subtract(1, Y).mul(np.log(np.subtract(1, A2))));
  return logprobs.mean().neg();
}

/** One SGD step, to be jitted: returns [J, θ − α·∇J]. */
function trainStep(p: JaxParams, X: np.Array, Y: np.Array): [np.Array, JaxParams] {
  const [J, grads] = valueAndGrad(cost)(tree.ref(p), X, Y);
  return [J, tree.map((w: np.Array, g: np.Array) => w.sub(g.mul(LEARNING_RATE)), p, grads) as JaxParams];
}

function createRunner(problem: Problem): StepRunner {
  const { size } = problem;
  const shapes = paramShapes(size);
  const array = (data: Float64Array, shape: number[]): np.Array =>
    np.array(Float32Array.from(data), { shape, dtype: np.float32 });
  const X = array(problem.X, [size.nX, size.m]);
  const Y = array(problem.Y, [size.nY, size.m]);
  let p: JaxParams = {
    W1: array(problem.params.W1, shapes.W1),
    b1: array(problem.params.b1, shapes.b1),
    W2: array(problem.params.W2, shapes.W2),
    b2: array(problem.params.b2, shapes.b2),
  };
  const step = jit(trainStep);
  const costOnly = jit(cost);
  return {
    async step() {
      const [J, next] = step(p, X.ref, Y.ref);
      p = next;
      // jax-js dispatches lazily: wait until the step's outputs exist before the clock stops
      await blockUntilReady([J, p]);
      J.dispose();
    },
    async cost() {
      // data() consumes J
      return (await costOnly(tree.ref(p), X.ref, Y.ref).data())[0]!;
    },
    dispose() {
      tree.dispose([p, X, Y]);
      step.dispose();
      costOnly.dispose();
    },
  };
}

/** The jax-js step. */
export const jaxImplementation: Implementation = {
  id: "jax-js-wasm",
  label: "jax-js wasm device, float32 (jit of valueAndGrad + update)",
  dtype: "float32",
  tapegrad: false,
  createRunner,
};

/** `np.matmul` with a transposed view of an operand, jitted (the transpose is fused into the kernel). */
export const jaxMatmul: MatmulImplementation = {
  id: "jax-js-wasm",
  dtype: "float32",
  create(n: number, variant: MatmulVariant) {
    const a = np.array(Float32Array.from(benchMatrix(n, 1)), { shape: [n, n], dtype: np.float32 });
    const b = np.array(Float32Array.from(benchMatrix(n, 2)), { shape: [n, n], dtype: np.float32 });
    const product = jit((x: np.Array, y: np.Array) =>
      np.matmul(variant === "TN" ? x.transpose() : x, variant === "NT" ? y.transpose() : y),
    );
    return {
      async run() {
        const c = product(a.ref, b.ref);
        await c.blockUntilReady();
        c.dispose();
      },
      dispose() {
        tree.dispose([a, b]);
        product.dispose();
      },
    };
  },
};

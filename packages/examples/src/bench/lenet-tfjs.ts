/**
 * @file The LeNet step in TensorFlow.js (float32), the same network as tapegrad's: NHWC images, filters
 * (kH, kW, in, out), the NCHW problem transposed once when the runner is made, and the pooled maps
 * transposed back to NCHW before flattening, so that the first linear layer sees the features in
 * tapegrad's (and PyTorch's) order and takes the same weights. `tf.variableGrads` of the loss, then
 * θ ← θ − α·dθ with `assign`, inside `tf.tidy`.
 *
 * The convolution's filter gradient is computed as a Conv2D (a `tf.customGrad`): dW[i, j, c, o] =
 * Σₙₕᵥ x[n, h + i − p, v + j − p, c]·dy[n, h, v, o], a convolution of x seen as (c, H, W, n) images with dy
 * seen as (h, v, n, o) filters. The wasm backend has no Conv2DBackpropFilter kernel at all, and the cpu
 * backend's takes about 13 s for the second layer here (against 0.07 s for this Conv2D), so both backends
 * use this faster form: the comparison is against the best these backends can do.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { StepRunner } from "./implementation.js";
import { LENET_BATCH, LENET_LR, LENET_PARAMS, type LenetImplementation, type LenetProblem } from "./lenet.js";
import type { TfBackend } from "./tfjs.js";

type Pad = [[number, number], [number, number], [number, number], [number, number]];
const padOf = (p: number): Pad => [
  [0, 0],
  [p, p],
  [p, p],
  [0, 0],
];

/** conv2d (stride 1) whose filter gradient is itself a Conv2D. */
function convViaConv2d(x: tf.Tensor4D, w: tf.Tensor4D, p: number): tf.Tensor4D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x4, w4, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([x4, w4]);
    return {
      value: tf.conv2d(x4, w4, 1, padOf(p)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dy4 = dy as tf.Tensor4D;
        const dx = tf.conv2dTranspose(dy4, sw, sx.shape, 1, p === 0 ? "valid" : (padOf(p) as never));
        const xt = tf.transpose(sx, [3, 1, 2, 0]) as tf.Tensor4D;
        const dyt = tf.transpose(dy4, [1, 2, 0, 3]) as tf.Tensor4D;
        const dw = tf.transpose(tf.conv2d(xt, dyt, 1, padOf(p)), [1, 2, 0, 3]);
        return [dx, dw];
      },
    };
  }) as unknown as (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor4D;
  return f(x, w);
}

type Vars = Record<(typeof LENET_PARAMS)[number][0], tf.Variable>;

/** The loss of the network: mean softmax cross-entropy of the logits against one-hot labels. */
function lenetLoss(v: Vars, X: tf.Tensor4D, onehot: tf.Tensor2D, nchwFlatten: boolean): tf.Scalar {
  const block = (x: tf.Tensor4D, w: tf.Variable, b: tf.Variable, p: number): tf.Tensor4D =>
    tf.maxPool(tf.relu(tf.add(convViaConv2d(x, w as tf.Tensor4D, p), b)) as tf.Tensor4D, 2, 2, 0);
  const h = block(block(X, v["0.weight"], v["0.bias"], 2), v["3.weight"], v["3.bias"], 0);
  const flat = tf.reshape(nchwFlatten ? tf.transpose(h, [0, 3, 1, 2]) : h, [LENET_BATCH, 400]) as tf.Tensor2D;
  const dense = (x: tf.Tensor2D, w: tf.Variable, b: tf.Variable): tf.Tensor2D =>
    tf.add(tf.matMul(x, w as tf.Tensor2D), b) as tf.Tensor2D;
  const h1 = tf.relu(dense(flat, v["7.weight"], v["7.bias"]));
  const h2 = tf.relu(dense(h1, v["9.weight"], v["9.bias"]));
  return tf.losses.softmaxCrossEntropy(onehot, dense(h2, v["11.weight"], v["11.bias"])) as tf.Scalar;
}

/** A PyTorch-layout parameter as a tfjs variable: conv weights (O, C, kH, kW) → (kH, kW, C, O), linear (O, I) → (I, O). */
function toVariable(data: Float64Array, shape: readonly number[]): tf.Variable {
  return tf.tidy(() => {
    const t = tf.tensor(Float32Array.from(data), [...shape]);
    const perm = shape.length === 4 ? [2, 3, 1, 0] : shape.length === 2 ? [1, 0] : [0];
    return tf.variable(tf.transpose(t, perm));
  });
}

/**
 * The tfjs LeNet on one backend (initialise it first with `initTfjs`).
 * @param options.nchwFlatten false flattens NHWC maps as they are — a planted bug for the check's test.
 */
export function tfjsLenet(backend: TfBackend, options: { nchwFlatten?: boolean } = {}): LenetImplementation {
  const nchwFlatten = options.nchwFlatten ?? true;
  return {
    id: `tfjs-${backend}`,
    label: `TensorFlow.js ${backend} backend, float32 (variableGrads + assign, in tidy)`,
    dtype: "float32",
    tapegrad: false,
    createRunner(problem: LenetProblem): StepRunner {
      const use = (): void => {
        if (tf.getBackend() !== backend) void tf.setBackend(backend);
        if (tf.getBackend() !== backend) throw new Error(`tfjs: could not switch to the ${backend} backend`);
      };
      use();
      const X = tf.tidy(() =>
        tf.transpose(tf.tensor4d(Float32Array.from(problem.X), [LENET_BATCH, 1, 28, 28]), [0, 2, 3, 1]),
      ) as tf.Tensor4D;
      const onehot = tf.tidy(() => tf.oneHot(tf.tensor1d(problem.labels, "int32"), 10)) as tf.Tensor2D;
      const v = {} as Vars;
      for (const [name, shape] of LENET_PARAMS) v[name] = toVariable(problem.params[name], shape);
      const list = Object.values(v);
      return {
        step() {
          use();
          tf.tidy(() => {
            const { grads } = tf.variableGrads(() => lenetLoss(v, X, onehot, nchwFlatten), list);
            for (const w of list) w.assign(tf.sub(w, tf.mul(grads[w.name]!, LENET_LR)));
          });
        },
        cost() {
          use();
          return tf.tidy(() => lenetLoss(v, X, onehot, nchwFlatten).dataSync()[0]!);
        },
        dispose() {
          tf.dispose([X, onehot, ...list]);
        },
      };
    },
  };
}

/**
 * @file The course's planar "flower" data set (`load_planar_dataset` in planar_utils.py), reproduced from
 * numpy's random stream: two classes of 200 points on the petals of r = 4·sin(4θ).
 */
import { RandomState, Tensor } from "@tapegrad/autograd";

/**
 * numpy's `linspace(start, stop, num)` (endpoint included), with numpy's exact formula:
 * step = (stop − start)/(num − 1), y[i] = i·step + start, and the last element set to `stop` exactly —
 * `start + i·(stop − start)/(num − 1)` rounds differently for about a third of the elements.
 * @returns `num` doubles; `[start]` when num is 1, `[]` when num is 0.
 * @throws Error if `num` is not a non-negative integer.
 */
export function linspace(start: number, stop: number, num: number): Float64Array {
  if (!Number.isInteger(num) || num < 0) {
    throw new Error(`linspace: num must be a non-negative integer, got ${num}`);
  }
  const y = new Float64Array(num);
  if (num === 0) return y;
  if (num === 1) {
    y[0] = start; // numpy: no step (division by num − 1 = 0 is avoided), just start
    return y;
  }
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) y[i] = i * step + start;
  y[num - 1] = stop;
  return y;
}

/** The planar data set: X (2, 400) coordinates, one example per column; Y (1, 400) labels 0/1. */
export interface PlanarDataset {
  X: Tensor;
  Y: Tensor;
}

/**
 * The course's `load_planar_dataset()`: `np.random.seed(1)`; for class j = 0, 1 the 200 examples
 * j·200 … j·200 + 199 get t = linspace(3.12·j, 3.12·(j+1), 200) + 0.2·randn(200),
 * r = 4·sin(4t) + 0.2·randn(200), the point (r·sin t, r·cos t) and the label j; X and Y are then transposed.
 *
 * The 800 gaussian draws equal numpy's bit for bit (`RandomState`). `Math.sin`/`Math.cos` are V8's
 * (fdlibm, under 1 ulp) where numpy on an AVX-512 machine uses a vectorised sin/cos that is off by up to
 * 4 ulp, so elements agree with numpy to about 1e-15 relative rather than exactly.
 * @returns X (2, 400) and Y (1, 400), fresh tensors that do not require grad.
 * @example loadPlanarDataset().X.data[0] // 1.2044422922543192 (numpy: X[0, 0])
 */
export function loadPlanarDataset(): PlanarDataset {
  const rng = new RandomState(1);
  const m = 400;
  const N = m / 2;
  const a = 4; // the flower's largest radius
  const X = new Float64Array(2 * m); // row-major (2, m): row 0 is x1 = r·sin t, row 1 is x2 = r·cos t
  const Y = new Float64Array(m);
  for (let j = 0; j < 2; j++) {
    // numpy draws all of t's noise before all of r's, class by class
    const base = linspace(j * 3.12, (j + 1) * 3.12, N);
    const tNoise = rng.randn(N).data;
    const rNoise = rng.randn(N).data;
    for (let i = 0; i < N; i++) {
      const t = base[i]! + tNoise[i]! * 0.2;
      const r = a * Math.sin(4 * t) + rNoise[i]! * 0.2;
      const col = N * j + i;
      X[col] = r * Math.sin(t);
      X[m + col] = r * Math.cos(t);
      Y[col] = j;
    }
  }
  return { X: new Tensor(X, [2, m]), Y: new Tensor(Y, [1, m]) };
}

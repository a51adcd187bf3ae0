/**
 * @file The benchmark's training problems: the two-layer network (tanh hidden, sigmoid output, binary
 * cross-entropy) at three sizes, in the course's column layout — X (nX, m), Y (1, m), W1 (nH, nX),
 * b1 (nH, 1), W2 (1, nH), b2 (1, 1) — as plain Float64Arrays that every implementation copies from,
 * so that all of them start one run from the same data and the same initial parameters.
 */
import { RandomState } from "@tapegrad/autograd";
import { initializeParameters, loadPlanarDataset } from "@tapegrad/nn";

/** One benchmark size: the layer sizes nX-nH-nY and the batch m (one full-batch step per timing). */
export interface SizeSpec {
  name: string;
  /** What the size stands for, e.g. "the course". */
  note: string;
  nX: number;
  nH: number;
  nY: 1;
  m: number;
}

/** The three sizes: the course's planar job, an MNIST-like layer, and a square 1024 layer. */
export const SIZES: readonly SizeSpec[] = [
  { name: "S", note: "the course's planar data", nX: 2, nH: 4, nY: 1, m: 400 },
  { name: "M", note: "MNIST-like", nX: 784, nH: 128, nY: 1, m: 256 },
  { name: "L", note: "square 1024", nX: 1024, nH: 1024, nY: 1, m: 1024 },
];

/** "2-4-1 m=400". */
export function describeSize(size: SizeSpec): string {
  return `${size.nX}-${size.nH}-${size.nY} m=${size.m}`;
}

/** Row-major float64 arrays of one problem; each implementation converts them to its own tensors. */
export interface Problem {
  size: SizeSpec;
  /** (nX, m) */
  X: Float64Array;
  /** (1, m), labels 0/1 */
  Y: Float64Array;
  /** The course's initialisation (`initializeParameters`, seed 2): W = randn·0.01, b = 0. */
  params: { W1: Float64Array; b1: Float64Array; W2: Float64Array; b2: Float64Array };
}

/** The parameter names in the order every implementation lists them, with their shapes for a size. */
export function paramShapes(size: SizeSpec): Record<keyof Problem["params"], [number, number]> {
  return { W1: [size.nH, size.nX], b1: [size.nH, 1], W2: [size.nY, size.nH], b2: [size.nY, 1] };
}

/**
 * The data of one size. S is the course's planar "flower" data set; the others are gaussian features
 * (numpy's `RandomState(seed).randn`) labelled by a random hyperplane, so that training has something to
 * learn and the cost stays finite in float32.
 */
export function makeProblem(size: SizeSpec): Problem {
  let X: Float64Array;
  let Y: Float64Array;
  if (size.name === "S") {
    const planar = loadPlanarDataset();
    if (planar.X.shape[0] !== size.nX || planar.X.shape[1] !== size.m) {
      throw new Error(`makeProblem: the planar data set is [${planar.X.shape}], size S expects [2, 400]`);
    }
    X = planar.X.data;
    Y = planar.Y.data;
  } else {
    const rng = new RandomState(7);
    X = rng.randn(size.nX, size.m).data;
    const w = rng.randn(size.nX).data;
    Y = new Float64Array(size.m);
    for (let j = 0; j < size.m; j++) {
      let z = 0;
      for (let i = 0; i < size.nX; i++) z += w[i]! * X[i * size.m + j]!;
      Y[j] = z > 0 ? 1 : 0;
    }
  }
  const init = initializeParameters(size.nX, size.nH, size.nY, { seed: 2 });
  return {
    size,
    X,
    Y,
    params: { W1: init.W1.data, b1: init.b1.data, W2: init.W2.data, b2: init.b2.data },
  };
}

/** The course's learning rate α. */
export const LEARNING_RATE = 1.2;

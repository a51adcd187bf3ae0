/**
 * @file The course API against numbers from outside the code: the course's published printouts, numpy
 * (values computed with the course's own numpy code), closed forms.
 */
import { matmul, mul, RandomState, type Tensor, tensor, zeros } from "@tapegrad/autograd";
import {
  type Activation,
  activations,
  autogradBackward,
  backwardPropagation,
  computeCost,
  costTerm,
  forwardPropagation,
  initializeParameters,
  layerSizes,
  nnModel,
  pairwiseSum,
  predict,
  updateParameters,
} from "@tapegrad/nn";
import { describe, expect, test, vi } from "vitest";

/** The course's `load_planar_dataset` (np.random.seed(1), the "flower"), in column layout. */
function planarDataset(): { X: Tensor; Y: Tensor } {
  const rs = new RandomState(1);
  const m = 400;
  const N = m / 2;
  const X = zeros([2, m]);
  const Y = zeros([1, m]);
  for (let j = 0; j < 2; j++) {
    // np.linspace(j*3.12, (j+1)*3.12, N): start + i*step, the last point exactly stop
    const start = j * 3.12;
    const stop = (j + 1) * 3.12;
    const step = (stop - start) / (N - 1);
    const noiseT = rs.randn(N).data;
    const noiseR = rs.randn(N).data;
    for (let i = 0; i < N; i++) {
      const t = (i === N - 1 ? stop : i * step + start) + noiseT[i]! * 0.2;
      const r = 4 * Math.sin(4 * t) + noiseR[i]! * 0.2;
      const k = N * j + i;
      X.data[k] = r * Math.sin(t);
      X.data[m + k] = r * Math.cos(t);
      Y.data[k] = j;
    }
  }
  return { X, Y };
}

describe("initializeParameters", () => {
  test("seed 2 gives the course's printed W1 and W2, and zero biases", () => {
    const p = initializeParameters(2, 4, 1);
    const W1 = [
      [-0.4167578474054706, -0.0562668272263295],
      [-2.136196095668454, 1.640270808404989],
      [-1.793435585194863, -0.841747365656204],
      [0.5028814171580428, -1.245288086607232],
    ];
    expect(p.W1.shape).toEqual([4, 2]);
    // the draws are given to 16 significant digits
    p.W1.data.forEach((v, k) => {
      const want = 0.01 * W1[Math.floor(k / 2)]![k % 2]!;
      expect(Math.abs(v - want)).toBeLessThanOrEqual(1e-15 * Math.abs(want));
    });
    // the course prints W2 = [[-0.01057952 -0.00909008  0.00551454  0.02292208]]
    expect(p.W2.shape).toEqual([1, 4]);
    [-0.01057952, -0.00909008, 0.00551454, 0.02292208].forEach((v, k) => {
      expect(p.W2.data[k]).toBeAllClose(v, { rtol: 0, atol: 5e-9 });
    });
    expect([...p.b1.data, ...p.b2.data]).toEqual([0, 0, 0, 0, 0]);
    expect(p.b1.shape).toEqual([4, 1]);
    expect(p.b2.shape).toEqual([1, 1]);
  });

  test("rejects sizes that are not positive integers", () => {
    expect(() => initializeParameters(0, 4, 1)).toThrow(
      "initializeParameters: nX must be a positive integer, got the number 0",
    );
    expect(() => initializeParameters(2, "4" as unknown as number, 1)).toThrow(
      'initializeParameters: nH must be a positive integer, got the string "4"',
    );
  });
});

describe("layerSizes", () => {
  test("nX and nY from the rows, nH = 4 as in the course", () => {
    expect(layerSizes(zeros([5, 3]), zeros([2, 3]))).toEqual({ nX: 5, nH: 4, nY: 2 });
  });
  test("X and Y with different numbers of columns", () => {
    expect(() => layerSizes(zeros([2, 400]), zeros([1, 300]))).toThrow(
      "layerSizes: X has 400 columns (examples) but Y has 300; expected Y of shape [1, 400]",
    );
  });
});

describe("forwardPropagation", () => {
  test("the course's forward_propagation_test_case: means of Z1, A1, Z2, A2", () => {
    const rs = new RandomState(1);
    const X = rs.randn(2, 3);
    const b1 = rs.randn(4, 1);
    const params = {
      W1: tensor([
        [-0.00416758, -0.00056267],
        [-0.02136196, 0.01640271],
        [-0.01793436, -0.00841747],
        [0.00502881, -0.01245288],
      ]),
      b1,
      W2: tensor([[-0.01057952, -0.00909008, 0.00551454, 0.02292208]]),
      b2: tensor([[-1.3]]),
    };
    const { A2, cache } = forwardPropagation(X, params);
    const meanOf = (t: Tensor) => t.data.reduce((s, v) => s + v, 0) / t.size;
    // published: 0.262818640198 0.091999045227 -1.30766601287 0.212877681719
    expect(meanOf(cache.Z1)).toBeAllClose(0.262818640198, { rtol: 0, atol: 5e-12 });
    expect(meanOf(cache.A1)).toBeAllClose(0.091999045227, { rtol: 0, atol: 5e-12 });
    expect(meanOf(cache.Z2)).toBeAllClose(-1.30766601287, { rtol: 0, atol: 5e-11 });
    expect(meanOf(cache.A2)).toBeAllClose(0.212877681719, { rtol: 0, atol: 5e-12 });
    expect(A2.shape).toEqual([1, 3]);
  });

  test("zero weights: A1 = g(b1), A2 = σ(b2) in every column (closed form), for each activation", () => {
    const params = {
      W1: zeros([2, 3]),
      b1: tensor([[-0.5], [0.7]]),
      W2: zeros([1, 2]),
      b2: tensor([[0.3]]),
    };
    const X = tensor([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12],
    ]);
    const g = {
      tanh: Math.tanh,
      sigmoid: (z: number) => 1 / (1 + Math.exp(-z)),
      relu: (z: number) => Math.max(z, 0),
      leakyRelu: (z: number) => (z > 0 ? z : 0.01 * z),
    };
    for (const activation of ["tanh", "sigmoid", "relu", "leakyRelu"] as const) {
      const { A2, cache } = forwardPropagation(X, params, { activation });
      for (let j = 0; j < 4; j++) {
        expect(cache.A1.data[j]).toBeAllClose(g[activation](-0.5), { rtol: 0, atol: 5e-16 });
        expect(cache.A1.data[4 + j]).toBeAllClose(g[activation](0.7), { rtol: 0, atol: 5e-16 });
        expect(A2.data[j]).toBeAllClose(1 / (1 + Math.exp(-0.3)), { rtol: 0, atol: 5e-16 });
      }
      expect(cache.activation).toBe(activation);
    }
  });

  test("bad input: errors name the function, the shapes and what was expected", () => {
    const p = initializeParameters(3, 4, 1);
    expect(() => forwardPropagation(zeros([2, 5]), p)).toThrow(
      "forwardPropagation: W1 has shape [4, 3] but X has 2 rows (features); expected W1 of shape [nH, 2]",
    );
    const { b2: _, ...missing } = p;
    expect(() => forwardPropagation(zeros([3, 5]), missing as never)).toThrow(
      "forwardPropagation: parameters is missing b2",
    );
    const X = zeros([3, 5]);
    X.data[7] = Number.NaN;
    expect(() => forwardPropagation(X, p)).toThrow("forwardPropagation: X contains NaN at [1, 2]");
    X.data[7] = Number.POSITIVE_INFINITY;
    expect(() => forwardPropagation(X, p)).toThrow("forwardPropagation: X contains Infinity at [1, 2]");
    expect(() => forwardPropagation(zeros([3, 5]), { ...p, b1: zeros([3, 1]) })).toThrow(
      "forwardPropagation: b1 has shape [3, 1], expected [4, 1]",
    );
    expect(() => forwardPropagation(zeros([3, 5]), { ...p, W2: zeros([1, 5]) })).toThrow(
      "forwardPropagation: W2 has shape [1, 5] but W1 has 4 rows (hidden units); expected W2 of shape [nY, 4]",
    );
    expect(() => forwardPropagation(zeros([3, 5]), p, { activation: "softplus" as never })).toThrow(
      'forwardPropagation: activation must be one of "tanh", "sigmoid", "relu", "leakyRelu", got the string "softplus"',
    );
  });
});

describe("computeCost", () => {
  test("A2 = 0.5 everywhere costs log 2 (closed form)", () => {
    expect(computeCost(tensor([[0.5, 0.5, 0.5]]), tensor([[1, 0, 1]]))).toBeAllClose(Math.LN2, {
      rtol: 0,
      atol: 5e-16,
    });
  });

  test("matches numpy's compute_cost on 400 examples (value computed with the course's numpy code)", () => {
    const m = 400;
    const A2 = zeros([1, m]);
    const Y = zeros([1, m]);
    for (let k = 0; k < m; k++) {
      A2.data[k] = (((k * 37) % 997) + 1) / 999;
      Y.data[k] = (k * 13) % 7 < 3 ? 1 : 0;
    }
    // numpy: 0.9852959373904698 (its log may differ from V8's in the last bit, hence 1e-15)
    expect(Math.abs(computeCost(A2, Y) - 0.9852959373904698)).toBeLessThan(1e-15);
  });

  test("the one-logarithm term equals the course's two-logarithm expression bit for bit, NaN included", () => {
    const literal = (a: number, y: number) => Math.log(a) * y + Math.log(1 - a) * (1 - y);
    const rs = new RandomState(3);
    const edges = [
      0,
      -0,
      1,
      -1,
      2,
      0.5,
      1e-300,
      5e-324,
      1 - 2 ** -53,
      2 ** -54,
      Infinity,
      -Infinity,
      Number.NaN,
    ];
    const as = [...edges, ...rs.rand(2000).data, ...rs.rand(200).data.map((u) => 1 - u * 1e-12)];
    for (const y of [0, 1, -0, 0.25]) {
      for (const a of as) {
        const want = literal(a, y);
        const got = costTerm(a, y);
        if (!Object.is(got, want))
          expect.fail(`costTerm(${a}, ${y}) = ${got}, the course's expression gives ${want}`);
      }
    }
  });

  test("Y must be 0/1 and shaped like A2", () => {
    expect(() => computeCost(tensor([[0.5, 0.5]]), tensor([[1, 0.5]]))).toThrow(
      "computeCost: Y must contain only 0 and 1 (binary labels), found 0.5 at [0, 1]",
    );
    expect(() => computeCost(tensor([[0.5, 0.5]]), tensor([[1, 0, 1]]))).toThrow(
      "computeCost: A2 has shape [1, 2] but Y has shape [1, 3]",
    );
  });
});

describe("pairwiseSum", () => {
  // a[k] mixes ±1e10 with small thirds, so the order of additions shows in the result
  const data = (n: number) =>
    Float64Array.from(
      { length: n },
      (_, k) => (((k * 7919) % 1000) - 500) / 3 + (k % 5 === 0 ? 1e10 : 0) - (k % 5 === 1 ? 1e10 : 0),
    );
  // np.sum(a) for each n, printed by numpy 2.4 (the left-to-right sum differs from n = 8 on)
  const numpySums: [number, number][] = [
    [5, 230.0],
    [8, 243.9999974568685],
    [13, -272.66667111714685],
    [100, -316.6666723887125],
    [128, -122.66666984558105],
    [129, -78.66667366027832],
    [200, -300.00000953674316],
    [257, -25.333328247070312],
    [400, 66.66666603088379],
    [1000, -166.66667366027832],
  ];
  test.each(numpySums)("n = %i reproduces np.sum bit for bit", (n, expected) => {
    expect(pairwiseSum(data(n))).toBe(expected);
  });
});

describe("backwardPropagation and autogradBackward", () => {
  test("one example, one hidden unit: the six equations in closed form", () => {
    // x = 2, y = 1, W1 = 0.5, b1 = 0, W2 = -1, b2 = 0.25, tanh
    const X = tensor([[2]]);
    const Y = tensor([[1]]);
    const params = { W1: tensor([[0.5]]), b1: tensor([[0]]), W2: tensor([[-1]]), b2: tensor([[0.25]]) };
    const a1 = Math.tanh(1);
    const a2 = 1 / (1 + Math.exp(-(-a1 + 0.25)));
    const dz2 = a2 - 1;
    const dz1 = -1 * dz2 * (1 - a1 * a1);
    const expected = { dZ2: dz2, dW2: dz2 * a1, db2: dz2, dZ1: dz1, dW1: dz1 * 2, db1: dz1 };
    const { cache } = forwardPropagation(X, params);
    const manual = backwardPropagation(params, cache, X, Y);
    const tape = autogradBackward(params, X, Y);
    for (const [name, v] of Object.entries(expected)) {
      expect(manual[name as keyof typeof expected].item()).toBeAllClose(v, { rtol: 0, atol: 5e-16 });
      expect(tape[name as keyof typeof expected].item()).toBeAllClose(v, { rtol: 0, atol: 5e-15 });
    }
  });

  test("the activation recorded in the cache selects g′; an explicit option overrides it", () => {
    const X = tensor([[1, -2, 3]]);
    const Y = tensor([[1, 0, 1]]);
    const params = initializeParameters(1, 3, 1, { seed: 5 });
    const { cache } = forwardPropagation(X, params, { activation: "sigmoid" });
    const fromCache = backwardPropagation(params, cache, X, Y);
    const tape = autogradBackward(params, X, Y, { activation: "sigmoid" });
    fromCache.dZ1.data.forEach((v, k) => {
      expect(v).toBeAllClose(tape.dZ1.data[k]!, { rtol: 0, atol: 5e-16 });
    });
    const overridden = backwardPropagation(params, cache, X, Y, { activation: "tanh" });
    expect(overridden.dZ1.data[0]).not.toBeAllClose(fromCache.dZ1.data[0]!, { rtol: 0, atol: 5e-7 });
  });

  test.each(["tanh", "sigmoid", "relu", "leakyRelu"] as Activation[])(
    "%s: equation (4)'s fused dA ⊙ g′ equals mul(dA, gPrime) bit for bit",
    (activation) => {
      const rs = new RandomState(11);
      const Z1 = mul(rs.randn(5, 37), 3);
      Z1.data[0] = 0; // the kink of relu and leakyRelu
      const A1 = activations[activation].g(Z1);
      const dA = matmul(rs.randn(5, 1), rs.randn(1, 37));
      const fused = activations[activation].chain(dA, Z1, A1).data;
      const plain = mul(dA, activations[activation].gPrime(Z1, A1)).data;
      fused.forEach((v, k) => {
        if (!Object.is(v, plain[k])) expect.fail(`element ${k}: fused ${v}, unfused ${plain[k]}`);
      });
    },
  );

  test("a cache that does not fit the parameters is rejected", () => {
    const params = initializeParameters(2, 4, 1);
    const X = zeros([2, 3]);
    const { cache } = forwardPropagation(zeros([2, 5]), params);
    expect(() => backwardPropagation(params, cache, X, zeros([1, 3]))).toThrow(
      "backwardPropagation: cache.Z1 has shape [4, 5], expected [4, 3]",
    );
  });
});

describe("updateParameters and predict", () => {
  test("θ − α·dθ, by hand", () => {
    const p = { W1: tensor([[1, 2]]), b1: tensor([[3]]), W2: tensor([[4]]), b2: tensor([[5]]) };
    const g = {
      dW1: tensor([[0.5, -1]]),
      db1: tensor([[1]]),
      dW2: tensor([[2]]),
      db2: tensor([[-2]]),
      dZ1: zeros([1, 1]),
      dZ2: zeros([1, 1]),
    };
    const u = updateParameters(p, g, 2);
    expect([...u.W1.data, ...u.b1.data, ...u.W2.data, ...u.b2.data]).toEqual([0, 4, 1, 0, 9]);
    expect(p.W1.data[0]).toBe(1); // inputs untouched
    expect(() => updateParameters(p, { ...g, dW1: zeros([2, 1]) })).toThrow(
      "updateParameters: grads.dW1 has shape [2, 1] but W1 has shape [1, 2]; expected the same shape",
    );
  });

  test("predict: 1 where A2 > 0.5", () => {
    // b2 alone decides: σ(0) = 0.5 is not > 0.5
    const p = (b: number) => ({ W1: zeros([1, 1]), b1: zeros([1, 1]), W2: zeros([1, 1]), b2: tensor([[b]]) });
    expect([...predict(p(0.1), zeros([1, 2])).data]).toEqual([1, 1]);
    expect([...predict(p(0), zeros([1, 2])).data]).toEqual([0, 0]);
  });
});

describe("nnModel on the course's planar data set", () => {
  const { X, Y } = planarDataset();

  test("the data set matches numpy (X[:, 0] and sum(X[0, :]))", () => {
    expect(X.data[0]).toBeAllClose(1.20444229, { rtol: 0, atol: 5e-9 });
    expect(X.data[400]).toBeAllClose(3.57611415, { rtol: 0, atol: 5e-9 });
    const s = X.data.subarray(0, 400).reduce((a, b) => a + b, 0);
    expect(Math.abs(s - -17.33836367040442)).toBeLessThan(1e-12);
  });

  // The course's printout; 8000 and 9000 differ between numpy builds (REPRODUCTION-NOTES), so not asserted.
  const published = [0.693048, 0.288083, 0.254385, 0.233864, 0.226792, 0.222644, 0.219731, 0.217504];

  test("manual gradients: the published costs at 0, 1000, …, 7000 to 6 decimals, accuracy 90.75 % ± 0.25", () => {
    const { parameters, costs } = nnModel(X, Y, 4, { numIterations: 10000 });
    expect(costs).toHaveLength(10000);
    published.forEach((c, i) => {
      expect(costs[i * 1000]!.toFixed(6)).toBe(c.toFixed(6));
    });
    const predictions = predict(parameters, X);
    let correct = 0;
    for (let k = 0; k < 400; k++) if (predictions.data[k] === Y.data[k]) correct++;
    const accuracy = (correct / 400) * 100;
    expect(Math.abs(accuracy - 90.75)).toBeLessThanOrEqual(0.25);
  });

  test("autograd gradients give the same published costs", () => {
    const { costs } = nnModel(X, Y, 4, { numIterations: 3001, gradients: "autograd" });
    published.slice(0, 4).forEach((c, i) => {
      expect(costs[i * 1000]!.toFixed(6)).toBe(c.toFixed(6));
    });
  });

  test("onIteration sees every cost", () => {
    const seen: [number, number][] = [];
    const { costs } = nnModel(X, Y, 4, { numIterations: 3, onIteration: (i, c) => seen.push([i, c]) });
    expect(seen).toEqual(costs.map((c, i) => [i, c]));
  });

  test("a diverging learning rate stops with the iteration and the op that made the first non-finite value", () => {
    expect(() => nnModel(X, Y, 4, { learningRate: 100, numIterations: 2000 })).toThrow(
      /nnModel: the cost became (NaN|Infinity|-Infinity) at iteration \d+ .*detectAnomaly: forward of log produced -?Infinity/s,
    );
  });

  test('onNonFinite: "warn" warns once and continues', () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const { costs } = nnModel(X, Y, 4, { learningRate: 100, numIterations: 300, onNonFinite: "warn" });
      expect(costs).toHaveLength(300);
      expect(costs.some((c) => !Number.isFinite(c))).toBe(true);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/nnModel: the cost became .* at iteration \d+/);
    } finally {
      warn.mockRestore();
    }
  });

  test("bad options", () => {
    expect(() => nnModel(X, Y, 4, { gradients: "numeric" as never })).toThrow(
      'nnModel: gradients must be one of "manual", "autograd", got the string "numeric"',
    );
    expect(() => nnModel(X, tensor([[1, 0]]), 4)).toThrow(
      "nnModel: X has 400 columns (examples) but Y has 2",
    );
  });
});

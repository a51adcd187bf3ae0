/**
 * @file The Module API (batch-first, PyTorch conventions): modules, layers, losses, initialisers,
 * optimizers and TwoLayerNet, against closed forms, hand-computed steps and the course functions.
 */
import {
  add,
  defineOp,
  greater,
  mul,
  RandomState,
  relativeDifference,
  sigmoid,
  sub,
  type Tensor,
  tensor,
  zeros,
} from "@tapegrad/autograd";
import {
  Adam,
  bceLoss,
  bceWithLogitsLoss,
  crossEntropyLoss,
  GELU,
  heNormal,
  LeakyReLU,
  Linear,
  Module,
  mseLoss,
  nnModel,
  ReLU,
  Sequential,
  SGD,
  Sigmoid,
  Tanh,
  TwoLayerNet,
  xavierUniform,
} from "@tapegrad/nn";
import { describe, expect, test } from "vitest";

const values = (t: Tensor) => [...t.data];

describe("Module", () => {
  class Affine extends Module {
    scale = tensor([2], { requiresGrad: true });
    shift = tensor([0.5], { requiresGrad: true });
    notAParameter = tensor([1]);
    forward(x: Tensor): Tensor {
      return x.mul(this.scale).add(this.shift);
    }
  }
  class Net extends Module {
    first = new Affine();
    rest = new Sequential(new Linear(1, 2, { seed: 0 }), new Tanh());
    forward(x: Tensor): Tensor {
      return this.rest.forward(this.first.forward(x));
    }
  }

  test("parameters are found by walking properties; names are dotted paths", () => {
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      "first.scale",
      "first.shift",
      "rest.0.weight",
      "rest.0.bias",
    ]);
    expect(net.parameters()).toHaveLength(4);
  });

  test("train()/eval() set the flag on every sub-module; zeroGrad clears gradients", () => {
    const net = new Net();
    net.eval();
    expect([net.training, net.first.training, net.rest.layers[1]!.training]).toEqual([false, false, false]);
    net.train();
    expect(net.rest.layers[0]!.training).toBe(true);
    net
      .forward(tensor([[1], [2]]))
      .sum()
      .backward();
    expect(net.parameters().every((p) => p.grad !== null)).toBe(true);
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
  });

  test("stateDict returns copies; loadStateDict copies in place and checks keys and shapes", () => {
    const net = new Net();
    const state = net.stateDict();
    state["first.scale"]!.data[0] = 7;
    expect(net.first.scale.data[0]).toBe(2);
    const scale = net.first.scale;
    net.loadStateDict(state);
    expect(net.first.scale).toBe(scale); // same tensor, new value
    expect(scale.data[0]).toBe(7);
    expect(() => net.loadStateDict({ ...state, "first.scale": zeros([2]) })).toThrow(
      "loadStateDict: first.scale has shape [2] in the state dict but the parameter has shape [1]",
    );
    const { "rest.0.bias": _, ...missing } = state;
    expect(() => net.loadStateDict(missing)).toThrow("loadStateDict: missing keys rest.0.bias");
    expect(() => net.loadStateDict({ ...state, extra: zeros([1]) })).toThrow("unexpected keys extra");
    net.loadStateDict(missing, false); // non-strict: what is there is loaded
  });
});

describe("layers", () => {
  test("Linear: y = x·Wᵀ + b, batch-first (by hand)", () => {
    const layer = new Linear(2, 3, { seed: 1 });
    layer.weight.data.set([1, 2, 3, 4, 5, 6]);
    layer.bias!.data.set([0.5, -0.5, 1]);
    const y = layer.forward(
      tensor([
        [1, 1],
        [2, -1],
      ]),
    );
    expect(y.shape).toEqual([2, 3]);
    expect(values(y)).toEqual([3.5, 6.5, 12, 0.5, 1.5, 5]);
    expect(() => layer.forward(zeros([4, 3]))).toThrow(
      "Linear: input has shape [4, 3] but the layer expects 2 features on the last axis (batch-first: [N, 2])",
    );
  });

  test("Linear: PyTorch's init U(−1/√in, 1/√in), reproducible with a seed; bias optional", () => {
    const layer = new Linear(16, 300, { seed: 3 });
    const bound = 1 / 4;
    expect(layer.weight.shape).toEqual([300, 16]);
    expect(layer.weight.data.every((w) => Math.abs(w) <= bound)).toBe(true);
    expect(Math.max(...layer.weight.data)).toBeGreaterThan(0.99 * bound);
    // the variance of U(−a, a) is a²/3
    const variance = layer.weight.data.reduce((s, w) => s + w * w, 0) / layer.weight.size;
    expect(variance).toBeAllClose(bound ** 2 / 3, { rtol: 0, atol: 5e-4 });
    expect(values(new Linear(16, 300, { seed: 3 }).weight)).toEqual(values(layer.weight));
    expect(new Linear(2, 2, { bias: false }).parameters()).toHaveLength(1);
  });

  test("activations (closed forms)", () => {
    const x = tensor([-2, -0.5, 0, 1.5]);
    expect(values(new Tanh().forward(x))).toEqual([-2, -0.5, 0, 1.5].map(Math.tanh));
    expect(values(new ReLU().forward(x))).toEqual([0, 0, 0, 1.5]);
    new Sigmoid().forward(x).data.forEach((v, i) => {
      expect(v).toBeAllClose(1 / (1 + Math.exp(-x.data[i]!)), { rtol: 0, atol: 5e-16 });
    });
    expect(values(new LeakyReLU().forward(x))).toEqual([-0.02, -0.005, 0, 1.5]);
    expect(values(new LeakyReLU(0.2).forward(x))).toEqual([-0.4, -0.1, 0, 1.5]);
    // PyTorch: F.gelu(torch.tensor([1., -1.]), approximate="tanh") = [0.841192, -0.158808]
    const g = new GELU().forward(tensor([1, -1, 0]));
    expect(g.data[0]).toBeAllClose(0.841192, { rtol: 0, atol: 5e-7 });
    expect(g.data[1]).toBeAllClose(-0.158808, { rtol: 0, atol: 5e-7 });
    expect(g.data[2]).toBe(0);
  });
});

describe("losses", () => {
  test("bceLoss: closed form; log clamped at −100 like PyTorch", () => {
    const p = tensor([0.9, 0.2]);
    const y = tensor([1, 0]);
    expect(bceLoss(p, y).item()).toBeAllClose(-(Math.log(0.9) + Math.log(0.8)) / 2, { rtol: 0, atol: 5e-16 });
    expect(bceLoss(tensor([0]), tensor([1])).item()).toBe(100);
    expect(() => bceLoss(p, tensor([1, 0, 1]))).toThrow(
      "bceLoss: probs has shape [2] but targets has shape [3]; expected the same shape",
    );
  });

  test("bceWithLogitsLoss: log 2 at 0, exact for ±1000, gradient (σ(x) − y)/N everywhere, 0 included", () => {
    expect(bceWithLogitsLoss(tensor([0]), tensor([1])).item()).toBeAllClose(Math.LN2, {
      rtol: 0,
      atol: 5e-16,
    });
    expect(bceWithLogitsLoss(tensor([1000, -1000, 1000]), tensor([0, 1, 1])).item()).toBeAllClose(2000 / 3, {
      rtol: 0,
      atol: 5e-11,
    });
    const x = tensor([-3, 0, 0, 2.5, 40], { requiresGrad: true });
    const y = tensor([1, 1, 0, 0, 1]);
    bceWithLogitsLoss(x, y).backward();
    x.grad!.data.forEach((g, i) => {
      const s = 1 / (1 + Math.exp(-x.data[i]!));
      expect(g).toBeAllClose((s - y.data[i]!) / 5, { rtol: 0, atol: 5e-16 });
    });
  });

  test("mseLoss: closed form and gradient 2(p − t)/N", () => {
    const p = tensor([1, 2, 4], { requiresGrad: true });
    const loss = mseLoss(p, tensor([0, 2, 1]));
    expect(loss.item()).toBeAllClose(10 / 3, { rtol: 0, atol: 5e-16 });
    loss.backward();
    expect(values(p.grad!)).toEqual([2 / 3, 0, 2]);
  });

  test("crossEntropyLoss: −log softmax at the target, stable for large logits, gradient (softmax − onehot)/N", () => {
    const logits = tensor([[1, 2, 3]], { requiresGrad: true });
    const loss = crossEntropyLoss(logits, [2]);
    expect(loss.item()).toBeAllClose(Math.log(1 + Math.exp(-1) + Math.exp(-2)), { rtol: 0, atol: 5e-16 });
    loss.backward();
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    expect(logits.grad!.data[0]).toBeAllClose(Math.exp(1) / z, { rtol: 0, atol: 5e-16 });
    expect(logits.grad!.data[2]).toBeAllClose(Math.exp(3) / z - 1, { rtol: 0, atol: 5e-16 });
    expect(
      crossEntropyLoss(
        tensor([
          [1000, 0],
          [0, 1000],
        ]),
        [0, 0],
      ).item(),
    ).toBeAllClose(500, { rtol: 0, atol: 5e-11 });
    expect(() => crossEntropyLoss(tensor([[1, 2]]), [2])).toThrow(
      "crossEntropyLoss: target 0 is 2, expected a class index in [0, 2)",
    );
  });
});

describe("initialisers", () => {
  test("xavierUniform: U(−a, a), a = gain·√(6/(fanIn + fanOut)); seedable", () => {
    const w = xavierUniform(zeros([200, 100]), { seed: 4 });
    const a = Math.sqrt(6 / 300);
    expect(w.data.every((v) => Math.abs(v) <= a)).toBe(true);
    const variance = w.data.reduce((s, v) => s + v * v, 0) / w.size;
    expect(variance).toBeAllClose(a ** 2 / 3, { rtol: 0, atol: 5e-4 });
    expect(values(xavierUniform(zeros([200, 100]), { seed: 4 }))).toEqual(values(w));
  });

  test("heNormal: N(0, 2/fanIn)", () => {
    const w = heNormal(zeros([300, 200]), { rng: new RandomState(5) });
    const variance = w.data.reduce((s, v) => s + v * v, 0) / w.size;
    expect(Math.abs(variance - 2 / 200) / (2 / 200)).toBeLessThan(0.02);
    expect(() => heNormal(zeros([3]))).toThrow(
      "heNormal: fan_in and fan_out need a tensor with at least 2 axes",
    );
  });
});

describe("optimizers (hand-computed steps)", () => {
  const withGrad = (w: number[], g: number[]) => {
    const p = tensor(w, { requiresGrad: true });
    p.grad = tensor(g);
    return p;
  };

  test("SGD: θ − lr·g, in place", () => {
    const p = withGrad([1, 2], [0.5, -1]);
    const data = p.data;
    new SGD([p], { lr: 0.1 }).step();
    expect(p.data).toBe(data);
    expect(values(p)).toEqual([1 - 0.1 * 0.5, 2 + 0.1]);
  });

  test("SGD with momentum and weight decay (PyTorch: the buffer starts at the first gradient)", () => {
    const p = withGrad([1], [0.5]);
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    opt.step();
    const g1 = 0.5 + 0.01 * 1;
    const w1 = 1 - 0.1 * g1;
    expect(p.data[0]).toBeAllClose(w1, { rtol: 0, atol: 5e-16 });
    opt.step(); // same gradient again
    const g2 = 0.5 + 0.01 * w1;
    expect(p.data[0]).toBeAllClose(w1 - 0.1 * (0.9 * g1 + g2), { rtol: 0, atol: 5e-16 });
  });

  test("Adam: the first two steps by the paper's formulas; zeroGrad; params without grad are skipped", () => {
    const p = withGrad([1, -2], [0.3, -4]);
    const idle = tensor([5], { requiresGrad: true });
    const opt = new Adam([p, idle], { lr: 0.01 });
    opt.step();
    // step 1: m̂ = g, v̂ = g², so θ ← θ − lr·g/(|g| + ε)
    const w1 = [1 - (0.01 * 0.3) / (0.3 + 1e-8), -2 + (0.01 * 4) / (4 + 1e-8)];
    expect(p.data[0]).toBeAllClose(w1[0]!, { rtol: 0, atol: 5e-16 });
    expect(p.data[1]).toBeAllClose(w1[1]!, { rtol: 0, atol: 5e-16 });
    expect(idle.data[0]).toBe(5);
    p.grad = tensor([-0.1, 1]);
    opt.step();
    [
      [0.3, -0.1],
      [-4, 1],
    ].forEach(([g1, g2], i) => {
      const m = 0.9 * (0.1 * g1!) + 0.1 * g2!;
      const v = 0.999 * (0.001 * g1! * g1!) + 0.001 * g2! * g2!;
      const mHat = m / (1 - 0.9 ** 2);
      const vHat = v / (1 - 0.999 ** 2);
      expect(p.data[i]).toBeAllClose(w1[i]! - (0.01 * mHat) / (Math.sqrt(vHat) + 1e-8), {
        rtol: 0,
        atol: 5e-15,
      });
    });
    opt.zeroGrad();
    expect(p.grad).toBeNull();
  });

  test("bad options name the optimizer", () => {
    expect(() => new SGD([tensor([1], { requiresGrad: true })], { lr: -1 })).toThrow("SGD: lr must be");
    expect(() => new Adam([tensor([1])])).toThrow("Adam: parameter 0 does not require grad");
  });
});

describe("TwoLayerNet", () => {
  const rs = new RandomState(7);
  const X = rs.randn(2, 60);
  const Y = greater(mul(X.take([0], 0), X.take([1], 0)), 0);

  test("course shapes and names; SGD(lr 1.2) on bceLoss reproduces nnModel's costs", () => {
    const net = new TwoLayerNet(2, 4, 1);
    expect(net.namedParameters().map(([n, p]) => `${n}${JSON.stringify(p.shape)}`)).toEqual([
      "W1[4,2]",
      "b1[4,1]",
      "W2[1,4]",
      "b2[1,1]",
    ]);
    const { costs } = nnModel(X, Y, 4, { numIterations: 50 });
    const opt = new SGD(net.parameters(), { lr: 1.2 });
    for (let i = 0; i < 50; i++) {
      opt.zeroGrad();
      const loss = bceLoss(net.forward(X), Y);
      expect(loss.item()).toBeAllClose(costs[i]!, { rtol: 0, atol: 5e-13 });
      loss.backward();
      opt.step();
    }
  });
});

describe("user-defined layers train in the same loop", () => {
  /** Swish with a learnable β: x·σ(βx), written with autograd ops only. */
  class Swish extends Module {
    beta = tensor([1], { requiresGrad: true });
    forward(x: Tensor): Tensor {
      return x.mul(sigmoid(x.mul(this.beta)));
    }
  }

  /** XOR-like labels on 2-D points, batch-first (N, 2) and (N, 1). */
  function xorData() {
    const rs = new RandomState(11);
    const x = rs.uniform(-1, 1, [200, 2]);
    const y = zeros([200, 1]);
    for (let n = 0; n < 200; n++) y.data[n] = x.data[2 * n]! * x.data[2 * n + 1]! > 0 ? 1 : 0;
    return { x, y };
  }

  function train(model: Module, steps: number): number[] {
    const { x, y } = xorData();
    const opt = new Adam(model.parameters(), { lr: 0.05 });
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) {
      opt.zeroGrad();
      const loss = bceWithLogitsLoss(model.forward(x), y);
      losses.push(loss.item());
      loss.backward();
      opt.step();
    }
    return losses;
  }

  test("a Module subclass with its own parameter learns XOR next to Linear layers", () => {
    const swish = new Swish();
    const model = new Sequential(new Linear(2, 8, { seed: 1 }), swish, new Linear(8, 1, { seed: 2 }));
    expect(model.namedParameters().map(([n]) => n)).toContain("1.beta");
    const losses = train(model, 300);
    expect(losses[299]!).toBeLessThan(0.25 * losses[0]!);
    expect(swish.beta.data[0]).not.toBe(1); // its parameter was trained too
  });

  /** swish(x) = x·σ(x) as a defineOp with a hand-written backward, wrapped in a Module. */
  const swishOp = defineOp({
    name: "swish",
    forward: (x) => mul(x, sigmoid(x)),
    // d/dx x·σ(x) = σ(x) + x·σ(x)(1 − σ(x)) = σ + out·(1 − σ)
    backward: (g, [x], out) => {
      const s = sigmoid(x!);
      return [mul(g, add(s, mul(out, sub(1, s))))];
    },
  });
  class SwishOp extends Module {
    forward(x: Tensor): Tensor {
      return swishOp(x);
    }
  }

  test("a defineOp layer gives the same gradients as the same function in ops, and trains", () => {
    const { x, y } = xorData();
    const withOp = new Sequential(
      new Linear(2, 8, { seed: 1 }),
      new SwishOp(),
      new Linear(8, 1, { seed: 2 }),
    );
    const withOps = new Sequential(new Linear(2, 8, { seed: 1 }), new Swish(), new Linear(8, 1, { seed: 2 }));
    bceWithLogitsLoss(withOp.forward(x), y).backward();
    bceWithLogitsLoss(withOps.forward(x), y).backward();
    // Swish's β stays 1, so both compute x·σ(x); compare the Linear layers' gradients
    const opsParams = withOps.namedParameters().filter(([name]) => name !== "1.beta");
    withOp.namedParameters().forEach(([name, p], i) => {
      expect(opsParams[i]![0]).toBe(name);
      expect(relativeDifference(p.grad!, opsParams[i]![1].grad!)).toBeLessThan(1e-12);
    });
    const losses = train(withOp, 300);
    expect(losses[299]!).toBeLessThan(0.25 * losses[0]!);
  });
});

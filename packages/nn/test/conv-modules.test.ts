/**
 * @file Conv2d, MaxPool2d and AvgPool2d against PyTorch float64 (test/fixtures/conv-module-fixtures.json,
 * written by make-conv-module-fixtures.py): repr, forward and every gradient to 1e-12 relative, for single
 * layers and for a Conv2d → BatchNorm2d → ReLU → MaxPool2d → Flatten → Linear network with PyTorch's
 * weights copied in. Planted bugs show the comparisons bite; then initialisation, unbatched input and the
 * messages for bad input.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  conv2d,
  mul,
  type NestedNumbers,
  RandomState,
  sum,
  type Tensor,
  tensor,
  zeros,
} from "@tapegrad/autograd";
import {
  AvgPool2d,
  BatchNorm2d,
  Conv2d,
  type Conv2dLayerOptions,
  crossEntropyLoss,
  Flatten,
  Linear,
  MaxPool2d,
  type Module,
  type Pool2dLayerOptions,
  ReLU,
  Sequential,
} from "@tapegrad/nn";
import { describe, expect, test } from "vitest";

type Nested = NestedNumbers;
type Size = number | [number, number];
interface LayerCase {
  options: { args: [number, number, Size] | [Size]; kind?: "max" | "avg" } & Record<string, unknown>;
  repr: string;
  x: Nested;
  y: Nested;
  G: Nested;
  dx: Nested;
  weight?: Nested;
  dweight?: Nested;
  bias?: Nested;
  dbias?: Nested;
}

const fixtures = JSON.parse(
  readFileSync(join(import.meta.dirname, "fixtures", "conv-module-fixtures.json"), "utf8"),
);
const rtol = 1e-12;

/** toBeAllClose at rtol, its failure message prefixed with what was compared (so a test can say which). */
function close(what: string, actual: Tensor | null, expected: Nested): void {
  try {
    expect(actual).toBeAllClose(tensor(expected), { rtol });
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
}

function makeConv(c: LayerCase): Conv2d {
  const { args, ...options } = c.options;
  const [inC, outC, k] = args as [number, number, Size];
  const conv = new Conv2d(inC, outC, k, options as Conv2dLayerOptions);
  conv.weight.data.set(tensor(c.weight!).data);
  if (c.bias !== undefined) conv.bias!.data.set(tensor(c.bias).data);
  return conv;
}

function makePool(c: LayerCase): MaxPool2d | AvgPool2d {
  const { args, kind, ...options } = c.options;
  const Pool = kind === "max" ? MaxPool2d : AvgPool2d;
  return new Pool(args[0] as Size, options as Pool2dLayerOptions);
}

/** y, dx and the parameter gradients of Σ y·G, against the fixture (throws on the first mismatch). */
function expectLikePyTorch(layer: Module & { weight?: Tensor; bias?: Tensor | null }, c: LayerCase): void {
  const x = tensor(c.x, { requiresGrad: true });
  const y = layer.forward(x);
  sum(mul(y, tensor(c.G))).backward();
  close("y", y, c.y);
  close("dx", x.grad, c.dx);
  if (c.dweight !== undefined) close("dweight", layer.weight!.grad, c.dweight);
  if (c.dbias !== undefined) close("dbias", layer.bias!.grad, c.dbias);
  if (c.dbias === undefined && c.weight !== undefined) expect(layer.bias).toBeNull();
}

describe("Conv2d equals PyTorch's nn.Conv2d", () => {
  for (const [name, c] of Object.entries(fixtures.conv as Record<string, LayerCase>)) {
    test(`${name}: ${c.repr}`, () => {
      const conv = makeConv(c);
      expect(String(conv)).toBe(c.repr);
      expectLikePyTorch(conv, c);
    });
  }
});

describe("MaxPool2d and AvgPool2d equal PyTorch's", () => {
  for (const [name, c] of Object.entries(fixtures.pool as Record<string, LayerCase>)) {
    test(`${name}: ${c.repr}`, () => {
      const pool = makePool(c);
      expect(String(pool)).toBe(c.repr);
      expect(pool.parameters()).toEqual([]);
      expectLikePyTorch(pool, c);
    });
  }
});

function makeNetwork(): Sequential {
  return new Sequential(
    new Conv2d(2, 4, 3, { padding: 1 }),
    new BatchNorm2d(4),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    new Linear(64, 3),
  );
}

/** The network's loss and every gradient with PyTorch's state loaded; throws on the first mismatch. */
function checkNetwork(net: Sequential): void {
  const n = fixtures.network;
  net.loadStateDict(Object.fromEntries(Object.entries(n.state).map(([k, v]) => [k, tensor(v as Nested)])));
  const x = tensor(n.x, { requiresGrad: true });
  const logits = net.forward(x);
  const loss = crossEntropyLoss(logits, n.labels as number[]);
  loss.backward();
  close("logits", logits, n.logits);
  close("loss", loss, n.loss);
  close("dx", x.grad, n.dx);
  const grads = n.grads as Record<string, Nested>;
  const params = net.namedParameters();
  expect(params.map(([k]) => k)).toEqual(Object.keys(grads));
  for (const [name, p] of params) close(`d${name}`, p.grad, grads[name]!);
  const bn = net.layers[1] as BatchNorm2d;
  close("running_mean", bn.running_mean, n.running_mean);
  close("running_var", bn.running_var, n.running_var);
}

describe("a Conv2d → BatchNorm2d → ReLU → MaxPool2d → Flatten → Linear network equals PyTorch's", () => {
  test("repr, state dict keys, logits, loss, input and parameter gradients, running statistics", () => {
    const net = makeNetwork();
    expect(String(net)).toBe(fixtures.network.repr);
    expect(Object.keys(net.stateDict())).toEqual(Object.keys(fixtures.network.state));
    checkNetwork(net);
  });
});

describe("planted bugs are caught", () => {
  /** A Conv2d computing a true convolution (the kernel flipped in both spatial axes), a classic mix-up. */
  class FlippedConv2d extends Conv2d {
    override forward(x: Tensor): Tensor {
      const [O, C, kH, kW] = this.weight.shape as [number, number, number, number];
      const w = this.weight.data;
      const flipped = new Float64Array(w.length);
      for (let oc = 0; oc < O * C; oc++) {
        for (let i = 0; i < kH; i++) {
          for (let j = 0; j < kW; j++) {
            flipped[(oc * kH + i) * kW + j] = w[(oc * kH + (kH - 1 - i)) * kW + (kW - 1 - j)]!;
          }
        }
      }
      const opts = {
        stride: this.stride,
        padding: this.padding,
        dilation: this.dilation,
        groups: this.groups,
      };
      return conv2d(x, tensor(flipped, { shape: this.weight.shape }), this.bias, opts);
    }
  }

  test("a flipped kernel fails the single-layer comparison", () => {
    const c = fixtures.conv.padding as LayerCase;
    const good = makeConv(c);
    const bad = new FlippedConv2d(1, 3, 5, { padding: 2 });
    bad.weight.data.set(good.weight.data);
    bad.bias!.data.set(good.bias!.data);
    expect(() => expectLikePyTorch(good, c)).not.toThrow(/^y: element/);
    expect(() => expectLikePyTorch(bad, c)).toThrow(/^y: element/);
  });

  test("average pooling in place of max pooling fails the network comparison", () => {
    const net = makeNetwork();
    net.layers[3] = new AvgPool2d(2);
    expect(() => checkNetwork(net)).toThrow(/^logits: element/);
  });

  test("average pooling in place of max pooling fails the pool comparison", () => {
    const c = fixtures.pool["max, kernel 3 stride 2 padding 1"] as LayerCase;
    expect(() => expectLikePyTorch(new AvgPool2d(3, { stride: 2, padding: 1 }), c)).toThrow(/^y: element/);
  });
});

describe("Conv2d initialisation (PyTorch's: weight and bias ~ U(−1/√fanIn, 1/√fanIn))", () => {
  test("bounds and spread follow fanIn = inChannels/groups · kH · kW", () => {
    for (const [conv, fanIn] of [
      [new Conv2d(16, 32, 5, { seed: 1 }), 16 * 25],
      [new Conv2d(8, 32, [3, 2], { groups: 4, seed: 2 }), 2 * 6],
    ] as const) {
      const bound = 1 / Math.sqrt(fanIn);
      for (const t of [conv.weight, conv.bias!]) {
        const d = [...t.data];
        expect(Math.max(...d.map(Math.abs))).toBeLessThanOrEqual(bound);
      }
      // U(−b, b): largest |w| near b, variance b²/3 (12 800 or 384 draws: within 10 % here)
      const w = [...conv.weight.data];
      expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.97 * bound);
      const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
      expect(variance / ((bound * bound) / 3)).toBeGreaterThan(0.85);
      expect(variance / ((bound * bound) / 3)).toBeLessThan(1.15);
    }
  });

  test("seeded: the same seed gives the same weights; rng draws the weight first, then the bias", () => {
    const a = new Conv2d(3, 4, 3, { seed: 7 });
    const b = new Conv2d(3, 4, 3, { seed: 7 });
    expect(a.weight).toBeAllClose(b.weight, { rtol: 0, atol: 0 });
    expect(a.bias).toBeAllClose(b.bias!, { rtol: 0, atol: 0 });
    const bound = 1 / Math.sqrt(27);
    const rng = new RandomState(7);
    expect(a.weight.data).toEqual(rng.uniform(-bound, bound, [4, 3, 3, 3]).data);
    expect(a.bias!.data).toEqual(rng.uniform(-bound, bound, [4]).data);
    expect(new Conv2d(3, 4, 3, { bias: false }).bias).toBeNull();
    expect(new Conv2d(3, 4, 3, { bias: false }).parameters()).toHaveLength(1);
  });
});

describe("unbatched (C, H, W) input, as PyTorch", () => {
  test("equals the batch of one without its batch axis, for the three layers", () => {
    const x = tensor(new RandomState(3).randn(2, 6, 6).data, { shape: [2, 6, 6] });
    const batched = tensor(x.data, { shape: [1, 2, 6, 6] });
    for (const layer of [
      new Conv2d(2, 3, 3, { seed: 0 }),
      new MaxPool2d(2),
      new AvgPool2d(3, { padding: 1 }),
    ]) {
      const y = layer.forward(x);
      const yb = layer.forward(batched);
      expect(y.shape).toEqual(yb.shape.slice(1));
      expect(y.data).toEqual(yb.data);
    }
  });
});

describe("bad input gets an Error naming the layer", () => {
  const conv = new Conv2d(3, 4, 3);
  test("a plain array, a wrong rank, a wrong channel count", () => {
    expect(() => conv.forward([[1, 2]] as unknown as Tensor)).toThrow(/^Conv2d: input must be a Tensor, got/);
    expect(() => conv.forward(zeros([3, 8]))).toThrow(
      "Conv2d: input must have 4 axes (N, C, H, W) or 3 (C, H, W), got shape [3, 8]",
    );
    expect(() => conv.forward(zeros([2, 1, 8, 8]))).toThrow(
      "Conv2d: input has 1 channels (shape [2, 1, 8, 8], channels on axis 1) but the layer expects 3",
    );
    expect(() => conv.forward(zeros([2, 3, 2, 2]))).toThrow(/^conv2d: .*empty/);
    expect(() => new MaxPool2d(2).forward([1, 2, 3] as unknown as Tensor)).toThrow(
      /^MaxPool2d: input must be a Tensor/,
    );
    expect(() => new AvgPool2d(2).forward(zeros([4, 4]))).toThrow(/^AvgPool2d: input must have 4 axes/);
  });

  test("bad sizes and options", () => {
    expect(() => new Conv2d(3, 4, 0)).toThrow(
      "Conv2d: kernelSize must be a positive integer, got the number 0",
    );
    expect(() => new Conv2d(3, 4, [3] as unknown as number)).toThrow(
      /^Conv2d: kernelSize must be a positive integer or a pair/,
    );
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow(
      "Conv2d: groups = 2 must divide inChannels (3) and outChannels (4)",
    );
    expect(() => new Conv2d(3, 4, 3, { padding: -1 })).toThrow(
      /^Conv2d: padding must be a non-negative integer/,
    );
    expect(() => new Conv2d(3, 4, 3, { padding: "same", stride: 2 })).toThrow(
      /^Conv2d: padding "same" needs stride 1/,
    );
    expect(() => new Conv2d(2.5, 4, 3)).toThrow(
      /^Conv2d: inChannels must be a positive integer, got the number 2.5/,
    );
    expect(() => new MaxPool2d(2, { padding: 2 })).toThrow(
      "MaxPool2d: padding (2, 2) must be at most half the kernel size (2, 2) (as in PyTorch)",
    );
    expect(() => new AvgPool2d(2, { stride: 0 })).toThrow(/^AvgPool2d: stride must be a positive integer/);
  });
});

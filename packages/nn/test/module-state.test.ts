/**
 * @file Modules as PyTorch users read them: buffers, frozen parameters kept in `stateDict()`, PyTorch's key
 * names and order, a PyTorch state_dict (safetensors written by make-state-dict-fixture.py) loaded into
 * tapegrad's Sequential and back, the module repr (checked against PyTorch's own reprs), `console.log`, and
 * the layers' messages for a plain array.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { type Tensor, tensor, zeros } from "@tapegrad/autograd";
import {
  BatchNorm1d,
  BatchNorm2d,
  Dropout,
  Embedding,
  Flatten,
  GELU,
  LayerNorm,
  LeakyReLU,
  Linear,
  loadParameters,
  Module,
  ReLU,
  Sequential,
  Sigmoid,
  saveParameters,
  Tanh,
} from "@tapegrad/nn";
import { describe, expect, test } from "vitest";
import { fixtureInfo, fixtureModel, trainedFromFixture } from "./fixtures/tapegrad-state-dict.js";

const FIXTURES = join(import.meta.dirname, "fixtures");
const nnFixtures = JSON.parse(readFileSync(join(FIXTURES, "nn-fixtures.json"), "utf8"));

/** The safetensors header of a file: name → { dtype, shape } (offsets dropped). */
function header(path: string): Record<string, { dtype: string; shape: number[] }> {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const json = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8"));
  delete json.__metadata__;
  return Object.fromEntries(
    Object.entries(json as Record<string, { dtype: string; shape: number[] }>).map(([k, v]) => [
      k,
      { dtype: v.dtype, shape: v.shape },
    ]),
  );
}

describe("buffers and frozen parameters", () => {
  test("registerBuffer: listed by namedBuffers, saved by stateDict, never a parameter", () => {
    class Counter extends Module {
      scale = tensor([2], { requiresGrad: true });
      readonly calls: Tensor;
      constructor() {
        super();
        this.calls = this.registerBuffer("calls", zeros([]));
        this.registerBuffer("scratch", zeros([3]), { persistent: false });
      }
      forward(x: Tensor): Tensor {
        this.calls.data[0]! += 1;
        return x.mul(this.scale);
      }
    }
    const m = new Counter();
    m.forward(tensor([1]));
    expect(m.namedParameters().map(([n]) => n)).toEqual(["scale"]);
    expect(m.namedBuffers().map(([n]) => n)).toEqual(["calls", "scratch"]);
    expect(Object.keys(m.stateDict())).toEqual(["scale", "calls"]);
    expect(m.stateDict().calls!.item()).toBe(1);
    expect(() => m.registerBuffer("bad.name", zeros([1]))).toThrow(
      "registerBuffer: name must be a non-empty string",
    );
    expect(() => m.registerBuffer("x", [1] as unknown as Tensor)).toThrow(
      "registerBuffer: x must be a Tensor, got an array",
    );
  });

  test("a frozen parameter stays in stateDict and parameters(), and still loads", () => {
    const layer = new Linear(2, 3, { seed: 0 });
    layer.weight.requiresGrad = false; // frozen before the module was ever walked
    expect(Object.keys(layer.stateDict())).toEqual(["weight", "bias"]);
    expect(layer.parameters()).toContain(layer.weight);
    const fresh = new Linear(2, 3, { seed: 5 });
    fresh.loadStateDict(layer.stateDict());
    expect([...fresh.weight.data]).toEqual([...layer.weight.data]);
    // the same in a user module whose parameter is frozen after a first walk
    class Scale extends Module {
      s = tensor([2], { requiresGrad: true });
      forward(x: Tensor): Tensor {
        return x.mul(this.s);
      }
    }
    const m = new Scale();
    m.parameters();
    m.s.requiresGrad = false;
    expect(Object.keys(m.stateDict())).toEqual(["s"]);
  });

  test("PyTorch's keys and order: per module its parameters, then its buffers, then its children", () => {
    const net = new Sequential(
      new Linear(3, 4),
      new BatchNorm1d(4),
      new ReLU(),
      new Linear(4, 2),
      new LayerNorm(2),
    );
    expect(Object.keys(net.stateDict())).toEqual([
      "0.weight",
      "0.bias",
      "1.weight",
      "1.bias",
      "1.running_mean",
      "1.running_var",
      "1.num_batches_tracked",
      "3.weight",
      "3.bias",
      "4.weight",
      "4.bias",
    ]);
    expect(net.stateDict()["1.num_batches_tracked"]!.shape).toEqual([]);
    expect(() => net.loadStateDict({ ...net.stateDict(), "1.running_var": zeros([3]) })).toThrow(
      "loadStateDict: 1.running_var has shape [3] in the state dict but the buffer has shape [4]",
    );
    const { "1.running_mean": _, ...missing } = net.stateDict();
    expect(() => net.loadStateDict(missing)).toThrow("loadStateDict: missing keys 1.running_mean");
  });

  test("train()/eval() reach every layer: batch norm and dropout switch behaviour", () => {
    const net = new Sequential(new BatchNorm1d(2), new Dropout(0.5, { seed: 0 }));
    const x = tensor([
      [1, 2],
      [3, 5],
    ]);
    net.eval();
    expect(net.layers.every((l) => !l.training)).toBe(true);
    // eval: running statistics 0 and 1, dropout the identity
    expect(net.forward(x)).toBeAllClose(x.mul(1 / Math.sqrt(1 + 1e-5)), { rtol: 1e-15 });
    net.train();
    expect(net.layers.every((l) => l.training)).toBe(true);
  });
});

describe("a PyTorch state_dict loads into tapegrad's Sequential, and back", () => {
  const info = fixtureInfo();

  test("PyTorch → tapegrad: load_state_dict's file loads strictly; eval output equals PyTorch's", () => {
    const net = fixtureModel();
    expect(String(net)).toBe(info.repr);
    expect(Object.keys(net.stateDict())).toEqual(info.keys);
    net.loadStateDict(loadParameters(join(FIXTURES, "state-dict-fixture.safetensors"), info.shapes));
    expect(net.stateDict()["1.num_batches_tracked"]!.item()).toBe(2);
    expect(net.eval().forward(tensor(info.x))).toBeAllClose(tensor(info.yEval), { rtol: 1e-12 });
  });

  test("PyTorch → tapegrad: the state dict as PyTorch holds it (num_batches_tracked int64) loads as it is", () => {
    const net = fixtureModel();
    net.loadStateDict(loadParameters(join(FIXTURES, "state-dict-fixture-raw.safetensors"), info.shapes));
    expect(net.stateDict()["1.num_batches_tracked"]!.item()).toBe(2);
    expect(net.eval().forward(tensor(info.x))).toBeAllClose(tensor(info.yEval), { rtol: 1e-12 });
  });

  test("tapegrad → PyTorch: the same key names, shapes and dtypes as PyTorch's file", () => {
    const path = join(mkdtempSync(join(tmpdir(), "tapegrad-state-")), "model.safetensors");
    saveParameters(path, fixtureModel().stateDict());
    expect(header(path)).toEqual(header(join(FIXTURES, "state-dict-fixture.safetensors")));
    // PyTorch keeps num_batches_tracked as int64; the file (tapegrad's and the recipe's) holds it as F64,
    // which load_state_dict copies into the int64 buffer
    expect(info.torchDtypes["1.num_batches_tracked"]).toBe("I64");
  });

  test("tapegrad → PyTorch: the file PyTorch loaded and checked is what tapegrad writes today", () => {
    // state-dict-from-tapegrad.* were written by tapegrad-state-dict.ts; make-state-dict-fixture.py loaded the
    // file into torch.nn.Sequential (strict) and found PyTorch's eval output within 5.9e-16 of tapegrad's.
    // Today's tapegrad must write the same file: same header, values equal up to rounding.
    const { net, yEval } = trainedFromFixture();
    const path = join(mkdtempSync(join(tmpdir(), "tapegrad-state-")), "model.safetensors");
    saveParameters(path, net.stateDict());
    const checked = join(FIXTURES, "state-dict-from-tapegrad.safetensors");
    expect(header(path)).toEqual(header(checked));
    const recorded = loadParameters(checked);
    for (const [name, t] of Object.entries(net.stateDict())) {
      expect(t, name).toBeAllClose(recorded[name]!, { rtol: 1e-12 });
    }
    const json = JSON.parse(readFileSync(join(FIXTURES, "state-dict-from-tapegrad.json"), "utf8"));
    expect(yEval).toBeAllClose(tensor(json.yEval), { rtol: 1e-12 });
    expect(net.stateDict()["1.num_batches_tracked"]!.item()).toBe(3);
  });
});

describe("the module repr is PyTorch's", () => {
  test("nested Sequential", () => {
    const net = new Sequential(
      new Linear(2, 3),
      new ReLU(),
      new Sequential(new Linear(3, 3, { bias: false }), new Tanh()),
      new Sigmoid(),
    );
    expect(net.toString()).toBe(nnFixtures.reprs.sequential);
    expect(`${net}`).toBe(nnFixtures.reprs.sequential);
  });

  test("each layer", () => {
    expect(
      [
        new LeakyReLU(),
        new LeakyReLU(0.2),
        new GELU(),
        new Dropout(0.25),
        new Flatten(),
        new BatchNorm2d(16, { eps: 1e-3, momentum: null }),
        new LayerNorm([3, 4], { eps: 1e-6, elementwiseAffine: false }),
        new Embedding(10, 3),
      ].map(String),
    ).toEqual(nnFixtures.reprs.layers);
  });

  test("console.log prints the repr (util.inspect.custom), nested inside other values too", () => {
    const net = new Sequential(new Linear(2, 3), new ReLU());
    expect(inspect(net)).toBe(String(net));
    expect(inspect({ model: new ReLU() })).toBe("{ model: ReLU() }");
  });
});

describe("a plain array passed to a layer gets an error starting with the layer's name", () => {
  const array = [[1, 2]] as unknown as Tensor;
  const layers: [string, Module][] = [
    ["Linear", new Linear(2, 3)],
    ["ReLU", new ReLU()],
    ["Tanh", new Tanh()],
    ["Sigmoid", new Sigmoid()],
    ["LeakyReLU", new LeakyReLU()],
    ["GELU", new GELU()],
    ["BatchNorm1d", new BatchNorm1d(2)],
    ["BatchNorm2d", new BatchNorm2d(2)],
    ["LayerNorm", new LayerNorm(2)],
    ["Dropout", new Dropout()],
    ["Flatten", new Flatten()],
  ];
  test.each(layers)("%s", (name, layer) => {
    expect(() => layer.forward(array)).toThrow(
      `${name}: input must be a Tensor, got an array of length 1 (wrap it with tensor(...))`,
    );
  });

  test("Embedding takes arrays, and names a bad index or a bad input", () => {
    const emb = new Embedding(4, 2);
    expect(() => emb.forward([0, 4])).toThrow(
      "Embedding: index the number 4 at position 1 is out of range: expected an integer in [0, 4)",
    );
    expect(() => emb.forward([-1])).toThrow("Embedding: index the number -1 at position 0 is out of range");
    expect(() => emb.forward("0" as unknown as number[])).toThrow(
      "Embedding: indices must be a number[], an Int32Array or a Tensor",
    );
  });

  test("wrong shapes name the layer and the shape", () => {
    expect(() => new BatchNorm1d(3).forward(zeros([2, 4]))).toThrow(
      "BatchNorm1d: input has shape [2, 4], expected (N, C) or (N, C, L) with C = 3 (channels on axis 1)",
    );
    expect(() => new BatchNorm2d(3).forward(zeros([2, 3, 4]))).toThrow(
      "BatchNorm2d: input has shape [2, 3, 4], expected (N, C, H, W)",
    );
    expect(() => new BatchNorm1d(3).forward(zeros([1, 3]))).toThrow(
      "BatchNorm1d: expected more than 1 value per channel when training, got input of shape [1, 3]",
    );
    expect(() => new LayerNorm([2, 3]).forward(zeros([4, 3, 2]))).toThrow(
      "LayerNorm: input has shape [4, 3, 2], expected its last 2 axes to be [2, 3] (normalizedShape)",
    );
    expect(() => new Flatten(2).forward(zeros([4, 3]))).toThrow(
      "Flatten: cannot flatten axes 2…-1 of an input of shape [4, 3]",
    );
    expect(new Flatten().forward(zeros([2, 3, 4, 5])).shape).toEqual([2, 60]);
    expect(() => new Dropout(1.5)).toThrow("Dropout: p must be a number in [0, 1], got the number 1.5");
    expect(() => new BatchNorm1d(0)).toThrow(
      "BatchNorm1d: numFeatures must be a positive integer, got the number 0",
    );
  });
});

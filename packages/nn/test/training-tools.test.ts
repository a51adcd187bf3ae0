/**
 * @file Training tools against PyTorch (test/fixtures/nn-fixtures.json, from make-nn-fixtures.py): AdamW and
 * SGD (Nesterov, dampening) trajectories, StepLR and CosineAnnealingLR learning rates, clip_grad_norm_;
 * then optimizer state dicts (a resumed run equals an uninterrupted one bit for bit), the optimizer defects
 * of issue 15, `batches` and `accuracy`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { arange, mul, RandomState, reshape, sum, type Tensor, tensor } from "@tapegrad/autograd";
import {
  Adam,
  AdamW,
  accuracy,
  BatchNorm1d,
  batches,
  CosineAnnealingLR,
  clipGradNorm,
  crossEntropyLoss,
  Dropout,
  Linear,
  type Optimizer,
  ReLU,
  Sequential,
  SGD,
  StepLR,
} from "@tapegrad/nn";
import { describe, expect, test } from "vitest";

const fixtures = JSON.parse(readFileSync(join(import.meta.dirname, "fixtures", "nn-fixtures.json"), "utf8"));
const rtol = 1e-12;

interface OptimizerCase {
  options: Record<string, unknown>;
  init: [number[][], number[]];
  grads: [number[][], number[]][];
  params: [number[][], number[]][];
}

describe("optimizers follow torch.optim's trajectories", () => {
  const make: Record<string, (ps: Tensor[], o: Record<string, unknown>) => Optimizer> = {
    adamw: (ps, o) => new AdamW(ps, o),
    adamw_defaults: (ps, o) => new AdamW(ps, o),
    sgd_nesterov: (ps, o) => new SGD(ps, o as { lr: number }),
    sgd_dampening: (ps, o) => new SGD(ps, o as { lr: number }),
  };
  for (const [name, c] of Object.entries(fixtures.optimizers as Record<string, OptimizerCase>)) {
    test(`${name} ${JSON.stringify(c.options)}: ${c.grads.length} steps`, () => {
      const w = tensor(c.init[0], { requiresGrad: true });
      const b = tensor(c.init[1], { requiresGrad: true });
      const opt = make[name]!([w, b], c.options);
      c.grads.forEach(([gw, gb], step) => {
        w.grad = tensor(gw);
        b.grad = tensor(gb);
        opt.step();
        expect(w, `step ${step + 1}`).toBeAllClose(tensor(c.params[step]![0]), { rtol });
        expect(b, `step ${step + 1}`).toBeAllClose(c.params[step]![1], { rtol });
      });
    });
  }

  test("AdamW's defaults are PyTorch's (weight decay 1e-2); nesterov needs momentum", () => {
    const opt = new AdamW([tensor([1], { requiresGrad: true })]);
    expect([opt.lr, opt.betas, opt.eps, opt.weightDecay]).toEqual([1e-3, [0.9, 0.999], 1e-8, 1e-2]);
    expect(() => new SGD([tensor([1], { requiresGrad: true })], { lr: 0.1, nesterov: true })).toThrow(
      "SGD: nesterov momentum requires a momentum > 0 and zero dampening, got momentum 0 and dampening 0",
    );
  });
});

describe("schedulers follow torch.optim.lr_scheduler", () => {
  const run = (make: (o: SGD) => StepLR | CosineAnnealingLR, lr: number, epochs: number): number[] => {
    const opt = new SGD([tensor([0], { requiresGrad: true })], { lr });
    const scheduler = make(opt);
    const lrs = [scheduler.getLastLr()[0]!];
    for (let e = 0; e < epochs; e++) {
      opt.step();
      scheduler.step();
      lrs.push(scheduler.getLastLr()[0]!);
      expect(opt.lr).toBe(lrs[lrs.length - 1]);
    }
    return lrs;
  };

  test("StepLR(stepSize 3, gamma 0.5)", () => {
    const c = fixtures.schedulers.step;
    const lrs = run((o) => new StepLR(o, { stepSize: c.stepSize, gamma: c.gamma }), c.lr, c.lrs.length - 1);
    expect(lrs).toBeAllClose(c.lrs, { rtol });
  });

  test("CosineAnnealingLR(tMax 5, etaMin 0.001), past tMax too", () => {
    const c = fixtures.schedulers.cosine;
    const lrs = run(
      (o) => new CosineAnnealingLR(o, { tMax: c.tMax, etaMin: c.etaMin }),
      c.lr,
      c.lrs.length - 1,
    );
    expect(lrs).toBeAllClose(c.lrs, { rtol });
  });

  test("bad options name the scheduler", () => {
    const opt = new SGD([tensor([0], { requiresGrad: true })], { lr: 0.1 });
    expect(() => new StepLR(opt, { stepSize: 0 })).toThrow(
      "StepLR: stepSize must be a positive integer, got the number 0",
    );
    expect(() => new CosineAnnealingLR({} as SGD, { tMax: 3 })).toThrow(
      "CosineAnnealingLR: optimizer must be an Optimizer",
    );
  });
});

describe("clipGradNorm equals torch.nn.utils.clip_grad_norm_", () => {
  for (const c of fixtures.clipGradNorm) {
    test(`maxNorm ${c.maxNorm}, normType ${c.normType}`, () => {
      const a = tensor(c.grads[0], { requiresGrad: true });
      const b = tensor(c.grads[1], { requiresGrad: true });
      a.grad = tensor(c.grads[0]);
      b.grad = tensor(c.grads[1]);
      const frozen = tensor([1, 2], { requiresGrad: true }); // no gradient: skipped
      const normType = c.normType === "inf" ? Number.POSITIVE_INFINITY : c.normType;
      const total = clipGradNorm([a, frozen, b], c.maxNorm, { normType });
      expect(total).toBeAllClose(c.total, { rtol });
      expect(a.grad).toBeAllClose(tensor(c.clipped[0]), { rtol });
      expect(b.grad).toBeAllClose(c.clipped[1], { rtol });
      expect(frozen.grad).toBeNull();
    });
  }

  test("a planted bug (clipping each tensor by its own norm) fails the same comparison", () => {
    const c = fixtures.clipGradNorm[0];
    const clipped = (c.grads as number[][][]).map((g) => {
      const flat = g.flat();
      const norm = Math.sqrt(flat.reduce((s, v) => s + v * v, 0));
      return flat.map((v) => v * Math.min(c.maxNorm / (norm + 1e-6), 1));
    });
    expect(() => expect(clipped[0]).toBeAllClose((c.clipped[0] as number[][]).flat(), { rtol })).toThrow();
  });
});

describe("optimizer state dicts: a resumed run equals an uninterrupted one, bit for bit", () => {
  const X = reshape(mul(arange(0, 48), 0.05), [12, 4]);
  const labels = [0, 1, 2, 1, 0, 2, 2, 1, 0, 0, 1, 2];
  const model = (seed: number) =>
    new Sequential(
      new Linear(4, 6, { seed }),
      new BatchNorm1d(6),
      new ReLU(),
      new Linear(6, 3, { seed: seed + 1 }),
    );
  type Run = { net: Sequential; opt: Optimizer; scheduler: CosineAnnealingLR };
  const setup = (kind: string, seed: number): Run => {
    const net = model(seed);
    const ps = net.parameters();
    const opt =
      kind === "SGD"
        ? new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })
        : kind === "Adam"
          ? new Adam(ps, { lr: 0.01, weightDecay: 1e-3 })
          : new AdamW(ps, { lr: 0.01 });
    return { net, opt, scheduler: new CosineAnnealingLR(opt, { tMax: 8 }) };
  };
  /** Steps from … to (exclusive): step s always sees the same minibatch. */
  const train = ({ net, opt, scheduler }: Run, from: number, to: number): void => {
    for (let s = from; s < to; s++) {
      const rows = [s % 3, (s + 1) % 12, (s + 5) % 12, (s + 7) % 12];
      opt.zeroGrad();
      crossEntropyLoss(
        net.forward(X.take(rows, 0)),
        rows.map((r) => labels[r]!),
      ).backward();
      opt.step();
      scheduler.step();
    }
  };
  const values = (net: Sequential) => Object.values(net.stateDict()).flatMap((t) => [...t.data]);

  for (const kind of ["SGD", "Adam", "AdamW"]) {
    test(kind, () => {
      const straight = setup(kind, 1);
      train(straight, 0, 6);
      const first = setup(kind, 1);
      train(first, 0, 3);
      const saved = {
        model: first.net.stateDict(),
        opt: first.opt.stateDict(),
        scheduler: first.scheduler.stateDict(),
      };
      train(first, 3, 5); // the saved copies must not follow later steps
      const resumed = setup(kind, 99); // other initial weights: everything must come from the state dicts
      resumed.net.loadStateDict(saved.model);
      resumed.opt.loadStateDict(saved.opt);
      resumed.scheduler.loadStateDict(saved.scheduler);
      train(resumed, 3, 6);
      expect(values(resumed.net)).toEqual(values(straight.net));
      expect(resumed.opt.lr).toBe(straight.opt.lr);

      // planted bug: resuming with a fresh optimizer (its state lost) gives another model
      const forgetful = setup(kind, 99);
      forgetful.net.loadStateDict(saved.model);
      forgetful.scheduler.loadStateDict(saved.scheduler);
      train(forgetful, 3, 6);
      expect(values(forgetful.net)).not.toEqual(values(straight.net));
    });
  }

  test("PyTorch's layout: state by position under PyTorch's names, one param group", () => {
    const run = setup("Adam", 1);
    train(run, 0, 1);
    const dict = run.opt.stateDict();
    expect(Object.keys(dict.state[0]!).sort()).toEqual(["exp_avg", "exp_avg_sq", "step"]);
    expect(dict.state[0]!.step).toBe(1);
    expect(dict.paramGroups[0]).toMatchObject({
      lr: run.opt.lr,
      betas: [0.9, 0.999],
      eps: 1e-8,
      params: [0, 1, 2, 3, 4, 5],
    });
    const sgd = new SGD([tensor([1], { requiresGrad: true })], { lr: 0.1, momentum: 0.5 });
    expect(() => sgd.loadStateDict(dict)).toThrow(
      "SGD.loadStateDict: the state dict's group has 6 parameters but the optimizer has 1",
    );
    const adam = new Adam(run.net.parameters());
    const bad = { ...dict, state: { ...dict.state, 0: { ...dict.state[0], exp_avg: tensor([1]) } } };
    expect(() => adam.loadStateDict(bad)).toThrow(
      "Adam.loadStateDict: state[0].exp_avg must be a Tensor of parameter 0's shape [6, 4], got a Tensor of shape [1]",
    );
  });
});

describe("optimizer defects of issue 15", () => {
  test("a non-leaf tensor is refused, naming its position (PyTorch: can't optimize a non-leaf Tensor)", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const doubled = mul(w, 2);
    for (const make of [
      (ps: Tensor[]) => new SGD(ps, { lr: 0.1 }),
      (ps: Tensor[]) => new Adam(ps),
      (ps: Tensor[]) => new AdamW(ps),
    ]) {
      expect(() => make([w, doubled])).toThrow(
        /: parameter 1 \(shape \[2\]\) is not a leaf tensor.*can't optimize a non-leaf Tensor/,
      );
    }
  });

  test("an empty parameter list is refused by every optimizer", () => {
    expect(() => new Adam([])).toThrow("Adam: got an empty parameter list");
    expect(() => new AdamW([])).toThrow("AdamW: got an empty parameter list");
    expect(() => new SGD([], { lr: 0.1 })).toThrow("SGD: got an empty parameter list");
  });

  test("frozen parameters are accepted and skipped; a tensor that never required grad is refused", () => {
    const layer = new Linear(2, 2, { seed: 0 });
    layer.weight.requiresGrad = false;
    const before = [...layer.weight.data];
    const opt = new SGD(layer.parameters(), { lr: 0.1 });
    sum(layer.forward(tensor([[1, 2]]))).backward();
    opt.step();
    expect([...layer.weight.data]).toEqual(before);
    expect(() => new Adam([tensor([1])])).toThrow("Adam: parameter 0 does not require grad");
    const w = tensor([1], { requiresGrad: true });
    expect(() => new Adam([w, w])).toThrow("Adam: parameter 1 is the same tensor as parameter 0");
  });
});

describe("batches", () => {
  const X = reshape(arange(0, 20), [10, 2]); // row i holds 2i, 2i + 1
  const Y = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const rowsOf = (xb: Tensor) => [...xb.data].filter((_, k) => k % 2 === 0).map((v) => v / 2);

  test("in order, every example once, the last batch smaller unless dropLast", () => {
    const all = [...batches(X, Y, { batchSize: 4 })];
    expect(all.map(([xb, yb]) => [xb.shape, [...yb]])).toEqual([
      [
        [4, 2],
        [0, 1, 2, 3],
      ],
      [
        [4, 2],
        [4, 5, 6, 7],
      ],
      [
        [2, 2],
        [8, 9],
      ],
    ]);
    expect(batches(X, Y, { batchSize: 4 }).length).toBe(3);
    expect([...batches(X, Y, { batchSize: 4, dropLast: true })].length).toBe(2);
  });

  test("shuffled: rows and labels stay paired, every epoch a new order, reproducible by seed", () => {
    const loader = batches(X, tensor(Y), { batchSize: 3, shuffle: true, seed: 4 });
    const epoch = () =>
      [...loader].flatMap(([xb, yb]) => {
        expect(rowsOf(xb)).toEqual([...yb.data]);
        return [...yb.data];
      });
    const [e1, e2] = [epoch(), epoch()];
    expect([...e1].sort((a, b) => a - b)).toEqual(Y);
    expect(e1).not.toEqual(e2);
    const again = batches(X, tensor(Y), { batchSize: 3, shuffle: true, seed: 4 });
    expect([...again].flatMap(([, yb]) => [...yb.data])).toEqual(e1);
  });

  test("bad input names batches", () => {
    expect(() => batches(X, [1, 2], { batchSize: 2 })).toThrow(
      "batches: X has 10 examples (rows) but Y has 2; expected one label per example",
    );
    expect(() => batches(X, Y, { batchSize: 0 })).toThrow(
      "batches: batchSize must be a positive integer, got the number 0",
    );
    expect(() => batches([[1]] as unknown as Tensor, Y, { batchSize: 2 })).toThrow(
      "batches: X must be a Tensor, got an array",
    );
  });
});

describe("accuracy", () => {
  test("argmax per row (first at ties) against the labels; one logit per example: > 0 is class 1", () => {
    const logits = tensor([
      [0.1, 2, 0.3],
      [5, 1, 1],
      [1, 1, 0], // tie: class 0
      [0, 0, 3],
    ]);
    expect(accuracy(logits, [1, 0, 0, 1])).toBe(0.75);
    expect(accuracy(logits, Int32Array.from([1, 0, 1, 2]))).toBe(0.75);
    expect(accuracy(tensor([-1, 2, 0.5]), tensor([0, 1, 0]))).toBeAllClose(2 / 3, { rtol: 0, atol: 5e-16 });
    expect(() => accuracy(logits, [1, 2])).toThrow(
      "accuracy: logits has 4 rows (examples) but there are 2 labels",
    );
  });
});

describe("the README's training loop", () => {
  test("Linear–BatchNorm1d–ReLU–Dropout–Linear, AdamW, cosine schedule, clipping, shuffled batches: learns 3 blobs", () => {
    // three Gaussian blobs in 2-D, 60 points each
    const rs = new RandomState(5);
    const centers = [
      [2, 0],
      [-1, 1.7],
      [-1, -1.7],
    ];
    const noise = rs.randn(180, 2).data;
    const X = tensor(
      Float64Array.from({ length: 360 }, (_, k) => centers[Math.floor(k / 120)]![k % 2]! + 0.6 * noise[k]!),
      { shape: [180, 2] },
    );
    const labels = Int32Array.from({ length: 180 }, (_, i) => Math.floor(i / 60));
    const model = new Sequential(
      new Linear(2, 16, { seed: 1 }),
      new BatchNorm1d(16),
      new ReLU(),
      new Dropout(0.1, { seed: 2 }),
      new Linear(16, 3, { seed: 3 }),
    );
    const epochs = 15;
    const opt = new AdamW(model.parameters(), { lr: 0.05 });
    const scheduler = new CosineAnnealingLR(opt, { tMax: epochs });
    const norms: number[] = [];
    for (let epoch = 0; epoch < epochs; epoch++) {
      model.train();
      for (const [xb, yb] of batches(X, labels, { batchSize: 32, shuffle: true, seed: epoch })) {
        opt.zeroGrad();
        crossEntropyLoss(model.forward(xb), yb).backward();
        norms.push(clipGradNorm(model.parameters(), 1.0));
        opt.step();
      }
      scheduler.step();
    }
    model.eval();
    expect(accuracy(model.forward(X), labels)).toBeGreaterThan(0.95);
    expect(opt.lr).toBe(0); // the cosine reached etaMin
    expect(norms.every(Number.isFinite)).toBe(true);
  });
});

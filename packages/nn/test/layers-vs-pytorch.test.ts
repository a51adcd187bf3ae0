/**
 * @file The new layers against PyTorch float64 (test/fixtures/nn-fixtures.json, written by
 * make-nn-fixtures.py): batch norm 1d/2d in training and eval with the running statistics over several
 * steps, layer norm, embedding with repeated indices, cross-entropy; forward values and gradients to
 * 1e-12 relative. Then planted formula bugs, to show these comparisons catch them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  add,
  div,
  mean,
  mul,
  type NestedNumbers,
  reshape,
  sqrt,
  square,
  sub,
  sum,
  type Tensor,
  tensor,
} from "@tapegrad/autograd";
import { BatchNorm1d, BatchNorm2d, crossEntropyLoss, Embedding, LayerNorm } from "@tapegrad/nn";
import { describe, expect, test } from "vitest";

type Nested = NestedNumbers;
interface BatchNormStep {
  training: boolean;
  x: Nested;
  y: Nested;
  G: Nested;
  dx: Nested;
  dweight?: number[];
  dbias?: number[];
  running_mean?: number[];
  running_var?: number[];
  num_batches_tracked?: number;
}
interface BatchNormCase {
  numFeatures: number;
  options: { eps?: number; momentum?: number | null; affine?: boolean; track_running_stats?: boolean };
  weight: number[] | null;
  bias: number[] | null;
  steps: BatchNormStep[];
  repr: string;
}
interface LayerNormCase {
  normalizedShape: number[];
  options: { eps?: number; elementwise_affine?: boolean };
  x: Nested;
  y: Nested;
  G: Nested;
  dx: Nested;
  weight?: Nested;
  bias?: Nested;
  dweight?: Nested;
  dbias?: Nested;
  repr: string;
}

const fixtures = JSON.parse(readFileSync(join(import.meta.dirname, "fixtures", "nn-fixtures.json"), "utf8"));
const rtol = 1e-12;

/** Σ y·G backpropagated: every output element weighted differently, as the fixture's gradients are. */
function backwardWith(y: Tensor, G: Nested): void {
  sum(mul(y, tensor(G))).backward();
}

function makeBatchNorm(c: BatchNormCase, rank: number): BatchNorm1d | BatchNorm2d {
  const options = {
    ...(c.options.eps !== undefined && { eps: c.options.eps }),
    ...(c.options.momentum !== undefined && { momentum: c.options.momentum }),
    ...(c.options.affine !== undefined && { affine: c.options.affine }),
    ...(c.options.track_running_stats !== undefined && { trackRunningStats: c.options.track_running_stats }),
  };
  const layer =
    rank === 4 ? new BatchNorm2d(c.numFeatures, options) : new BatchNorm1d(c.numFeatures, options);
  if (c.weight !== null) layer.weight!.data.set(c.weight);
  if (c.bias !== null) layer.bias!.data.set(c.bias);
  return layer;
}

describe("batch norm equals PyTorch's, step by step", () => {
  for (const [name, c] of Object.entries(fixtures.batchNorm as Record<string, BatchNormCase>)) {
    test(`${name}: ${c.repr}`, () => {
      const rank = tensor(c.steps[0]!.x).ndim;
      const layer = makeBatchNorm(c, rank);
      expect(String(layer)).toBe(c.repr);
      c.steps.forEach((step, i) => {
        layer.train(step.training);
        layer.zeroGrad();
        const x = tensor(step.x, { requiresGrad: true });
        const y = layer.forward(x);
        backwardWith(y, step.G);
        const where = `step ${i} (${step.training ? "training" : "eval"})`;
        expect(y, where).toBeAllClose(tensor(step.y), { rtol });
        expect(x.grad, where).toBeAllClose(tensor(step.dx), { rtol });
        if (step.dweight !== undefined)
          expect(layer.weight!.grad, where).toBeAllClose(step.dweight, { rtol });
        if (step.dbias !== undefined) expect(layer.bias!.grad, where).toBeAllClose(step.dbias, { rtol });
        if (step.running_mean !== undefined) {
          expect(layer.running_mean, where).toBeAllClose(step.running_mean, { rtol });
          expect(layer.running_var, where).toBeAllClose(step.running_var!, { rtol });
          expect(layer.num_batches_tracked!.item(), where).toBe(step.num_batches_tracked);
        }
      });
    });
  }
});

describe("layer norm equals PyTorch's", () => {
  for (const [name, c] of Object.entries(fixtures.layerNorm as Record<string, LayerNormCase>)) {
    test(`${name}: ${c.repr}`, () => {
      const layer = new LayerNorm(c.normalizedShape, {
        ...(c.options.eps !== undefined && { eps: c.options.eps }),
        ...(c.options.elementwise_affine !== undefined && {
          elementwiseAffine: c.options.elementwise_affine,
        }),
      });
      expect(String(layer)).toBe(c.repr);
      if (c.weight !== undefined) layer.weight!.data.set(tensor(c.weight).data);
      if (c.bias !== undefined) layer.bias!.data.set(tensor(c.bias).data);
      const x = tensor(c.x, { requiresGrad: true });
      const y = layer.forward(x);
      backwardWith(y, c.G);
      expect(y).toBeAllClose(tensor(c.y), { rtol });
      expect(x.grad).toBeAllClose(tensor(c.dx), { rtol });
      if (c.dweight !== undefined) expect(layer.weight!.grad).toBeAllClose(tensor(c.dweight), { rtol });
      if (c.dbias !== undefined) expect(layer.bias!.grad).toBeAllClose(tensor(c.dbias), { rtol });
      // no running statistics: eval computes the same
      expect(layer.eval().forward(x)).toBeAllClose(y, { rtol: 0, atol: 0 });
    });
  }
});

describe("embedding and cross-entropy equal PyTorch's", () => {
  test("embedding with repeated indices: rows picked, the repeated row's gradient summed", () => {
    const c = fixtures.embedding;
    const layer = new Embedding(7, 3);
    expect(String(layer)).toBe(c.repr);
    layer.weight.data.set(tensor(c.weight).data);
    const y = layer.forward(tensor(c.indices));
    expect(y.shape).toEqual([2, 3, 3]);
    backwardWith(y, c.G);
    expect(y).toBeAllClose(tensor(c.y), { rtol });
    expect(layer.weight.grad).toBeAllClose(tensor(c.dweight), { rtol });
    // the same lookups from a number[] and an Int32Array
    const flat = (c.indices as number[][]).flat();
    expect(layer.forward(flat)).toBeAllClose(reshape(y, [6, 3]), { rtol: 0, atol: 0 });
    expect(layer.forward(Int32Array.from(flat))).toBeAllClose(reshape(y, [6, 3]), { rtol: 0, atol: 0 });
  });

  test("cross-entropy: loss and gradient", () => {
    const c = fixtures.crossEntropy;
    const logits = tensor(c.logits, { requiresGrad: true });
    const loss = crossEntropyLoss(logits, c.targets);
    loss.backward();
    expect(loss.item()).toBeAllClose(c.loss, { rtol });
    expect(logits.grad).toBeAllClose(tensor(c.dlogits), { rtol });
  });
});

/**
 * Batch norm in training mode written out, with a switch per planted bug. Without bugs it must pass the
 * same comparison as the layer; each bug must fail it.
 */
function batchNormReference(
  c: BatchNormCase,
  bug: "none" | "unbiased-normalisation" | "biased-running-var" | "momentum-swapped",
): { y: Tensor[]; runningVar: number[][] } {
  const momentum = c.options.momentum ?? 0.1;
  const eps = c.options.eps ?? 1e-5;
  const C = c.numFeatures;
  let rm = new Array<number>(C).fill(0);
  let rv = new Array<number>(C).fill(1);
  const ys: Tensor[] = [];
  const runningVar: number[][] = [];
  for (const step of c.steps.filter((s) => s.training)) {
    const x = tensor(step.x);
    const n = x.shape[0]!;
    const mu = mean(x, 0, true);
    const centered = sub(x, mu);
    const biased = mean(square(centered), 0, true);
    const variance = bug === "unbiased-normalisation" ? mul(biased, n / (n - 1)) : biased;
    ys.push(add(mul(div(centered, sqrt(add(variance, eps))), tensor(c.weight!)), tensor(c.bias!)));
    const batchVar = [...biased.data].map((v) => (bug === "biased-running-var" ? v : (v * n) / (n - 1)));
    const [a, b] = bug === "momentum-swapped" ? [1 - momentum, momentum] : [momentum, 1 - momentum];
    rm = rm.map((r, k) => a * mu.data[k]! + b * r);
    rv = rv.map((r, k) => a * batchVar[k]! + b * r);
    runningVar.push(rv);
  }
  return { y: ys, runningVar };
}

describe("the PyTorch comparison catches planted formula bugs", () => {
  const c = fixtures.batchNorm["1d_2d"] as BatchNormCase;
  const training = c.steps.filter((s) => s.training);
  const agrees = (bug: Parameters<typeof batchNormReference>[1]): boolean => {
    const { y, runningVar } = batchNormReference(c, bug);
    try {
      training.forEach((step, i) => {
        expect(y[i]).toBeAllClose(tensor(step.y), { rtol });
        expect(runningVar[i]).toBeAllClose(step.running_var!, { rtol });
      });
      return true;
    } catch {
      return false;
    }
  };

  test("the bug-free reference passes", () => {
    expect(agrees("none")).toBe(true);
  });
  test.each(["unbiased-normalisation", "biased-running-var", "momentum-swapped"] as const)(
    "planted bug %s fails",
    (bug) => {
      expect(agrees(bug)).toBe(false);
    },
  );
});

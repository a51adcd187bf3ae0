/** tapeGraph: the tape behind a tensor as data, checked against graphs whose structure is known by hand. */

import { add, matmul, mul, noGrad, sigmoid, sum, tanh, tapeGraph, tensor } from "@tapegrad/autograd";
import { describe, expect, test } from "vitest";

describe("tapeGraph", () => {
  test("a two-layer forward pass: every op with its shape, inputs before consumers, leaves marked", () => {
    const X = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]); // (2, 3): no grad
    const W1 = tensor([[0.1, 0.2]], { requiresGrad: true }); // (1, 2)
    const b1 = tensor([[0.5]], { requiresGrad: true }); // (1, 1)
    const Z1 = add(matmul(W1, X), b1);
    const A1 = tanh(Z1);
    const J = sum(sigmoid(A1));

    const g = tapeGraph(J);
    const byTensor = (t: unknown) => g.nodes.find((n) => n.tensor === t)!;
    // 3 leaves and 5 ops (matmul, add, tanh, sigmoid, sum)
    expect(g.nodes).toHaveLength(8);
    expect(g.output).toBe(7);
    expect(g.nodes[g.output]!.tensor).toBe(J);
    expect(g.nodes.map((n) => n.op)).toEqual([null, null, "matmul", null, "add", "tanh", "sigmoid", "sum"]);
    expect(g.nodes.map((n) => n.shape)).toEqual([[1, 2], [2, 3], [1, 3], [1, 1], [1, 3], [1, 3], [1, 3], []]);
    expect(byTensor(W1)).toMatchObject({ op: null, isLeaf: true, requiresGrad: true, inputs: [] });
    expect(byTensor(X)).toMatchObject({ op: null, isLeaf: true, requiresGrad: false, inputs: [] });
    expect(byTensor(Z1).inputs).toEqual([2, 3]); // add(matmul(W1, X), b1), in argument order
    expect(g.nodes[2]!.inputs).toEqual([byTensor(W1).id, byTensor(X).id]);
    expect(byTensor(A1)).toMatchObject({ op: "tanh", isLeaf: false, requiresGrad: true, inputs: [4] });
    for (const n of g.nodes) {
      expect(n.id).toBe(g.nodes.indexOf(n));
      for (const i of n.inputs) expect(i).toBeLessThan(n.id);
    }
  });

  test("a tensor used twice is one node, listed twice among its consumer's inputs", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const g = tapeGraph(mul(x, x));
    expect(g.nodes).toHaveLength(2);
    expect(g.nodes[1]).toMatchObject({ op: "mul", inputs: [0, 0] });
  });

  test("a plain number an op wrapped shows as a scalar leaf that does not require grad", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const g = tapeGraph(mul(x, 3));
    const constant = g.nodes.find((n) => n.tensor !== x && n.isLeaf);
    expect(constant).toMatchObject({ shape: [], requiresGrad: false });
    expect(Array.from(constant!.tensor.data)).toEqual([3]);
  });

  test("a leaf, or a value computed without grad, is a graph of one node", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    expect(tapeGraph(w).nodes).toHaveLength(1);
    const g = tapeGraph(noGrad(() => tanh(w)));
    expect(g.nodes).toHaveLength(1);
    expect(g.nodes[0]).toMatchObject({ op: null, isLeaf: true, requiresGrad: false });
  });

  test("a chain of 100 000 ops does not overflow the stack", () => {
    let y = tensor([0.5], { requiresGrad: true });
    for (let i = 0; i < 100_000; i++) y = add(y, 1);
    const g = tapeGraph(y);
    expect(g.nodes).toHaveLength(200_001);
    expect(g.nodes[g.output]!.op).toBe("add");
  });

  test("rejects what is not a tensor, naming itself", () => {
    expect(() => tapeGraph([1, 2] as never)).toThrow(
      /^tapeGraph: expected a Tensor, got an array of length 2/,
    );
    expect(() => tapeGraph(undefined as never)).toThrow(/^tapeGraph: expected a Tensor, got undefined/);
  });
});

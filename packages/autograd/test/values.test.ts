/** Values and gradients against closed forms derived by hand (not the code's own output pasted back). */

import { inspect } from "node:util";
import * as ag from "@tapegrad/autograd";
import { type Tensor, tensor } from "@tapegrad/autograd";
import { describe, expect, test } from "vitest";

const gradOf = (f: (x: Tensor) => Tensor, data: number[] | number[][]): Tensor => {
  const x = tensor(data, { requiresGrad: true });
  ag.sum(f(x)).backward();
  return x.grad!;
};

describe("elementwise derivatives", () => {
  const xs = [-1.3, -0.2, 0.4, 2.1];
  test.each([
    ["tanh", ag.tanh, (x: number) => 1 - Math.tanh(x) ** 2],
    ["sigmoid", ag.sigmoid, (x: number) => Math.exp(-x) / (1 + Math.exp(-x)) ** 2],
    ["exp", ag.exp, (x: number) => Math.exp(x)],
    ["square", ag.square, (x: number) => 2 * x],
    ["abs", ag.abs, (x: number) => Math.sign(x)],
    ["relu", ag.relu, (x: number) => (x > 0 ? 1 : 0)],
    ["neg", ag.neg, () => -1],
  ] as const)("%s", (_, f, df) => {
    expect(gradOf(f, xs).data).toBeAllClose(xs.map(df), { rtol: 0, atol: 5e-14 });
  });

  test.each([
    ["log", ag.log, (x: number) => 1 / x],
    ["sqrt", ag.sqrt, (x: number) => 0.5 / Math.sqrt(x)],
  ] as const)("%s", (_, f, df) => {
    expect(gradOf(f, [0.3, 1, 4.5]).data).toBeAllClose([0.3, 1, 4.5].map(df), { rtol: 0, atol: 5e-14 });
  });

  test("pow: d/dx x³ = 3x², d/dy 2ʸ = 2ʸ ln 2", () => {
    expect(gradOf((x) => ag.pow(x, 3), [1.5, -2]).data).toBeAllClose([3 * 1.5 ** 2, 3 * 4], {
      rtol: 0,
      atol: 5e-14,
    });
    expect(gradOf((y) => ag.pow(2, y), [0.5, 3]).data).toBeAllClose([2 ** 0.5 * Math.LN2, 8 * Math.LN2], {
      rtol: 0,
      atol: 5e-14,
    });
  });

  test("div: d/dy (6 / y) = −6 / y²", () => {
    expect(gradOf((y) => ag.div(6, y), [2, -3]).data).toBeAllClose([-1.5, -6 / 9], { rtol: 0, atol: 5e-14 });
  });

  test("sigmoid does not overflow for large |x|", () => {
    const s = ag.sigmoid(tensor([-1000, 1000, 0]));
    expect(Array.from(s.data)).toEqual([0, 1, 0.5]);
  });

  test("sigmoidCrossEntropy equals the log formula, stays finite for huge logits, and its gradient is σ(z) − y", () => {
    const z = [-3, -0.5, 0, 0.7, 4];
    const y = [0, 1, 1, 0, 1];
    const s = (v: number) => 1 / (1 + Math.exp(-v));
    const expected = z.map((v, i) => -(y[i]! * Math.log(s(v)) + (1 - y[i]!) * Math.log(1 - s(v))));
    expect(ag.sigmoidCrossEntropy(tensor(z), tensor(y)).data).toBeAllClose(expected, {
      rtol: 0,
      atol: 5e-15,
    });
    expect(ag.sigmoidCrossEntropy(tensor([1000, -1000, 1000]), tensor([1, 0, 0])).data).toBeAllClose(
      [0, 0, 1000],
      { rtol: 0, atol: 5e-14 },
    );
    const zt = tensor(z, { requiresGrad: true });
    ag.sum(ag.sigmoidCrossEntropy(zt, tensor(y))).backward();
    expect(zt.grad!.data).toBeAllClose(
      z.map((v, i) => s(v) - y[i]!),
      { rtol: 0, atol: 5e-16 },
    );
  });

  test("clip passes the gradient only inside [lo, hi]", () => {
    expect(gradOf((x) => ag.clip(x, -1, 1), [-2, 0.5, 3]).data).toBeAllClose([0, 1, 0], {
      rtol: 0,
      atol: 5e-14,
    });
  });
});

describe("ties", () => {
  test("max splits the gradient evenly between tied maxima", () => {
    expect(gradOf((x) => ag.max(x), [1, 3, 3]).data).toBeAllClose([0, 0.5, 0.5], { rtol: 0, atol: 5e-14 });
    expect(
      gradOf(
        (x) => ag.max(x, 1),
        [
          [1, 3, 3],
          [4, 2, 0],
        ],
      ).data,
    ).toBeAllClose([0, 0.5, 0.5, 1, 0, 0], { rtol: 0, atol: 5e-14 });
    expect(
      gradOf(
        (x) => ag.min(x, 0),
        [
          [1, 3],
          [1, 2],
        ],
      ).data,
    ).toBeAllClose([0.5, 0, 0.5, 1], { rtol: 0, atol: 5e-14 });
  });
  test("maximum / minimum split the gradient at ties", () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([1, 5], { requiresGrad: true });
    ag.sum(ag.maximum(a, b)).backward();
    expect(a.grad!.data).toBeAllClose([0.5, 0], { rtol: 0, atol: 5e-14 });
    expect(b.grad!.data).toBeAllClose([0.5, 1], { rtol: 0, atol: 5e-14 });
  });
});

describe("reductions and softmax", () => {
  test("sum, mean with axes, negative axes and keepdims", () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(ag.sum(x).shape).toEqual([]);
    expect(ag.sum(x).item()).toBe(21);
    expect(ag.sum(x, -1).toArray()).toEqual([6, 15]);
    expect(ag.sum(x, 0, true).toArray()).toEqual([[5, 7, 9]]);
    expect(ag.mean(x, [0, 1]).item()).toBe(3.5);
    expect(ag.max(x, 0).toArray()).toEqual([4, 5, 6]);
    expect(ag.min(x, 1, true).toArray()).toEqual([[1], [4]]);
    expect(
      gradOf(
        (t) => ag.mean(t, 1),
        [
          [1, 2],
          [3, 4],
        ],
      ).data,
    ).toBeAllClose([0.5, 0.5, 0.5, 0.5], { rtol: 0, atol: 5e-14 });
  });

  test("logsumexp and softmax are stable for ±1000", () => {
    expect(ag.logsumexp(tensor([1000, 1000])).item()).toBeAllClose(1000 + Math.LN2, { rtol: 0, atol: 5e-13 });
    expect(ag.logsumexp(tensor([-1000, -1000])).item()).toBeAllClose(-1000 + Math.LN2, {
      rtol: 0,
      atol: 5e-13,
    });
    expect(ag.logsumexp(tensor([-Infinity, -Infinity])).item()).toBe(-Infinity);
    expect(ag.softmax(tensor([1000, 1000, -1000])).data).toBeAllClose([0.5, 0.5, 0], {
      rtol: 0,
      atol: 5e-14,
    });
    expect(ag.logSoftmax(tensor([1000, 0])).data).toBeAllClose([0, -1000], { rtol: 0, atol: 5e-14 });
    // d logsumexp / dx = softmax
    const x = [0.3, -1.2, 2];
    const e = x.map(Math.exp);
    const z = e.reduce((a, b) => a + b);
    expect(gradOf((t) => ag.logsumexp(t), x).data).toBeAllClose(
      e.map((v) => v / z),
      { rtol: 0, atol: 5e-14 },
    );
  });

  test("softmax rows sum to one along the chosen axis", () => {
    const s = ag.softmax(
      tensor([
        [1, 2],
        [3, 5],
      ]),
      0,
    );
    expect(ag.sum(s, 0).data).toBeAllClose([1, 1], { rtol: 0, atol: 5e-14 });
  });
});

describe("linear algebra and shapes", () => {
  test("matmul values and the gradient of Σ A·B (dA[i,k] = Σ_j B[k,j], dB[k,j] = Σ_i A[i,k])", () => {
    const A = tensor(
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      { requiresGrad: true },
    );
    const B = tensor(
      [
        [1, -1, 2],
        [0, 3, 1],
      ],
      { requiresGrad: true },
    );
    const C = ag.matmul(A, B);
    expect(C.toArray()).toEqual([
      [1, 5, 4],
      [3, 9, 10],
      [5, 13, 16],
    ]);
    ag.sum(C).backward();
    expect(A.grad!.toArray()).toEqual([
      [2, 4],
      [2, 4],
      [2, 4],
    ]);
    expect(B.grad!.toArray()).toEqual([
      [9, 9, 9],
      [12, 12, 12],
    ]);
  });

  test("addmm is c + A·B with the bias broadcast, and its gradients are matmul's plus sumTo", () => {
    const c = tensor([[1], [-1]], { requiresGrad: true });
    const A = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    const B = tensor([
      [1, 0, 2],
      [0, 1, 1],
    ]);
    const out = ag.addmm(c, A, B);
    expect(out.toArray()).toEqual([
      [2, 3, 5],
      [2, 3, 9],
    ]);
    ag.sum(out).backward();
    expect(c.grad!.toArray()).toEqual([[3], [3]]);
    expect(A.grad!.toArray()).toEqual([
      [3, 2],
      [3, 2],
    ]); // row sums of B
  });

  test("matmul follows numpy for 1-D and batched operands", () => {
    const v = tensor([1, 2]);
    const M = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(ag.matmul(v, M).toArray()).toEqual([7, 10]);
    expect(ag.matmul(M, v).toArray()).toEqual([5, 11]);
    expect(ag.matmul(v, v).shape).toEqual([]);
    expect(ag.matmul(v, v).item()).toBe(5);
    const batch = ag.stack([M, ag.mul(M, 2)]);
    expect(ag.matmul(batch, M).toArray()).toEqual([
      [
        [7, 10],
        [15, 22],
      ],
      [
        [14, 20],
        [30, 44],
      ],
    ]);
    expect(ag.matmul(M, v.reshape([2, 1]), { transposeA: true }).toArray()).toEqual([[7], [10]]);
  });

  test("transpose, reshape with -1, concat, stack, take", () => {
    const x = ag.arange(6).reshape([2, -1]);
    expect(x.shape).toEqual([2, 3]);
    expect(x.T.toArray()).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    expect(ag.transpose(ag.arange(24).reshape([2, 3, 4]), [2, 0, 1]).shape).toEqual([4, 2, 3]);
    expect(ag.concat([x, x], 0).shape).toEqual([4, 3]);
    expect(ag.concat([x, ag.ones([2, 1])], 1).toArray()).toEqual([
      [0, 1, 2, 1],
      [3, 4, 5, 1],
    ]);
    expect(ag.stack([x, x], 1).shape).toEqual([2, 2, 3]);
    expect(ag.take(x, [2, 0, -1], 1).toArray()).toEqual([
      [2, 0, 2],
      [5, 3, 5],
    ]);
    // repeated indices add up in the gradient
    expect(gradOf((t) => ag.take(t, [0, 0, 2]), [1, 1, 1]).data).toBeAllClose([2, 0, 1], {
      rtol: 0,
      atol: 5e-14,
    });
  });

  test("where chooses elementwise and routes the gradient", () => {
    const a = tensor([1, 2, 3], { requiresGrad: true });
    const out = ag.where(tensor([1, 0, 1]), a, ag.mul(a, 10));
    expect(out.toArray()).toEqual([1, 20, 3]);
    ag.sum(out).backward();
    expect(a.grad!.toArray()).toEqual([1, 10, 1]);
  });
});

describe("creation and printing", () => {
  test("tensor from numbers, nested arrays and Float64Array", () => {
    expect(tensor(3).shape).toEqual([]);
    expect(tensor([[1, 2, 3]]).shape).toEqual([1, 3]);
    const t = tensor(new Float64Array([1, 2, 3, 4]), { shape: [2, 2] });
    expect(t.toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(t.dtype).toBe("float64");
    expect(t.ndim).toBe(2);
    expect(t.size).toBe(4);
    expect(tensor([]).shape).toEqual([0]);
  });
  test("zeros, ones, full, arange, eye", () => {
    expect(ag.zeros([2, 1]).toArray()).toEqual([[0], [0]]);
    expect(ag.ones([2]).toArray()).toEqual([1, 1]);
    expect(ag.full([1, 2], 7).toArray()).toEqual([[7, 7]]);
    expect(ag.arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(ag.eye(2, 3).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
  });
  test("toString is numpy-like", () => {
    expect(
      tensor([
        [1, 2.5],
        [3, 4],
      ]).toString(),
    ).toBe("tensor([[1., 2.5],\n        [3., 4.]])");
    expect(tensor(2, { requiresGrad: true }).toString()).toBe("tensor(2., requiresGrad=true)");
    // a computed tensor names the op that made it, as PyTorch's grad_fn
    expect(ag.tanh(tensor([0], { requiresGrad: true })).toString()).toBe("tensor([0.], gradFn=<tanh>)");
    // an empty tensor shows its shape
    expect(ag.zeros([0, 3]).toString()).toBe("tensor([], shape=[0, 3])");
    expect(tensor([]).toString()).toBe("tensor([], shape=[0])");
  });

  test("prints as toString() under console.log (util.inspect), not its internal fields", () => {
    const t = tensor([[1, 2.5]]);
    expect(inspect(t)).toBe("tensor([[1., 2.5]])");
    expect(inspect({ weight: t })).toBe("{ weight: tensor([[1., 2.5]]) }");
  });

  test("elides long axes as numpy does", () => {
    expect(ag.arange(10).toString()).toBe("tensor([0., 1., 2., ..., 7., 8., 9.])");
    expect(ag.arange(8).reshape([2, 2, 2]).toString()).toBe(
      "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])",
    );
  });
});

describe("fused activation backwards", () => {
  test("reluGrad(g, x) is mul(g, greater(x, 0)) bit for bit (0 at the kink and at NaN in x)", () => {
    const x = tensor([-2, -0, 0, 1e-300, 3, Number.NaN]);
    const g = tensor([1.5, 2.5, -3, 4, -0.25, 7]);
    expect(Array.from(ag.reluGrad(g, x).data)).toEqual([0, 0, -0, 4, -0.25, 0]);
    expect(Array.from(ag.reluGrad(g, x).data)).toEqual(Array.from(ag.mul(g, ag.greater(x, 0)).data));
    // relu's own gradient goes through it
    const leaf = tensor([-1, 2], { requiresGrad: true });
    ag.sum(ag.mul(ag.relu(leaf), tensor([5, 7]))).backward();
    expect(Array.from(leaf.grad!.data)).toEqual([0, 7]);
    expect(() => ag.reluGrad(tensor([1, 2]), tensor([1]))).toThrow(
      "reluGrad: g has shape [2] but x has shape [1]; expected the same shape",
    );
  });
});

/** Tape semantics, as PyTorch users expect them: recording, accumulation, grad mode, deep graphs. */

import { add, enableGrad, isGradEnabled, mul, noGrad, square, sum, tanh, tensor } from "@tapegrad/autograd";
import { describe, expect, test } from "vitest";

describe("recording", () => {
  test("an op is recorded only when grad mode is on and an input requires grad", () => {
    const a = tensor([1, 2]);
    const w = tensor([3, 4], { requiresGrad: true });
    expect(mul(a, a).requiresGrad).toBe(false);
    expect(mul(a, a).isLeaf).toBe(true);
    expect(mul(a, w).requiresGrad).toBe(true);
    expect(mul(a, w).isLeaf).toBe(false);
    expect(noGrad(() => mul(a, w)).requiresGrad).toBe(false);
  });

  test("noGrad and enableGrad are scoped and restore the mode even when fn throws", () => {
    expect(isGradEnabled()).toBe(true);
    expect(() =>
      noGrad(() => {
        expect(isGradEnabled()).toBe(false);
        enableGrad(() => expect(isGradEnabled()).toBe(true));
        expect(isGradEnabled()).toBe(false);
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(isGradEnabled()).toBe(true);
    const w = tensor([1], { requiresGrad: true });
    expect(noGrad(() => enableGrad(() => mul(w, 2))).requiresGrad).toBe(true);
  });
});

describe("backward", () => {
  test("a tensor used twice receives both contributions", () => {
    const x = tensor([1.5, -2], { requiresGrad: true });
    sum(mul(x, x)).backward();
    expect(Array.from(x.grad!.data)).toEqual([3, -4]); // d Σx² = 2x
  });

  test("leaf gradients accumulate across calls until zeroGrad", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    sum(mul(x, 2)).backward();
    sum(mul(x, 3)).backward();
    expect(Array.from(x.grad!.data)).toEqual([5, 5, 5]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
    sum(x).backward();
    expect(Array.from(x.grad!.data)).toEqual([1, 1, 1]);
  });

  test("backward twice on the same graph adds the gradient twice", () => {
    const x = tensor([0.5], { requiresGrad: true });
    const y = sum(tanh(x));
    y.backward();
    y.backward();
    const d = 1 - Math.tanh(0.5) ** 2;
    expect(x.grad!.item()).toBeAllClose(2 * d, { rtol: 0, atol: 5e-16 });
  });

  test("only leaves keep .grad, unless retainGrad() was called", () => {
    const x = tensor([2], { requiresGrad: true });
    const h = mul(x, 3);
    const k = mul(x, 5).retainGrad();
    sum(mul(h, k)).backward(); // 15x²
    expect(h.grad).toBeNull();
    expect(k.grad!.item()).toBe(6); // d/dk (h·k) = h = 3x
    expect(x.grad!.item()).toBe(60); // 30x
  });

  test("a scalar is seeded with 1; a non-scalar needs a seed of its own shape", () => {
    const x = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    expect(() => mul(x, 2).backward()).toThrow(
      "backward: a seed gradient is required for a non-scalar output of shape [2, 2]",
    );
    expect(() => mul(x, 2).backward(tensor([1, 1]))).toThrow(
      "backward: the seed gradient has shape [2], expected the output's shape [2, 2]",
    );
    mul(x, 2).backward(
      tensor([
        [1, 0],
        [0, 10],
      ]),
    );
    expect(x.grad!.toArray()).toEqual([
      [2, 0],
      [0, 20],
    ]);
  });

  test("backward on a tensor that does not require grad says why", () => {
    expect(() => sum(tensor([1, 2])).backward()).toThrow("backward: this tensor does not require grad");
  });

  test("detach cuts the graph", () => {
    const x = tensor([3], { requiresGrad: true });
    sum(mul(x, x.detach())).backward();
    expect(x.grad!.item()).toBe(3);
  });

  test("a chain of 100 000 ops does not overflow the stack", () => {
    const x = tensor([1], { requiresGrad: true });
    let y = x;
    for (let i = 0; i < 100_000; i++) y = mul(y, 1.00001);
    sum(y).backward();
    // d/dx (x·c^n) = c^n
    expect(x.grad!.item()).toBeAllClose(1.00001 ** 100_000, { rtol: 0, atol: 5e-9 });
  });

  test("createGraph makes .grad differentiable (second derivative of x³ is 6x)", () => {
    const x = tensor([0.7, -1.3], { requiresGrad: true });
    sum(mul(x, square(x))).backward({ createGraph: true });
    const g = x.grad!;
    expect(g.requiresGrad).toBe(true);
    expect(Array.from(g.data)).toEqual([3 * 0.7 ** 2, 3 * 1.3 ** 2].map((v) => v));
    x.zeroGrad();
    sum(g).backward();
    expect(x.grad!.data[0]).toBeAllClose(6 * 0.7, { rtol: 0, atol: 5e-15 });
    expect(x.grad!.data[1]).toBeAllClose(6 * -1.3, { rtol: 0, atol: 5e-15 });
  });

  test("gradients reach inputs through broadcasting with the input's own shape", () => {
    const W = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { requiresGrad: true },
    );
    const b = tensor([[10], [20]], { requiresGrad: true });
    const s = tensor(2, { requiresGrad: true });
    sum(mul(add(W, b), s)).backward();
    expect(b.grad!.shape).toEqual([2, 1]);
    expect(b.grad!.toArray()).toEqual([[6], [6]]); // 3 columns × s
    expect(s.grad!.shape).toEqual([]);
    expect(s.grad!.item()).toBe(21 + 90); // Σ(W + b)
  });
});

import { add, mul, sum, type Tensor, tanh, tensor } from "@tapegrad/autograd";
import { expect, test } from "vitest";

test("a hook sees the gradient once all contributions are summed", () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const seen: number[][] = [];
  x.registerHook((g) => {
    seen.push(Array.from(g.data));
  });
  // x is used twice: d/dx (3x + x²) = 3 + 2x
  sum(add(mul(x, 3), mul(x, x))).backward();
  expect(seen).toEqual([[5, 7]]);
  expect(Array.from(x.grad!.data)).toEqual([5, 7]);
});

test("a hook can replace the gradient; on an intermediate, the replacement flows upstream", () => {
  const x = tensor([0.5, -1], { requiresGrad: true });
  const h = tanh(x);
  h.registerHook((g) => mul(g, 10));
  sum(h).backward();
  // d tanh = 1 − tanh², scaled by the hook
  expect(x.grad!.data[0]!).toBeAllClose(10 * (1 - Math.tanh(0.5) ** 2), { rtol: 0, atol: 5e-13 });
  expect(x.grad!.data[1]!).toBeAllClose(10 * (1 - Math.tanh(-1) ** 2), { rtol: 0, atol: 5e-13 });
});

test("hooks run in order; removing one stops it", () => {
  const x = tensor([1], { requiresGrad: true });
  const order: string[] = [];
  const removeA = x.registerHook((g: Tensor) => {
    order.push("a");
    return mul(g, 2);
  });
  x.registerHook((g: Tensor) => {
    order.push(`b:${g.item()}`);
  });
  mul(x, 3).backward();
  expect(order).toEqual(["a", "b:6"]);
  expect(x.grad!.item()).toBe(6);
  removeA();
  x.zeroGrad();
  order.length = 0;
  mul(x, 3).backward();
  expect(order).toEqual(["b:3"]);
  expect(x.grad!.item()).toBe(3);
});

test("a hook returning the wrong shape, or a hook on a tensor without grad, is an error", () => {
  const x = tensor([1, 2], { requiresGrad: true });
  x.registerHook(() => tensor([1]));
  expect(() => sum(x).backward()).toThrow(
    "registerHook: a hook returned a gradient of shape [1] for a tensor of shape [2]",
  );
  expect(() => tensor([1]).registerHook(() => {})).toThrow("registerHook: cannot register a hook");
});

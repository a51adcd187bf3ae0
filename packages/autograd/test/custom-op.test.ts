import {
  add,
  defineOp,
  grad,
  gradcheck,
  isGradEnabled,
  mul,
  neg,
  sigmoid,
  sub,
  sum,
  type Tensor,
  tensor,
  transpose,
} from "@tapegrad/autograd";
import { describe, expect, test } from "vitest";

const sig = (x: number): number => 1 / (1 + Math.exp(-x));

// swish(x) = x·σ(x); d/dx = σ + x·σ(1 − σ) = σ + out·(1 − σ)
const swish = defineOp({
  name: "swish",
  forward: (x) => mul(x, sigmoid(x)),
  backward: (g, [x], out) => {
    const s = sigmoid(x!);
    return [mul(g, add(s, mul(out, sub(1, s))))];
  },
});

const x24 = tensor([
  [0.5, -1.2, 2, 0.1],
  [-0.3, 0.8, -2.5, 1.4],
]);

describe("defineOp", () => {
  test("a correct op passes gradcheck and matches the closed form", () => {
    expect(gradcheck(swish, [x24]).ok).toBe(true);
    const g = grad((x: Tensor) => sum(swish(x)))(x24);
    for (let i = 0; i < x24.size; i++) {
      const v = x24.data[i]!;
      expect(g.data[i]!).toBeAllClose(sig(v) + v * sig(v) * (1 - sig(v)), { rtol: 0, atol: 5e-13 });
    }
  });

  test("its backward is differentiable: swish″ = σ(1 − σ)(2 + x(1 − 2σ))", () => {
    for (const v of [-1.5, 0, 0.7]) {
      const s = sig(v);
      expect(grad(grad(swish))(v).item()).toBeAllClose(s * (1 - s) * (2 + v * (1 - 2 * s)), {
        rtol: 0,
        atol: 5e-13,
      });
    }
  });

  test("forward runs under noGrad; a node is recorded only when grad mode is on and an input requires grad", () => {
    let gradModeInside: boolean | null = null;
    const spy = defineOp({
      name: "spy",
      forward: (x) => {
        gradModeInside = isGradEnabled();
        return mul(x, 2);
      },
      backward: (g) => [mul(g, 2)],
    });
    expect(spy(tensor([1])).requiresGrad).toBe(false);
    expect(gradModeInside).toBe(false);
    const leaf = tensor([1, 2], { requiresGrad: true });
    const y = spy(leaf);
    expect(y.requiresGrad).toBe(true);
    sum(y).backward();
    expect(Array.from(leaf.grad!.data)).toEqual([2, 2]);
  });

  test("a forward that returns an input as is still gets its own node", () => {
    const identity = defineOp({ name: "identity", forward: (x) => x, backward: (g) => [g] });
    const leaf = tensor([3], { requiresGrad: true });
    const y = identity(leaf);
    expect(y).not.toBe(leaf);
    expect(leaf.isLeaf).toBe(true);
    mul(y, 5).backward();
    expect(leaf.grad!.item()).toBe(5);
  });

  test("numbers are accepted as 0-d inputs", () => {
    expect(swish(0).item()).toBe(0);
  });

  test("forward returning a non-Tensor is an error naming the op", () => {
    const bad = defineOp({ name: "bad", forward: () => 3 as unknown as Tensor, backward: (g) => [g] });
    expect(() => bad(tensor([1]))).toThrow(
      'forward of custom op "bad" must return a Tensor, got the number 3',
    );
  });
});

describe("mutated backwards are caught", () => {
  const square = (name: string, backward: (g: Tensor, x: Tensor) => (Tensor | null)[] | unknown) =>
    defineOp({
      name,
      forward: (x) => mul(x, x),
      backward: (g, [x]) => backward(g, x!) as (Tensor | null)[],
    });

  test("×2: a factor-of-two error", () => {
    const doubled = square("doubled", (g, x) => [mul(g, mul(x, 4))]);
    const report = gradcheck(doubled, [x24]);
    expect(report.ok).toBe(false);
    expect(report.inputs[0]!.diagnosis).toContain("analytic = 2 × numeric: a factor-of-two error");
  });

  test("sign flip", () => {
    const flipped = square("flipped", (g, x) => [neg(mul(g, mul(x, 2)))]);
    const report = gradcheck(flipped, [x24]);
    expect(report.ok).toBe(false);
    expect(report.inputs[0]!.diagnosis).toContain("the sign is flipped");
  });

  test("transposed: y = X·C elementwise with a backward that transposes", () => {
    const C = tensor([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]);
    const scaleT = defineOp({
      name: "scale",
      forward: (X) => mul(X, C),
      backward: (g) => [transpose(mul(g, C))],
    });
    const X = tensor([
      [0.1, 0.2, 0.3],
      [0.4, 0.5, 0.6],
      [0.7, 0.8, 0.9],
    ]);
    const report = gradcheck(scaleT, [X]);
    expect(report.ok).toBe(false);
    expect(report.inputs[0]!.diagnosis).toContain("transposed");
  });

  test("wrong shape: an error naming the op, the input and both shapes", () => {
    // A backward that sums over the batch axis as if the input were a bias.
    const wrongSwish = defineOp({
      name: "swish",
      forward: (Z) => mul(Z, sigmoid(Z)),
      backward: (g, [Z], out) => [sum(mul(g, add(sigmoid(Z!), mul(out, sub(1, sigmoid(Z!))))), 1, true)],
    });
    const Z = tensor(
      Array.from({ length: 4 }, (_, i) => Array.from({ length: 400 }, (_, j) => (i - j / 200) / 4)),
      { requiresGrad: true },
    );
    expect(() => sum(wrongSwish(Z)).backward()).toThrow(
      'backward of custom op "swish": gradient for input 0 has shape [4, 1], input has shape [4, 400]',
    );
    expect(Z.grad).toBeNull();
  });

  test("wrong count, non-array and non-Tensor gradients are errors naming the op", () => {
    const pair = (backward: (g: Tensor) => unknown) =>
      defineOp({ name: "swish", forward: (a, b) => mul(a, b), backward: backward as () => Tensor[] });
    const a = tensor([1, 2], { requiresGrad: true });
    expect(() => sum(pair((g) => [g])(a, a)).backward()).toThrow(
      'backward of custom op "swish": returned 1 gradient for 2 inputs',
    );
    expect(() => sum(pair((g) => g)(a, a)).backward()).toThrow(
      'backward of custom op "swish" must return an array with one gradient (a Tensor or null) per input, got a Tensor of shape [2]',
    );
    expect(() => sum(pair((g) => [g, 2])(a, a)).backward()).toThrow(
      'backward of custom op "swish": gradient for input 1 is the number 2, expected a Tensor or null',
    );
  });

  test("check: true gradchecks the first call and throws the report", () => {
    const doubled = defineOp({
      name: "doubled",
      forward: (x) => mul(x, x),
      backward: (g, [x]) => [mul(g, mul(x!, 4))],
      check: true,
    });
    expect(() => doubled(x24)).toThrow(/custom op "doubled".*\n.*gradcheck: FAILED[\s\S]*factor-of-two/);
    const checked = defineOp({
      name: "swish",
      forward: (x) => mul(x, sigmoid(x)),
      backward: (g, [x], out) => [mul(g, add(sigmoid(x!), mul(out, sub(1, sigmoid(x!)))))],
      check: true,
    });
    expect(Array.from(checked(x24).data)).toEqual(Array.from(swish(x24).data));
  });
});

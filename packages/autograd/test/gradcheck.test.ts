import {
  abs,
  add,
  assertGradients,
  broadcastTo,
  defineOp,
  diagnoseMismatch,
  div,
  gradcheck,
  log,
  matmul,
  maximum,
  mean,
  mul,
  numericGradient,
  relativeDifference,
  relu,
  softmax,
  square,
  sum,
  type Tensor,
  tanh,
  tensor,
  transpose,
  zeros,
} from "@tapegrad/autograd";
import { arbTensor } from "@tapegrad/autograd/testing";
import fc from "fast-check";
import { describe, expect, test } from "vitest";

describe("the course's tools", () => {
  // J(θ) = θ·x with x = 2: dJ/dθ = 2 at θ = 4.
  const x = 2;
  const J = (theta: Tensor): Tensor => mul(theta, x);

  test("a right gradient is within 2e-7 of the numeric one", () => {
    const numeric = numericGradient(J, 4, { eps: 1e-7 });
    const difference = relativeDifference(2, numeric);
    expect(difference).toBeLessThan(2e-7);
    expect(difference).toBeLessThan(1e-8); // about 3e-10 in float64
  });

  test("a wrong gradient is not", () => {
    const numeric = numericGradient(J, 4, { eps: 1e-7 });
    expect(relativeDifference(2.001, numeric)).toBeGreaterThan(2e-7);
    expect(relativeDifference(4, numeric)).toBeAllClose(2 / 6, { rtol: 0, atol: 5e-7 }); // |4 − 2| / (4 + 2)
  });

  test("relativeDifference: ‖a − b‖ / (‖a‖ + ‖b‖), 0 for two zeros, NaN for NaN, shapes must match", () => {
    expect(relativeDifference(tensor([3, 0]), tensor([0, 4]))).toBeAllClose(5 / 7, { rtol: 0, atol: 5e-16 });
    expect(relativeDifference(zeros([2]), zeros([2]))).toBe(0);
    expect(relativeDifference(Number.NaN, 1)).toBeNaN();
    expect(() => relativeDifference(tensor([1, 2]), tensor([[1, 2]]))).toThrow(
      "relativeDifference: shapes [2] and [1, 2] differ",
    );
  });

  test("numericGradient works elementwise and accepts f returning a number", () => {
    const g = numericGradient((t) => t.data[0]! ** 2 + 3 * t.data[1]!, tensor([1.5, -2]));
    expect(g.data[0]!).toBeAllClose(3, { rtol: 0, atol: 5e-7 });
    expect(g.data[1]!).toBeAllClose(3, { rtol: 0, atol: 5e-7 });
    expect(() => numericGradient((t) => t, tensor([1, 2]))).toThrow(
      "numericGradient: f must return a number or a scalar Tensor, got shape [2]",
    );
  });
});

describe("gradcheck", () => {
  const W = tensor([
    [0.2, -0.5, 0.1],
    [0.7, 0.3, -0.4],
  ]);
  const X = tensor([
    [1, -0.5],
    [0.3, 0.8],
    [-1.2, 0.4],
  ]);

  test("passes on a correct composition, with a non-scalar output (random fixed weights)", () => {
    const report = gradcheck((w, x) => tanh(matmul(w, x)), [W, X], { names: ["W", "X"] });
    expect(report.ok).toBe(true);
    expect(report.relativeDifference).toBeLessThan(1e-9);
    expect(report.inputs.map((r) => r.name)).toEqual(["W", "X"]);
    expect(report.inputs.every((r) => r.diagnosis === null)).toBe(true);
  });

  test("the report is a table: one row per input with shape, differences, worst element, diagnosis", () => {
    const doubled = defineOp({
      name: "doubled",
      forward: (w) => mul(w, w),
      backward: (g, [w]) => [mul(g, mul(w!, 4))],
    });
    const report = gradcheck((w, x) => matmul(doubled(w), x), [W, X], { names: ["W", "X"] });
    const text = report.toString();
    const lines = text.split("\n");
    expect(lines[0]).toBe("gradcheck: FAILED for 1 of 2 inputs (rtol 1e-6, atol 1e-8)");
    expect(lines[1]).toMatch(/^input +shape +rel\. diff +max abs err +worst +analytic +numeric +diagnosis$/);
    expect(lines[2]).toMatch(/^✗ W +\[2, 3\] +3\.3e-1 .*factor-of-two/);
    expect(lines[3]).toMatch(/^✓ X +\[3, 2\] +\d\.\de-\d+/);
    expect(() => assertGradients((w, x) => matmul(doubled(w), x), [W, X])).toThrow("factor-of-two");
    expect(assertGradients((w, x) => matmul(w, x), [W, X]).ok).toBe(true);
  });

  // Each mutation below is a custom op whose backward carries one typical bug.
  const mutant = (backward: (g: Tensor, x: Tensor) => Tensor, forward = (x: Tensor) => x) =>
    defineOp({ name: "mutant", forward, backward: (g, [x]) => [backward(g, x!)] });

  test("missing 1/m: a mean's gradient without its 1/m", () => {
    // cost = mean over m = 5 examples; the backward forgets the 1/m.
    const cost = mutant(
      (g, z) => broadcastTo(g, z.shape),
      (z) => mean(z),
    );
    const report = gradcheck(cost, [tensor([[0.1, 0.4, -0.3, 0.8, 0.2]])]);
    expect(report.ok).toBe(false);
    expect(report.inputs[0]!.diagnosis).toContain("missing 1/m (m = 5)");
  });

  test("summed along the wrong axis", () => {
    const w = tensor([
      [1, 2, 3, 4],
      [-1, 0.5, 2, 1],
      [0.3, 0.2, -2, 1],
    ]);
    const scale = mutant(
      (g, x) => broadcastTo(sum(mul(g, w), 0, true), x.shape),
      (x) => mul(x, w),
    );
    const report = gradcheck(scale, [
      tensor([
        [0.1, 0.2, 0.3, 0.4],
        [0.5, 0.6, 0.7, 0.8],
        [0.9, 1, 1.1, 1.2],
      ]),
    ]);
    expect(report.inputs[0]!.diagnosis).toContain("summed along axis 0");
    expect(report.inputs[0]!.diagnosis).toContain("wrong axis");
  });

  test("an all-zero analytic gradient (a detached path)", () => {
    const detached = mutant(
      (g) => mul(g, 0),
      (x) => mul(x, 3),
    );
    expect(gradcheck(detached, [tensor([1, 2])]).inputs[0]!.diagnosis).toContain("all zeros");
    // An output that does not depend on its input through the tape at all.
    const report = gradcheck((x) => tensor(x.data.map((v) => v * v)), [tensor([1, 2])]);
    expect(report.inputs[0]!.analytic.shape).toEqual([2]);
    expect(report.inputs[0]!.diagnosis).toContain("all zeros");
  });

  test("NaN in the analytic gradient", () => {
    const nan = mutant(
      (g) => div(mul(g, 0), 0),
      (x) => mul(x, 3),
    );
    const report = gradcheck(nan, [tensor([1, 2])]);
    expect(report.ok).toBe(false);
    expect(report.inputs[0]!.maxAbsError).toBeNaN();
    expect(report.inputs[0]!.diagnosis).toContain("has NaN at [0]");
  });

  test("a kink: relu at 0 (numeric depends on the step), named with its one-sided slopes", () => {
    const report = gradcheck((x) => sum(relu(x)), [tensor([1, 0, -1])], { names: ["z"] });
    expect(report.ok).toBe(false);
    expect(report.inputs[0]!.kinks).toBe(1);
    expect(report.inputs[0]!.diagnosis).toContain("z[1]: f has a kink at 0");
    expect(report.inputs[0]!.diagnosis).toContain("one-sided slopes 0 left, 1 right");
    // Close to, but not at, the kink: still detected (the step crosses it).
    expect(gradcheck((x) => sum(abs(x)), [tensor([3e-5])]).inputs[0]!.diagnosis).toContain("kink");
    // Away from kinks: no false alarm.
    expect(gradcheck((x) => sum(relu(x)), [tensor([1, 0.01, -1])]).ok).toBe(true);
  });

  test("a correct gradient is never diagnosed, on many random inputs (smooth functions)", () => {
    fc.assert(
      fc.property(
        arbTensor({ shape: [2, 3], min: -2, max: 2 }),
        arbTensor({ shape: [3, 2], min: 0.5, max: 2 }),
        (a, b) => {
          const report = gradcheck(
            (a, b) => softmax(mul(matmul(a, b), log(add(square(matmul(transpose(b), transpose(a))), 1)))),
            [a, b],
          );
          if (!report.ok) throw new Error(report.toString());
        },
      ),
      { numRuns: 25 },
    );
  });

  test("relu/maximum away from their kinks pass (inputs generated away from 0)", () => {
    fc.assert(
      fc.property(
        arbTensor({ shape: [5], avoid: [0], avoidRadius: 1e-2 }),
        (x) => gradcheck((x) => sum(mul(relu(x), maximum(x, 0))), [x]).ok,
      ),
      { numRuns: 25 },
    );
  });
});

describe("diagnoseMismatch", () => {
  const N = tensor([
    [1, 2, 3],
    [4, 5, 6],
    [7, 8, 10],
  ]);

  test("null when they agree", () => {
    expect(diagnoseMismatch(N, N)).toBeNull();
  });

  test("a mismatch just above the threshold is described as small and spread, never as '0 elements differ'", () => {
    // every element off by 2e-6 relative (alternating signs): relative difference ≈ 1e-6 > 1e-7, no element > 1e-5
    const A = tensor(
      Float64Array.from(N.data, (v, i) => v * (1 + (i % 2 === 0 ? 2e-6 : -2e-6))),
      { shape: [3, 3] },
    );
    const d = diagnoseMismatch(A, N, { name: "dW" });
    expect(d).toContain("dW: a small mismatch spread over the elements");
    expect(d).not.toContain("0 of 9");
  });

  test("names the gradient and the worst element", () => {
    expect(diagnoseMismatch(mul(N, 2), N, { name: "dW1" })).toBe(
      "dW1: analytic = 2 × numeric: a factor-of-two error? (worst dW1[2, 2]: analytic 20, numeric 10)",
    );
  });

  test("constant ratios: ½, −1, ×m and ×1/m for a given size, a general constant", () => {
    expect(diagnoseMismatch(mul(N, 0.5), N)).toContain("missing factor of 2");
    expect(diagnoseMismatch(mul(N, -1), N)).toContain("sign is flipped");
    expect(diagnoseMismatch(mul(N, 400), N, { sizes: [400] })).toContain("missing 1/m (m = 400)");
    expect(diagnoseMismatch(div(N, 400), N, { sizes: [400] })).toContain("an extra factor 1/m (m = 400)");
    expect(diagnoseMismatch(mul(N, 3), N)).toContain("missing 1/m (m = 3)"); // 3 is an axis length
    expect(diagnoseMismatch(mul(N, 1.7), N)).toContain("×1.7");
  });

  test("transposed, for square and non-square matrices", () => {
    expect(diagnoseMismatch(transpose(N), N)).toContain("transposed");
    const R = tensor([
      [1, 2, 3],
      [4, 5, 7],
    ]);
    const readAsOther = tensor(transpose(R).data, { shape: [2, 3] });
    expect(diagnoseMismatch(readAsOther, R)).toContain("transposed (read as [3, 2])");
  });

  test("an axis sum where none belongs, and a sum that is missing", () => {
    expect(diagnoseMismatch(broadcastTo(sum(N, 1, true), [3, 3]), N)).toContain("summed along axis 1");
    expect(diagnoseMismatch(broadcastTo(mean(N, 0, true), [3, 3]), N)).toContain("averaged along axis 0");
    const A = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(diagnoseMismatch(A, broadcastTo(sum(A, 0, true), [2, 2]))).toContain("was not summed over axis 0");
  });

  test("zeros where numeric is not, non-finite values, shapes, and no pattern", () => {
    expect(diagnoseMismatch(zeros([3, 3]), N)).toContain("all zeros");
    const masked = tensor([
      [1, 2, 3],
      [0, 5, 6],
      [7, 0, 10],
    ]);
    expect(diagnoseMismatch(masked, N)).toContain("0 at 2 of 9 elements");
    expect(diagnoseMismatch(tensor([1, Number.POSITIVE_INFINITY]), tensor([1, 2]), { name: "db" })).toContain(
      "db: the analytic gradient has Infinity at [1]",
    );
    expect(diagnoseMismatch(tensor([[1, 2]]), tensor([1, 2]))).toContain("has shape [1, 2], expected [2]");
    expect(diagnoseMismatch(tensor([1, 5, 3]), tensor([1, 2, 3]))).toContain(
      "1 of 3 elements differ, with no simple pattern (not a constant factor, transpose or axis sum) (worst gradient[1]: analytic 5, numeric 2)",
    );
  });
});

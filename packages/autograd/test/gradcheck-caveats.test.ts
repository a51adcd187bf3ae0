/**
 * @file The checkers' caveats: gradcheck warns when both gradients are ~0, reports a broken backward per
 * input, samples large inputs (and says so); numericGradient's verdicts account for the noise of its ε;
 * defineOp's check names inputs where names are known.
 */
import {
  add,
  checkDerivation,
  defineOp,
  diagnoseMismatch,
  div,
  gradcheck,
  matmul,
  mean,
  mul,
  numericGradient,
  RandomState,
  relativeDifference,
  sqrt,
  square,
  sub,
  sum,
  type Tensor,
  tanh,
  tensor,
} from "@tapegrad/autograd";
import { describe, expect, test } from "vitest";

const rng = new RandomState(11);
const batchNorm = (x: Tensor): Tensor => {
  const xc = sub(x, mean(x, 0, true));
  return div(xc, sqrt(add(mean(square(xc), 0, true), 1e-5)));
};

describe("gradcheck: both gradients ~0", () => {
  const x = rng.randn(5, 3);
  test("the plain sum of a batch-norm output passes, with a warning that it proved nothing", () => {
    const report = gradcheck((t) => sum(batchNorm(t)), [x], { names: ["x"] });
    expect(report.ok).toBe(true);
    expect(report.inputs[0]!.warning).toContain("x: both gradients are ~0");
    expect(String(report)).toContain(
      "warning: x: both gradients are ~0 (every |analytic| and |numeric| ≤ 1e-8): f does not depend on this input here, so the check proves nothing",
    );
  });
  test("a weighted loss gets no warning", () => {
    const R = rng.randn(5, 3);
    const report = gradcheck((t) => sum(mul(batchNorm(t), R)), [x]);
    expect(report.ok).toBe(true);
    expect(report.warnings).toEqual([]);
  });
});

describe("numericGradient's noise", () => {
  // J(θ) = 1000 + ½‖θ‖²: ∇J = θ. f ≈ 1000 rounds at ~1e-13, over 2ε = 2e-7: ~5e-7 of noise per element.
  const theta = tensor([0.3, -0.7, 1.1, 0.05]);
  const J = (t: Tensor) => add(mul(sum(square(t)), 0.5), 1000);
  test("a right gradient within the finite-difference noise of ε = 1e-7 is not called a mismatch", () => {
    const numeric = numericGradient(J, theta, { eps: 1e-7 });
    expect(relativeDifference(theta, numeric)).toBeGreaterThan(1e-7); // the course's threshold alone would fail it
    expect(diagnoseMismatch(theta, numeric, { name: "dθ" })).toBeNull();
    // The same numbers without their provenance: the old verdict.
    expect(diagnoseMismatch(theta, tensor(Array.from(numeric.data)), { name: "dθ" })).toContain(
      "dθ: a small mismatch",
    );
  });
  test("a gradient wrong by 1e-4 relative still is", () => {
    const numeric = numericGradient(J, theta, { eps: 1e-7 });
    expect(diagnoseMismatch(mul(theta, 1.0001), numeric, { name: "dθ" })).not.toBeNull();
  });
});

describe("gradcheck with a backward that breaks its contract", () => {
  const bad = defineOp({
    name: "scaleBy",
    forward: (x, w) => mul(x, w),
    backward: (g, [x, w]) => [mul(g, w!), sum(mul(g, x!), 0, true)], // w's gradient keeps a [1, n] shape
  });
  test("the input whose gradient breaks it fails with the error; the others are still checked", () => {
    const x = rng.randn(3, 2);
    const w = rng.randn(3, 2);
    const report = gradcheck((a, b) => sum(bad(a, b)), [x, w], { names: ["x", "w"] });
    expect(report.inputs.map((r) => r.ok)).toEqual([true, false]);
    expect(report.inputs[1]!.diagnosis).toContain(
      'w: the backward threw: backward of custom op "scaleBy": gradient for input 1 has shape [1, 2], input has shape [3, 2]',
    );
  });
});

describe("defineOp({ check: true })", () => {
  test("names the inputs where known: inputNames, or the name checkDerivation gave", () => {
    const wrong = () =>
      defineOp({
        name: "square3",
        forward: (x) => mul(square(x), 3),
        backward: (g, [x]) => [mul(g, mul(x!, 3))], // should be 6x
        check: true,
        inputNames: ["x"],
      });
    expect(() => wrong()(tensor([1, 2]).reshape([2]))).toThrow("✗ square3 input 0 (x)");
    const unnamed = defineOp({
      name: "cubeish",
      forward: (x) => mul(square(x), 3),
      backward: (g, [x]) => [mul(g, mul(x!, 3))],
      check: true,
    });
    expect(() =>
      checkDerivation(
        (p: { W: Tensor }, name) => sum(unnamed(name("Z1", matmul(p.W, tensor([[1], [2]]))))),
        { W: tensor([[0.5, -1]]) },
        () => ({}),
      ),
    ).toThrow("✗ cubeish input 0 (Z1)");
  });

  test("a large input is checked on a bounded random sample, and the report says so", () => {
    const x = rng.randn(300, 100);
    const op = (factor: number) =>
      defineOp({
        name: "tanh2",
        forward: (t) => tanh(t),
        backward: (g, [_t], out) => [mul(g, mul(sub(1, square(out)), factor))],
        check: true,
      });
    // Right: passes (4 × 200 forward calls, not 4 × 30 000).
    expect(op(1)(x.detach()).shape).toEqual([300, 100]);
    let message = "";
    try {
      op(2)(x.detach());
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain("disagrees with finite differences");
    expect(message).toContain("tanh2 input 0: checked 200 of 30000 elements (a random sample");
  });
});

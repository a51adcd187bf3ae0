/**
 * @file checkBackprop outside its scope: another network's parameters point to checkDerivation, and a
 * backward built for another activation is named as such instead of blamed.
 */
import { RandomState, tensor } from "@tapegrad/autograd";
import { backwardPropagation, checkBackprop, initializeParameters } from "@tapegrad/nn";
import { describe, expect, test } from "vitest";

const rng = new RandomState(5);
const X = rng.randn(2, 6);
const Y = tensor([[1, 0, 1, 0, 0, 1]]);

describe("checkBackprop given another network", () => {
  test("a third layer: it checks only the course's W1, b1, W2, b2 and points to checkDerivation", () => {
    const params = { ...initializeParameters(2, 4, 1), W3: rng.randn(1, 1), b3: tensor([[0]]) };
    expect(() => checkBackprop(params, X, Y)).toThrow(
      "checkBackprop: the parameters have W3, b3: checkBackprop checks only W1, b1, W2, b2 of the course's two-layer network; for any other network (more layers, regularisation, another cost) use checkDerivation from @tapegrad/autograd",
    );
  });
  test("a middle layer's W2 [3, 4]: the shape error, then the same pointer", () => {
    const params = { W1: rng.randn(4, 2), b1: rng.randn(4, 1), W2: rng.randn(3, 4), b2: rng.randn(3, 1) };
    expect(() => checkBackprop(params, X, Y)).toThrow(
      /W2 has shape \[3, 4\] but Y has 1 rows.* — checkBackprop checks only W1, b1, W2, b2 .* use checkDerivation/,
    );
  });
});

describe("a relu backward checked as tanh (the default)", () => {
  const params = initializeParameters(2, 4, 1, { seed: 3 });
  const reluBackward: Parameters<typeof checkBackprop>[3] = (p, cache, x, y) =>
    backwardPropagation(p, cache, x, y, { activation: "relu" });

  test("dZ1 is said to match relu's g′, with the option to pass", () => {
    const check = checkBackprop(params, X, Y, reluBackward);
    expect(check.firstMismatch).toBe("dZ1");
    expect(check.equations.dZ1.diagnosis).toBe(
      'dZ1 matches relu\'s g′, but checkBackprop checked against tanh (the default): is the network\'s activation "relu"? Pass { activation: "relu" } to checkBackprop',
    );
  });
  test("with the activation passed, it agrees", () => {
    expect(checkBackprop(params, X, Y, reluBackward, { activation: "relu" }).ok).toBe(true);
  });
});

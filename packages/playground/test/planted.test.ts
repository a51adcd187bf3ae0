/**
 * @file The playground's model in Node: the planted backward pass is the library's when nothing is
 * planted, checkBackprop marks exactly the equation each typo breaks (and none for the update typo), and
 * the trainer reproduces the course's published costs.
 */
import { noGrad, tensor } from "@tapegrad/autograd";
import {
  backwardPropagation,
  checkBackprop,
  EQUATIONS,
  forwardPropagation,
  initializeParameters,
  loadPlanarDataset,
  nnModel,
} from "@tapegrad/nn";
import { describe, expect, it } from "vitest";
import { NO_TYPOS, plantedBackward, plantedUpdate } from "../src/planted.js";
import { ACTIVATIONS, checkConfig, DEFAULT_CONFIG, Trainer } from "../src/trainer.js";

const { X, Y } = loadPlanarDataset();
// parameters a little way into training (the initial ones are tiny and nearly symmetric)
const trained = nnModel(X, Y, 4, { numIterations: 50 }).parameters;

function bits(a: Float64Array): string[] {
  return Array.from(a, (v) => v.toString());
}

describe("plantedBackward", () => {
  it.each(ACTIVATIONS)("with no typo is backwardPropagation bit for bit (%s)", (activation) => {
    const { cache } = noGrad(() => forwardPropagation(X, trained, { activation }));
    const want = backwardPropagation(trained, cache, X, Y, { activation });
    const got = plantedBackward(NO_TYPOS)(trained, cache, X, Y, { activation });
    for (const name of EQUATIONS) expect(bits(got[name].data)).toEqual(bits(want[name].data));
  });

  it.each(ACTIVATIONS)(
    "g instead of g′: checkBackprop marks dZ1 alone, with the notes' typo named (%s)",
    (activation) => {
      const check = checkBackprop(trained, X, Y, plantedBackward({ ...NO_TYPOS, gPrime: true }), {
        activation,
      });
      expect(EQUATIONS.filter((n) => !check.equations[n].ok)).toEqual(["dZ1"]);
      expect(check.equations.dZ1.diagnosis).toMatch(/g\(Z1\) = A1 where its derivative g′\(Z1\) belongs/);
    },
  );

  it("dW2 without 1/m: checkBackprop marks dW2 alone, as a missing 1/m", () => {
    const check = checkBackprop(trained, X, Y, plantedBackward({ ...NO_TYPOS, dW2: true }));
    expect(EQUATIONS.filter((n) => !check.equations[n].ok)).toEqual(["dW2"]);
    expect(check.equations.dW2.diagnosis).toMatch(/missing 1\/m \(m = 400\)/);
  });

  it("the update typo leaves the six equations right (checkBackprop cannot see it)", () => {
    const check = checkBackprop(trained, X, Y, plantedBackward({ ...NO_TYPOS, update: true }));
    expect(check.ok).toBe(true);
  });
});

describe("plantedUpdate", () => {
  const params = {
    W1: tensor([[0.5, -2]]),
    b1: tensor([[0.25]]),
    W2: tensor([[3]]),
    b2: tensor([[-1]]),
  };
  const grads = { dW1: tensor([[1, 1]]), db1: tensor([[2]]), dW2: tensor([[-4]]), db2: tensor([[0.5]]) };

  it("is θ − α·dθ without the typo", () => {
    const next = plantedUpdate(params, grads, 0.5, NO_TYPOS);
    expect(Array.from(next.W1.data)).toEqual([0, -2.5]);
    expect(Array.from(next.b1.data)).toEqual([-0.75]);
    expect(Array.from(next.W2.data)).toEqual([5]);
    expect(Array.from(next.b2.data)).toEqual([-1.25]);
  });

  it("is the notes' θ − α·θ with it: the gradients are ignored", () => {
    const next = plantedUpdate(params, grads, 0.5, { ...NO_TYPOS, update: true });
    expect(Array.from(next.W1.data)).toEqual([0.25, -1]);
    expect(Array.from(next.b1.data)).toEqual([0.125]);
    expect(Array.from(next.W2.data)).toEqual([1.5]);
    expect(Array.from(next.b2.data)).toEqual([-0.5]);
  });
});

describe("Trainer", () => {
  it("reproduces the course's printed costs (0.693048 at iteration 0, 0.288083 at 1000)", () => {
    const trainer = new Trainer();
    trainer.run(1001);
    expect(trainer.costs[0]!.toFixed(6)).toBe("0.693048");
    expect(trainer.costs[1000]!.toFixed(6)).toBe("0.288083");
    expect(trainer.accuracy()).toBeGreaterThanOrEqual(85);
    expect(trainer.check().firstMismatch).toBeNull();
  });

  it("trains with the six equations exactly as nnModel does", () => {
    const trainer = new Trainer({ ...DEFAULT_CONFIG, hiddenUnits: 5, activation: "relu" });
    trainer.run(30);
    const want = nnModel(X, Y, 5, { numIterations: 30, activation: "relu" }).parameters;
    for (const key of ["W1", "b1", "W2", "b2"] as const) {
      expect(bits(trainer.params[key].data)).toEqual(bits(want[key].data));
    }
  });

  it("with the update typo, the cost goes to ln 2 and the accuracy to a coin's: (1 − α)ᵏθ → 0", () => {
    const trainer = new Trainer({ ...DEFAULT_CONFIG, typos: { ...NO_TYPOS, update: true } });
    trainer.run(200);
    expect(Math.abs(trainer.cost() - Math.LN2)).toBeLessThan(1e-9);
    expect(trainer.accuracy()).toBeLessThan(60);
  });

  it("with dW2 missing its 1/m, the six equations train badly and the tape does not care", () => {
    const typos = { ...NO_TYPOS, dW2: true };
    const equations = new Trainer({ ...DEFAULT_CONFIG, typos });
    const tape = new Trainer({ ...DEFAULT_CONFIG, typos, gradients: "tape" });
    equations.run(1000);
    tape.run(1000);
    // the step on W2 is 400 times too long: the cost jumps about or becomes NaN (a saturated sigmoid)
    expect(equations.costs.some((c) => !(c < 1))).toBe(true);
    expect(Math.max(...tape.costs)).toBeLessThan(0.7);
    expect(tape.cost()).toBeLessThan(0.3);
  });

  it("resets on a new hidden size or activation, not on a new learning rate", () => {
    const trainer = new Trainer();
    trainer.run(3);
    expect(trainer.configure({ learningRate: 0.5 })).toBe(false);
    expect(trainer.iteration).toBe(3);
    expect(trainer.configure({ hiddenUnits: 7 })).toBe(true);
    expect(trainer.iteration).toBe(0);
    expect(trainer.params.W1.shape).toEqual([7, 2]);
    const init = initializeParameters(2, 7, 1, { seed: 2 });
    expect(bits(trainer.params.W1.data)).toEqual(bits(init.W1.data));
  });

  it("stops when the parameters blow up, says why, and gives no verdict on NaN gradients", () => {
    const trainer = new Trainer({
      ...DEFAULT_CONFIG,
      activation: "relu",
      hiddenUnits: 10,
      learningRate: 1e200,
    });
    trainer.run(50);
    expect(trainer.iteration).toBeLessThan(50);
    expect(trainer.diverged).toMatch(
      /^training diverged at iteration \d+ \(W1 has NaN or ±Infinity; .*lower the learning rate/,
    );
    expect(Number.isNaN(trainer.cost())).toBe(true);
    expect(() => trainer.check()).toThrow(/^no check of the six equations: training diverged/);
    trainer.configure({ learningRate: 1.2 });
    trainer.reset();
    expect(trainer.diverged).toBeNull();
    expect(trainer.check().firstMismatch).toBeNull();
  });

  it("rejects bad settings with the field named", () => {
    expect(() => checkConfig({ ...DEFAULT_CONFIG, hiddenUnits: 51 })).toThrow(
      "TrainerConfig: hiddenUnits must be an integer in [1, 50], got 51",
    );
    expect(() => checkConfig({ ...DEFAULT_CONFIG, hiddenUnits: 2.5 })).toThrow(/^TrainerConfig: hiddenUnits/);
    expect(() => checkConfig({ ...DEFAULT_CONFIG, learningRate: Number.NaN })).toThrow(
      /^TrainerConfig: learningRate must be a number in \[0, ∞\), got/,
    );
    expect(() => checkConfig({ ...DEFAULT_CONFIG, activation: "gelu" as never })).toThrow(
      /^TrainerConfig: activation must be one of "tanh", "relu", "sigmoid", "leakyRelu"/,
    );
  });
});

/**
 * @file The four checkDerivation examples: each correct derivation agrees with the tape equation by
 * equation, and each classic slip is caught at its own line with the words of its diagnosis.
 */
import { describe, expect, test } from "vitest";
import * as batchNorm from "../src/derivations/batch-norm.js";
import * as deepNetwork from "../src/derivations/deep-network.js";
import * as dropoutL2 from "../src/derivations/dropout-l2.js";
import * as softmaxCrossEntropy from "../src/derivations/softmax-cross-entropy.js";

const failing = (report: { equations: { name: string; ok: boolean }[] }) =>
  report.equations.filter((e) => !e.ok).map((e) => e.name);
const diagnosisOf = (report: { equations: { name: string; diagnosis: string | null }[] }, name: string) =>
  report.equations.find((e) => e.name === name)?.diagnosis ?? "";

describe("the L-layer deep network (the course's linear_backward, relu_backward, sigmoid_backward, L_model_backward)", () => {
  const lines: string[] = [];
  const { right, planted } = deepNetwork.run({ log: (l) => lines.push(l) });
  test("every gradient of L_model_backward agrees, in backward order", () => {
    expect(right.ok).toBe(true);
    expect(right.equations.map((e) => e.name)).toEqual([
      "dA3",
      "dZ3",
      "db3",
      "dW3",
      "dA2",
      "dZ2",
      "db2",
      "dW2",
      "dA1",
      "dZ1",
      "db1",
      "dA0",
      "dW1",
    ]);
  });
  test("sigmoid_backward's dA·s is caught at dZ3 only, as g for g′", () => {
    expect(failing(planted)).toEqual(["dZ3"]);
    expect(diagnosisOf(planted, "dZ3")).toBe(
      "dZ3: it multiplies by the activation sigmoid(Z3) where its derivative sigmoid′(Z3) belongs (g for g′)",
    );
    expect(lines.join("\n")).toContain(
      "1 of 13 gradients disagree with the tape; the first in backward order is dZ3",
    );
  });
});

describe("the same network with dropout and L2", () => {
  const { right, planted } = dropoutL2.run({ log: () => {} });
  test("the regularised backward agrees", () => expect(right.ok).toBe(true));
  test("the forgotten L2 term is named in every dW, with λ/m", () => {
    expect(failing(planted)).toEqual(["dW3", "dW2", "dW1"]);
    for (const l of [3, 2, 1]) {
      expect(diagnosisOf(planted, `dW${l}`)).toContain(
        `dW${l}: missing the L2 / weight-decay term (λ/m)·W${l}, with λ/m = 0.14?`,
      );
    }
  });
});

describe("batch-norm backward", () => {
  const { right, planted } = batchNorm.run({ log: () => {} });
  test("the classic derivation agrees", () => expect(right.ok).toBe(true));
  test("μ treated as a constant: a term the same for every example, the path through the mean", () => {
    expect(failing(planted)).toEqual(["dx"]);
    expect(diagnosisOf(planted, "dx")).toContain(
      "dx: a term that is the same for every example is missing: the path through a mean over axis 0 (batch norm's μ, a centring)? (expected − returned is constant along axis 0, length 8; the forward reduces over axis 0)",
    );
  });
});

describe("softmax–cross-entropy backward", () => {
  const { right, planted } = softmaxCrossEntropy.run({ log: () => {} });
  test("softmax − onehot(y) over N agrees", () => expect(right.ok).toBe(true));
  test("the forgotten −1 at the true class: one element per row, 1/N", () => {
    expect(failing(planted)).toEqual(["dscores"]);
    expect(diagnosisOf(planted, "dscores")).toContain(
      "dscores: a term at one element per row is missing: the −1 at the true class (softmax − onehot(y))? (expected − returned = −0.2 (= −1/5) at one element of each row)",
    );
  });
});

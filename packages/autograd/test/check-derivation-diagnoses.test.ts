/**
 * @file Every diagnosis of checkDerivation, proved by a mutation test: a correct backward passes, the
 * same backward with the classic slip planted fails at that gradient only, with the words asserted.
 */
import {
  add,
  checkDerivation,
  div,
  greater,
  log,
  logSoftmax,
  logsumexp,
  matmul,
  mean,
  mul,
  type NameFn,
  RandomState,
  relu,
  sigmoid,
  softmax,
  sqrt,
  square,
  sub,
  sum,
  type Tensor,
  tanh,
  tensor,
} from "@tapegrad/autograd";
import { describe, expect, test } from "vitest";

const rng = new RandomState(7);

/** The only failing equation of a report, with its diagnosis. */
function onlyFailure(report: ReturnType<typeof checkDerivation>): { name: string; diagnosis: string } {
  const bad = report.equations.filter((e) => !e.ok);
  expect(bad.map((e) => e.name)).toHaveLength(1);
  return { name: bad[0]!.name, diagnosis: bad[0]!.diagnosis! };
}

describe("logistic regression with L2: a missing or extra weight-decay term", () => {
  const m = 5;
  const lambda = 0.7; // λ/m = 0.14
  const X = rng.randn(2, m);
  const Y = tensor([[1, 0, 0, 1, 1]]);
  const inputs = { W: rng.randn(1, 2), b: tensor([[0.1]]) };
  const fwd = (p: typeof inputs, name: NameFn) => {
    const Z = name("Z", add(matmul(p.W, X), p.b));
    const A = sigmoid(Z);
    const ce = mul(sum(add(mul(Y, log(A)), mul(sub(1, Y), log(sub(1, A))))), -1 / m);
    return add(ce, mul(sum(square(p.W)), lambda / (2 * m)));
  };
  const back = (l2: number) => (v: typeof inputs & { Z: Tensor }) => {
    const dZ = mul(sub(sigmoid(v.Z), Y), 1 / m);
    return { dZ, dW: add(matmul(dZ, X.T), mul(v.W, l2 / m)), db: sum(dZ, 1, true) };
  };

  test("right with λ/m·W", () => expect(checkDerivation(fwd, inputs, back(lambda)).ok).toBe(true));
  test("missing: named with λ/m", () => {
    expect(onlyFailure(checkDerivation(fwd, inputs, back(0)))).toEqual({
      name: "dW",
      diagnosis: expect.stringContaining("dW: missing the L2 / weight-decay term (λ/m)·W, with λ/m = 0.14?"),
    });
  });
  test("added twice: an extra term", () => {
    expect(onlyFailure(checkDerivation(fwd, inputs, back(2 * lambda))).diagnosis).toContain(
      "dW: an extra term 0.14·W: an L2 / weight-decay term (λ/m)·W where the cost has none, or added twice?",
    );
  });
});

describe("batch norm (batch-first, N × D): the paths through the mean and the variance", () => {
  const N = 6;
  const D = 3;
  const eps = 1e-5;
  const R = rng.randn(N, D); // J = Σ R ⊙ out: a loss that depends on every output
  const inputs = {
    X: add(rng.randn(N, D), tensor([[1, -2, 0.5]])),
    gamma: tensor([[1.5, 0.5, -1]]),
    beta: tensor([[0.1, 0.2, 0.3]]),
  };
  const fwd = (p: typeof inputs, name: NameFn) => {
    const mu = mean(p.X, 0, true);
    const xc = sub(p.X, mu);
    const sigma = name("sigma", sqrt(add(mean(square(xc), 0, true), eps)));
    const xhat = name("xhat", div(xc, sigma));
    return sum(mul(R, add(mul(p.gamma, xhat), p.beta)));
  };
  type V = typeof inputs & { sigma: Tensor; xhat: Tensor };
  const back = (paths: { mu: boolean; variance: boolean }) => (v: V) => {
    const dxhat = mul(R, v.gamma);
    let inner = dxhat;
    if (paths.mu) inner = sub(inner, mean(dxhat, 0, true));
    if (paths.variance) inner = sub(inner, mul(v.xhat, mean(mul(dxhat, v.xhat), 0, true)));
    return {
      dxhat,
      dX: div(inner, v.sigma),
      dgamma: sum(mul(R, v.xhat), 0, true),
      dbeta: sum(R, 0, true),
    };
  };

  test("the textbook backward passes", () => {
    expect(checkDerivation(fwd, inputs, back({ mu: true, variance: true })).ok).toBe(true);
  });
  test("without the path through μ: a term the same for every example", () => {
    expect(onlyFailure(checkDerivation(fwd, inputs, back({ mu: false, variance: true })))).toEqual({
      name: "dX",
      diagnosis: expect.stringContaining(
        "dX: a term that is the same for every example is missing: the path through a mean over axis 0 (batch norm's μ, a centring)? (expected − returned is constant along axis 0, length 6; the forward reduces over axis 0)",
      ),
    });
  });
  test("without the path through σ²: a term proportional to x̂, one coefficient per column", () => {
    expect(
      onlyFailure(checkDerivation(fwd, inputs, back({ mu: true, variance: false }))).diagnosis,
    ).toContain(
      "dX: a term proportional to xhat, with one coefficient per line along axis 0, is missing — the path through a variance (batch norm's σ², a normalisation) over axis 0?",
    );
  });
});

describe("softmax–cross-entropy: the −1 at the true class, and the softmax's axis", () => {
  const N = 4;
  const C = 3;
  const Y = tensor([
    [1, 0, 0],
    [0, 0, 1],
    [0, 1, 0],
    [0, 0, 1],
  ]);
  const inputs = { Z: rng.randn(N, C) };
  const fwd = (p: typeof inputs) => mul(sum(mul(Y, logSoftmax(p.Z, 1))), -1 / N);
  const back = (slip: "none" | "onehot" | "axis") => (v: typeof inputs) => ({
    dZ: mul(sub(softmax(v.Z, slip === "axis" ? 0 : 1), slip === "onehot" ? 0 : Y), 1 / N),
  });

  test("softmax − onehot(y), over N, passes", () =>
    expect(checkDerivation(fwd, inputs, back("none")).ok).toBe(true));
  test("without the −1 at the true class: one element per row", () => {
    expect(onlyFailure(checkDerivation(fwd, inputs, back("onehot"))).diagnosis).toContain(
      "dZ: a term at one element per row is missing: the −1 at the true class (softmax − onehot(y))? (expected − returned = −0.25 (= −1/4) at one element of each row)",
    );
  });
  test("column layout (classes × examples): one element per column", () => {
    const fwdT = (p: { Z: Tensor }) => mul(sum(mul(Y.T, logSoftmax(p.Z, 0))), -1 / N);
    const report = checkDerivation(fwdT, { Z: inputs.Z.T }, (v: { Z: Tensor }) => ({
      dZ: mul(softmax(v.Z, 0), 1 / N),
    }));
    expect(onlyFailure(report).diagnosis).toContain(
      "dZ: a term at one element per column is missing: the −1 at the true class",
    );
  });
  test("a softmax over the other axis", () => {
    expect(onlyFailure(checkDerivation(fwd, inputs, back("axis"))).diagnosis).toContain(
      "dZ: a softmax (or logsumexp, or mean) over axis 0 where the forward's is over axis 1 — the other axis?",
    );
  });
});

test("a logsumexp's gradient taken over the other axis", () => {
  const Z = rng.randn(4, 3);
  const fwd = (p: { Z: Tensor }) => sum(logsumexp(p.Z, 1));
  expect(checkDerivation(fwd, { Z }, (v: { Z: Tensor }) => ({ dZ: softmax(v.Z, 1) })).ok).toBe(true);
  expect(
    onlyFailure(checkDerivation(fwd, { Z }, (v: { Z: Tensor }) => ({ dZ: softmax(v.Z, 0) }))).diagnosis,
  ).toContain(
    "dZ: a softmax (or logsumexp, or mean) over axis 0 where the forward's is over axis 1 — the other axis?",
  );
});

describe("the factors", () => {
  const Z0 = rng.randn(4, 3);
  test("a mean over the other axis", () => {
    // J = Σ_j mean_i Z_ij²: dZ = 2Z/4; averaging over the 3 columns instead gives 2Z/3.
    const fwd = (p: { Z: Tensor }) => sum(mean(square(p.Z), 0));
    expect(checkDerivation(fwd, { Z: Z0 }, (v: { Z: Tensor }) => ({ dZ: mul(v.Z, 2 / 4) })).ok).toBe(true);
    expect(
      onlyFailure(checkDerivation(fwd, { Z: Z0 }, (v: { Z: Tensor }) => ({ dZ: mul(v.Z, 2 / 3) }))).diagnosis,
    ).toBe(
      "dZ: a mean over axis 1 (length 3) where the forward's mean is over axis 0 (length 4) — the other axis? (returned = 4/3 × expected)",
    );
  });

  test("a sum that is not a mean (a logsumexp's) is not called a mean over the other axis", () => {
    // Z is [2, 4], the forward sums over axis 1 (length 4); a ×2 = 4/2 slip is a factor of two, not a mean.
    const Z = rng.randn(2, 4);
    const fwd = (p: { Z: Tensor }) => sum(logsumexp(p.Z, 1));
    expect(
      onlyFailure(checkDerivation(fwd, { Z }, (v: { Z: Tensor }) => ({ dZ: mul(softmax(v.Z, 1), 2) })))
        .diagnosis,
    ).toContain("dZ: returned = 2 × expected: a factor-of-two error?");
  });

  const X = rng.randn(3, 8);
  const Y = rng.randn(3, 8);
  const W0 = rng.randn(3, 3);
  // A square linear layer with a mean squared error: J = (1/m) Σ ½(W·X − Y)².
  const fwd = (p: { W: Tensor }, name: NameFn) => {
    const Z = name("Z", matmul(p.W, X));
    return mul(sum(square(sub(Z, Y))), 0.5 / 8);
  };
  const back = (slip: string) => (v: { W: Tensor; Z: Tensor }) => {
    const dZ = mul(
      sub(v.Z, Y),
      slip === "sign" ? -1 / 8 : slip === "m" ? 1 : slip === "1/m" ? 1 / 64 : 1 / 8,
    );
    const dW = slip === "T" ? matmul(X, dZ.T) : slip === "2" ? mul(matmul(dZ, X.T), 2) : matmul(dZ, X.T);
    return { dZ, dW };
  };
  test("correct", () => expect(checkDerivation(fwd, { W: W0 }, back("none")).ok).toBe(true));
  test("a sign flip", () => {
    expect(onlyFailure(checkDerivation(fwd, { W: W0 }, back("sign"))).diagnosis).toContain(
      "dZ: returned = −expected: the sign is flipped",
    );
  });
  test("dZ = m·∂J/∂Z and ∂J/∂Z / m", () => {
    expect(onlyFailure(checkDerivation(fwd, { W: W0 }, back("m"))).diagnosis).toBe(
      "dZ = m·∂J/∂Z with m = 8: the course's convention? Pass scale: { Z: m }.",
    );
    expect(onlyFailure(checkDerivation(fwd, { W: W0 }, back("1/m"))).diagnosis).toContain(
      "dZ = ∂J/∂Z / m with m = 8: divided by m once too often",
    );
  });
  test("a factor of two and a transpose", () => {
    expect(onlyFailure(checkDerivation(fwd, { W: W0 }, back("2"))).diagnosis).toContain(
      "dW: returned = 2 × expected: a factor-of-two error?",
    );
    expect(onlyFailure(checkDerivation(fwd, { W: W0 }, back("T"))).diagnosis).toContain(
      "dW: the returned gradient is the expected one transposed — a missing or extra .T",
    );
  });
  test("a sum where the input was not broadcast", () => {
    const B0 = rng.randn(3, 8);
    const fwdB = (p: { B: Tensor }) => sum(mul(Y, tanh(p.B)));
    const right = (v: { B: Tensor }) => ({ dB: mul(Y, sub(1, square(tanh(v.B)))) });
    expect(checkDerivation(fwdB, { B: B0 }, right).ok).toBe(true);
    const summed = (v: { B: Tensor }) => ({ dB: add(mul(sum(right(v).dB, 1, true), 1), mul(v.B, 0)) });
    expect(onlyFailure(checkDerivation(fwdB, { B: B0 }, summed)).diagnosis).toContain(
      "dB: every returned entry along axis 1 equals the expected gradient summed along axis 1 (length 8) — a sum along the wrong axis, or a broadcast where none belongs?",
    );
  });
});

describe("activations", () => {
  const X = rng.randn(2, 6);
  const W1 = rng.randn(3, 2);
  const w2 = rng.randn(1, 3);
  const fwd = (act: (t: Tensor) => Tensor) => (p: { W1: Tensor }, name: NameFn) => {
    const Z1 = name("Z1", matmul(p.W1, X));
    const A1 = name("A1", act(Z1));
    return sum(matmul(w2, A1));
  };
  const back =
    (gPrime: (Z1: Tensor, A1: Tensor) => Tensor) => (v: { W1: Tensor; Z1: Tensor; A1: Tensor }) => {
      const dA1 = matmul(w2.T, tensor(new Array(6).fill(1)).reshape([1, 6]));
      const dZ1 = mul(dA1, gPrime(v.Z1, v.A1));
      return { dA1, dZ1, dW1: matmul(dZ1, X.T) };
    };
  const tanhPrime = (_z: Tensor, a: Tensor) => sub(1, square(a));
  const reluPrime = (z: Tensor) => greater(z, 0);

  test("g for g′ (tanh, relu)", () => {
    expect(checkDerivation(fwd(tanh), { W1 }, back(tanhPrime)).ok).toBe(true);
    expect(
      onlyFailure(
        checkDerivation(
          fwd(tanh),
          { W1 },
          back((_z, a) => a),
        ),
      ).diagnosis,
    ).toBe("dZ1: it multiplies by the activation tanh(Z1) where its derivative tanh′(Z1) belongs (g for g′)");
    expect(
      onlyFailure(
        checkDerivation(
          fwd(relu),
          { W1 },
          back((_z, a) => a),
        ),
      ).diagnosis,
    ).toContain("it multiplies by the activation relu(Z1) where its derivative relu′(Z1) belongs");
  });
  test("another activation's g′", () => {
    expect(checkDerivation(fwd(relu), { W1 }, back(reluPrime)).ok).toBe(true);
    expect(onlyFailure(checkDerivation(fwd(tanh), { W1 }, back(reluPrime))).diagnosis).toBe(
      "dZ1: it uses relu's derivative relu′(Z1), but the forward applies tanh to Z1 — the backward's activation differs from the forward's",
    );
  });
});

describe("other diagnoses", () => {
  test("a term proportional to a named value itself (a path straight into J)", () => {
    const x = rng.randn(3, 2);
    // J = Σ tanh(A) + ½‖A‖² with A = 2x: dA = (1 − tanh²A) + A.
    const fwd = (p: { x: Tensor }, name: NameFn) => {
      const A = name("A", mul(p.x, 2));
      return add(sum(tanh(A)), mul(sum(square(A)), 0.5));
    };
    const back = (withA: boolean) => (v: { x: Tensor; A: Tensor }) => {
      const dA = add(sub(1, square(tanh(v.A))), mul(v.A, withA ? 1 : 0));
      return { dA, dx: mul(dA, 2) };
    };
    expect(checkDerivation(fwd, { x }, back(true)).ok).toBe(true);
    expect(onlyFailure(checkDerivation(fwd, { x }, back(false))).diagnosis).toContain(
      "dA: a term is missing that is proportional to A itself (expected − returned = 1·A) — a path from A straight into J?",
    );
  });
  test("a value J does not depend on", () => {
    const x = tensor([1, 2]);
    const fwd = (p: { x: Tensor }, name: NameFn) => {
      name("unused", mul(p.x, 3));
      return sum(square(p.x));
    };
    const report = checkDerivation(fwd, { x }, (v: { x: Tensor; unused: Tensor }) => ({
      dunused: v.x,
      dx: mul(v.x, 2),
    }));
    // dx is computed from the returned dunused too (unused is downstream of x), so both fail.
    expect(report.equations.map((e) => e.ok)).toEqual([false, false]);
    expect(report.equations.find((e) => e.name === "dunused")!.diagnosis).toContain(
      "dunused: J does not depend on unused (its gradient is 0): use the tensor name() returns",
    );
  });
});

/**
 * @file checkDerivation: the contract API, localisation (one wrong line fails only its own equation),
 * backward order, values used twice, terms straight into J, defineOp ops, and the errors.
 */
import {
  add,
  checkDerivation,
  type DerivationInputs,
  defineOp,
  log,
  matmul,
  mean,
  mul,
  neg,
  RandomState,
  sigmoid,
  square,
  sub,
  sum,
  type Tensor,
  tanh,
  tensor,
} from "@tapegrad/autograd";
import { describe, expect, test } from "vitest";

const rng = new RandomState(3);
const m = 5;
const X = rng.randn(3, m);
const Y = tensor([[1, 0, 1, 1, 0]]);
const params = {
  W1: rng.randn(4, 3).mul(0.5),
  b1: rng.randn(4, 1).mul(0.1),
  W2: rng.randn(1, 4).mul(0.5),
  b2: rng.randn(1, 1).mul(0.1),
};

/** The course's forward: tanh hidden layer, sigmoid output, cross-entropy with 1/m. */
const forward = (p: typeof params, name: (l: string, t: Tensor) => Tensor): Tensor => {
  const Z1 = name("Z1", add(matmul(p.W1, X), p.b1));
  const A1 = name("A1", tanh(Z1));
  const Z2 = name("Z2", add(matmul(p.W2, A1), p.b2));
  const A2 = name("A2", sigmoid(Z2));
  const logs = add(mul(Y, log(A2)), mul(sub(1, Y), log(sub(1, A2))));
  return mul(sum(logs), -1 / m);
};

type V = typeof params & Record<"Z1" | "A1" | "Z2" | "A2", Tensor>;
/** The six equations, as the course writes them (dZ = m·∂J/∂Z); `bug` plants one slip. */
const sixEquations =
  (bug: string | null = null) =>
  (v: V): Record<"dZ2" | "dW2" | "db2" | "dZ1" | "dW1" | "db1", Tensor> => {
    const dZ2 = sub(v.A2, Y);
    const dW2 = mul(matmul(dZ2, v.A1.T), bug === "dW2" ? 1 : 1 / m);
    const db2 = mul(sum(dZ2, 1, true), 1 / m);
    const gPrime = bug === "dZ1" ? v.A1 : sub(1, square(v.A1)); // the notes' typo: g for g′
    const dZ1 = mul(matmul(v.W2.T, dZ2), gPrime);
    const dW1 = mul(matmul(dZ1, X.T), 1 / m);
    const db1 = mul(sum(dZ1, 1, true), 1 / m);
    return { dZ2, dW2, db2, dZ1, dW1, db1 };
  };

/** ∂J/∂θ by central differences, independent of the tape's backward. */
function centralDifference(f: (x: Tensor) => number, x: Tensor, h = 1e-5): Float64Array {
  const out = new Float64Array(x.size);
  for (let i = 0; i < x.size; i++) {
    const plus = x.data.slice();
    const minus = x.data.slice();
    plus[i]! += h;
    minus[i]! -= h;
    out[i] = (f(tensor(plus).reshape(x.shape)) - f(tensor(minus).reshape(x.shape))) / (2 * h);
  }
  return out;
}

describe("checkDerivation on the course's network", () => {
  const scale = { Z1: m, Z2: m };

  test("the six correct equations agree; the tape's values are the finite-difference gradients", () => {
    const report = checkDerivation(forward, params, sixEquations(), { scale });
    expect(report.ok).toBe(true);
    expect(report.firstMismatch).toBeNull();
    for (const e of report.equations) {
      expect(e.relativeDifference).toBeLessThan(1e-12);
      expect(e.diagnosis).toBeNull();
    }
    // The reference for the tape's value is independent: central differences of J.
    const J = (W1: Tensor): number => forward({ ...params, W1 }, (_l, t) => t).item();
    const dW1 = report.equations.find((e) => e.name === "dW1")!;
    const fd = centralDifference(J, params.W1);
    for (let i = 0; i < fd.length; i++) expect(dW1.tape.data[i]!).toBeCloseTo(fd[i]!, 8);
  });

  test("backward order: reverse production order, an input at its first use, ties by the record", () => {
    const report = checkDerivation(forward, params, sixEquations(), { scale });
    // Z2 and b2 are both produced by Z2's add (a tie: the record has dZ2 first); W2 is first used before.
    expect(report.equations.map((e) => e.name)).toEqual(["dZ2", "db2", "dW2", "dZ1", "db1", "dW1"]);
    const reordered = checkDerivation(
      forward,
      params,
      (v: V) => {
        const { dW1, db1, dZ1, dW2, db2, dZ2 } = sixEquations()(v);
        return { dW1, db1, dZ1, dW2, db2, dZ2 };
      },
      { scale },
    );
    expect(reordered.equations.map((e) => e.name)).toEqual(["db2", "dZ2", "dW2", "db1", "dZ1", "dW1"]);
  });

  test("g for g′ fails only dZ1: dW1 and db1 are checked against the user's own dZ1", () => {
    const report = checkDerivation(forward, params, sixEquations("dZ1"), { scale });
    expect(report.ok).toBe(false);
    expect(report.firstMismatch).toBe("dZ1");
    const bad = report.equations.filter((e) => !e.ok).map((e) => e.name);
    expect(bad).toEqual(["dZ1"]);
    expect(report.equations.find((e) => e.name === "dZ1")!.diagnosis).toContain(
      "it multiplies by the activation tanh(Z1) where its derivative tanh′(Z1) belongs",
    );
    // End to end, dW1 is wrong too; localisation is what spares it.
    const dW1 = report.equations.find((e) => e.name === "dW1")!;
    expect(dW1.from).toEqual(["dZ1"]);
    expect(dW1.expected.data).not.toEqual(dW1.tape.data);
  });

  test("a dW2 missing its 1/m fails only dW2, diagnosed as missing 1/m", () => {
    const report = checkDerivation(forward, params, sixEquations("dW2"), { scale });
    expect(report.equations.filter((e) => !e.ok).map((e) => e.name)).toEqual(["dW2"]);
    expect(report.firstMismatch).toBe("dW2");
    expect(report.equations.find((e) => e.name === "dW2")!.diagnosis).toContain("missing 1/m (m = 5)");
    const text = String(report);
    expect(text).toContain("1 of 6 gradients disagree with the tape; the first in backward order is dW2");
    expect(text).toMatch(/✗ dW2 +\[1, 4\] .*missing 1\/m/);
    expect(text).toMatch(/✓ dZ1 +\[4, 5\]/);
  });

  test("a NaN in dZ2 fails dZ2 only: the lines upstream get the tape's value instead", () => {
    const report = checkDerivation(
      forward,
      params,
      (v: V) => {
        const grads = sixEquations()(v);
        const dZ2 = grads.dZ2.mul(1);
        dZ2.data[0] = Number.NaN;
        return { ...grads, dZ2 };
      },
      { scale },
    );
    expect(report.equations.filter((e) => !e.ok).map((e) => e.name)).toEqual(["dZ2"]);
    expect(report.equations[0]!.diagnosis).toContain("dZ2: the returned gradient has NaN at [0, 0]");
  });

  test("without scale, the course's dZ2 is named as m·∂J/∂Z2", () => {
    const report = checkDerivation(forward, params, (v: V) => ({ dZ2: sub(v.A2, Y) }));
    expect(report.equations[0]!.diagnosis).toBe(
      "dZ2 = m·∂J/∂Z2 with m = 5: the course's convention? Pass scale: { Z2: m }.",
    );
    const scaledTwice = checkDerivation(forward, params, (v: V) => ({ dZ2: mul(sub(v.A2, Y), 1 / m) }), {
      scale: { Z2: m },
    });
    expect(scaledTwice.equations[0]!.diagnosis).toContain(
      "dZ2 = ∂J/∂Z2, not m·∂J/∂Z2 as scale: { Z2: 5 } says",
    );
  });

  test("a subset of gradients; one with nothing returned downstream is compared with the tape's own", () => {
    const report = checkDerivation(forward, params, (v: V) => {
      const { dW1 } = sixEquations()(v);
      return { dW1 };
    });
    expect(report.ok).toBe(true);
    expect(report.equations[0]!.from).toEqual(["J"]);
    const wrong = checkDerivation(forward, params, (v: V) => ({ dW1: mul(sixEquations()(v).dW1, 2) }));
    expect(wrong.firstMismatch).toBe("dW1");
    expect(wrong.equations[0]!.diagnosis).toContain("returned = 2 × expected: a factor-of-two error");
  });
});

describe("any graph", () => {
  const W = tensor([
    [0.3, -0.2],
    [0.5, 0.1],
  ]);
  const x = tensor([[1], [-2]]);
  const lambda = 0.7;

  test("a value used twice and an L2 term straight into J: localisation uses the tape's cotangent on that path", () => {
    // J = sum(A ⊙ A) + sum(A) with A = tanh(W·x) (A used three times) + λ/2·‖W‖².
    const fwd = (p: { W: Tensor }, name: (l: string, t: Tensor) => Tensor) => {
      const A = name("A", tanh(matmul(p.W, x)));
      return add(add(sum(mul(A, A)), sum(A)), mul(sum(square(p.W)), lambda / 2));
    };
    const right = (v: { W: Tensor; A: Tensor }) => {
      const dA = add(mul(v.A, 2), 1);
      const dZ = mul(dA, sub(1, square(v.A)));
      return { dA, dW: add(matmul(dZ, x.T), mul(v.W, lambda)) };
    };
    expect(checkDerivation(fwd, { W }, right).ok).toBe(true);
    // A wrong dA alone: dW is still checked against the user's dA (plus the tape's own L2 path) and passes.
    const wrongDA = (v: { W: Tensor; A: Tensor }) => {
      const dA = mul(v.A, 2); // forgets the + 1 of sum(A)
      return { dA, dW: add(matmul(mul(dA, sub(1, square(v.A))), x.T), mul(v.W, lambda)) };
    };
    const report = checkDerivation(fwd, { W }, wrongDA);
    expect(report.equations.map((e) => [e.name, e.ok])).toEqual([
      ["dA", false],
      ["dW", true],
    ]);
    expect(report.equations[1]!.from.sort()).toEqual(["J", "dA"]);
  });

  test("a defineOp op in the forward is differentiated by its own backward", () => {
    const cube = defineOp({
      name: "cube",
      forward: (t) => mul(mul(t, t), t),
      backward: (g, [t]) => [mul(g, mul(square(t!), 3))],
    });
    const fwd = (p: { W: Tensor }, name: (l: string, t: Tensor) => Tensor) => {
      const Z = name("Z", matmul(p.W, x));
      return sum(cube(Z));
    };
    const back = (v: { W: Tensor; Z: Tensor }) => {
      const dZ = mul(square(v.Z), 3);
      return { dZ, dW: matmul(dZ, x.T) };
    };
    expect(checkDerivation(fwd, { W }, back).ok).toBe(true);
    const report = checkDerivation(fwd, { W }, (v: { W: Tensor; Z: Tensor }) => ({
      dZ: mul(square(v.Z), 2),
      dW: matmul(mul(square(v.Z), 2), x.T),
    }));
    expect(report.equations.map((e) => e.ok)).toEqual([false, true]);
    expect(report.equations[0]!.diagnosis).toContain("a constant factor ×0.6667");
  });

  test("a named constant becomes a leaf: the gradient of the data (dA0 in the course) is checked", () => {
    const fwd = (p: { W: Tensor }, name: (l: string, t: Tensor) => Tensor) => {
      const A0 = name("A0", x);
      return sum(tanh(matmul(p.W, A0)));
    };
    const report = checkDerivation(fwd, { W }, (v: { W: Tensor; A0: Tensor }) => ({
      dA0: matmul(v.W.T, sub(1, square(tanh(matmul(v.W, v.A0))))),
    }));
    expect(report.ok).toBe(true);
  });
});

describe("errors start with checkDerivation:", () => {
  const W = tensor([[1, 2]]);
  const x = tensor([[1], [1]]);
  const fwd = (p: DerivationInputs, name: (l: string, t: Tensor) => Tensor) =>
    sum(name("Z", matmul(p.W!, x)));

  test("a returned key that names nothing", () => {
    expect(() => checkDerivation(fwd, { W }, () => ({ dZ3: W }))).toThrow(
      'checkDerivation: the backward returned "dZ3", which names nothing: keys are "d" + an input or a named value (dW, dZ)',
    );
  });

  test("a wrong shape, named, with both shapes", () => {
    expect(() => checkDerivation(fwd, { W }, () => ({ dW: tensor([[1], [2]]) }))).toThrow(
      "checkDerivation: dW has shape [2, 1], but W has shape [1, 2]; expected dW of shape [1, 2]",
    );
  });

  test("a forward that does not return a scalar", () => {
    expect(() =>
      checkDerivation(
        (p: DerivationInputs) => matmul(x, p.W!),
        { W },
        () => ({}),
      ),
    ).toThrow("checkDerivation: the forward must return a scalar J (the cost), got shape [2, 2]");
  });

  test("a name used twice, or an input's name reused", () => {
    const twice = (p: DerivationInputs, name: (l: string, t: Tensor) => Tensor) => {
      name("Z", matmul(p.W!, x));
      return sum(name("Z", neg(matmul(p.W!, x))));
    };
    expect(() => checkDerivation(twice, { W }, () => ({}))).toThrow(
      'checkDerivation: the name "Z" is used twice (already a named value)',
    );
    const clash = (p: DerivationInputs, name: (l: string, t: Tensor) => Tensor) =>
      sum(name("W", matmul(p.W!, x)));
    expect(() => checkDerivation(clash, { W }, () => ({}))).toThrow(
      'checkDerivation: the name "W" is used twice (it is an input)',
    );
  });

  test("reading an unknown value in the backward, a bad scale, a backward that throws", () => {
    expect(() => checkDerivation(fwd, { W }, (v) => ({ dW: v.Q! }))).toThrow(
      'checkDerivation: the backward read v.Q, but nothing is named "Q" (inputs and named values: W, Z)',
    );
    expect(() => checkDerivation(fwd, { W }, () => ({ dW: W }), { scale: { Z: 0 } })).toThrow(
      "checkDerivation: scale.Z must be a finite non-zero number",
    );
    expect(() =>
      checkDerivation(fwd, { W }, () => {
        throw new Error("boom");
      }),
    ).toThrow("checkDerivation: the backward threw: boom");
  });

  test("the mean of J over nothing the inputs touch", () => {
    expect(() =>
      checkDerivation(
        () => mean(x),
        { W },
        () => ({ dW: W }),
      ),
    ).toThrow("checkDerivation: J does not depend on any input");
  });
});

import {
  add,
  exp,
  grad,
  hessian,
  hvp,
  jacobian,
  jvp,
  matmul,
  mean,
  mul,
  reshape,
  square,
  sum,
  type Tensor,
  tanh,
  tensor,
  valueAndGrad,
  vjp,
} from "@tapegrad/autograd";
import { describe, expect, test } from "vitest";

const cube = (x: Tensor): Tensor => mul(mul(x, x), x);

describe("grad", () => {
  test("d/dx Σx² = 2x, as a plain tensor at top level", () => {
    const x = tensor([1, -2, 3]);
    const g = grad((x: Tensor) => sum(square(x)))(x);
    expect(g).toBeAllClose([2, -4, 6], { rtol: 0, atol: 1e-10 });
    expect(g.requiresGrad).toBe(false);
    expect(x.grad).toBeNull();
  });

  test("numbers become 0-d tensors; argnums lists give lists; an unused argument gets zeros", () => {
    const g = grad((x: Tensor) => cube(x))(2);
    expect(g.shape).toEqual([]);
    expect(g.item()).toBeAllClose(12, { rtol: 0, atol: 5e-13 }); // 3x²
    const [da, db, dc] = grad((a: Tensor, b: Tensor, _c: Tensor) => sum(mul(a, b)), [0, 1, 2])(
      tensor([1, 2]),
      tensor([3, 4]),
      tensor([[5, 6]]),
    );
    expect(da!).toBeAllClose([3, 4], { rtol: 0, atol: 1e-10 });
    expect(db!).toBeAllClose([1, 2], { rtol: 0, atol: 1e-10 });
    expect(dc!.shape).toEqual([1, 2]);
    expect(dc!).toBeAllClose([0, 0], { rtol: 0, atol: 1e-10 });
  });

  test("the same tensor passed twice is differentiated per position", () => {
    const a = tensor([2, 3], { requiresGrad: true });
    const [d0, d1] = grad((x: Tensor, y: Tensor) => sum(mul(square(x), y)), [0, 1])(a, a);
    expect(d0!).toBeAllClose([2 * 2 * 2, 2 * 3 * 3], { rtol: 0, atol: 1e-10 }); // 2xy
    expect(d1!).toBeAllClose([4, 9], { rtol: 0, atol: 1e-10 }); // x²
  });

  test("f must return a scalar", () => {
    expect(() => grad((x: Tensor) => reshape(x, [3, 2]))(tensor([1, 2, 3, 4, 5, 6]))).toThrow(
      "grad: f must return a scalar, got shape [3, 2] (reduce it, e.g. with sum)",
    );
  });

  test("bad argnums name argnums and the arity", () => {
    const f = (x: Tensor, y: Tensor): Tensor => sum(mul(x, y));
    expect(() => grad(f, 2)(tensor([1]), tensor([2]))).toThrow(
      "grad: argnums [2] is out of range for a function called with 2 arguments",
    );
    expect(() => grad(f, [0, 0])).toThrow("grad: argnums [0, 0] has a duplicate");
    expect(() => grad(f, 0.5)).toThrow("grad: argnums must be a non-negative integer");
    expect(() => grad(f, -1)).toThrow("argnums");
  });

  test("tanh″ = −2·tanh·(1 − tanh²), via grad(x => sum(grad(f)(x)))", () => {
    const xs = [-1.3, -0.2, 0, 0.4, 2];
    const g2 = grad((x: Tensor) => sum(grad((y: Tensor) => sum(tanh(y)))(x)))(tensor(xs));
    expect(g2).toBeAllClose(
      xs.map((x) => -2 * Math.tanh(x) * (1 - Math.tanh(x) ** 2)),
      { rtol: 0, atol: 1e-10 },
    );
  });

  test("d²/dx² x³ = 6x and d³/dx³ x³ = 6, via grad(grad(...))", () => {
    expect(grad(grad(cube))(1.5).item()).toBeAllClose(9, { rtol: 0, atol: 5e-13 });
    expect(grad(grad(cube))(-2).item()).toBeAllClose(-12, { rtol: 0, atol: 5e-13 });
    expect(grad(grad(grad(cube)))(0.7).item()).toBeAllClose(6, { rtol: 0, atol: 5e-13 });
  });

  test("grad(grad(exp(x²))) = (2 + 4x²)·e^{x²}", () => {
    const f = (x: Tensor): Tensor => exp(square(x));
    for (const x of [-0.8, 0, 0.3, 1.1]) {
      expect(grad(f)(x).item()).toBeAllClose(2 * x * Math.exp(x * x), { rtol: 0, atol: 5e-13 });
      expect(grad(grad(f))(x).item()).toBeAllClose((2 + 4 * x * x) * Math.exp(x * x), {
        rtol: 0,
        atol: 5e-13,
      });
    }
  });

  test("grad(grad(tanh(tanh x))) against its closed form", () => {
    // f' = (1 − t(t(x))²)(1 − t(x)²); f'' = −2 t(u)(1 − t(u)²)(1 − t(x)²)² − 2 t(x)(1 − t(x)²)(1 − t(u)²), u = t(x)
    const t = Math.tanh;
    for (const x of [-1.1, 0.25, 0.9]) {
      const u = t(x);
      const expected = -2 * t(u) * (1 - t(u) ** 2) * (1 - u * u) ** 2 - 2 * u * (1 - u * u) * (1 - t(u) ** 2);
      expect(grad(grad((x: Tensor) => tanh(tanh(x))))(x).item()).toBeAllClose(expected, {
        rtol: 0,
        atol: 5e-13,
      });
    }
  });

  test("a closure over an outer variable is differentiated too", () => {
    // d/dy [ d/dx (x·y)² at x = 3 ] = d/dy (2·3·y²) = 12y
    const outer = grad((y: Tensor) => grad((x: Tensor) => square(mul(x, y)))(3))(2);
    expect(outer.item()).toBeAllClose(24, { rtol: 0, atol: 5e-13 });
  });

  test("valueAndGrad returns f's value and its gradient", () => {
    const [value, g] = valueAndGrad((x: Tensor) => mean(square(x)))(tensor([1, 2, 3]));
    expect(value.item()).toBeAllClose(14 / 3, { rtol: 0, atol: 5e-13 });
    expect(g).toBeAllClose([2 / 3, 4 / 3, 2], { rtol: 0, atol: 1e-10 });
    const [v2, gs] = valueAndGrad((a: Tensor, b: Tensor) => sum(mul(a, b)), [0, 1])(tensor([2]), tensor([5]));
    expect(v2.item()).toBe(10);
    expect(gs[0]!).toBeAllClose([5], { rtol: 0, atol: 1e-10 });
    expect(gs[1]!).toBeAllClose([2], { rtol: 0, atol: 1e-10 });
  });
});

describe("vjp, jvp, jacobian, hessian, hvp", () => {
  const W = tensor([
    [1, -2, 0.5],
    [0.3, 4, -1],
  ]);
  const linear = (x: Tensor): Tensor => reshape(matmul(W, reshape(x, [3, 1])), [2]);

  test("jacobian of x ↦ W·x is W", () => {
    const J = jacobian(linear)(tensor([0.1, 0.2, 0.3]));
    expect(J.shape).toEqual([2, 3]);
    expect(J).toBeAllClose(W.data, { rtol: 0, atol: 1e-10 });
  });

  test("jacobian of tanh(W·x) is diag(1 − tanh²(Wx))·W", () => {
    const x = [0.4, -0.1, 0.7];
    const J = jacobian((x: Tensor) => tanh(linear(x)))(tensor(x));
    const Wx = [0, 1].map((i) => x.reduce((s, xj, j) => s + W.data[i * 3 + j]! * xj, 0));
    expect(J).toBeAllClose(
      [0, 1].flatMap((i) => [0, 1, 2].map((j) => (1 - Math.tanh(Wx[i]!) ** 2) * W.data[i * 3 + j]!)),
      { rtol: 0, atol: 1e-10 },
    );
  });

  test("vjp pulls a cotangent back to every primal, checking its shape", () => {
    const [y, back] = vjp((a: Tensor, b: Tensor) => mul(a, b), tensor([[1, 2, 3]]), tensor([[2], [3]]));
    expect(y.shape).toEqual([2, 3]);
    const [da, db] = back(
      tensor([
        [1, 1, 1],
        [1, 0, 2],
      ]),
    );
    expect(da!).toBeAllClose([1 * 2 + 1 * 3, 1 * 2 + 0 * 3, 1 * 2 + 2 * 3], { rtol: 0, atol: 1e-10 }); // Σ over rows of u·b
    expect(db!).toBeAllClose([1 + 2 + 3, 1 + 0 + 6], { rtol: 0, atol: 1e-10 }); // Σ over columns of u·a
    expect(() => back(tensor([1, 2, 3]))).toThrow(
      "vjp: the cotangent has shape [3], expected the output's shape [2, 3]",
    );
  });

  test("jvp equals jacobian·v (double-vjp trick)", () => {
    const f = (x: Tensor): Tensor => tanh(add(linear(x), square(sum(x))));
    const x = tensor([0.2, -0.5, 0.9]);
    const v = [0.3, 1, -2];
    const [out, tangentOut] = jvp(f, [x], [tensor(v)]);
    expect(out).toBeAllClose(f(x).data, { rtol: 0, atol: 1e-10 });
    const J = jacobian(f)(x);
    expect(tangentOut).toBeAllClose(
      [0, 1].map((i) => v.reduce((s, vj, j) => s + J.data[i * 3 + j]! * vj, 0)),
      { rtol: 0, atol: 1e-10 },
    );
    expect(() => jvp(f, [x], [tensor([1, 2])])).toThrow(
      "jvp: tangent 0 has shape [2], primal 0 has shape [3]",
    );
  });

  test("jvp of x³ at 3 along 1 is 27 (value) and 27 (3x²)", () => {
    const [y, dy] = jvp(cube, [3], [1]);
    expect(y.item()).toBe(27);
    expect(dy.item()).toBeAllClose(27, { rtol: 0, atol: 5e-13 });
  });

  test("jvp nests inside grad: d/dx [d/dt (x + t)³ at t = 0] = 6x", () => {
    expect(grad((x: Tensor) => jvp(cube, [x], [1])[1])(2).item()).toBeAllClose(12, { rtol: 0, atol: 5e-13 });
  });

  test("hessian of Σx³ is diag(6x); of ½xᵀAx (A symmetric) is A", () => {
    const x = [0.5, -1, 2];
    const H = hessian((x: Tensor) => sum(cube(x)))(tensor(x));
    expect(H.shape).toEqual([3, 3]);
    expect(H).toBeAllClose([3, 0, 0, 0, -6, 0, 0, 0, 12], { rtol: 0, atol: 1e-10 });
    const A = tensor([
      [2, 1],
      [1, 3],
    ]);
    const quad = (x: Tensor): Tensor => mul(0.5, sum(mul(x, reshape(matmul(A, reshape(x, [2, 1])), [2]))));
    expect(hessian(quad)(tensor([0.7, -0.2]))).toBeAllClose(A.data, { rtol: 0, atol: 1e-10 });
  });

  test("hvp equals finite differences of the gradient", () => {
    const f = (x: Tensor): Tensor => sum(tanh(mul(linear(x), sum(x))));
    const x = [0.3, -0.4, 0.8];
    const v = [1, -0.5, 0.25];
    const Hv = hvp(f, tensor(x), tensor(v));
    const eps = 1e-5;
    const at = (s: number): Tensor => grad(f)(tensor(x.map((xi, i) => xi + s * eps * v[i]!)));
    const fd = Array.from(at(1).data, (gp, i) => (gp - at(-1).data[i]!) / (2 * eps));
    expect(Hv).toBeAllClose(fd, { rtol: 0, atol: 1e-7 });
    expect(() => hvp(f, tensor(x), tensor([1]))).toThrow("hvp: v has shape [1], x has shape [3]");
  });
});

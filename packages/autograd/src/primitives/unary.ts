/**
 * @file The unary primitives — neg, square, sqrt, exp, log, abs, tanh, sigmoid, relu, sign, clip — and
 * the fused backward primitives of tanh and sigmoid. Each entry: its forward (a named kernel of
 * kernels/unary.ts) beside its vjp, with the derivative the vjp implements.
 */
import {
  absKernel,
  clipKernel,
  expKernel,
  logKernel,
  negKernel,
  reluGradKernel,
  reluKernel,
  sigmoidGradKernel,
  sigmoidKernel,
  signKernel,
  sqrtKernel,
  squareKernel,
  tanhGradKernel,
  tanhKernel,
  type UnaryKernel,
} from "../kernels/unary.js";
import { Tensor } from "../tensor.js";
import type { InnerOps } from "./index.js";
import type { Primitive, PrimitiveTable } from "./types.js";

/** The attributes of the unary primitives. */
export interface UnaryAttrs {
  neg: undefined;
  square: undefined;
  sqrt: undefined;
  exp: undefined;
  log: undefined;
  abs: undefined;
  tanh: undefined;
  tanhGrad: undefined;
  sigmoid: undefined;
  sigmoidGrad: undefined;
  relu: undefined;
  reluGrad: undefined;
  sign: undefined;
  clip: { lo: number; hi: number };
}

/** f(x) elementwise, by `kernel`, into a new tensor of x's shape. */
export function unaryForward(x: Tensor, kernel: UnaryKernel): Tensor {
  const out = new Float64Array(x.data.length);
  kernel(x.data, out);
  return new Tensor(out, x.shape);
}

/** g·(1 − y²) (tanh) or g·y(1 − y) (sigmoid) from the forward output y; g and y have the same shape. */
function activationGradForward(
  g: Tensor,
  y: Tensor,
  kernel: (g: Float64Array, y: Float64Array, out: Float64Array) => void,
): Tensor {
  const out = new Float64Array(y.data.length);
  kernel(g.data, y.data, out);
  return new Tensor(out, y.shape);
}

type Vjp = Primitive<undefined>["vjp"];

/** A unary primitive without attributes: `kernel` forward, `vjp` backward. */
const unary = (name: string, kernel: UnaryKernel, vjp: Vjp): Primitive<undefined> => ({
  name,
  forward: ([x]) => unaryForward(x!, kernel),
  vjp,
});

const nonDifferentiable = (): null[] => [null];

/** The unary primitives; vjps are written with the inner ops `o`, so they are differentiable again. */
export function unaryPrimitives(o: InnerOps): PrimitiveTable<keyof UnaryAttrs> {
  return {
    // d(−x) = −g
    neg: unary("neg", negKernel, (g) => [o.neg(g)]),
    // d x² = 2x·g
    square: unary("square", squareKernel, (g, [x]) => [o.mul(g, o.mul(2, x!))]),
    // d √x = g / (2√x) — reuse the output
    sqrt: unary("sqrt", sqrtKernel, (g, _, out) => [o.div(g, o.mul(2, out))]),
    // d eˣ = eˣ·g — reuse the output
    exp: unary("exp", expKernel, (g, _, out) => [o.mul(g, out)]),
    // d log x = g / x
    log: unary("log", logKernel, (g, [x]) => [o.div(g, x!)]),
    // d |x| = sign(x)·g (0 at x = 0, like PyTorch)
    abs: unary("abs", absKernel, (g, [x]) => [o.mul(g, o.sign(x!))]),
    // d tanh x = (1 − tanh²x)·g — reuse the output, in one fused pass (tanhGrad)
    tanh: unary("tanh", tanhKernel, (g, _, out) => [o.tanhGrad(g, out)]),
    // tanhGrad(g, y) = g·(1 − y²), tanh's backward fused (PyTorch's tanh_backward):
    // ∂/∂g = 1 − y², ∂/∂y = −2·g·y
    tanhGrad: {
      name: "tanhGrad",
      forward: ([g, y]) => activationGradForward(g!, y!, tanhGradKernel),
      vjp: (G, [g, y]) => [
        g!.requiresGrad ? o.mul(G, o.sub(1, o.square(y!))) : null,
        y!.requiresGrad ? o.mul(G, o.mul(-2, o.mul(g!, y!))) : null,
      ],
    },
    // d σ(x) = σ(x)(1 − σ(x))·g — reuse the output, in one fused pass (sigmoidGrad)
    sigmoid: unary("sigmoid", sigmoidKernel, (g, _, out) => [o.sigmoidGrad(g, out)]),
    // sigmoidGrad(g, y) = g·y·(1 − y), sigmoid's backward fused: ∂/∂g = y(1 − y), ∂/∂y = g(1 − 2y)
    sigmoidGrad: {
      name: "sigmoidGrad",
      forward: ([g, y]) => activationGradForward(g!, y!, sigmoidGradKernel),
      vjp: (G, [g, y]) => [
        g!.requiresGrad ? o.mul(G, o.mul(y!, o.sub(1, y!))) : null,
        y!.requiresGrad ? o.mul(G, o.mul(g!, o.sub(1, o.mul(2, y!)))) : null,
      ],
    },
    // d relu x = [x > 0]·g (0 at x = 0, like PyTorch), in one fused pass (reluGrad)
    relu: unary("relu", reluKernel, (g, [x]) => [o.reluGrad(g, x!)]),
    // reluGrad(g, x) = g·[x > 0], relu's backward fused (PyTorch's threshold_backward): ∂/∂g = [x > 0]·G;
    // piecewise constant in x, so ∂/∂x = 0 (away from the kink)
    reluGrad: {
      name: "reluGrad",
      forward: ([g, x]) => activationGradForward(g!, x!, reluGradKernel),
      vjp: (G, [g, x]) => [g!.requiresGrad ? o.reluGrad(G, x!) : null, null],
    },
    // sign is piecewise constant: zero gradient almost everywhere
    sign: { ...unary("sign", signKernel, nonDifferentiable), differentiable: false },
    // d clip(x, lo, hi) = g·[lo ≤ x ≤ hi]
    clip: {
      name: "clip",
      forward: ([x], { lo, hi }) => {
        const out = new Float64Array(x!.data.length);
        clipKernel(x!.data, lo, hi, out);
        return new Tensor(out, x!.shape);
      },
      vjp: (g, [x], _, { lo, hi }) => [o.mul(g, o.mul(o.compare(x!, lo, ">="), o.compare(x!, hi, "<=")))],
    },
  };
}

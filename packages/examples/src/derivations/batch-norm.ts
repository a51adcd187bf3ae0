/**
 * @file Batch-norm backward (batch-first, N examples × D features, as in cs231n's `batchnorm_backward`):
 * out = γ·x̂ + β with x̂ = (x − μ)/√(σ² + ε), μ and σ² over the batch (axis 0). The classic derivation,
 * checked by `checkDerivation`, then with the classic slip planted: μ treated as a constant, so the path
 * from x through the mean is lost.
 *
 * The loss is Σ dout ⊙ out for a fixed upstream gradient dout: with the plain Σ out the gradient with
 * respect to x is exactly 0 (Σ x̂ = 0 for every column), and any backward would "pass".
 *
 * Usage: `tsx src/derivations/batch-norm.ts`.
 */
import {
  add,
  checkDerivation,
  type DerivationReport,
  div,
  mean,
  mul,
  type NameFn,
  RandomState,
  sqrt,
  square,
  sub,
  sum,
  type Tensor,
  tensor,
} from "@tapegrad/autograd";
import { isMain, type Log } from "../main.js";

const EPS = 1e-5;

/** The batch-norm forward, naming μ, x̂, σ (√(σ² + ε)) and out. */
export function batchNormForward(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  name: NameFn = (_l, t) => t,
): Tensor {
  const mu = name("mu", mean(x, 0, true));
  const xc = sub(x, mu);
  const std = name("std", sqrt(add(mean(square(xc), 0, true), EPS)));
  const xhat = name("xhat", div(xc, std));
  return name("out", add(mul(gamma, xhat), beta));
}

/**
 * The hand-derived backward: dx̂ = dout·γ, dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂ ⊙ x̂)) / σ (means over the
 * batch), dγ = Σ dout ⊙ x̂, dβ = Σ dout. With `muConstant`, the mean(dx̂) term (the path through μ) is left out.
 */
export function batchNormBackward(
  dout: Tensor,
  v: { gamma: Tensor; xhat: Tensor; std: Tensor },
  muConstant = false,
) {
  const dxhat = mul(dout, v.gamma);
  const throughVariance = mul(v.xhat, mean(mul(dxhat, v.xhat), 0, true));
  const centred = muConstant ? dxhat : sub(dxhat, mean(dxhat, 0, true));
  return {
    dout,
    dxhat,
    dx: div(sub(centred, throughVariance), v.std),
    dgamma: sum(mul(dout, v.xhat), 0, true),
    dbeta: sum(dout, 0, true),
  };
}

/** Check the batch-norm backward: correct, then with μ treated as a constant. */
export function run(options: { log?: Log } = {}): { right: DerivationReport; planted: DerivationReport } {
  const log = options.log ?? console.log;
  const rng = new RandomState(4);
  const N = 8;
  const x = add(mul(rng.randn(N, 3), tensor([[2, 0.5, 1]])), tensor([[5, -1, 0]]));
  const gamma = tensor([[1.5, -0.5, 2]]);
  const beta = tensor([[0.1, 0.2, -0.3]]);
  const dout = rng.randn(N, 3);
  type V = { x: Tensor; gamma: Tensor; beta: Tensor; xhat: Tensor; std: Tensor };
  const check = (muConstant: boolean) =>
    checkDerivation(
      (p, name) => sum(mul(dout, batchNormForward(p.x, p.gamma, p.beta, name))),
      { x, gamma, beta },
      (v: V) => batchNormBackward(dout, v, muConstant),
    );
  const right = check(false);
  log("Batch norm's backward, checked equation by equation:");
  log(String(right));
  const planted = check(true);
  log("\nWith μ treated as a constant (dx = (dx̂ − x̂·mean(dx̂ ⊙ x̂)) / σ):");
  log(String(planted));
  return { right, planted };
}

if (isMain(import.meta.url)) run();

/**
 * @file Softmax–cross-entropy backward for a linear classifier (batch-first, as in cs231n's `softmax_loss`):
 * scores = X·W + b, J = −(1/N) Σᵢ log softmax(scoresᵢ)[yᵢ]. The hand derivation dscores = (softmax −
 * onehot(y))/N, dW = Xᵀ·dscores, db = Σ dscores, checked by `checkDerivation`, then with the classic slip
 * planted: the −1 at the true class forgotten.
 *
 * Usage: `tsx src/derivations/softmax-cross-entropy.ts`.
 */
import {
  add,
  checkDerivation,
  type DerivationReport,
  logSoftmax,
  matmul,
  mul,
  RandomState,
  softmax,
  sub,
  sum,
  type Tensor,
  tensor,
} from "@tapegrad/autograd";
import { isMain, type Log } from "../main.js";

/** onehot(y): an N × C matrix with 1 at (i, yᵢ). */
export function onehot(y: readonly number[], C: number): Tensor {
  return tensor(y.map((c) => Array.from({ length: C }, (_, k) => (k === c ? 1 : 0))));
}

/** Check the softmax–cross-entropy backward: correct, then with the −1 at the true class forgotten. */
export function run(options: { log?: Log } = {}): { right: DerivationReport; planted: DerivationReport } {
  const log = options.log ?? console.log;
  const rng = new RandomState(6);
  const N = 5;
  const C = 4;
  const X = rng.randn(N, 3);
  const y = [2, 0, 3, 1, 2];
  const Y = onehot(y, C);
  const inputs = { W: rng.randn(3, C).mul(0.5), b: rng.randn(1, C).mul(0.1) };
  const forward = (p: typeof inputs, name: (label: string, t: Tensor) => Tensor) => {
    const scores = name("scores", add(matmul(X, p.W), p.b));
    return mul(sum(mul(Y, logSoftmax(scores, 1))), -1 / N);
  };
  const backward = (forgetOnehot: boolean) => (v: typeof inputs & { scores: Tensor }) => {
    const dscores = mul(sub(softmax(v.scores, 1), forgetOnehot ? 0 : Y), 1 / N);
    return { dscores, dW: matmul(X.T, dscores), db: sum(dscores, 0, true) };
  };
  const right = checkDerivation(forward, inputs, backward(false));
  log("Softmax–cross-entropy's backward, checked equation by equation:");
  log(String(right));
  const planted = checkDerivation(forward, inputs, backward(true));
  log("\nWith the −1 at the true class forgotten (dscores = softmax/N):");
  log(String(planted));
  return { right, planted };
}

if (isMain(import.meta.url)) run();

/**
 * @file Gradient clipping by the total norm (torch.nn.utils.clip_grad_norm_).
 */
import { Tensor } from "@tapegrad/autograd";
import { describeValue, expectNumber } from "@tapegrad/autograd/validate";

/** Options of `clipGradNorm`. */
export interface ClipGradNormOptions {
  /** The p of the p-norm: a number > 0 or Infinity (max |g|); default 2. */
  normType?: number;
  /** Throw when the total norm is NaN or ±Infinity instead of scaling by it; default false, as PyTorch. */
  errorIfNonfinite?: boolean;
}

/**
 * Scale the gradients of `parameters` in place so that their total norm — the norm of all gradients seen
 * as one vector — is at most `maxNorm`: every `.grad` is multiplied by min(1, maxNorm / (total + 1e-6)),
 * PyTorch's formula. Parameters without a gradient are skipped. Call it between `backward()` and `step()`.
 * @param parameters tensors (e.g. `model.parameters()`) or one tensor.
 * @returns the total norm before clipping (a number; PyTorch returns it as a 0-d tensor).
 * @throws Error for a negative or non-numeric maxNorm, a bad normType, a non-Tensor parameter, or (with
 *   `errorIfNonfinite`) a total norm that is NaN or infinite.
 * @example
 * loss.backward();
 * const norm = clipGradNorm(model.parameters(), 1.0);
 * opt.step();
 */
export function clipGradNorm(
  parameters: Iterable<Tensor> | Tensor,
  maxNorm: number,
  options: ClipGradNormOptions = {},
): number {
  const fn = "clipGradNorm";
  expectNumber(fn, "maxNorm", maxNorm, { min: 0 });
  const p = options.normType ?? 2;
  if (p !== Number.POSITIVE_INFINITY) expectNumber(fn, "normType", p, { min: 0, minOpen: true });
  const list = parameters instanceof Tensor ? [parameters] : parameters;
  if (list === null || typeof (list as Partial<Iterable<Tensor>>)?.[Symbol.iterator] !== "function") {
    throw new Error(
      `${fn}: parameters must be an iterable of Tensors or a Tensor, got ${describeValue(parameters)}`,
    );
  }
  const grads: Float64Array[] = [];
  let i = 0;
  for (const t of list) {
    if (!(t instanceof Tensor))
      throw new Error(`${fn}: parameter ${i} must be a Tensor, got ${describeValue(t)}`);
    if (t.grad !== null) grads.push(t.grad.data);
    i++;
  }
  if (grads.length === 0) return 0;
  // PyTorch: the norm of the per-tensor norms (the same number as the norm of the concatenation)
  const norms = grads.map((g) => pNorm(g, p));
  const total = pNorm(norms, p);
  if (options.errorIfNonfinite === true && !Number.isFinite(total)) {
    throw new Error(
      `${fn}: the total norm of order ${p} of the gradients is ${total}, so they cannot be clipped (pass errorIfNonfinite: false to scale by it anyway)`,
    );
  }
  const coef = Math.min(maxNorm / (total + 1e-6), 1);
  for (const g of grads) for (let k = 0; k < g.length; k++) g[k] = g[k]! * coef;
  return total;
}

function pNorm(x: ArrayLike<number>, p: number): number {
  let acc = 0;
  if (p === Number.POSITIVE_INFINITY) {
    for (let k = 0; k < x.length; k++) acc = Math.max(acc, Math.abs(x[k]!));
    return acc;
  }
  if (p === 2) {
    for (let k = 0; k < x.length; k++) acc += x[k]! * x[k]!;
    return Math.sqrt(acc);
  }
  for (let k = 0; k < x.length; k++) acc += Math.abs(x[k]!) ** p;
  return acc ** (1 / p);
}

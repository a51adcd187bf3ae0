/**
 * @file AdamW (torch.optim.AdamW): Adam with decoupled weight decay (Loshchilov & Hutter).
 */
import type { Tensor } from "@tapegrad/autograd";
import { Adam, type AdamOptions } from "./optim.js";

/**
 * AdamW, per element, at step t = 1, 2, …: θ ← θ·(1 − lr·λ) first (the decay does not pass through the
 * moments, unlike Adam's L2 penalty), then Adam's step on the raw gradient: m ← β1·m + (1−β1)·g;
 * v ← β2·v + (1−β2)·g²; θ ← θ − (lr / (1−β1ᵗ)) · (m / (√v / √(1−β2ᵗ) + ε)) — PyTorch's order of operations.
 * Defaults as PyTorch: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay **1e-2**.
 * @example
 * const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.05 });
 */
export class AdamW extends Adam {
  /** @throws Error for an empty or invalid parameter list, a negative lr/eps/weightDecay or a beta outside [0, 1). */
  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super(params, { ...options, weightDecay: options.weightDecay ?? 1e-2 }, "AdamW");
  }

  protected override update(i: number, w: Float64Array, g: Float64Array): void {
    const [b1, b2] = this.betas;
    const { lr, eps, weightDecay: wd } = this;
    const s = (this.state[i] ??= this.initState(w.length));
    const { exp_avg: m, exp_avg_sq: v } = s;
    const t = ++s.step;
    const decay = 1 - lr * wd;
    const stepSize = lr / (1 - b1 ** t);
    const bc2Sqrt = Math.sqrt(1 - b2 ** t);
    for (let k = 0; k < w.length; k++) {
      const d = g[k]!;
      // PyTorch: param.mul_(1 − lr·λ); exp_avg.mul_(β1).add_(g, 1 − β1); exp_avg_sq.mul_(β2).addcmul_(g, g, 1 − β2)
      m[k] = m[k]! * b1 + (1 - b1) * d;
      v[k] = v[k]! * b2 + (1 - b2) * d * d;
      w[k] = w[k]! * decay - stepSize * (m[k]! / (Math.sqrt(v[k]!) / bc2Sqrt + eps));
    }
  }
}

/**
 * @file Names that user code gave tensors (`checkDerivation`'s `name(label, t)`), remembered weakly so that
 * other tools (a `defineOp` check) can call an input by its name instead of "input 0".
 */
import type { Tensor } from "./tensor.js";

const names = new WeakMap<Tensor, string>();

/** Remember `label` as the name of `t` (the latest name wins). */
export function rememberName(t: Tensor, label: string): void {
  names.set(t, label);
}

/** The name user code gave `t`, or undefined. */
export function knownName(t: Tensor): string | undefined {
  return names.get(t);
}

/**
 * @file Running a primitive: the forward, then a tape node when a gradient may be asked for.
 */
import { anomalyForwardCheck, isAnomalyEnabled } from "../anomaly.js";
import { isGradEnabled } from "../grad-mode.js";
import { recordNode } from "../tape.js";
import type { Tensor } from "../tensor.js";
import type { Primitive } from "./types.js";

/**
 * Run `prim` on validated inputs: compute the forward, and record a tape node when grad mode is on and an
 * input requires grad (otherwise nothing is recorded and nothing extra is paid). Nothing is checked here:
 * the public ops validate at their door, rules and composites call this through the inner ops.
 */
export function apply<A>(prim: Primitive<A>, inputs: readonly Tensor[], attrs: A): Tensor {
  const out = prim.forward(inputs, attrs);
  if (isAnomalyEnabled()) anomalyForwardCheck(prim.name, inputs, out);
  if (isGradEnabled() && prim.differentiable !== false) {
    for (let i = 0; i < inputs.length; i++) {
      if (inputs[i]!._requiresGrad) {
        recordNode(out, prim, inputs, attrs);
        break;
      }
    }
  }
  return out;
}

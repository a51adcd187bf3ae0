/**
 * @file `defineOp`: a user-written forward and backward, recorded on the tape like a primitive, with the
 * backward's contract (one gradient per input, each of its input's shape) checked where it runs.
 */
import { anomalyForwardCheck, isAnomalyEnabled } from "./anomaly.js";
import { isGradEnabled, noGrad } from "./grad-mode.js";
import { gradcheck } from "./gradcheck.js";
import { toTensor } from "./ops/index.js";
import { formatShape, shapesEqual } from "./shape.js";
import { recordNode, type VjpRule } from "./tape.js";
import { Tensor } from "./tensor.js";
import { knownName } from "./tensor-names.js";
import { describeValue } from "./validate.js";

/** The definition of a custom op. */
export interface CustomOpDefinition {
  /** Used in every error message: `backward of custom op "swish": …`. */
  name: string;
  /** The value; runs under `noGrad` (nothing inside is recorded). Must return a Tensor. */
  forward(...inputs: Tensor[]): Tensor;
  /**
   * The vector-Jacobian product: given the cotangent `g` (shape of `out`), one gradient per input, each of
   * its input's shape, or null for an input that gets none. May use any op: with `createGraph` it is
   * recorded, so the op is twice differentiable when its backward is.
   */
  backward(g: Tensor, inputs: Tensor[], out: Tensor): (Tensor | null)[];
  /**
   * Gradcheck the op on the inputs of its first call and throw the report if it fails. Inputs larger than
   * `checkElements` are checked on a random sample of elements. Default false.
   */
  check?: boolean;
  /**
   * Elements of each input the check compares at most (a random sample beyond that, and the report says
   * so): every element costs 4 calls of forward. Default 200.
   */
  checkElements?: number;
  /** Names of the inputs (`["x", "W", "b"]`) for the check's report and the contract errors. */
  inputNames?: readonly string[];
}

/**
 * Define a differentiable op from a forward and a hand-written backward.
 *
 * The returned function converts numbers to 0-d tensors, runs `forward` under noGrad and, when grad mode
 * is on and an input requires grad, records a tape node whose gradient rule is `backward`.
 * When backward runs, its result is checked: an array with exactly one entry per input, each null or a
 * Tensor with its input's shape.
 * @throws Error naming the op when forward does not return a Tensor; during backward, when `backward`
 *   breaks its contract (`backward of custom op "swish": gradient for input 0 has shape [4, 1], input has
 *   shape [4, 400]`); with `check: true`, the gradcheck report on the first call if the gradients are wrong.
 * @example
 * const swish = defineOp({
 *   name: "swish",
 *   forward: (x) => mul(x, sigmoid(x)),
 *   // d/dx x·σ(x) = σ(x) + x·σ(x)·(1 − σ(x)) = σ + out·(1 − σ)
 *   backward: (g, [x], out) => { const s = sigmoid(x); return [mul(g, add(s, mul(out, sub(1, s))))]; },
 * });
 */
export function defineOp(definition: CustomOpDefinition): (...inputs: (Tensor | number)[]) => Tensor {
  const { name } = definition;
  if (typeof name !== "string" || name === "") throw new Error("defineOp: a custom op needs a name");
  if (typeof definition.forward !== "function" || typeof definition.backward !== "function")
    throw new Error(`defineOp: custom op "${name}" needs a forward and a backward function`);
  const label = `custom op "${name}"`;
  /** `input 0`, `input 0 (x)` with a declared name, `input 0 (Z1)` with a name checkDerivation gave it. */
  const inputLabel = (i: number, t: Tensor): string => {
    const known = definition.inputNames?.[i] ?? knownName(t);
    return known === undefined ? `input ${i}` : `input ${i} (${known})`;
  };

  const rule: VjpRule<undefined> = {
    name: label,
    vjp(g, inputs, out) {
      const grads: unknown = definition.backward(g, [...inputs], out);
      if (!Array.isArray(grads)) {
        throw new Error(
          `backward of ${label} must return an array with one gradient (a Tensor or null) per input, got ${describeValue(grads)}`,
        );
      }
      return grads as (Tensor | null)[];
    },
    checkGradients(grads, inputs) {
      if (grads.length !== inputs.length) {
        throw new Error(
          `backward of ${label}: returned ${grads.length} gradient${grads.length === 1 ? "" : "s"} for ${inputs.length} input${inputs.length === 1 ? "" : "s"}`,
        );
      }
      for (let i = 0; i < grads.length; i++) {
        const gi: unknown = grads[i];
        if (gi === null) continue;
        if (!(gi instanceof Tensor)) {
          throw new Error(
            `backward of ${label}: gradient for input ${i} is ${describeValue(gi)}, expected a Tensor or null`,
          );
        }
        const input = inputs[i]!;
        // A gradient for an input that takes no gradient is discarded: its shape does not matter.
        if (!input._requiresGrad) continue;
        if (!shapesEqual(gi.shape, input.shape)) {
          throw new Error(
            `backward of ${label}: gradient for ${inputLabel(i, input)} has shape ${formatShape(gi.shape)}, input has shape ${formatShape(input.shape)}`,
          );
        }
      }
    },
  };

  const run = (inputs: Tensor[]): Tensor => {
    let out: unknown = noGrad(() => definition.forward(...inputs));
    if (!(out instanceof Tensor))
      throw new Error(`forward of ${label} must return a Tensor, got ${describeValue(out)}`);
    // The node hangs off the output: never attach it to a tensor that already exists (an input returned as is).
    if (out._node !== null || out._requiresGrad || inputs.includes(out))
      out = new Tensor(out.data, out.shape);
    const result = out as Tensor;
    if (isAnomalyEnabled()) anomalyForwardCheck(label, inputs, result);
    if (isGradEnabled() && inputs.some((x) => x._requiresGrad)) recordNode(result, rule, inputs, undefined);
    return result;
  };

  let pendingCheck = definition.check === true;
  return (...args: (Tensor | number)[]): Tensor => {
    const inputs = args.map((a, i) => toTensor(a, name, i + 1));
    if (pendingCheck) {
      pendingCheck = false;
      // Check the inputs that need a gradient in this call (all of them when none does).
      const wanted = inputs.flatMap((x, i) => (x._requiresGrad ? [i] : []));
      const report = gradcheck((...xs) => run(xs), inputs, {
        wrt: wanted.length > 0 ? wanted : undefined,
        names: inputs.map((x, i) => `${name} ${inputLabel(i, x)}`),
        maxElements: definition.checkElements ?? 200,
      });
      if (!report.ok)
        throw new Error(`defineOp: the backward of ${label} disagrees with finite differences\n${report}`);
    }
    return run(inputs);
  };
}

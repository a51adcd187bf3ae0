/**
 * @file Module: the base class of layers (PyTorch's nn.Module). Parameters and sub-modules are found by
 * walking the instance's own properties, so a subclass only assigns them:
 * a Tensor with `requiresGrad: true` is a parameter, a Module (or an array of Modules) is a child.
 */
import { formatShape, Tensor, tensor } from "@tapegrad/autograd";
import { describeValue } from "@tapegrad/autograd/validate";

/**
 * Base class of every layer. Subclasses set their parameters (leaf tensors with `requiresGrad: true`) and
 * sub-modules as properties and implement `forward`. The Module API is batch-first like PyTorch: inputs are
 * (N, features), one example per row (the course API in course.ts is column-major instead).
 *
 * @example
 * class Scale extends Module {
 *   s = tensor([2], { requiresGrad: true });
 *   forward(x: Tensor) { return mul(x, this.s); }
 * }
 */
export abstract class Module {
  /** True in training mode (the default), false after `eval()`. Layers such as dropout read it. */
  training = true;

  /** The layer's computation. Must use autograd ops (or `defineOp` ops) so gradients reach the parameters. */
  abstract forward(x: Tensor): Tensor;

  /**
   * The direct sub-modules with their names: properties holding a Module, and arrays of Modules (named
   * `prop.i`). Override to name children differently (Sequential names them "0", "1", …).
   */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) out.push([key, value]);
      else if (Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof Module)) {
        value.forEach((v, i) => {
          out.push([`${key}.${i}`, v as Module]);
        });
      }
    }
    return out;
  }

  /** This module's own parameters (not its children's): properties holding a Tensor that requires grad. */
  namedOwnParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (isTensor(value) && value.requiresGrad) out.push([key, value]);
    }
    return out;
  }

  /** Every parameter with its dotted path (`"0.weight"`, `"layer1.bias"`), own parameters first, no duplicates. */
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const walk = (module: Module, prefix: string): void => {
      for (const [name, p] of module.namedOwnParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([prefix + name, p]);
      }
      for (const [name, child] of module.namedChildren()) walk(child, `${prefix}${name}.`);
    };
    walk(this, "");
    return out;
  }

  /** Every parameter (shared ones once), for an optimizer. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Set every parameter's `.grad` to null (gradients accumulate across `backward()` calls otherwise). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Set training mode on this module and every sub-module. Returns `this`. */
  train(mode = true): this {
    this.training = mode;
    for (const [, child] of this.namedChildren()) child.train(mode);
    return this;
  }

  /** Evaluation mode: `train(false)`. Returns `this`. */
  eval(): this {
    return this.train(false);
  }

  /** A copy of every parameter's values, by dotted name (plain tensors, not connected to the tape). */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, p] of this.namedParameters()) out[name] = tensor(p.data, { shape: p.shape });
    return out;
  }

  /**
   * Copy values into the parameters, in place (optimizers keep working on the same tensors).
   * @param strict when true (default) every parameter must be present and no other key may be.
   * @throws Error naming the key for a missing or unexpected key or a shape that differs; nothing is
   *   copied unless every check passes.
   */
  loadStateDict(state: Record<string, Tensor>, strict = true): void {
    const params = new Map(this.namedParameters());
    const missing = [...params.keys()].filter((k) => !(k in state));
    const unexpected = Object.keys(state).filter((k) => !params.has(k));
    if (strict && (missing.length > 0 || unexpected.length > 0)) {
      throw new Error(
        `loadStateDict: ${missing.length > 0 ? `missing keys ${missing.join(", ")}` : ""}${missing.length > 0 && unexpected.length > 0 ? "; " : ""}${unexpected.length > 0 ? `unexpected keys ${unexpected.join(", ")}` : ""} (parameters: ${[...params.keys()].join(", ")})`,
      );
    }
    const pairs: [Tensor, Tensor][] = [];
    for (const [name, p] of params) {
      const v = state[name];
      if (v === undefined) continue;
      if (!isTensor(v)) throw new Error(`loadStateDict: ${name} must be a Tensor, got ${describeValue(v)}`);
      if (v.shape.length !== p.shape.length || v.shape.some((d, i) => d !== p.shape[i])) {
        throw new Error(
          `loadStateDict: ${name} has shape ${formatShape(v.shape)} in the state dict but the parameter has shape ${formatShape(p.shape)}`,
        );
      }
      pairs.push([p, v]);
    }
    for (const [p, v] of pairs) p.data.set(v.data);
  }
}

function isTensor(v: unknown): v is Tensor {
  return v instanceof Tensor;
}

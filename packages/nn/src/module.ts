/**
 * @file Module: the base class of layers (PyTorch's nn.Module). Parameters and sub-modules are found by
 * walking the instance's own properties, so a subclass only assigns them:
 * a Tensor with `requiresGrad: true` is a parameter, a Module (or an array of Modules) is a child.
 * Buffers (running statistics) are registered by name with `registerBuffer`. `stateDict()` names
 * everything as PyTorch's `state_dict()` does, and `toString()` prints PyTorch's module repr.
 */
import { formatShape, Tensor, tensor } from "@tapegrad/autograd";
import { describeValue, expectTensor } from "@tapegrad/autograd/validate";

/**
 * Tensors known to be parameters: registered with `registerParameter`, or seen requiring grad by a walk.
 * Once a parameter, always one, so freezing it (`requiresGrad = false`) keeps it in `stateDict()`.
 */
const knownParameters = new WeakSet<Tensor>();

/** The names of each module's buffers, in registration order, with their `persistent` flag. */
const bufferNames = new WeakMap<Module, Map<string, boolean>>();

/** True if `t` is (or was) a parameter of some Module: it requires grad, or was registered or seen as one. */
export function isParameter(t: Tensor): boolean {
  return t.requiresGrad || knownParameters.has(t);
}

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

  /**
   * Declare `t` a parameter under the property `name` (PyTorch's `register_parameter`), and return it.
   * Needed only for a parameter that is frozen (`requiresGrad = false`) before the module is first walked;
   * a tensor property that requires grad is found without it.
   * @throws Error if `t` is not a Tensor, `name` is not a property name or is a registered buffer.
   */
  registerParameter(name: string, t: Tensor): Tensor {
    checkName("registerParameter", name);
    expectTensor("registerParameter", name, t);
    if (bufferNames.get(this)?.has(name)) {
      throw new Error(`registerParameter: "${name}" is already a buffer of this ${this.constructor.name}`);
    }
    knownParameters.add(t);
    (this as unknown as Record<string, unknown>)[name] = t;
    return t;
  }

  /**
   * Register a buffer (PyTorch's `register_buffer`): state that is not trained, such as batch norm's running
   * statistics. It is stored as the property `name`, listed by `namedBuffers()`, and saved by `stateDict()`
   * under its dotted name (unless `persistent` is false). Layers update buffers in place.
   * @returns t. @throws Error if `t` is not a Tensor or `name` is not a property name.
   */
  registerBuffer(name: string, t: Tensor, options: { persistent?: boolean } = {}): Tensor {
    checkName("registerBuffer", name);
    expectTensor("registerBuffer", name, t);
    let names = bufferNames.get(this);
    if (names === undefined) bufferNames.set(this, (names = new Map()));
    names.set(name, options.persistent ?? true);
    (this as unknown as Record<string, unknown>)[name] = t;
    return t;
  }

  /** This module's own buffers (not its children's), in registration order, with their persistent flag. */
  private ownBuffers(): [string, Tensor, boolean][] {
    const out: [string, Tensor, boolean][] = [];
    const self = this as unknown as Record<string, unknown>;
    for (const [name, persistent] of bufferNames.get(this) ?? []) {
      const t = self[name];
      if (t instanceof Tensor) out.push([name, t, persistent]);
    }
    return out;
  }

  /**
   * This module's own parameters (not its children's): properties holding a Tensor that requires grad, or
   * that was a parameter before (frozen parameters stay parameters), in property order.
   */
  namedOwnParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const buffers = bufferNames.get(this);
    for (const [key, value] of Object.entries(this)) {
      if (!(value instanceof Tensor) || buffers?.has(key)) continue;
      if (value.requiresGrad) knownParameters.add(value);
      if (knownParameters.has(value)) out.push([key, value]);
    }
    return out;
  }

  /** Every parameter with its dotted path (`"0.weight"`, `"layer1.bias"`), own parameters first, no duplicates. */
  namedParameters(): [string, Tensor][] {
    return this.walk("parameters").filter(dedupe());
  }

  /** Every buffer with its dotted path (`"1.running_mean"`), own buffers first, no duplicates. */
  namedBuffers(): [string, Tensor][] {
    return this.walk("buffers").filter(dedupe());
  }

  /** Every parameter (shared ones once, frozen ones included, as PyTorch), for an optimizer. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every buffer (shared ones once). */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /** Module by module (pre-order), its parameters then its persistent buffers: PyTorch's state_dict order. */
  private walk(what: "parameters" | "buffers" | "state"): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const visit = (module: Module, prefix: string): void => {
      if (what !== "buffers") {
        for (const [name, p] of module.namedOwnParameters()) out.push([prefix + name, p]);
      }
      if (what !== "parameters") {
        for (const [name, b, persistent] of module.ownBuffers()) {
          if (persistent || what === "buffers") out.push([prefix + name, b]);
        }
      }
      for (const [name, child] of module.namedChildren()) visit(child, `${prefix}${name}.`);
    };
    visit(this, "");
    return out;
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

  /**
   * A copy of every parameter (frozen ones included) and persistent buffer, by dotted name, in PyTorch's
   * `state_dict()` order and with its key names (`0.weight`, `0.bias`, `1.running_mean`, …): plain tensors,
   * not connected to the tape. A tensor shared by two modules appears under both names, as in PyTorch.
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, t] of this.walk("state")) out[name] = tensor(t.data, { shape: t.shape }); // a copy
    return out;
  }

  /**
   * Copy values into the parameters and persistent buffers, in place (optimizers keep working on the same
   * tensors). Accepts what `stateDict()` returns, or a PyTorch state_dict saved as safetensors (F64).
   * @param strict when true (default) every key of `stateDict()` must be present and no other key may be.
   * @throws Error naming the key for a missing or unexpected key or a shape that differs; nothing is
   *   copied unless every check passes.
   */
  loadStateDict(state: Record<string, Tensor>, strict = true): void {
    if (state === null || typeof state !== "object") {
      throw new Error(
        `loadStateDict: state must be an object of Tensors by name, got ${describeValue(state)}`,
      );
    }
    const targets = new Map(this.walk("state"));
    const missing = [...targets.keys()].filter((k) => !(k in state));
    const unexpected = Object.keys(state).filter((k) => !targets.has(k));
    if (strict && (missing.length > 0 || unexpected.length > 0)) {
      const parts = [];
      if (missing.length > 0) parts.push(`missing keys ${missing.join(", ")}`);
      if (unexpected.length > 0) parts.push(`unexpected keys ${unexpected.join(", ")}`);
      throw new Error(`loadStateDict: ${parts.join("; ")} (expected: ${[...targets.keys()].join(", ")})`);
    }
    const pairs: [Tensor, Tensor][] = [];
    for (const [name, p] of targets) {
      const v = state[name];
      if (v === undefined) continue;
      if (!(v instanceof Tensor)) {
        throw new Error(`loadStateDict: ${name} must be a Tensor, got ${describeValue(v)}`);
      }
      if (v.shape.length !== p.shape.length || v.shape.some((d, i) => d !== p.shape[i])) {
        throw new Error(
          `loadStateDict: ${name} has shape ${formatShape(v.shape)} in the state dict but the ${isParameter(p) ? "parameter" : "buffer"} has shape ${formatShape(p.shape)}`,
        );
      }
      pairs.push([p, v]);
    }
    for (const [p, v] of pairs) p.data.set(v.data);
  }

  /**
   * The text between the parentheses of this module's repr (PyTorch's `extra_repr`), e.g.
   * `in_features=2, out_features=3, bias=True`. Empty by default; layers override it.
   */
  extraRepr(): string {
    return "";
  }

  /**
   * PyTorch's module repr: `ClassName(extraRepr)`, children one per line as `(name): repr`, indented:
   * ```
   * Sequential(
   *   (0): Linear(in_features=2, out_features=3, bias=True)
   *   (1): ReLU()
   * )
   * ```
   */
  toString(): string {
    const extra = this.extraRepr();
    const extraLines = extra === "" ? [] : extra.split("\n");
    const childLines = this.namedChildren().map(
      ([name, child]) => `(${name}): ${child.toString().split("\n").join("\n  ")}`,
    );
    const lines = [...extraLines, ...childLines];
    const name = this.constructor.name;
    if (lines.length === 0) return `${name}()`;
    if (extraLines.length === 1 && childLines.length === 0) return `${name}(${extraLines[0]})`;
    return `${name}(\n  ${lines.join("\n  ")}\n)`;
  }

  /** `console.log(model)` in Node prints the repr (the key is `util.inspect.custom`). */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/** A state-dict key part: non-empty, without the "." that joins the parts. */
function checkName(fn: string, name: unknown): void {
  if (typeof name !== "string" || name === "" || name.includes(".")) {
    throw new Error(`${fn}: name must be a non-empty string without ".", got ${describeValue(name)}`);
  }
}

function dedupe(): (entry: [string, Tensor]) => boolean {
  const seen = new Set<Tensor>();
  return ([, t]) => {
    if (seen.has(t)) return false;
    seen.add(t);
    return true;
  };
}

/** Python's repr of a float (`1e-05`, `0.1`, `1.0`, `inf`), as PyTorch's module reprs print numbers. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (Object.is(x, -0)) return "-0.0";
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-4 || a >= 1e16)) {
    // JavaScript's shortest round-trip digits, Python's exponent format (two digits at least)
    const [mantissa, exponent] = x.toExponential().split("e") as [string, string];
    const sign = exponent.startsWith("-") ? "-" : "+";
    return `${mantissa}e${sign}${exponent.replace(/^[-+]/, "").padStart(2, "0")}`;
  }
  return Number.isInteger(x) ? `${x}.0` : String(x);
}

/** Python's repr of a bool: `True` / `False`. */
export function pyBool(b: boolean): string {
  return b ? "True" : "False";
}

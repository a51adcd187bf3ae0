/**
 * @file Optimizer state dicts (PyTorch's `optimizer.state_dict()` layout): per-parameter state by position,
 * under PyTorch's names (`momentum_buffer`; `step`, `exp_avg`, `exp_avg_sq`), and one parameter group
 * holding the hyperparameters and the positions. Copies both ways, validated before anything is written,
 * so a resumed run continues bit for bit.
 */
import { formatShape, Tensor, tensor } from "@tapegrad/autograd";
import { describeValue } from "@tapegrad/autograd/validate";

/** One parameter's optimizer state: arrays of the parameter's size, and counters. */
export type ParamState = Record<string, Float64Array | number>;

/** A hyperparameter: a number (lr, momentum, …), a flag (nesterov) or a pair (betas). */
export type Hyperparameter = number | boolean | readonly number[];

/**
 * What `optimizer.stateDict()` returns, as PyTorch's `{"state": …, "param_groups": […]}`: `state[i]` holds
 * parameter i's state (absent before its first step) with arrays as tensors of the parameter's shape;
 * `paramGroups[0]` the hyperparameters by their option names and `params`, the positions 0…n−1.
 */
export interface OptimizerStateDict {
  /** Per-parameter state, by position. */
  state: Record<number, Record<string, Tensor | number>>;
  /** The single parameter group: hyperparameters and the parameters' positions. */
  paramGroups: (Record<string, Hyperparameter> & { params: number[] })[];
}

/** Copy an optimizer's state and hyperparameters out, as an `OptimizerStateDict`. */
export function exportState(
  params: readonly Tensor[],
  state: readonly (ParamState | undefined)[],
  hyperparameters: Record<string, Hyperparameter>,
): OptimizerStateDict {
  const out: OptimizerStateDict["state"] = {};
  state.forEach((s, i) => {
    if (s === undefined) return;
    const entry: Record<string, Tensor | number> = {};
    for (const [key, v] of Object.entries(s)) {
      entry[key] = typeof v === "number" ? v : tensor(v, { shape: params[i]!.shape });
    }
    out[i] = entry;
  });
  const group: Record<string, Hyperparameter> = {};
  for (const [key, v] of Object.entries(hyperparameters)) group[key] = Array.isArray(v) ? [...v] : v;
  return { state: out, paramGroups: [{ ...group, params: params.map((_, i) => i) }] };
}

/**
 * Check `dict` against the optimizer (same number of parameters, the same state keys as `template` makes,
 * tensors of the parameters' shapes, hyperparameters of the same kinds) and return copies to install.
 * @throws Error starting with `fn` and naming the key, shape or position that does not match.
 */
export function importState<S extends ParamState>(
  fn: string,
  params: readonly Tensor[],
  template: (size: number) => S,
  hyperparameters: Record<string, Hyperparameter>,
  dict: unknown,
): { state: (S | undefined)[]; hyperparameters: Record<string, Hyperparameter> } {
  const fail = (problem: string): never => {
    throw new Error(`${fn}: ${problem}`);
  };
  if (dict === null || typeof dict !== "object")
    fail(`expected { state, paramGroups }, got ${describeValue(dict)}`);
  const { state, paramGroups } = dict as Partial<OptimizerStateDict>;
  if (!Array.isArray(paramGroups) || paramGroups.length !== 1) {
    fail(`paramGroups must be a list of one group, got ${describeValue(paramGroups)}`);
  }
  const group = paramGroups![0]!;
  const n = params.length;
  if (!Array.isArray(group.params) || group.params.length !== n) {
    fail(
      `the state dict's group has ${Array.isArray(group.params) ? group.params.length : "no"} parameters but the optimizer has ${n}`,
    );
  }
  const hyper: Record<string, Hyperparameter> = {};
  for (const [key, current] of Object.entries(hyperparameters)) {
    const v: unknown = group[key];
    const sameKind = Array.isArray(current)
      ? Array.isArray(v) && v.length === current.length && v.every((x) => typeof x === "number")
      : typeof v === typeof current;
    if (!sameKind)
      fail(`paramGroups[0].${key} must be like ${JSON.stringify(current)}, got ${describeValue(v)}`);
    hyper[key] = Array.isArray(v) ? [...v] : (v as Hyperparameter);
  }
  if (state === null || typeof state !== "object")
    fail(`state must be an object by position, got ${describeValue(state)}`);
  const out: (S | undefined)[] = params.map(() => undefined);
  for (const [key, entry] of Object.entries(state!)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= n)
      fail(`state has an entry ${JSON.stringify(key)}, expected positions 0…${n - 1}`);
    const p = params[i]!;
    const s = template(p.size);
    const expected = Object.keys(s).sort();
    const got = Object.keys(entry ?? {}).sort();
    if (expected.join() !== got.join()) {
      fail(`state[${i}] has keys ${got.join(", ") || "none"}, expected ${expected.join(", ")}`);
    }
    for (const name of expected) {
      const v: unknown = (entry as Record<string, unknown>)[name];
      const slot = s[name]!;
      if (typeof slot === "number") {
        if (typeof v !== "number" || !Number.isFinite(v))
          fail(`state[${i}].${name} must be a finite number, got ${describeValue(v)}`);
        (s as ParamState)[name] = v as number;
      } else {
        if (!(v instanceof Tensor) || v.shape.join() !== p.shape.join() || v.ndim !== p.ndim) {
          fail(
            `state[${i}].${name} must be a Tensor of parameter ${i}'s shape ${formatShape(p.shape)}, got ${describeValue(v)}`,
          );
        }
        slot.set((v as Tensor).data);
      }
    }
    out[i] = s;
  }
  return { state: out, hyperparameters: hyper };
}

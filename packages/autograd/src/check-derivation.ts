/**
 * @file `checkDerivation`: check any hand-derived backward pass against the tape, equation by equation,
 * and say where it is wrong and how.
 *
 * Localisation, in one reverse sweep: the forward runs on the tape with its named values kept; J is seeded
 * with 1, and when the sweep reaches a quantity whose gradient the user returned, the cotangent the tape
 * accumulated there is recorded as that gradient's *expected* value and then replaced by the user's own
 * (a gradient hook). Everything upstream is therefore computed from the user's gradients of the quantities
 * downstream of it, composed through the unnamed ops in between; paths that reach J without passing a
 * returned quantity (an L2 term) carry the tape's own cotangent, and a path through a returned quantity is
 * counted only there (the replacement discards the tape's value). One wrong line fails only its equation.
 * A returned gradient with NaN or ±Infinity is not passed on (the lines upstream get the tape's value).
 */

import { relativeDifferenceOf } from "./diagnose.js";
import { type DerivationContext, diagnoseDerivation } from "./diagnose-derivation.js";
import { formatNumber, formatTable } from "./format.js";
import { enableGrad, noGrad } from "./grad-mode.js";
import { add, div, mul, ones, sum, zeros } from "./ops/index.js";
import { formatShape, shapesEqual } from "./shape.js";
import { runBackward, type TapeNode } from "./tape.js";
import { Tensor } from "./tensor.js";
import { rememberName } from "./tensor-names.js";
import { describeValue } from "./validate.js";

/** `name(label, t)`: record `t` as the named forward value `label`; returns `t` (a constant: a fresh leaf). */
export type NameFn = (label: string, t: Tensor) => Tensor;

/** The inputs of `checkDerivation`, by name. */
export type DerivationInputs = Record<string, Tensor>;

/** Options of `checkDerivation`. */
export interface CheckDerivationOptions {
  /**
   * Per named value or input, the factor its returned gradient carries: `{ Z2: m }` means dZ2 is
   * m·∂J/∂Z2 (the course's convention). Default 1.
   */
  scale?: Readonly<Record<string, number>>;
  /** Largest relative difference accepted; default 1e-7 (two correct computations agree to ~1e-15). */
  tolerance?: number;
}

/** The check of one returned gradient. */
export interface DerivationEquation {
  /** The returned key: `"dZ2"`. */
  name: string;
  /** The quantity it is the gradient of: `"Z2"`. */
  of: string;
  /** Whether it agrees with what the tape computes from the returned gradients downstream. */
  ok: boolean;
  /** ‖returned − expected‖₂ / (‖returned‖₂ + ‖expected‖₂). */
  relativeDifference: number;
  /** What the mismatch looks like, in words; null when ok. */
  diagnosis: string | null;
  /** The returned gradient. */
  returned: Tensor;
  /** scale × what the tape computes from the returned gradients downstream (see `from`). */
  expected: Tensor;
  /** scale × ∂J/∂(quantity), end to end on the tape (what a correct backward returns). */
  tape: Tensor;
  /** The returned gradients (and "J", for paths straight into J) that `expected` was computed from. */
  from: string[];
}

/** The result of `checkDerivation`. */
export interface DerivationReport {
  /** True when every returned gradient agrees with the tape. */
  ok: boolean;
  /** The first wrong gradient in backward order (`"dW2"`), or null. */
  firstMismatch: string | null;
  /** One entry per returned gradient, in backward order. */
  equations: DerivationEquation[];
  /** A table, one line per returned gradient, with its diagnosis. */
  toString(): string;
}

const FN = "checkDerivation";

function l1(t: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < t.length; i++) s += Math.abs(t[i]!);
  return s;
}

/** A value taking part in the check: an input or a named forward value. */
interface Quantity {
  label: string;
  /** The tensor on the tape. */
  t: Tensor;
  isInput: boolean;
}

/**
 * Check a hand-derived backward pass against the tape, equation by equation.
 *
 * @param forward `(p, name) => J`: computes the scalar cost J from `p` (the inputs as tensors on the tape)
 *   with tapegrad ops (and `defineOp` ops); `name(label, t)` records an intermediate value and returns `t`.
 * @param inputs the inputs by name (`{ W1, b1, W2, b2 }`).
 * @param backward `(v) => grads`: the hand-derived backward. `v` holds the inputs and every named value
 *   (plain tensors); it returns `"d" + name` for any subset of the named values and inputs.
 * @param options `scale` (`{ Z2: m }`: dZ2 is m·∂J/∂Z2), `tolerance` (default 1e-7).
 * @returns `{ ok, firstMismatch, equations, toString() }`. Each returned gradient is compared with what
 *   the tape computes *from the returned gradients of the quantities downstream of it* (see the file
 *   comment), so one wrong line fails only its own equation; a gradient with no returned quantity
 *   downstream is compared with the tape's own. Equations are in backward order: the reverse of the order
 *   in which the forward produced the values (an input counts as produced at its first use; ties keep
 *   the order of the returned record).
 * @throws Error starting with `checkDerivation:` for a returned key that names nothing, a gradient of the
 *   wrong shape (both shapes named), a forward that does not return a scalar, a name used twice, a bad
 *   scale, or when the forward or the backward throws (the message then follows).
 * @example
 * const report = checkDerivation(
 *   (p, name) => { const Z = name("Z", add(matmul(p.W, X), p.b)); return mean(square(sub(Z, Y))); },
 *   { W, b },
 *   (v) => { const dZ = mul(sub(v.Z, Y), 2 / m); return { dZ, dW: matmul(dZ, X.T), db: sum(dZ, 1, true) }; },
 * );
 * report.firstMismatch; // null when right
 */
export function checkDerivation<I extends DerivationInputs, K extends string = string>(
  forward: (p: I, name: NameFn) => Tensor,
  inputs: I,
  backward: (v: I & Record<K, Tensor>) => Record<string, Tensor>,
  options: CheckDerivationOptions = {},
): DerivationReport {
  if (typeof forward !== "function")
    throw new Error(`${FN}: forward must be a function (p, name) => J, got ${describeValue(forward)}`);
  if (typeof backward !== "function")
    throw new Error(`${FN}: backward must be a function (v) => ({ dX, … }), got ${describeValue(backward)}`);
  if (inputs === null || typeof inputs !== "object" || Array.isArray(inputs) || inputs instanceof Tensor) {
    throw new Error(
      `${FN}: inputs must be an object of tensors by name ({ W1, b1, … }), got ${describeValue(inputs)}`,
    );
  }
  const tolerance = options.tolerance ?? 1e-7;

  // The inputs, as fresh leaves on the tape.
  const quantities = new Map<string, Quantity>();
  const byTensor = new Map<Tensor, Quantity>();
  const p = {} as Record<string, Tensor>;
  for (const [label, x] of Object.entries(inputs)) {
    if (!(x instanceof Tensor))
      throw new Error(`${FN}: inputs.${label} must be a Tensor, got ${describeValue(x)}`);
    const t = new Tensor(x.data, x.shape, true);
    const q = { label, t, isInput: true };
    quantities.set(label, q);
    byTensor.set(t, q);
    p[label] = t;
  }

  let forwardDone = false;
  const name: NameFn = (label, t) => {
    if (forwardDone) throw new Error(`${FN}: name("${label}", …) was called after the forward returned`);
    if (typeof label !== "string" || label === "")
      throw new Error(`${FN}: name() needs a non-empty string label, got ${describeValue(label)}`);
    if (!(t instanceof Tensor))
      throw new Error(`${FN}: name("${label}", t): t must be a Tensor, got ${describeValue(t)}`);
    const prev = quantities.get(label);
    if (prev !== undefined) {
      throw new Error(
        `${FN}: the name "${label}" is used twice (${prev.isInput ? "it is an input" : "already a named value"}); every input and named value needs its own name (in a loop: \`Z\${l}\`)`,
      );
    }
    const same = byTensor.get(t);
    if (same !== undefined)
      throw new Error(
        `${FN}: name("${label}", t): t is already named "${same.label}"; a value gets one name`,
      );
    // A constant (not on the tape) becomes a fresh leaf, so J's gradient with respect to it exists.
    const tt = t._requiresGrad ? t : new Tensor(t.data, t.shape, true);
    const q = { label, t: tt, isInput: false };
    quantities.set(label, q);
    byTensor.set(tt, q);
    rememberName(tt, label);
    return tt;
  };

  let J: unknown;
  try {
    J = enableGrad(() => forward(p as I, name));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(msg.startsWith(FN) ? msg : `${FN}: the forward threw: ${msg}`);
  } finally {
    forwardDone = true;
  }
  if (!(J instanceof Tensor))
    throw new Error(`${FN}: the forward must return the cost J as a scalar Tensor, got ${describeValue(J)}`);
  if (J.size !== 1) {
    throw new Error(
      `${FN}: the forward must return a scalar J (the cost), got shape ${formatShape(J.shape)} (reduce it, e.g. with sum or mean)`,
    );
  }
  if (!J._requiresGrad) {
    throw new Error(
      `${FN}: J does not depend on any input: compute it from p.${[...quantities.keys()][0] ?? "W"}, not from tensors outside the forward`,
    );
  }

  // The graph of J: nodes, each node's output, consumers, reductions.
  const nodes: TapeNode[] = [];
  const outputOf = new Map<TapeNode, Tensor>([[J._node!, J]]);
  const consumers = new Map<Tensor, TapeNode[]>();
  {
    const seen = new Set<TapeNode>();
    const stack: Tensor[] = [J];
    while (stack.length > 0) {
      const node = stack.pop()!._node;
      if (node === null || seen.has(node)) continue;
      seen.add(node);
      nodes.push(node);
      for (const x of node.inputs) {
        if (!x._requiresGrad) continue;
        if (x._node !== null) outputOf.set(x._node, x);
        const list = consumers.get(x) ?? [];
        if (!list.includes(node)) list.push(node);
        consumers.set(x, list);
        stack.push(x);
      }
    }
  }
  const reachesJ = (t: Tensor): boolean => t === J || consumers.has(t);
  const position = (q: Quantity): number => {
    if (q.t._node !== null) return q.t._node.id;
    const first = Math.min(...(consumers.get(q.t) ?? []).map((n) => n.id));
    return Number.isFinite(first) ? first : Number.NEGATIVE_INFINITY;
  };

  // The user's backward, on plain tensors.
  const values = {} as Record<string, Tensor>;
  for (const [label, q] of quantities) values[label] = q.isInput ? inputs[label]! : q.t.detach();
  const known = [...quantities.keys()].join(", ");
  const v = new Proxy(values, {
    get(target, key) {
      if (typeof key === "string" && !(key in target) && key !== "then" && key !== "toJSON") {
        throw new Error(
          `${FN}: the backward read v.${key}, but nothing is named "${key}" (inputs and named values: ${known})`,
        );
      }
      return Reflect.get(target, key);
    },
  });
  let grads: unknown;
  try {
    grads = noGrad(() => backward(v as I & Record<K, Tensor>));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(msg.startsWith(FN) ? msg : `${FN}: the backward threw: ${msg}`);
  }
  if (grads === null || typeof grads !== "object" || Array.isArray(grads) || grads instanceof Tensor) {
    throw new Error(
      `${FN}: the backward must return an object of gradients ({ dZ2, dW2, … }), got ${describeValue(grads)}`,
    );
  }

  interface Returned {
    key: string;
    q: Quantity;
    g: Tensor;
    scale: number;
    order: number;
  }
  const scales = options.scale ?? {};
  for (const [label, s] of Object.entries(scales)) {
    if (!quantities.has(label))
      throw new Error(`${FN}: scale.${label} names nothing (inputs and named values: ${known})`);
    if (typeof s !== "number" || !Number.isFinite(s) || s === 0) {
      throw new Error(
        `${FN}: scale.${label} must be a finite non-zero number (dX = scale·∂J/∂X), got ${describeValue(s)}`,
      );
    }
  }
  const returned: Returned[] = Object.entries(grads as Record<string, unknown>).map(([key, g], order) => {
    const q = key.startsWith("d") ? quantities.get(key.slice(1)) : undefined;
    if (q === undefined) {
      throw new Error(
        `${FN}: the backward returned "${key}", which names nothing: keys are "d" + an input or a named value (${[...quantities.keys()].map((l) => `d${l}`).join(", ")})`,
      );
    }
    if (!(g instanceof Tensor)) throw new Error(`${FN}: ${key} must be a Tensor, got ${describeValue(g)}`);
    if (!shapesEqual(g.shape, q.t.shape)) {
      throw new Error(
        `${FN}: ${key} has shape ${formatShape(g.shape)}, but ${q.label} has shape ${formatShape(q.t.shape)}; expected ${key} of shape ${formatShape(q.t.shape)}`,
      );
    }
    return { key, q, g, scale: scales[q.label] ?? 1, order };
  });
  if (returned.length === 0)
    throw new Error(
      `${FN}: the backward returned no gradients; return "d" + a name (${[...quantities.keys()].map((l) => `d${l}`).join(", ")})`,
    );

  // The tape's own gradients, end to end.
  const targets = returned.map((r) => r.q.t);
  const own = runBackward(J, ones(J.shape), false, targets)!.map((g, i) => g ?? zeros(targets[i]!.shape));

  // The localised sweep (file comment). A returned quantity that does not reach J still passes its
  // gradient on: J' = J + Σ ⟨c, Y⟩ over those, whose own expected gradient stays 0.
  const cotangent = returned.map((r) => noGrad(() => div(r.g, r.scale)));
  const recorded = new Map<Tensor, Tensor>();
  const removers: (() => void)[] = [];
  let root: Tensor = J;
  returned.forEach((r, i) => {
    if (r.q.t._node === null) return;
    removers.push(
      r.q.t.registerHook((g) => {
        recorded.set(r.q.t, g);
        // An unusable gradient (NaN, ±Infinity) is not passed on: upstream lines get the tape's value.
        return r.g.data.every(Number.isFinite) ? cotangent[i]! : undefined;
      }),
    );
    if (!reachesJ(r.q.t)) root = enableGrad(() => add(root, sum(mul(r.q.t, cotangent[i]!))));
  });
  let local: (Tensor | null)[];
  try {
    local = runBackward(root, ones(root.shape), false, targets)!;
  } finally {
    for (const remove of removers) remove();
  }

  // Which returned gradients (and "J") each one is computed from: its consumers, up to the next returned.
  const isReturned = new Map(returned.map((r) => [r.q.t, r.key]));
  const fromOf = (x: Tensor): string[] => {
    const found = new Set<string>();
    const seen = new Set<Tensor>();
    const stack = [x];
    while (stack.length > 0) {
      const t = stack.pop()!;
      if (seen.has(t)) continue;
      seen.add(t);
      if (t !== x && isReturned.has(t)) {
        found.add(isReturned.get(t)!);
        continue;
      }
      if (t === J) found.add("J");
      for (const node of consumers.get(t) ?? []) stack.push(outputOf.get(node)!);
    }
    return [...found];
  };

  const sizes = new Set<number>();
  const reductions: { shape: readonly number[]; axis: number; mean: boolean }[] = [];
  for (const node of nodes) {
    for (const x of node.inputs) for (const d of x.shape) sizes.add(d);
    const attrs = node.attrs as { axes?: unknown } | undefined;
    // One-axis sums only (a mean, softmax or logsumexp along an axis); a full sum has no direction.
    if (node.rule.name === "sum" && Array.isArray(attrs?.axes) && attrs.axes.length === 1) {
      const shape = node.inputs[0]!.shape;
      const axis = attrs.axes[0] as number;
      // A mean is that sum times 1/n (how `mean` is built).
      const mean = (consumers.get(outputOf.get(node)!) ?? []).some(
        (c) =>
          c.rule.name === "mul" &&
          c.inputs.some((k) => k.size === 1 && Math.abs(k.data[0]! * shape[axis]! - 1) <= 1e-12),
      );
      reductions.push({ shape, axis, mean });
    }
  }
  const named = [...quantities.values()].filter((q) => !q.isInput);

  const equations = returned
    .map((r, i) => ({ r, i, at: position(r.q) }))
    .sort((a, b) => b.at - a.at || a.r.order - b.r.order)
    .map(({ r, i }): DerivationEquation => {
      const x = r.q.t;
      const raw = !reachesJ(x) ? zeros(x.shape) : (recorded.get(x) ?? local[i] ?? zeros(x.shape));
      const expected = noGrad(() => mul(raw, r.scale));
      const tape = noGrad(() => mul(own[i]!, r.scale));
      const from = fromOf(x);
      const rd = relativeDifferenceOf(r.g.data, expected.data);
      // Rounding allowance where a sum cancels (a db with balanced classes): relative to the size of the
      // terms, bounded by the ℓ1 norms of the gradients it is made of.
      let terms = Math.max(l1(r.g.data), l1(expected.data));
      for (const key of from) {
        const k = returned.findIndex((o) => o.key === key);
        if (k >= 0) terms = Math.max(terms, l1(cotangent[k]!.data) * Math.abs(r.scale));
      }
      let maxAbs = 0;
      for (let j = 0; j < x.size; j++) maxAbs = Math.max(maxAbs, Math.abs(r.g.data[j]! - expected.data[j]!));
      const ok = x.size === 0 || rd <= tolerance || maxAbs <= 1e-12 * terms;
      let diagnosis: string | null = null;
      if (!ok) {
        const context: DerivationContext = {
          name: r.key,
          of: { name: r.q.label, value: x.detach(), isParameter: r.q.isInput },
          scale: r.scale,
          sizes: [...sizes],
          reducedAxes: reductions.filter((d) => shapesEqual(d.shape, x.shape)).map((d) => d.axis),
          meanAxes: reductions.filter((d) => d.mean && shapesEqual(d.shape, x.shape)).map((d) => d.axis),
          related: named
            .filter((q) => q !== r.q && shapesEqual(q.t.shape, x.shape))
            .map((q) => ({ name: q.label, value: q.t.detach() })),
          consumers: (consumers.get(x) ?? []).map((node) => ({
            op: node.rule.name,
            out: outputOf.get(node)!.detach(),
          })),
          reachesJ: reachesJ(x),
        };
        diagnosis = diagnoseDerivation(r.g, expected, context);
      }
      return {
        name: r.key,
        of: r.q.label,
        ok,
        relativeDifference: rd,
        diagnosis,
        returned: r.g,
        expected,
        tape,
        from,
      };
    });

  const firstMismatch = equations.find((e) => !e.ok)?.name ?? null;
  return {
    ok: firstMismatch === null,
    firstMismatch,
    equations,
    toString: () => formatDerivationReport(equations, firstMismatch, tolerance),
  };
}

/** The report as a table: a title line, then one line per returned gradient in backward order. */
function formatDerivationReport(
  equations: readonly DerivationEquation[],
  first: string | null,
  tolerance: number,
): string {
  const bad = equations.filter((e) => !e.ok).length;
  const title =
    first === null
      ? `${FN}: all ${equations.length} gradients agree with the tape (tolerance ${tolerance})`
      : `${FN}: ${bad} of ${equations.length} gradients disagree with the tape; the first in backward order is ${first}`;
  const header = ["gradient", "shape", "rel. diff", "from", "diagnosis"];
  const rows = equations.map((e) => [
    `${e.ok ? "✓" : "✗"} ${e.name}`,
    formatShape(e.returned.shape),
    Number.isFinite(e.relativeDifference)
      ? e.relativeDifference.toExponential(1)
      : String(e.relativeDifference),
    e.from.join(", ") || "—",
    e.ok ? "" : (e.diagnosis ?? `differs by a relative ${formatNumber(e.relativeDifference)}`),
  ]);
  return [title, ...formatTable(header, rows)].join("\n");
}

/**
 * @file Gradients as functions (JAX style): `grad`, `valueAndGrad`, `vjp`, `jvp`, `hvp`, `jacobian`,
 * `hessian`, built on the tape's `runBackward(root, seed, createGraph, targets)`.
 *
 * Nesting: each transform differentiates with respect to fresh tensors. An argument that already takes
 * part in an outer differentiation (it requires grad, grad mode is on) is passed through a recorded
 * identity, so the inner result stays connected to the outer tape; the inner backward is then recorded
 * (createGraph) exactly when the traced output reaches a tensor that requires grad other than the
 * transform's own — so `grad(grad(f))`, `grad(x => sum(grad(f)(x)))` and closures over outer tensors work,
 * and a top-level call returns plain tensors.
 */
import { enableGrad, isGradEnabled } from "./grad-mode.js";
import { full, mul, sum, toTensor, zeros } from "./ops/index.js";
import { apply, primitives } from "./primitives/index.js";
import { formatShape, shapesEqual } from "./shape.js";
import { runBackward } from "./tape.js";
import { Tensor } from "./tensor.js";
import { describeValue } from "./validate.js";

// biome-ignore lint/suspicious/noExplicitAny: f's parameters are whatever the user's function takes.
type AnyFn = (...args: any[]) => Tensor;

/** f's parameter list, where a Tensor parameter also accepts a number (converted to a 0-d tensor). */
export type ArgsOf<F extends AnyFn> = WithNumbers<Parameters<F>>;
/** Each entry of a parameter tuple, or a number. */
export type WithNumbers<P extends unknown[]> = { [K in keyof P]: P[K] | number };

/** A traced call: the output and the tensors it is differentiated with respect to. */
interface Trace {
  out: Tensor;
  targets: Tensor[];
  /** Whether the output reaches a tensor of an outer differentiation (then backward must be recorded). */
  nested: boolean;
}

/** Validate argnums (integers, distinct); returns them as a list. */
function argnumList(argnums: number | readonly number[], op: string): number[] {
  const list = typeof argnums === "number" ? [argnums] : Array.isArray(argnums) ? [...argnums] : null;
  if (list === null || list.length === 0 || !list.every((i) => Number.isInteger(i) && i >= 0)) {
    throw new Error(
      `${op}: argnums must be a non-negative integer or a non-empty array of them, got ${Array.isArray(argnums) ? `[${argnums.join(", ")}]` : String(argnums)}`,
    );
  }
  if (new Set(list).size !== list.length)
    throw new Error(`${op}: argnums [${list.join(", ")}] has a duplicate`);
  return list;
}

/** Whether the graph of `out` reaches a tensor requiring grad that is not one of `own` (an outer leaf). */
function reachesOuter(out: Tensor, own: ReadonlySet<Tensor>): boolean {
  const stack: Tensor[] = [out];
  const seen = new Set<Tensor>();
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (t._node === null) {
      if (t._requiresGrad && !own.has(t)) return true;
      continue;
    }
    for (const input of t._node.inputs) if (input._requiresGrad) stack.push(input);
  }
  return false;
}

/** Run f with the arguments at `nums` replaced by tensors to differentiate with respect to. */
function trace(f: AnyFn, args: readonly unknown[], nums: readonly number[], op: string): Trace {
  if (typeof f !== "function") throw new Error(`${op}: expects a function, got ${describeValue(f)}`);
  for (const i of nums) {
    if (i >= args.length) {
      throw new Error(
        `${op}: argnums [${nums.join(", ")}] is out of range for a function called with ${args.length} argument${args.length === 1 ? "" : "s"}`,
      );
    }
  }
  const outer = isGradEnabled();
  const callArgs = [...args];
  const own = new Set<Tensor>();
  const targets = nums.map((i) => {
    const a = args[i];
    if (!(a instanceof Tensor) && typeof a !== "number") {
      throw new Error(
        `${op}: argument ${i} is differentiated, so it must be a Tensor or a number, got ${describeValue(a)}`,
      );
    }
    const x = toTensor(a, op, i + 1);
    let t: Tensor;
    if (outer && x._requiresGrad) {
      // A recorded identity: a new tensor (distinct from x and from other arguments) still connected to x.
      t = apply(primitives.reshape, [x], { shape: [...x.shape] });
    } else {
      t = new Tensor(x.data, x.shape, true);
      own.add(t);
    }
    callArgs[i] = t;
    return t;
  });
  const out: unknown = enableGrad(() => f(...callArgs));
  if (!(out instanceof Tensor)) throw new Error(`${op}: f must return a Tensor, got ${describeValue(out)}`);
  return { out, targets, nested: outer && reachesOuter(out, own) };
}

/** Cotangent `seed` pulled back to every target (zeros where the output does not depend on it). */
function pull(tr: Trace, seed: Tensor, createGraph: boolean): Tensor[] {
  const grads = tr.out._requiresGrad ? runBackward(tr.out, seed, createGraph, tr.targets)! : [];
  return tr.targets.map((t, i) => grads[i] ?? zeros(t.shape));
}

function scalarGrads(f: AnyFn, args: readonly unknown[], nums: readonly number[], op: string) {
  const tr = trace(f, args, nums, op);
  if (tr.out.size !== 1) {
    throw new Error(
      `${op}: f must return a scalar, got shape ${formatShape(tr.out.shape)} (reduce it, e.g. with sum)`,
    );
  }
  const grads = pull(tr, full(tr.out.shape, 1), tr.nested);
  return { value: tr.nested ? tr.out : tr.out.detach(), grads };
}

/**
 * The gradient of a scalar-valued function, as a function with f's parameters.
 * Differentiated arguments may be Tensors or numbers (numbers become 0-d tensors); the gradient of each
 * has its argument's shape (zeros when the output does not depend on it).
 * Nests: `grad(grad(f))`, `grad(x => sum(grad(f)(x)))` (see the file comment).
 * @param argnums the argument to differentiate (default 0), or a list: then the result is a list.
 * @throws Error when f does not return a size-1 tensor (naming its shape), or for bad argnums
 *   (negative, non-integer, duplicated, or beyond the number of arguments of the call).
 * @example grad((x: Tensor) => sum(mul(x, x)))(tensor([1, 2])) // tensor([2, 4])
 */
export function grad<F extends AnyFn>(f: F, argnums?: number): (...args: ArgsOf<F>) => Tensor;
export function grad<F extends AnyFn>(f: F, argnums: readonly number[]): (...args: ArgsOf<F>) => Tensor[];
export function grad<F extends AnyFn>(
  f: F,
  argnums: number | readonly number[] = 0,
): (...args: ArgsOf<F>) => Tensor | Tensor[] {
  const nums = argnumList(argnums, "grad");
  return (...args) => {
    const { grads } = scalarGrads(f, args, nums, "grad");
    return typeof argnums === "number" ? grads[0]! : grads;
  };
}

/**
 * Like `grad`, also returning f's value: `[value, gradient]` (or `[value, gradients]` for a list of
 * argnums). The value is detached unless the call is nested in an outer differentiation.
 * @throws as `grad`.
 */
export function valueAndGrad<F extends AnyFn>(
  f: F,
  argnums?: number,
): (...args: ArgsOf<F>) => [Tensor, Tensor];
export function valueAndGrad<F extends AnyFn>(
  f: F,
  argnums: readonly number[],
): (...args: ArgsOf<F>) => [Tensor, Tensor[]];
export function valueAndGrad<F extends AnyFn>(
  f: F,
  argnums: number | readonly number[] = 0,
): (...args: ArgsOf<F>) => [Tensor, Tensor | Tensor[]] {
  const nums = argnumList(argnums, "valueAndGrad");
  return (...args) => {
    const { value, grads } = scalarGrads(f, args, nums, "valueAndGrad");
    return [value, typeof argnums === "number" ? grads[0]! : grads];
  };
}

function vjpTrace(f: AnyFn, primals: readonly (Tensor | number)[], op: string) {
  const tr = trace(
    f,
    primals,
    primals.map((_, i) => i),
    op,
  );
  const pullback = (cotangent: Tensor | number): Tensor[] => {
    const ct = toTensor(cotangent, `${op} pullback`);
    if (!shapesEqual(ct.shape, tr.out.shape)) {
      throw new Error(
        `${op}: the cotangent has shape ${formatShape(ct.shape)}, expected the output's shape ${formatShape(tr.out.shape)}`,
      );
    }
    // Recorded when nested, or when the cotangent itself is differentiated (jvp's double-vjp trick).
    return pull(tr, ct, isGradEnabled() && (tr.nested || ct._requiresGrad));
  };
  return { tr, pullback };
}

/**
 * Reverse mode as a function: `[out, pullback]` where `pullback(u)` returns uᵀ·∂f/∂primalᵢ for every
 * primal (one tensor of each primal's shape). `u` must have `out`'s shape. The pullback may be called
 * many times.
 * @throws Error if f does not return a Tensor; the pullback throws for a cotangent of the wrong shape.
 * @example const [y, back] = vjp((a, b) => mul(a, b), x, w); const [dx, dw] = back(ones(y.shape));
 */
export function vjp(
  f: (...primals: Tensor[]) => Tensor,
  ...primals: (Tensor | number)[]
): [Tensor, (cotangent: Tensor | number) => Tensor[]] {
  const { tr, pullback } = vjpTrace(f, primals, "vjp");
  return [tr.nested ? tr.out : tr.out.detach(), pullback];
}

/**
 * Forward mode: `[out, J·t]`, the directional derivative of f at `primals` along `tangents` (one per
 * primal, same shapes). Computed by the double-vjp trick, with reverse mode only: the pullback
 * u ↦ Jᵀu is linear in u, so J·t = ∂/∂u ⟨Jᵀu, t⟩ — one vjp recorded with a dummy cotangent u = 0 (createGraph),
 * then a second vjp of ⟨Jᵀu, t⟩ with respect to u. Costs about three backward passes.
 * @throws Error when the numbers of primals and tangents differ or a tangent's shape differs from its primal's.
 * @example jvp((x) => mul(x, x), [tensor([3])], [tensor([1])]) // [tensor([9]), tensor([6])]
 */
export function jvp(
  f: (...primals: Tensor[]) => Tensor,
  primals: readonly (Tensor | number)[],
  tangents: readonly (Tensor | number)[],
): [Tensor, Tensor] {
  if (!Array.isArray(primals) || !Array.isArray(tangents) || primals.length !== tangents.length) {
    throw new Error(
      `jvp: expects arrays of primals and tangents of the same length, got ${Array.isArray(primals) ? primals.length : describeValue(primals)} primals and ${Array.isArray(tangents) ? tangents.length : describeValue(tangents)} tangents`,
    );
  }
  const ts = tangents.map((t, i) => {
    const tt = toTensor(t, "jvp (tangent)", i + 1);
    const p = toTensor(primals[i], "jvp (primal)", i + 1);
    if (!shapesEqual(tt.shape, p.shape)) {
      throw new Error(
        `jvp: tangent ${i} has shape ${formatShape(tt.shape)}, primal ${i} has shape ${formatShape(p.shape)}`,
      );
    }
    return tt;
  });
  const outer = isGradEnabled();
  const { tr, pullback } = vjpTrace(f, primals, "jvp");
  const out = tr.out;
  const u = new Tensor(new Float64Array(out.size), out.shape, true);
  const tangentOut = enableGrad(() => {
    const back = pullback(u);
    let dot: Tensor | null = null;
    for (let i = 0; i < back.length; i++) {
      const term = sum(mul(back[i]!, ts[i]!));
      dot = dot === null ? term : dot.add(term);
    }
    if (dot === null || !dot._requiresGrad) return zeros(out.shape);
    return runBackward(dot, full(dot.shape, 1), outer && tr.nested, [u])![0] ?? zeros(out.shape);
  });
  return [tr.nested ? out : out.detach(), tr.nested ? tangentOut : tangentOut.detach()];
}

/**
 * Hessian-vector product H(x)·v of a scalar f, without forming H: the gradient of ⟨∇f(x), v⟩.
 * @returns a tensor of x's shape.
 * @throws Error if v's shape differs from x's, or f is not scalar.
 */
export function hvp(f: (x: Tensor) => Tensor, x: Tensor | number, v: Tensor | number): Tensor {
  const xt = toTensor(x, "hvp", 2);
  const vt = toTensor(v, "hvp", 3);
  if (!shapesEqual(xt.shape, vt.shape)) {
    throw new Error(`hvp: v has shape ${formatShape(vt.shape)}, x has shape ${formatShape(xt.shape)}`);
  }
  return grad((xi: Tensor) => sum(mul(grad(f)(xi), vt)))(xt);
}

/**
 * The full Jacobian of f with respect to argument `argnum`, one vjp per output element (small problems):
 * `jacobian(f)(x)` has shape `[...out.shape, ...x.shape]`, entry [i…, j…] = ∂outᵢ/∂xⱼ.
 * The result is a plain tensor (not itself differentiable).
 * @throws as `vjp`.
 */
export function jacobian<F extends AnyFn>(f: F, argnum = 0): (...args: ArgsOf<F>) => Tensor {
  const nums = argnumList(argnum, "jacobian");
  return (...args) => {
    const tr = trace(f, args, nums, "jacobian");
    const x = tr.targets[0]!;
    const n = x.size;
    const data = new Float64Array(tr.out.size * n);
    for (let k = 0; k < tr.out.size; k++) {
      const e = new Float64Array(tr.out.size);
      e[k] = 1;
      const row = pull(tr, new Tensor(e, tr.out.shape), false)[0]!;
      data.set(row.data, k * n);
    }
    return new Tensor(data, [...tr.out.shape, ...x.shape]);
  };
}

/**
 * The Hessian of a scalar f: `hessian(f)(x)` has shape `[...x.shape, ...x.shape]` — the Jacobian of the
 * gradient. For small problems; for a product with one vector use `hvp`.
 * @throws as `grad`.
 */
export function hessian<F extends AnyFn>(f: F, argnum = 0): (...args: ArgsOf<F>) => Tensor {
  argnumList(argnum, "hessian");
  const gradient = (...args: unknown[]): Tensor => scalarGrads(f, args, [argnum], "hessian").grads[0]!;
  return jacobian(gradient as F, argnum);
}

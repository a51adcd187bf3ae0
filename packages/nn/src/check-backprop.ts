/**
 * @file checkBackprop: compare a hand-written backward pass with the tape, equation by equation, and
 * name the first line that is wrong.
 *
 * Each manual equation is checked *locally*: its output is compared with what the tape gives for that one
 * step when fed the manual's own upstream value (dW2, db2 and dZ1 from the manual dZ2; dW1 and db1 from the
 * manual dZ1). A correct line then agrees even when a line above it is wrong, so a bug is reported at the
 * equation that contains it, not at every equation after it. dZ2 itself is compared with m·∂J/∂Z2. When
 * an upstream value is unusable (wrong shape, NaN), the tape's correct value is fed instead.
 */
import {
  add,
  diagnoseMismatch,
  enableGrad,
  formatShape,
  matmul,
  mul,
  noGrad,
  relativeDifference,
  Tensor,
} from "@tapegrad/autograd";
import {
  type Activation,
  type ActivationOptions,
  activations,
  autogradBackward,
  backwardPropagation,
  type Cache,
  checkActivation,
  forwardPropagation,
  type Grads,
  type Params,
} from "./course.js";
import { checkParams, checkXY } from "./validate.js";

/** The names of the six backward equations, in the order they are computed and checked. */
export type EquationName = "dZ2" | "dW2" | "db2" | "dZ1" | "dW1" | "db1";

/** The six equations in checking order: dZ2 → dW2, db2 → dZ1 → dW1, db1. */
export const EQUATIONS: readonly EquationName[] = ["dZ2", "dW2", "db2", "dZ1", "dW1", "db1"];

/** The course's text of each equation, for messages. */
export const EQUATION_TEXT: Record<EquationName, string> = {
  dZ2: "(1) dZ2 = A2 − Y",
  dW2: "(2) dW2 = (1/m) dZ2·A1ᵀ",
  db2: "(3) db2 = (1/m) Σ dZ2 over examples (axis 1, keepdims)",
  dZ1: "(4) dZ1 = W2ᵀdZ2 ⊙ g′(Z1)",
  dW1: "(5) dW1 = (1/m) dZ1·Xᵀ",
  db1: "(6) db1 = (1/m) Σ dZ1 over examples (axis 1, keepdims)",
};

/** A backward pass with `backwardPropagation`'s signature (the thing being checked). */
export type ManualBackward = (
  params: Params,
  cache: Cache,
  X: Tensor,
  Y: Tensor,
  options?: ActivationOptions,
) => Grads;

/** The result of checking one equation. */
export interface EquationCheck {
  /** ‖manual − expected‖₂ / (‖manual‖₂ + ‖expected‖₂); 0 when both are zero, Infinity on a shape mismatch. */
  relativeDifference: number;
  /**
   * Whether the two agree: ‖manual − expected‖₂ ≤ tolerance·(‖manual‖₂ + ‖expected‖₂) + 1e-12·scale, where
   * scale bounds the size of the terms the equation adds up (e.g. ‖dZ1‖·‖X‖/m for dW1). The absolute part
   * only matters when a sum cancels to about 0 (db2 = Σ(A2 − Y)/m with balanced labels and A2 ≈ ½), where
   * a relative difference measures nothing but rounding.
   */
  ok: boolean;
  /** Why it differs (e.g. "×m": a missing 1/m; a shape mismatch; a sign flip), or null when ok. */
  diagnosis: string | null;
  /** What the tape gives for this equation from the manual's upstream value (course's scaling). */
  expected: Tensor;
  /** Which upstream value fed `expected`: the manual's own, or the tape's (the manual's was unusable). */
  upstream: "manual" | "autograd" | "none";
}

/** The result of `checkBackprop`. */
export interface BackpropCheck {
  /** True when all six equations agree with the tape. */
  ok: boolean;
  /** The first equation (in EQUATIONS order) that disagrees, or null. */
  firstMismatch: EquationName | null;
  /** Each equation's check. */
  equations: Record<EquationName, EquationCheck>;
  /** The tape's end-to-end gradients (dZ in the course's m·∂J/∂Z convention). */
  autograd: Grads;
  /** One line saying which equation is wrong and why, or that all six agree. */
  summary: string;
}

/** Options of `checkBackprop`. */
export interface CheckBackpropOptions extends ActivationOptions {
  /** Largest relative difference accepted; default 1e-7 (the two computations agree to ~1e-15). */
  tolerance?: number;
}

/** Rounding allowance relative to the magnitude of an equation's terms. */
const ROUNDOFF = 1e-12;

function norm(t: Tensor): number {
  let s = 0;
  for (const v of t.data) s += v * v;
  return Math.sqrt(s);
}

function leaf(t: Tensor): Tensor {
  return new Tensor(t.data, t.shape, true);
}

function usable(t: unknown, shape: readonly number[]): t is Tensor {
  return (
    t instanceof Tensor &&
    t.ndim === shape.length &&
    t.shape.every((d, i) => d === shape[i]) &&
    t.data.every(Number.isFinite)
  );
}

/**
 * Check a hand-written backward pass against the tape, equation by equation (see the file comment for
 * how each equation is isolated), in the order dZ2 → dW2, db2 → dZ1 → dW1, db1.
 *
 * The course's dZ is m·∂J/∂Z (dZ2 = A2 − Y while J = −(1/m)Σ…), so the tape's ∂J/∂Z is multiplied by m
 * before comparing; dW and db are ∂J/∂θ on both sides.
 * @param params W1 (nH, nX), b1 (nH, 1), W2 (nY, nH), b2 (nY, 1). @param X (nX, m). @param Y (nY, m) 0/1.
 * @param manual the backward pass to check (called once as `manual(params, cache, X, Y, { activation })`).
 * @returns ok, the first wrong equation, each equation's relative difference and diagnosis, the tape's
 *   gradients and a one-line summary.
 * @throws Error for bad input (as forwardPropagation), or naming `manual` when it throws or returns no object.
 * @example checkBackprop(params, X, Y, myBackward).firstMismatch // "dZ1" for g instead of g′
 */
export function checkBackprop(
  params: Params,
  X: Tensor,
  Y: Tensor,
  manual: ManualBackward = backwardPropagation,
  options: CheckBackpropOptions = {},
): BackpropCheck {
  const fn = "checkBackprop";
  const activation: Activation = checkActivation(fn, options.activation ?? "tanh");
  const tolerance = options.tolerance ?? 1e-7;
  const m = checkXY(fn, X, Y);
  checkCourseNetwork(params, X, Y);
  const nH = params.W1.shape[0]!;
  const nY = params.W2.shape[0]!;

  const { cache } = noGrad(() => forwardPropagation(X, params, { activation }));
  let mine: Grads;
  try {
    mine = manual(params, cache, X, Y, { activation });
  } catch (e) {
    throw new Error(`${fn}: the manual backward pass threw: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (mine === null || typeof mine !== "object") {
    throw new Error(`${fn}: the manual backward pass returned ${String(mine)}, expected { dZ2, dW2, … }`);
  }
  const autograd = autogradBackward(params, X, Y, { activation });

  const expected = {} as Record<EquationName, Tensor>;
  const upstream = {} as Record<EquationName, EquationCheck["upstream"]>;
  // bounds on the magnitude of each equation's terms (Cauchy–Schwarz), for the rounding allowance
  const scale = {} as Record<EquationName, number>;
  expected.dZ2 = autograd.dZ2;
  upstream.dZ2 = "none";
  scale.dZ2 = norm(cache.A2) + norm(Y);

  let dZ2Fed = autograd.dZ2;
  enableGrad(() => {
    // Layer 2 alone, fed the manual dZ2: Z2 = W2·g(Z1) + b2 seeded with dZ2 gives dZ1 (the course's
    // scaling, since dZ2 already carries the factor m) and m·dW2, m·db2.
    const useMine2 = usable(mine.dZ2, [nY, m]);
    const dZ2 = useMine2 ? mine.dZ2 : autograd.dZ2;
    dZ2Fed = dZ2;
    scale.dW2 = (norm(dZ2) * norm(cache.A1)) / m;
    scale.db2 = norm(dZ2) / Math.sqrt(m);
    scale.dZ1 = norm(params.W2) * norm(dZ2); // |g′| ≤ 1 for the four activations
    const Z1 = leaf(cache.Z1);
    const W2 = leaf(params.W2);
    const b2 = leaf(params.b2);
    add(matmul(W2, activations[activation].g(Z1)), b2).backward(dZ2);
    expected.dW2 = noGrad(() => mul(W2.grad!, 1 / m));
    expected.db2 = noGrad(() => mul(b2.grad!, 1 / m));
    expected.dZ1 = Z1.grad!;
    for (const k of ["dW2", "db2", "dZ1"] as const) upstream[k] = useMine2 ? "manual" : "autograd";

    // Layer 1 alone, fed the manual dZ1: Z1 = W1·X + b1 seeded with dZ1 gives m·dW1, m·db1.
    const useMine1 = usable(mine.dZ1, [nH, m]);
    const dZ1 = useMine1 ? mine.dZ1 : expected.dZ1;
    scale.dW1 = (norm(dZ1) * norm(X)) / m;
    scale.db1 = norm(dZ1) / Math.sqrt(m);
    const W1 = leaf(params.W1);
    const b1 = leaf(params.b1);
    add(matmul(W1, X), b1).backward(dZ1);
    expected.dW1 = noGrad(() => mul(W1.grad!, 1 / m));
    expected.db1 = noGrad(() => mul(b1.grad!, 1 / m));
    for (const k of ["dW1", "db1"] as const) upstream[k] = useMine1 ? "manual" : "autograd";
  });

  const equations = {} as Record<EquationName, EquationCheck>;
  let firstMismatch: EquationName | null = null;
  for (const name of EQUATIONS) {
    const want = expected[name];
    const got: unknown = mine[name];
    let check: EquationCheck;
    if (!(got instanceof Tensor)) {
      check = {
        relativeDifference: Number.POSITIVE_INFINITY,
        ok: false,
        diagnosis: `the manual backward pass returned ${got === undefined ? "no" : `a non-Tensor (${typeof got})`} ${name}`,
        expected: want,
        upstream: upstream[name],
      };
    } else if (got.ndim !== want.ndim || got.shape.some((d, i) => d !== want.shape[i])) {
      check = {
        relativeDifference: Number.POSITIVE_INFINITY,
        ok: false,
        diagnosis: `${name} has shape ${formatShape(got.shape)}, expected ${formatShape(want.shape)} — ${EQUATION_TEXT[name]}`,
        expected: want,
        upstream: upstream[name],
      };
    } else {
      const rd = relativeDifference(got, want); // 0 when both are zero, NaN with a NaN
      let diff = 0;
      for (let i = 0; i < got.size; i++) diff += (got.data[i]! - want.data[i]!) ** 2;
      // NaN compares false: not ok
      const ok = Math.sqrt(diff) <= tolerance * (norm(got) + norm(want)) + ROUNDOFF * scale[name];
      check = {
        relativeDifference: rd,
        ok,
        diagnosis: ok
          ? null
          : (diagnoseMismatch(got, want, { name, sizes: [m], labels: ["manual", "tape"] }) ??
            `${name} differs from the tape by a relative ${rd.toPrecision(3)} (tolerance ${tolerance})`),
        expected: want,
        upstream: upstream[name],
      };
    }
    if (
      name === "dZ1" &&
      !check.ok &&
      got instanceof Tensor &&
      usesGInsteadOfGPrime(got, params.W2, dZ2Fed, cache.A1)
    ) {
      check.diagnosis = `dZ1 = W2ᵀdZ2 ⊙ g(Z1): it multiplies by the activation g(Z1) = A1 where its derivative g′(Z1) belongs (the notes' own typo) — ${EQUATION_TEXT.dZ1}`;
    } else if (name === "dZ1" && !check.ok && got instanceof Tensor) {
      const other = otherActivationMatching(got, params.W2, dZ2Fed, cache.Z1, activation);
      if (other !== null) {
        check.diagnosis = `dZ1 matches ${other}'s g′, but checkBackprop checked against ${activation}${options.activation === undefined ? " (the default)" : ""}: is the network's activation "${other}"? Pass { activation: "${other}" } to checkBackprop`;
      }
    }
    equations[name] = check;
    if (!check.ok && firstMismatch === null) firstMismatch = name;
  }
  const summary =
    firstMismatch === null
      ? `${fn}: all six equations agree with the tape (largest relative difference ${Math.max(
          ...EQUATIONS.map((n) => equations[n].relativeDifference),
        ).toPrecision(3)})`
      : `${fn}: ${EQUATION_TEXT[firstMismatch]} is wrong: ${equations[firstMismatch].diagnosis}`;
  return { ok: firstMismatch === null, firstMismatch, equations, autograd, summary };
}

/**
 * checkParams, with the way out when the parameters are another network's: checkBackprop knows only the
 * course's two layers.
 */
function checkCourseNetwork(params: Params, X: Tensor, Y: Tensor): void {
  const redirect =
    "checkBackprop checks only W1, b1, W2, b2 of the course's two-layer network; for any other network (more layers, regularisation, another cost) use checkDerivation from @tapegrad/autograd";
  const extra =
    params !== null && typeof params === "object"
      ? Object.keys(params).filter((k) => !(["W1", "b1", "W2", "b2"] as string[]).includes(k))
      : [];
  if (extra.length > 0)
    throw new Error(`checkBackprop: the parameters have ${extra.join(", ")}: ${redirect}`);
  try {
    checkParams("checkBackprop", params, X.shape[0], Y.shape[0]);
  } catch (e) {
    throw new Error(`${(e as Error).message} — ${redirect}`);
  }
}

/** Another activation whose g′ makes exactly the user's dZ1 from the fed dZ2, or null. */
function otherActivationMatching(
  dZ1: Tensor,
  W2: Tensor,
  dZ2: Tensor,
  Z1: Tensor,
  activation: Activation,
): Activation | null {
  if (dZ1.ndim !== Z1.ndim || dZ1.shape.some((d, i) => d !== Z1.shape[i])) return null;
  for (const other of Object.keys(activations) as Activation[]) {
    if (other === activation) continue;
    const rule = activations[other];
    const candidate = noGrad(() => mul(matmul(W2, dZ2, { transposeA: true }), rule.gPrime(Z1, rule.g(Z1))));
    if (relativeDifference(dZ1, candidate) <= 1e-12) return other;
  }
  return null;
}

/** Whether a wrong dZ1 is exactly the course notes' typo, W2ᵀdZ2 ⊙ g(Z1) instead of W2ᵀdZ2 ⊙ g′(Z1). */
function usesGInsteadOfGPrime(dZ1: Tensor, W2: Tensor, dZ2: Tensor, A1: Tensor): boolean {
  if (dZ1.ndim !== A1.ndim || dZ1.shape.some((d, i) => d !== A1.shape[i])) return false;
  const typo = noGrad(() => mul(matmul(W2, dZ2, { transposeA: true }), A1));
  return relativeDifference(dZ1, typo) <= 1e-12;
}

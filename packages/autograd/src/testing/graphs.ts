/**
 * @file Random expression graphs for fuzzing autograd: fast-check generates a small program (leaf shapes
 * and values, then a list of instructions over earlier results), `runGraph` interprets it with the
 * library's ops. Programs are plain data, so fast-check shrinks a failing graph to its smallest form.
 *
 * Every instruction always type-checks: when operands do not fit (shapes that do not broadcast, a matmul
 * without a matching inner dimension, a reduction of a 0-d tensor), the interpreter substitutes a
 * well-defined variant (e.g. the second operand summed to a scalar). Domains are kept safe (log and sqrt of
 * 1 + x², division by 1 + y², powers of a positive base) so that gradients are finite and smooth almost
 * everywhere, and finite differences are meaningful.
 */
import fc from "fast-check";
import * as ag from "../index.js";
import type { Tensor } from "../tensor.js";

/** The instructions a graph may contain. */
export const graphOps = [
  "neg",
  "square",
  "sqrtSafe",
  "expTanh",
  "logSafe",
  "abs",
  "tanh",
  "sigmoid",
  "relu",
  "add",
  "sub",
  "mul",
  "divSafe",
  "powSafe",
  "maximum",
  "minimum",
  "where",
  "clip",
  "matmul",
  "reshape",
  "transpose",
  "broadcastTo",
  "concat",
  "stack",
  "take",
  "sum",
  "mean",
  "max",
  "min",
  "logsumexp",
  "softmax",
  "logSoftmax",
] as const;

/** One instruction: an op applied to earlier values `a` and `b` (indices taken modulo the count so far). */
export interface GraphInstruction {
  op: (typeof graphOps)[number];
  a: number;
  b: number;
  /** Selects an axis, keepdims, or indices, depending on the op. */
  choice: number;
}

/** A random program: leaves (shape and values) and instructions. The output is the last value. */
export interface GraphProgram {
  leaves: { shape: number[]; values: number[] }[];
  instructions: GraphInstruction[];
}

/** Options of `arbGraph`. */
export interface ArbGraphOptions {
  /** Most leaves (default 3). */
  maxLeaves?: number;
  /** Most instructions (default 8). */
  maxInstructions?: number;
  /** Largest axis length (default 3). */
  maxDim?: number;
  /** Largest absolute leaf value (default 1.5). */
  maxValue?: number;
}

/** fast-check arbitrary of random expression graphs over every primitive, with broadcasting and reuse. */
export function arbGraph(options: ArbGraphOptions = {}): fc.Arbitrary<GraphProgram> {
  const { maxLeaves = 3, maxInstructions = 8, maxDim = 3, maxValue = 1.5 } = options;
  const leaf = fc
    .array(fc.integer({ min: 1, max: maxDim }), { minLength: 0, maxLength: 3 })
    .chain((shape) => {
      const n = shape.reduce((p, d) => p * d, 1);
      return fc.record({
        shape: fc.constant(shape),
        // Offsets (square roots: no arithmetic progression, whose equal differences would tie again) keep
        // values distinct even when shrinking drives them to 0: exact ties are kinks of max/min/maximum.
        values: fc
          .array(fc.double({ min: -maxValue, max: maxValue, noNaN: true }), { minLength: n, maxLength: n })
          .map((vs) => vs.map((v, i) => v + 0.01 * Math.sqrt(i + 2))),
      });
    });
  const instruction = fc.record({
    op: fc.constantFrom(...graphOps),
    a: fc.nat(64),
    b: fc.nat(64),
    choice: fc.nat(64),
  });
  return fc.record({
    leaves: fc
      .array(leaf, { minLength: 1, maxLength: maxLeaves })
      .map((ls) =>
        ls.map((l, k) => ({ shape: l.shape, values: l.values.map((v) => v + 0.0071 * Math.sqrt(k)) })),
      ),
    instructions: fc.array(instruction, { minLength: 1, maxLength: maxInstructions }),
  });
}

function broadcasts(x: Tensor, y: Tensor): boolean {
  try {
    ag.broadcastShapes(x.shape, y.shape);
    return true;
  } catch {
    return false;
  }
}

/** Interpret one instruction on tensors `x` (= values[a]) and `y` (= values[b]). */
function step(ins: GraphInstruction, x: Tensor, y: Tensor): Tensor {
  const yb = broadcasts(x, y) ? y : ag.sum(y); // a scalar always broadcasts
  const axis = x.ndim > 0 ? ins.choice % x.ndim : undefined;
  const keepdims = ins.choice % 2 === 1;
  switch (ins.op) {
    case "neg":
      return ag.neg(x);
    case "square":
      return ag.square(x);
    case "sqrtSafe":
      return ag.sqrt(ag.add(1, ag.square(x)));
    case "expTanh":
      return ag.exp(ag.tanh(x));
    case "logSafe":
      return ag.log(ag.add(1, ag.square(x)));
    case "abs":
      return ag.abs(x);
    case "tanh":
      return ag.tanh(x);
    case "sigmoid":
      return ag.sigmoid(x);
    case "relu":
      return ag.relu(x);
    case "add":
      return ag.add(x, yb);
    case "sub":
      return ag.sub(x, yb);
    case "mul":
      return ag.mul(x, yb);
    case "divSafe":
      return ag.div(x, ag.add(1, ag.square(yb)));
    case "powSafe":
      return ag.pow(ag.add(1.5, ag.tanh(x)), ag.tanh(yb));
    case "maximum":
      return ag.maximum(x, yb);
    case "minimum":
      return ag.minimum(x, yb);
    case "where":
      return ag.where(ag.greater(yb.detach(), 0), x, ag.mul(yb, 0.5));
    case "clip":
      return ag.clip(x, -0.8, 0.9);
    case "matmul": {
      if (x.ndim === 2 && y.ndim === 2 && y.shape[0] === x.shape[1]) return ag.matmul(x, y);
      if (x.ndim === 2)
        return ag.matmul(x, x, { transposeB: ins.choice % 2 === 0, transposeA: ins.choice % 2 === 1 });
      const row = ag.reshape(x, [1, -1]);
      return ag.matmul(row, row, { transposeA: true });
    }
    case "reshape":
      return ag.reshape(x, [-1]);
    case "transpose":
      return ag.transpose(x);
    case "broadcastTo":
      return ag.broadcastTo(x, [2, ...x.shape]);
    case "concat": {
      if (x.ndim === 0) return ag.stack([x, y.ndim === 0 ? y : ag.sum(y)]);
      const other = y.ndim === x.ndim && y.shape.every((d, i) => i === axis || d === x.shape[i]) ? y : x;
      return ag.concat([x, other], axis);
    }
    case "stack":
      return ag.stack(
        [x, x.ndim === y.ndim && x.shape.every((d, i) => d === y.shape[i]) ? y : ag.neg(x)],
        axis ?? 0,
      );
    case "take": {
      if (x.ndim === 0) return x;
      const n = x.shape[axis!]!;
      return ag.take(x, [ins.choice % n, (ins.choice >> 2) % n, (ins.choice >> 4) % n], axis);
    }
    case "sum":
      return ag.sum(x, axis, keepdims);
    case "mean":
      return ag.mean(x, axis, keepdims);
    case "max":
      return ag.max(x, axis, keepdims);
    case "min":
      return ag.min(x, axis, keepdims);
    case "logsumexp":
      return ag.logsumexp(x, axis, keepdims);
    case "softmax":
      return x.ndim === 0 ? ag.sigmoid(x) : ag.softmax(x, axis);
    case "logSoftmax":
      return x.ndim === 0 ? ag.neg(x) : ag.logSoftmax(x, axis);
  }
}

/**
 * Run a program on the given leaf tensors (one per `program.leaves` entry, in order) and reduce its last
 * value to a scalar with fixed weights (so every output element matters). Pure: the same leaves give the
 * same result.
 */
export function runGraph(program: GraphProgram, leaves: readonly Tensor[]): Tensor {
  const values: Tensor[] = [...leaves];
  for (const ins of program.instructions) {
    const x = values[ins.a % values.length]!;
    const y = values[ins.b % values.length]!;
    values.push(step(ins, x, y));
  }
  const out = values[values.length - 1]!;
  const w = ag.tensor(
    Float64Array.from({ length: out.size }, (_, i) => Math.cos(0.9 * i + 0.2)),
    { shape: [...out.shape] },
  );
  return ag.sum(ag.mul(out, w));
}

/** The program's leaves as tensors. */
export function graphLeaves(program: GraphProgram, requiresGrad = false): Tensor[] {
  return program.leaves.map((l) => ag.tensor(Float64Array.from(l.values), { shape: l.shape, requiresGrad }));
}

/** The outcome of checking one random graph. */
export interface GraphCheck {
  /** True when every gradient element and the Hessian-vector product agree with finite differences. */
  ok: boolean;
  /** Worst scaled error found, |analytic − numeric| / max(1, |analytic|, |numeric|). */
  worst: number;
  /** Elements skipped because the numeric derivative was unstable under the step size (a kink). */
  kinks: number;
  /** What disagreed, for a failing check. */
  detail: string;
}

function gradients(
  program: GraphProgram,
  leaves: Tensor[],
  createGraph: boolean,
): { out: Tensor; grads: Tensor[] } {
  const xs = leaves.map((t) => ag.tensor(t.data.slice(), { shape: [...t.shape], requiresGrad: true }));
  const out = runGraph(program, xs);
  out.backward({ createGraph });
  return { out, grads: xs.map((x) => x.grad ?? ag.zeros(x.shape)) };
}

/**
 * Check a program's reverse-mode gradient against Richardson-extrapolated central differences, and its
 * Hessian-vector product (reverse over reverse, `createGraph`) against central differences of the gradient
 * along a fixed direction. Elements where the numeric estimate is unstable under the step size (a kink of
 * relu, abs, max, clip or where) are skipped and counted.
 */
export function checkGraph(program: GraphProgram, { tolerance = 1e-6, h = 1e-4 } = {}): GraphCheck {
  const leaves = graphLeaves(program);
  const f = (xs: Tensor[]): number => ag.noGrad(() => runGraph(program, xs).item());
  const { grads } = gradients(program, leaves, false);
  let worst = 0;
  let kinks = 0;
  let detail = "";
  const scaled = (a: number, n: number): number => Math.abs(a - n) / Math.max(1, Math.abs(a), Math.abs(n));
  const shifted = (k: number, i: number, d: number): Tensor[] =>
    leaves.map((t, j) => {
      if (j !== k) return t;
      const data = t.data.slice();
      data[i]! += d;
      return ag.tensor(data, { shape: [...t.shape] });
    });
  // Richardson-extrapolated central difference with steps s and s/2 (error O(s⁴)).
  const numericAt = (k: number, i: number, s: number): number => {
    const d1 = (f(shifted(k, i, s)) - f(shifted(k, i, -s))) / (2 * s);
    const d2 = (f(shifted(k, i, s / 2)) - f(shifted(k, i, -s / 2))) / s;
    return (4 * d2 - d1) / 3;
  };
  // One element's verdict. A mismatch is real only if the numeric estimate can be trusted. At a kink of
  // relu, abs, max, clip or where within the step, it cannot: either the estimate moves when the step
  // shrinks, or (a kink closer than the smaller step, e.g. a tie up to rounding) the one-sided slopes at
  // the small step differ by the jump, about twice the mismatch. Neither happens for a wrong rule at a
  // smooth point: its estimate is stable and its one-sided slopes differ by only step × curvature.
  const judge = (
    what: string,
    k: number,
    i: number,
    analytic: number,
    numeric: number,
    noise: number,
    probe: () => { finer: number; leftRightGap: number },
  ) => {
    const err = scaled(analytic, numeric) / noise;
    if (err > tolerance) {
      const mismatch = Math.abs(analytic - numeric);
      const { finer, leftRightGap } = probe();
      if (
        !Number.isFinite(numeric) ||
        !Number.isFinite(finer) ||
        Math.abs(finer - numeric) > 0.1 * mismatch ||
        leftRightGap > mismatch
      ) {
        kinks++;
        return;
      }
    }
    if (err > worst) {
      worst = err;
      if (err > tolerance) {
        detail = `${what} of leaf ${k} ${ag.formatShape(leaves[k]!.shape)} at flat index ${i}: analytic ${analytic}, numeric ${numeric}`;
      }
    }
  };
  const f0 = f(leaves);
  for (let k = 0; k < leaves.length; k++) {
    for (let i = 0; i < leaves[k]!.size; i++) {
      judge("gradient", k, i, grads[k]!.data[i]!, numericAt(k, i, h), 1, () => {
        const s = h / 16;
        const right = (f(shifted(k, i, s)) - f0) / s;
        const left = (f0 - f(shifted(k, i, -s))) / s;
        return { finer: numericAt(k, i, s), leftRightGap: Math.abs(right - left) };
      });
    }
  }
  // Hessian-vector product: d/dε ∇f(x + εv) at 0, against reverse-over-reverse.
  const v = leaves.map((t, k) =>
    ag.tensor(
      Float64Array.from({ length: t.size }, (_, i) => Math.sin(1.3 * i + k + 0.5)),
      { shape: [...t.shape] },
    ),
  );
  const xs = leaves.map((t) => ag.tensor(t.data.slice(), { shape: [...t.shape], requiresGrad: true }));
  runGraph(program, xs).backward({ createGraph: true });
  const gv = xs.reduce<Tensor>(
    (acc, x, k) => (x.grad === null ? acc : ag.add(acc, ag.sum(ag.mul(x.grad, v[k]!)))),
    ag.tensor(0),
  );
  for (const x of xs) x.zeroGrad();
  if (gv.requiresGrad) gv.backward();
  const hv = xs.map((x) => x.grad ?? ag.zeros(x.shape));
  const along = (eps: number): Tensor[] => leaves.map((t, k) => ag.add(t, ag.mul(v[k]!, eps)));
  // Richardson-extrapolated central difference of the gradient along v, steps e and e/2.
  const hvNumeric = (e: number): Tensor[] => {
    const [gp, gm, gp2, gm2] = [e, -e, e / 2, -e / 2].map((s) => gradients(program, along(s), false).grads);
    return leaves.map((_, k) =>
      ag.div(ag.sub(ag.mul(4, ag.sub(gp2![k]!, gm2![k]!)), ag.mul(0.5, ag.sub(gp![k]!, gm![k]!))), 3 * e),
    );
  };
  const e = 1e-5;
  const coarse = hvNumeric(e);
  let fine: { finer: Tensor[]; gap: Tensor[] } | null = null;
  for (let k = 0; k < leaves.length; k++) {
    for (let i = 0; i < leaves[k]!.size; i++) {
      // differences of gradients are ~100× noisier than differences of values
      judge("Hessian-vector product", k, i, hv[k]!.data[i]!, coarse[k]!.data[i]!, 100, () => {
        if (fine === null) {
          const s = e / 16;
          const [gp, gm] = [s, -s].map((d) => gradients(program, along(d), false).grads);
          const gap = grads.map((g0, j) =>
            ag.abs(ag.div(ag.sub(ag.add(gp![j]!, gm![j]!), ag.mul(2, g0)), s)),
          );
          fine = { finer: hvNumeric(s), gap };
        }
        return { finer: fine.finer[k]!.data[i]!, leftRightGap: fine.gap[k]!.data[i]! };
      });
    }
  }
  return { ok: worst <= tolerance, worst, kinks, detail };
}

/**
 * @file Weight initialisers (PyTorch's nn.init), seedable with the numpy-exact `RandomState`. They write
 * into the tensor's data in place and return it.
 */
import { formatShape, RandomState, type Tensor } from "@tapegrad/autograd";
import { expectTensor } from "@tapegrad/autograd/validate";

let defaultRng: RandomState | null = null;

/**
 * Reseed the package's default generator (used by `Linear` and the initialisers when no `rng`/`seed` is
 * given), like `torch.manual_seed`. Before any call it is `new RandomState(0)`, so programs are reproducible.
 */
export function manualSeed(seed: number): void {
  defaultRng = new RandomState(seed);
}

/** The package's default generator (see `manualSeed`). */
export function defaultGenerator(): RandomState {
  defaultRng ??= new RandomState(0);
  return defaultRng;
}

/** Where random numbers come from: a generator, a seed (a fresh generator), or neither (the default one). */
export interface RngOptions {
  /** Draw from this generator (its stream advances). */
  rng?: RandomState;
  /** Draw from `new RandomState(seed)`. Ignored when `rng` is given. */
  seed?: number;
}

/** The generator selected by `options`. */
export function resolveRng(options: RngOptions = {}): RandomState {
  if (options.rng !== undefined) return options.rng;
  if (options.seed !== undefined) return new RandomState(options.seed);
  return defaultGenerator();
}

/**
 * fan_in and fan_out of a weight, as PyTorch computes them: for shape (out, in, …k) fan_in = in·Πk and
 * fan_out = out·Πk. A course-layout W (nOut, nIn) has the same fans as a PyTorch Linear weight.
 * @throws Error for a tensor with fewer than 2 axes.
 */
export function fans(t: Tensor, op = "fans"): { fanIn: number; fanOut: number } {
  expectTensor(op, "the weight to fill in place", t);
  if (t.ndim < 2) {
    throw new Error(
      `${op}: fan_in and fan_out need a tensor with at least 2 axes, got shape ${formatShape(t.shape)}`,
    );
  }
  const receptive = t.shape.slice(2).reduce((p, d) => p * d, 1);
  return { fanIn: t.shape[1]! * receptive, fanOut: t.shape[0]! * receptive };
}

/** Fill `t` with U(low, high) draws from the selected generator (numpy's `uniform`). Returns `t`. */
export function uniform(t: Tensor, low: number, high: number, options: RngOptions = {}): Tensor {
  expectTensor("uniform", "the weight to fill in place", t);
  t.data.set(resolveRng(options).uniform(low, high, [...t.shape]).data);
  return t;
}

/** Fill `t` with N(0, std²) draws from the selected generator (numpy's `randn`·std). Returns `t`. */
export function normal(t: Tensor, std: number, options: RngOptions = {}): Tensor {
  expectTensor("normal", "the weight to fill in place", t);
  const z = resolveRng(options).randn(...t.shape).data;
  for (let i = 0; i < z.length; i++) t.data[i] = z[i]! * std;
  return t;
}

/**
 * Xavier/Glorot uniform (`nn.init.xavier_uniform_`): U(−a, a) with a = gain·√(6 / (fan_in + fan_out)), which
 * keeps activations' and gradients' variances about constant through tanh/sigmoid layers.
 * @param t a weight with ≥ 2 axes, filled in place. @returns t.
 */
export function xavierUniform(t: Tensor, options: RngOptions & { gain?: number } = {}): Tensor {
  const { fanIn, fanOut } = fans(t, "xavierUniform");
  const a = (options.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(t, -a, a, options);
}

/**
 * He/Kaiming normal (`nn.init.kaiming_normal_` with its defaults): N(0, std²) with std = gain/√fan, gain =
 * √2 (ReLU), fan = fan_in — variance-preserving for ReLU layers.
 * @param t a weight with ≥ 2 axes, filled in place. @returns t.
 */
export function heNormal(
  t: Tensor,
  options: RngOptions & { gain?: number; mode?: "fanIn" | "fanOut" } = {},
): Tensor {
  const { fanIn, fanOut } = fans(t, "heNormal");
  const fan = (options.mode ?? "fanIn") === "fanIn" ? fanIn : fanOut;
  return normal(t, (options.gain ?? Math.SQRT2) / Math.sqrt(fan), options);
}

/**
 * @file Generates the WebAssembly text of the float64 elementwise kernels (exp, tanh, sigmoid; f64x2 SIMD).
 *
 * Each export `op(p, n)` overwrites, in place, the ⌈n/2U⌉·2U doubles at byte address p (U vectors of
 * two lanes per loop iteration): the caller pads, so the loop needs no tail. Every lane is computed
 * without branches; the few special inputs (±0, ±∞, NaN, overflow, underflow) come out right from the
 * arithmetic itself, so there is no fix-up pass in JavaScript.
 *
 * exp(x), the core of all three:
 * - x is clamped to [−746, 710] with pmax(x, −746) then pmin(·, 710) (single SSE instructions, unlike
 *   min/max; with x first, a NaN x compares false and is kept): e^−746 rounds to 0 and e^710 to ∞,
 *   so ±∞ need no special case and the reduction below never meets an infinity;
 * - k = nearest(x·log₂e) by adding 1.5·2⁵² (the sum's low mantissa bits are k, read as an i64 by
 *   subtracting the magic's bits: wasm SIMD has no f64→i64 conversion);
 * - r = x − k·ln2hi − k·ln2lo (Cody–Waite: ln2hi has 21 trailing zero bits, so k·ln2hi and the
 *   first subtraction are exact for |k| ≤ 1077), |r| ≤ ln2/2 + a rounding, and c, the rounding
 *   error of r, carried into the sum (without it the worst error was 1.12 ulp, with it 0.88);
 * - e^r = 1 + (r + (r²·Q(r) + c)), Q the Taylor terms of degree 2 … 13 over r² (truncation
 *   < 5·10⁻¹⁸ relative), evaluated by Estrin's scheme;
 * - e^x = e^r · 2^k1 · 2^k2 with k1 = k >> 1, k2 = k − k1: both factors are normal doubles, the
 *   first product is exact and the second rounds once, also into the subnormal range or to ∞.
 *   (k >> 1 is an i32x4 shift: |k| < 2³¹, so the high word is the sign's copy and shifts alike;
 *   V8 has no single instruction for i64x2.shr_s.)
 * tanh(x) = sign(x) · y(|x|), y = |x| + |x|·s·P(s)/Q(s) (s = x², Cephes) below 0.625, else
 *   1 − 2/(e^{2|x|} + 1); both are `base + num/den`, so one division serves both after a per-lane
 *   select. The sign is OR-ed in last, which keeps −0 and makes tanh odd.
 * sigmoid(x) with e = e^−|x|: 1/(1 + e) for x ≥ 0, e/(1 + e) for x < 0 — never overflows.
 * softplusNegAbs(x) = log(1 + e^−|x|), the tail of sigmoidCrossEntropy: e = e^−|x| ∈ [0, 1], then
 *   fdlibm's log1p restricted to that range — u = 1 + e, its rounding error c = e − (u − 1) (exact),
 *   u = 2^k·(1 + f) with k = [u > √2] (f exact: u − 1 or u/2 − 1), s = f/(2 + f), the Lg1…Lg7
 *   polynomial R(s²), and log1p(e) = k·ln2hi − ((f²/2 − (s·(f²/2 + R) + (k·ln2lo + c/u))) − f).
 *   e below 2⁻⁵³ gives u = 1, f = 0 and the result c = e; NaN stays NaN.
 */

/** The elementwise ops the module exports, in export order. */
export const ELEMENTWISE_OPS = ["exp", "tanh", "sigmoid", "softplusNegAbs"] as const;

/**
 * Vectors (two doubles each) per loop iteration; the memory must hold n rounded up to a multiple of
 * 2·UNROLL. Measured (ns per element at n = 1600, tanh/exp/sigmoid): 1 vector 8.9/5.1/7.0 with
 * Horner, 2 with Estrin 5.1/3.3/4.3, 4 with Estrin 5.5/3.5/4.0, 8 spills (6.7/4.2/5.0).
 */
export const UNROLL = 2;

const bits = new DataView(new ArrayBuffer(8));

/** A splatted f64 constant, written through its bit pattern so that no decimal parsing can round it. */
function f64(v: number): string {
  bits.setFloat64(0, v);
  return i64(bits.getBigInt64(0));
}

/**
 * A splatted i64 constant. V8 hoists constants out of the loop by itself (measured: setting them
 * in locals before the loop made no difference).
 */
function i64(v: number | bigint): string {
  bits.setBigInt64(0, BigInt(v));
  const hex = `0x${bits.getBigUint64(0).toString(16).padStart(16, "0")}`;
  return `(v128.const i64x2 ${hex} ${hex})`;
}

const get = (name: string): string => `(local.get $${name})`;
const set = (name: string, value: string): string => `(local.set $${name} ${value})`;
const mul = (a: string, b: string): string => `(f64x2.mul ${a} ${b})`;
const add = (a: string, b: string): string => `(f64x2.add ${a} ${b})`;
const sub = (a: string, b: string): string => `(f64x2.sub ${a} ${b})`;

/** 1.5·2⁵²: adding it rounds a double of magnitude < 2⁵¹ to an integer held in the low mantissa bits. */
const MAGIC = 6755399441055744;
/** The bit pattern of MAGIC, as the decimal i64 that `i64x2.sub` takes away to leave k. */
const MAGIC_BITS = (() => {
  bits.setFloat64(0, MAGIC);
  return bits.getBigInt64(0);
})();
/** ln 2 split for Cody–Waite (fdlibm's ln2HI/ln2LO): ln2hi has only 32 significant bits. */
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;
/** 1/n! for n = 0 … 13, each the double nearest to it. */
const INV_FACTORIAL = Array.from({ length: 14 }, (_, n) => {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i; // exact: 13! < 2⁵³
  return 1 / f;
});
/** Cephes tanh, |x| < 0.625: tanh x ≈ x + x·s·P(s)/Q(s), s = x², Q monic (the doubles nearest Cephes' decimals). */
const TANH_P = [-0.9643991794250523, -99.28772310019185, -1614.6876844170845];
const TANH_Q = [112.81167849163293, 2235.4883906010045, 4844.063053251255];
const TANH_SMALL = 0.625;
/** fdlibm's e_log.c: log(1 + f) = f − f²/2 + s·(f²/2 + R(s²)), s = f/(2 + f), R = Lg1·z + … + Lg7·z⁷. */
const LG = [
  6.666666666666735e-1, 3.999999999940942e-1, 2.857142874366239e-1, 2.2222198432149784e-1,
  1.818357216161805e-1, 1.5313837699209373e-1, 1.4798198605116586e-1,
];

/** Horner's rule: c[0]·x^d + … + c[d] (no FMA, so results are the same on every machine). */
function horner(x: string, c: readonly number[], monic = false): string {
  let acc = monic ? add(x, f64(c[0]!)) : f64(c[0]!);
  for (const ci of c.slice(1)) acc = add(mul(acc, x), f64(ci));
  return acc;
}

/**
 * Estrin's scheme for c[0] + c[1]·x + … + c[11]·x¹¹, given x, x² and x⁴: four multiply-adds deep
 * instead of Horner's eleven. V8 emits no FMA, so a Horner step is a mul then an add, and the chain's
 * latency, not the arithmetic, bounded a lane's speed.
 */
function estrin12(c: readonly number[], x: string, x2: string, x4: string): string {
  const pair = (i: number): string => add(f64(c[i]!), mul(f64(c[i + 1]!), x));
  const quad = (i: number): string => add(pair(i), mul(pair(i + 2), x2));
  return add(quad(0), mul(x4, add(quad(4), mul(x4, quad(8)))));
}

/**
 * Instructions that set local `${v}e` to e^x for the v128 expression x. Locals used (all prefixed
 * with v, so that unrolled copies stay independent): x t k r c s q e.
 */
function exp(v: string, x: string): string[] {
  const L = (name: string): string => `${v}${name}`;
  const k1 = `(i32x4.shr_s ${get(L("k"))} (i32.const 1))`;
  const scale = (k: string): string => `(i64x2.shl (i64x2.add ${k} ${i64(1023)}) (i32.const 52))`;
  return [
    set(L("x"), `(f64x2.pmin (f64x2.pmax ${x} ${f64(-746)}) ${f64(710)})`),
    set(L("t"), add(mul(get(L("x")), f64(Math.LOG2E)), f64(MAGIC))),
    set(L("k"), `(i64x2.sub ${get(L("t"))} ${i64(MAGIC_BITS)})`),
    // t − MAGIC as a double is k; as integers it is k too (the exponent bits cancel).
    set(L("r"), sub(get(L("t")), f64(MAGIC))),
    set(L("x"), sub(get(L("x")), mul(get(L("r")), f64(LN2_HI)))),
    set(L("t"), mul(get(L("r")), f64(LN2_LO))),
    set(L("r"), sub(get(L("x")), get(L("t")))),
    // c = (hi − r) − lo, the rounding error of r; e^(r+c) ≈ 1 + (r + (r²·Q(r) + c)).
    set(L("c"), sub(sub(get(L("x")), get(L("r"))), get(L("t")))),
    set(L("s"), mul(get(L("r")), get(L("r")))),
    set(L("q"), mul(get(L("s")), get(L("s")))),
    set(
      L("e"),
      add(
        f64(1),
        add(
          get(L("r")),
          add(
            mul(get(L("s")), estrin12(INV_FACTORIAL.slice(2), get(L("r")), get(L("s")), get(L("q")))),
            get(L("c")),
          ),
        ),
      ),
    ),
    set(L("e"), mul(mul(get(L("e")), scale(k1)), scale(`(i64x2.sub ${get(L("k"))} ${k1})`))),
  ];
}

/** Instructions that read lane pair `x` (local `${v}in`) and leave the op's result in local `${v}out`. */
function opBody(op: (typeof ELEMENTWISE_OPS)[number], v: string): string[] {
  const L = (name: string): string => `${v}${name}`;
  const input = get(L("in"));
  switch (op) {
    case "exp":
      return [...exp(v, input), set(L("out"), get(L("e")))];
    case "tanh": {
      const small = `(f64x2.lt ${get(L("a"))} ${f64(TANH_SMALL)})`;
      return [
        set(L("a"), `(f64x2.abs ${input})`),
        ...exp(v, add(get(L("a")), get(L("a")))),
        set(L("s"), mul(get(L("a")), get(L("a")))),
        set(L("m"), small),
        // |x| < 0.625: |x| + (|x|·s·P)/Q; else 1 + (−2)/(e^{2|x|} + 1).
        set(
          L("out"),
          add(
            `(v128.bitselect ${get(L("a"))} ${f64(1)} ${get(L("m"))})`,
            `(f64x2.div (v128.bitselect ${mul(mul(get(L("a")), get(L("s"))), horner(get(L("s")), TANH_P))} ${f64(-2)} ${get(L("m"))}) (v128.bitselect ${horner(get(L("s")), TANH_Q, true)} ${add(get(L("e")), f64(1))} ${get(L("m"))}))`,
          ),
        ),
        set(L("out"), `(v128.or ${get(L("out"))} (v128.and ${input} ${f64(-0)}))`),
      ];
    }
    case "softplusNegAbs": {
      const f = get(L("a"));
      const hfsq = get(L("m"));
      const s = get(L("s"));
      const z = get(L("q"));
      const w = get(L("t"));
      const k = get(L("k"));
      return [
        ...exp(v, `(f64x2.neg (f64x2.abs ${input}))`),
        // u = 1 + e in [1, 2] (in r); c = (e − (u − 1)) / u (in c)
        set(L("r"), add(f64(1), get(L("e")))),
        set(L("c"), `(f64x2.div ${sub(get(L("e")), sub(get(L("r")), f64(1)))} ${get(L("r"))})`),
        // k = 1 where u > √2 (an all-ones lane mask), f = u/2 − 1 there, else u − 1
        set(L("k"), `(f64x2.gt ${get(L("r"))} ${f64(Math.SQRT2)})`),
        set(L("a"), sub(`(v128.bitselect ${mul(get(L("r")), f64(0.5))} ${get(L("r"))} ${k})`, f64(1))),
        set(L("m"), mul(f64(0.5), mul(f, f))),
        set(L("s"), `(f64x2.div ${f} ${add(f64(2), f)})`),
        set(L("q"), mul(s, s)),
        set(L("t"), mul(z, z)),
        // R = z·(Lg1 + w(Lg3 + w(Lg5 + w·Lg7))) + w·(Lg2 + w(Lg4 + w·Lg6)), as fdlibm
        set(
          L("x"),
          add(
            mul(z, add(f64(LG[0]!), mul(w, add(f64(LG[2]!), mul(w, add(f64(LG[4]!), mul(w, f64(LG[6]!)))))))),
            mul(w, add(f64(LG[1]!), mul(w, add(f64(LG[3]!), mul(w, f64(LG[5]!)))))),
          ),
        ),
        // k·ln2hi − ((hfsq − (s·(hfsq + R) + (k·ln2lo + c))) − f), k·ln2 selected by the mask
        set(
          L("out"),
          sub(
            `(v128.and ${f64(LN2_HI)} ${k})`,
            sub(
              sub(
                hfsq,
                add(mul(s, add(hfsq, get(L("x")))), add(`(v128.and ${f64(LN2_LO)} ${k})`, get(L("c")))),
              ),
              f,
            ),
          ),
        ),
      ];
    }
    case "sigmoid":
      return [
        ...exp(v, `(f64x2.neg (f64x2.abs ${input}))`),
        set(
          L("out"),
          `(f64x2.div (v128.bitselect ${get(L("e"))} ${f64(1)} (f64x2.lt ${input} ${f64(0)})) ${add(f64(1), get(L("e")))})`,
        ),
      ];
  }
}

const LOCALS = ["in", "out", "x", "t", "k", "r", "c", "s", "q", "e", "a", "m"];

function func(op: (typeof ELEMENTWISE_OPS)[number], unroll: number): string {
  const lanes = Array.from({ length: unroll }, (_, u) => `v${u}`);
  const locals = lanes.flatMap((v) => LOCALS.map((name) => `(local $${v}${name} v128)`));
  const body = lanes.flatMap((v, u) => [
    set(`${v}in`, `(v128.load offset=${u * 16} ${get("p")})`),
    ...opBody(op, v),
  ]);
  const stores = lanes.map((v, u) => `(v128.store offset=${u * 16} ${get("p")} ${get(`${v}out`)})`);
  return `
  (func (export "${op}") (param $p i32) (param $n i32)
    (local $end i32) ${locals.join(" ")}
    (if (i32.le_s ${get("n")} (i32.const 0)) (then (return)))
    ;; end = p + ⌈n / 2U⌉ · 16U
    (local.set $end (i32.add ${get("p")} (i32.shl (i32.div_u (i32.add ${get("n")} (i32.const ${2 * unroll - 1})) (i32.const ${2 * unroll})) (i32.const ${Math.log2(16 * unroll)}))))
    (loop $l
      ${[...body, ...stores].join("\n      ")}
      (br_if $l (i32.lt_u (local.tee $p (i32.add ${get("p")} (i32.const ${16 * unroll}))) ${get("end")}))))`;
}

/** The module: its own (unshared) memory, exported as `mem`, and one export per op. */
export function elementwiseWat(unroll = UNROLL): string {
  return `(module
  (memory (export "mem") 1)
  ${ELEMENTWISE_OPS.map((op) => func(op, unroll)).join("\n")})
`;
}

/**
 * @file Generates the WebAssembly text of the float64 GEMM kernel (GotoBLAS/BLIS blocking, f64x2 SIMD).
 *
 * The text is generated rather than hand-written because the register-tiled micro-kernel is
 * MR×NR unrolled: one generator yields the plain-SIMD 4×4 mul+add kernel and the relaxed-SIMD
 * 3×6 FMA kernel from the same loops, so the two can never drift apart.
 *
 * Memory layout shared with `src/kernels/gemm.ts` (all addresses in bytes):
 * - [0, 8): eight zero bytes, never written: packing reads it for the zero padding of edge panels.
 * - [64, 4096): control words of the worker threads (owned by gemm.ts).
 * - from 4096: A, B, padded C and one work area per thread (packed A block, packed B block).
 */

/** Parameters of one kernel variant. */
export interface GemmKernelSpec {
  /** Rows of the register tile (C rows held in registers). */
  mr: number;
  /** Columns of the register tile; a multiple of 2 (one f64x2 holds two columns). */
  nr: number;
  /** Use `f64x2.relaxed_madd` (needs relaxed SIMD) instead of `f64x2.mul` + `f64x2.add`. */
  fma: boolean;
  /** Rows of the packed A block (L2-resident); a multiple of mr. */
  mc: number;
  /** Depth of the packed blocks. */
  kc: number;
  /** Columns of the packed B block (L3-resident); a multiple of nr. */
  nc: number;
}

/** Bytes of the packed-A area: A is stored pre-splatted (each value twice), hence 16 bytes a value. */
export function packedABytes(s: GemmKernelSpec): number {
  return s.mc * s.kc * 16;
}

/** Bytes of the packed-B area. */
export function packedBBytes(s: GemmKernelSpec): number {
  return s.kc * s.nc * 8;
}

/** Address of the eight zero bytes that padding reads (see the file comment). */
export const ZERO_ADDR = 0;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const get = (name: string): string => `(local.get $${name})`;
const i32 = (v: number): string => `(i32.const ${v})`;
const minU = (x: string, y: string): string => `(select ${x} ${y} (i32.lt_u ${x} ${y}))`;

/**
 * Micro-kernel: C[mr×nr] (+)= Ap · Bp over kc steps.
 * Ap holds, for every k, mr pre-splatted values (16 bytes each); Bp holds nr values (8 bytes each).
 * Pre-splatting A in the packing step lets the inner loop use plain `v128.load offset=…`, which V8
 * folds into the addressing mode; `v128.load64_splat offset=…` would cost a general register per
 * distinct offset (PERF-NOTES). The k loop is deliberately not unrolled: V8 would hoist the loads
 * of the unrolled copies and spill the accumulators.
 */
function microKernel(s: GemmKernelSpec): string {
  const halves = s.nr / 2;
  const acc = (r: number, h: number): string => `c${r}_${h}`;
  const locals = [
    "(local $a v128)",
    ...range(halves).map((h) => `(local $b${h} v128)`),
    ...range(s.mr).flatMap((r) => range(halves).map((h) => `(local $${acc(r, h)} v128)`)),
  ];
  const body: string[] = [];
  for (const h of range(halves)) body.push(`(local.set $b${h} (v128.load offset=${h * 16} ${get("pb")}))`);
  for (const r of range(s.mr)) {
    body.push(`(local.set $a (v128.load offset=${r * 16} ${get("pa")}))`);
    for (const h of range(halves)) {
      const c = acc(r, h);
      body.push(
        s.fma
          ? `(local.set $${c} (f64x2.relaxed_madd ${get("a")} ${get(`b${h}`)} ${get(c)}))`
          : `(local.set $${c} (f64x2.add ${get(c)} (f64x2.mul ${get("a")} ${get(`b${h}`)})))`,
      );
    }
  }
  const store = (accumulate: boolean): string =>
    range(s.mr)
      .map((r) => {
        const row = range(halves).map((h) => {
          const v = accumulate
            ? `(f64x2.add (v128.load offset=${h * 16} ${get("c")}) ${get(acc(r, h))})`
            : get(acc(r, h));
          return `(v128.store offset=${h * 16} ${get("c")} ${v})`;
        });
        return `${row.join("\n      ")}\n      (local.set $c (i32.add ${get("c")} ${get("ldc")}))`;
      })
      .join("\n      ");
  return `
  (func $micro (param $kc i32) (param $pa i32) (param $pb i32) (param $c i32) (param $ldc i32) (param $first i32)
    ${locals.join(" ")}
    (loop $k
      ${body.join("\n      ")}
      (local.set $pa (i32.add ${get("pa")} ${i32(s.mr * 16)}))
      (local.set $pb (i32.add ${get("pb")} ${i32(s.nr * 8)}))
      (br_if $k (local.tee $kc (i32.sub ${get("kc")} ${i32(1)}))))
    (if ${get("first")}
      (then
      ${store(false)})
      (else
      ${store(true)})))`;
}

/**
 * Packs an mc×kc block of op(A) (element (i, k) at a + i·rs + k·cs, strides in bytes) into
 * mr-row panels, k-major, each value splatted to 16 bytes. Rows past mc read the zero word with
 * stride 0, so the edge panel needs no branch in its loop.
 */
function packA(s: GemmKernelSpec): string {
  const rows = range(s.mr);
  return `
  (func $packA (param $a i32) (param $rs i32) (param $cs i32) (param $mc i32) (param $kc i32) (param $dst i32)
    (local $ir i32) (local $n i32) (local $k i32)
    ${rows.map((r) => `(local $p${r} i32) (local $s${r} i32)`).join(" ")}
    (block $done (loop $panel
      (br_if $done (i32.ge_u ${get("ir")} ${get("mc")}))
      (local.set $n (i32.sub ${get("mc")} ${get("ir")}))
      ${rows
        .map(
          (
            r,
          ) => `(local.set $p${r} (select (i32.add ${get("a")} (i32.mul (i32.add ${get("ir")} ${i32(r)}) ${get("rs")})) ${i32(ZERO_ADDR)} (i32.lt_u ${i32(r)} ${get("n")})))
      (local.set $s${r} (select ${get("cs")} ${i32(0)} (i32.lt_u ${i32(r)} ${get("n")})))`,
        )
        .join("\n      ")}
      (local.set $k ${get("kc")})
      (loop $kl
        ${rows
          .map(
            (r) => `(v128.store offset=${r * 16} ${get("dst")} (f64x2.splat (f64.load ${get(`p${r}`)})))
        (local.set $p${r} (i32.add ${get(`p${r}`)} ${get(`s${r}`)}))`,
          )
          .join("\n        ")}
        (local.set $dst (i32.add ${get("dst")} ${i32(s.mr * 16)}))
        (br_if $kl (local.tee $k (i32.sub ${get("k")} ${i32(1)}))))
      (local.set $ir (i32.add ${get("ir")} ${i32(s.mr)}))
      (br $panel))))`;
}

/**
 * Packs a kc×nc block of op(B) (element (k, j) at b + k·rs + j·cs, strides in bytes) into
 * nr-column panels, k-major. Columns past nc read the zero word with stride 0.
 */
function packB(s: GemmKernelSpec): string {
  const cols = range(s.nr);
  return `
  (func $packB (param $b i32) (param $rs i32) (param $cs i32) (param $kc i32) (param $nc i32) (param $dst i32)
    (local $jr i32) (local $n i32) (local $k i32)
    ${cols.map((c) => `(local $q${c} i32) (local $t${c} i32)`).join(" ")}
    (block $done (loop $panel
      (br_if $done (i32.ge_u ${get("jr")} ${get("nc")}))
      (local.set $n (i32.sub ${get("nc")} ${get("jr")}))
      ${cols
        .map(
          (
            c,
          ) => `(local.set $q${c} (select (i32.add ${get("b")} (i32.mul (i32.add ${get("jr")} ${i32(c)}) ${get("cs")})) ${i32(ZERO_ADDR)} (i32.lt_u ${i32(c)} ${get("n")})))
      (local.set $t${c} (select ${get("rs")} ${i32(0)} (i32.lt_u ${i32(c)} ${get("n")})))`,
        )
        .join("\n      ")}
      (local.set $k ${get("kc")})
      (loop $kl
        ${cols
          .map(
            (c) => `(f64.store offset=${c * 8} ${get("dst")} (f64.load ${get(`q${c}`)}))
        (local.set $q${c} (i32.add ${get(`q${c}`)} ${get(`t${c}`)}))`,
          )
          .join("\n        ")}
        (local.set $dst (i32.add ${get("dst")} ${i32(s.nr * 8)}))
        (br_if $kl (local.tee $k (i32.sub ${get("k")} ${i32(1)}))))
      (local.set $jr (i32.add ${get("jr")} ${i32(s.nr)}))
      (br $panel))))`;
}

/**
 * The exported driver: C[m0:m1, n0:n1] = op(A) · op(B) for one thread's share.
 * C is padded to whole register tiles (ldc ≥ nr·⌈N/nr⌉, rows to mr·⌈M/mr⌉), so every tile is stored
 * whole and no edge code is needed; m0 must be a multiple of mr and n0 of nr.
 * `work` is this thread's scratch: packed A block, then packed B block.
 */
function driver(s: GemmKernelSpec): string {
  return `
  (func (export "gemm")
    (param $K i32) (param $a i32) (param $rsA i32) (param $csA i32)
    (param $b i32) (param $rsB i32) (param $csB i32) (param $c i32) (param $ldc i32)
    (param $m0 i32) (param $m1 i32) (param $n0 i32) (param $n1 i32) (param $work i32)
    (local $ap i32) (local $bp i32) (local $jc i32) (local $nc i32) (local $pc i32) (local $kc i32)
    (local $ic i32) (local $mc i32) (local $jr i32) (local $ir i32) (local $crow i32)
    (local.set $ap ${get("work")})
    (local.set $bp (i32.add ${get("work")} ${i32(packedABytes(s))}))
    (local.set $jc ${get("n0")})
    (block $jcDone (loop $jcLoop
      (br_if $jcDone (i32.ge_u ${get("jc")} ${get("n1")}))
      (local.set $nc ${minU(i32(s.nc), `(i32.sub ${get("n1")} ${get("jc")})`)})
      (local.set $pc (i32.const 0))
      (block $pcDone (loop $pcLoop
        (br_if $pcDone (i32.ge_u ${get("pc")} ${get("K")}))
        (local.set $kc ${minU(i32(s.kc), `(i32.sub ${get("K")} ${get("pc")})`)})
        (call $packB
          (i32.add (i32.add ${get("b")} (i32.mul ${get("pc")} ${get("rsB")})) (i32.mul ${get("jc")} ${get("csB")}))
          ${get("rsB")} ${get("csB")} ${get("kc")} ${get("nc")} ${get("bp")})
        (local.set $ic ${get("m0")})
        (block $icDone (loop $icLoop
          (br_if $icDone (i32.ge_u ${get("ic")} ${get("m1")}))
          (local.set $mc ${minU(i32(s.mc), `(i32.sub ${get("m1")} ${get("ic")})`)})
          (call $packA
            (i32.add (i32.add ${get("a")} (i32.mul ${get("ic")} ${get("rsA")})) (i32.mul ${get("pc")} ${get("csA")}))
            ${get("rsA")} ${get("csA")} ${get("mc")} ${get("kc")} ${get("ap")})
          ;; jr outer, ir inner: one kc×nr panel of B stays in L1 while the A block streams from L2.
          (local.set $jr (i32.const 0))
          (block $jrDone (loop $jrLoop
            (br_if $jrDone (i32.ge_u ${get("jr")} ${get("nc")}))
            (local.set $ir (i32.const 0))
            (block $irDone (loop $irLoop
              (br_if $irDone (i32.ge_u ${get("ir")} ${get("mc")}))
              (call $micro ${get("kc")}
                (i32.add ${get("ap")} (i32.mul (i32.mul ${get("ir")} ${get("kc")}) ${i32(16)}))
                (i32.add ${get("bp")} (i32.mul (i32.mul ${get("jr")} ${get("kc")}) ${i32(8)}))
                (i32.add (i32.add ${get("c")} (i32.mul (i32.add ${get("ic")} ${get("ir")}) ${get("ldc")}))
                  (i32.mul (i32.add ${get("jc")} ${get("jr")}) ${i32(8)}))
                ${get("ldc")}
                (i32.eqz ${get("pc")}))
              (local.set $ir (i32.add ${get("ir")} ${i32(s.mr)}))
              (br $irLoop)))
            (local.set $jr (i32.add ${get("jr")} ${i32(s.nr)}))
            (br $jrLoop)))
          (local.set $ic (i32.add ${get("ic")} ${get("mc")}))
          (br $icLoop)))
        (local.set $pc (i32.add ${get("pc")} ${get("kc")}))
        (br $pcLoop)))
      (local.set $jc (i32.add ${get("jc")} ${get("nc")}))
      (br $jcLoop))))`;
}

/**
 * The whole module. It imports its memory as `env.mem`, declared shared so that the main thread
 * and the workers run instances of one module over one memory (a shared memory needs a maximum).
 * Strides and ldc are passed in bytes.
 */
export function gemmWat(s: GemmKernelSpec, maxPages: number): string {
  if (s.nr % 2 !== 0 || s.mc % s.mr !== 0 || s.nc % s.nr !== 0) {
    throw new Error(`gemmWat: bad tile spec ${JSON.stringify(s)} (nr even, mc % mr = 0, nc % nr = 0)`);
  }
  return `(module
  (import "env" "mem" (memory 1 ${maxPages} shared))
  ${microKernel(s)}
  ${packA(s)}
  ${packB(s)}
  ${driver(s)})
`;
}

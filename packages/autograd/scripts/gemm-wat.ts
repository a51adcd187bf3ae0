/**
 * @file Generates the WebAssembly text of the float64 GEMM kernel (GotoBLAS/BLIS blocking, f64x2 SIMD).
 *
 * The text is generated rather than hand-written because the register-tiled micro-kernel is
 * MR×NR unrolled: one generator yields the plain-SIMD 4×4 mul+add kernel and the relaxed-SIMD
 * 3×6 FMA kernel from the same loops, so the two can never drift apart.
 *
 * Memory layout shared with `src/kernels/gemm.ts` (all addresses in bytes):
 * - [0, 8): eight zero bytes, never written: packing reads it for the zero padding of edge panels.
 * - [64, 4096): the job's control words and parameters (CTL below) and the workers' start flags.
 * - from 4096: A, B, packed B, padded C and one packed-A work area per thread.
 *
 * A product is a list of tasks: first `nb` tasks that each pack a range of B's column panels, then
 * one task per chunk of C's rows. Threads claim tasks from one counter, so a thread that starts late
 * (a worker woken onto a busy CPU) just takes fewer tasks instead of holding the others up.
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
  /** Columns swept per packed A block (A is repacked every nc columns; that kc×nc slice of packed B stays in L3); a multiple of nr. */
  nc: number;
}

/** Bytes of a thread's packed-A area: A is stored pre-splatted (each value twice), hence 16 bytes a value. */
export function packedABytes(s: GemmKernelSpec): number {
  return s.mc * s.kc * 16;
}

/** Address of the eight zero bytes that padding reads (see the file comment). */
export const ZERO_ADDR = 0;

/**
 * Byte addresses of the job block read by `work`. SEQ is the job number the workers wait on; NEXT
 * (64-bit) is (job number << 32 | next task), so a worker that wakes after its job ended can never
 * claim a task of the next one; BDONE counts packed-B tasks done, DONE all tasks done; ERROR is set
 * by a worker that caught an exception. The rest are the job's parameters, one i32 each.
 */
export const CTL = {
  SEQ: 64,
  NEXT: 72,
  BDONE: 80,
  DONE: 84,
  ERROR: 88,
  K: 96,
  A: 100,
  RSA: 104,
  CSA: 108,
  B: 112,
  RSB: 116,
  CSB: 120,
  N: 124,
  BP: 128,
  C: 132,
  LDC: 136,
  M: 140,
  NB: 144,
  PANELS_PER_TASK: 148,
  PANELS: 152,
  CHUNK: 156,
  TASKS: 160,
  WORK: 164,
  WORK_STRIDE: 168,
  /** One i32 per worker from here: 1 once it has instantiated the module, -1 if it could not. */
  STARTED: 256,
} as const;

/** Iterations a thread polls BDONE before it sleeps on it: packing B takes well under a millisecond. */
const SPIN = 20000;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const get = (name: string): string => `(local.get $${name})`;
const i32 = (v: number): string => `(i32.const ${v})`;
const minU = (x: string, y: string): string => `(select ${x} ${y} (i32.lt_u ${x} ${y}))`;

/**
 * Micro-kernel: C[mr×nr] (+)= Ap · Bp over kc steps.
 * Ap holds, for every k, mr pre-splatted values (16 bytes each); Bp holds nr values (8 bytes each).
 * Pre-splatting A in the packing step lets the inner loop use plain `v128.load offset=…`, which V8
 * folds into the addressing mode; `v128.load64_splat offset=…` would cost a general register per
 * distinct offset (PERF-NOTES); measured again against an unsplatted A (half the bytes) read with
 * `v128.load64_splat offset=r·8`: no faster (relaxed 3×6 at 1024³, one thread, 16.8–19.8 against
 * 19.9–22.1 GFLOP/s). The k loop is deliberately not unrolled: V8 would hoist the loads of the
 * unrolled copies and spill the accumulators.
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
 * Packs column panels [p0, p1) of the whole K×N op(B) (element (k, j) at b + k·rs + j·cs, strides
 * in bytes): panel p holds columns p·nr … p·nr + nr − 1 for every k, k-major, at bp + p·K·nr·8, so
 * the kc×nr slice a micro-kernel reads is contiguous. Columns past N read the zero word with stride 0.
 */
function packB(s: GemmKernelSpec): string {
  const cols = range(s.nr);
  return `
  (func $packB (export "packB") (param $b i32) (param $rs i32) (param $cs i32) (param $K i32)
    (param $p0 i32) (param $p1 i32) (param $N i32) (param $bp i32)
    (local $j i32) (local $n i32) (local $k i32) (local $dst i32)
    ${cols.map((c) => `(local $q${c} i32) (local $t${c} i32)`).join(" ")}
    (local.set $dst (i32.add ${get("bp")} (i32.mul (i32.mul ${get("p0")} ${get("K")}) ${i32(s.nr * 8)})))
    (block $done (loop $panel
      (br_if $done (i32.ge_u ${get("p0")} ${get("p1")}))
      (local.set $j (i32.mul ${get("p0")} ${i32(s.nr)}))
      (local.set $n (i32.sub ${get("N")} ${get("j")}))
      ${cols
        .map(
          (
            c,
          ) => `(local.set $q${c} (select (i32.add ${get("b")} (i32.mul (i32.add ${get("j")} ${i32(c)}) ${get("cs")})) ${i32(ZERO_ADDR)} (i32.lt_u ${i32(c)} ${get("n")})))
      (local.set $t${c} (select ${get("rs")} ${i32(0)} (i32.lt_u ${i32(c)} ${get("n")})))`,
        )
        .join("\n      ")}
      (local.set $k ${get("K")})
      (loop $kl
        ${cols
          .map(
            (c) => `(f64.store offset=${c * 8} ${get("dst")} (f64.load ${get(`q${c}`)}))
        (local.set $q${c} (i32.add ${get(`q${c}`)} ${get(`t${c}`)}))`,
          )
          .join("\n        ")}
        (local.set $dst (i32.add ${get("dst")} ${i32(s.nr * 8)}))
        (br_if $kl (local.tee $k (i32.sub ${get("k")} ${i32(1)}))))
      (local.set $p0 (i32.add ${get("p0")} ${i32(1)}))
      (br $panel))))`;
}

/**
 * C[i0:i1, 0:N] = op(A) · op(B) from B already packed at bp (all panels). C is padded to whole
 * register tiles (ldc ≥ nr·⌈N/nr⌉ in bytes, rows to mr·⌈M/mr⌉), so every tile is stored whole and
 * no edge code is needed; i0 must be a multiple of mr. `work` is this thread's packed-A area.
 * GotoBLAS order: the A block (mc×kc) stays in L2 while jr walks the kc×nr panels of B through L1.
 */
function compute(s: GemmKernelSpec): string {
  return `
  (func $compute (export "compute")
    (param $K i32) (param $a i32) (param $rsA i32) (param $csA i32) (param $bp i32) (param $N i32)
    (param $c i32) (param $ldc i32) (param $i0 i32) (param $i1 i32) (param $work i32)
    (local $jc i32) (local $nc i32) (local $pc i32) (local $kc i32)
    (local $ic i32) (local $mc i32) (local $jr i32) (local $ir i32) (local $panel i32)
    (block $jcDone (loop $jcLoop
      (br_if $jcDone (i32.ge_u ${get("jc")} ${get("N")}))
      (local.set $nc ${minU(i32(s.nc), `(i32.sub ${get("N")} ${get("jc")})`)})
      (local.set $pc (i32.const 0))
      (block $pcDone (loop $pcLoop
        (br_if $pcDone (i32.ge_u ${get("pc")} ${get("K")}))
        (local.set $kc ${minU(i32(s.kc), `(i32.sub ${get("K")} ${get("pc")})`)})
        (local.set $ic ${get("i0")})
        (block $icDone (loop $icLoop
          (br_if $icDone (i32.ge_u ${get("ic")} ${get("i1")}))
          (local.set $mc ${minU(i32(s.mc), `(i32.sub ${get("i1")} ${get("ic")})`)})
          (call $packA
            (i32.add (i32.add ${get("a")} (i32.mul ${get("ic")} ${get("rsA")})) (i32.mul ${get("pc")} ${get("csA")}))
            ${get("rsA")} ${get("csA")} ${get("mc")} ${get("kc")} ${get("work")})
          (local.set $jr (i32.const 0))
          (block $jrDone (loop $jrLoop
            (br_if $jrDone (i32.ge_u ${get("jr")} ${get("nc")}))
            ;; panel (jc + jr) / nr, rows pc … pc + kc: bp + ((jc + jr)·K + pc·nr)·8
            (local.set $panel (i32.add ${get("bp")} (i32.shl (i32.add
              (i32.mul (i32.add ${get("jc")} ${get("jr")}) ${get("K")}) (i32.mul ${get("pc")} ${i32(s.nr)})) (i32.const 3))))
            (local.set $ir (i32.const 0))
            (block $irDone (loop $irLoop
              (br_if $irDone (i32.ge_u ${get("ir")} ${get("mc")}))
              (call $micro ${get("kc")}
                (i32.add ${get("work")} (i32.mul (i32.mul ${get("ir")} ${get("kc")}) ${i32(16)}))
                ${get("panel")}
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
 * `work(seq, tid)`: claims tasks of job `seq` until none is left, as thread `tid` (its packed-A area
 * is WORK + tid·WORK_STRIDE). The main thread and every worker run it concurrently.
 */
function work(): string {
  const p = (name: keyof typeof CTL): string => `(i32.load (i32.const ${CTL[name]}))`;
  return `
  (func (export "work") (param $seq i32) (param $tid i32)
    (local $cur i64) (local $t i32) (local $nb i32) (local $tasks i32) (local $p0 i32) (local $i0 i32)
    (local $v i32) (local $spins i32)
    (block $out (loop $claim
      (local.set $cur (i64.atomic.load (i32.const ${CTL.NEXT})))
      (br_if $out (i32.ne (i32.wrap_i64 (i64.shr_u ${get("cur")} (i64.const 32))) ${get("seq")}))
      ;; The job's sizes are read only once NEXT carries this job's tag: the main thread retags NEXT
      ;; before it rewrites them for the next job, so a worker that wakes late for a finished job
      ;; exits above instead of claiming with the next job's TASKS.
      (local.set $nb ${p("NB")})
      (local.set $tasks ${p("TASKS")})
      (local.set $t (i32.wrap_i64 ${get("cur")}))
      (br_if $out (i32.ge_u ${get("t")} ${get("tasks")}))
      (br_if $claim (i64.ne (i64.atomic.rmw.cmpxchg (i32.const ${CTL.NEXT}) ${get("cur")}
        (i64.add ${get("cur")} (i64.const 1))) ${get("cur")}))
      (if (i32.lt_u ${get("t")} ${get("nb")})
        (then
          (local.set $p0 (i32.mul ${get("t")} ${p("PANELS_PER_TASK")}))
          (call $packB ${p("B")} ${p("RSB")} ${p("CSB")} ${p("K")} ${get("p0")}
            ${minU(`(i32.add ${get("p0")} ${p("PANELS_PER_TASK")})`, p("PANELS"))} ${p("N")} ${p("BP")})
          (if (i32.eq (i32.add (i32.atomic.rmw.add (i32.const ${CTL.BDONE}) (i32.const 1)) (i32.const 1)) ${get("nb")})
            (then (drop (memory.atomic.notify (i32.const ${CTL.BDONE}) (i32.const -1))))))
        (else
          ;; Every row chunk needs all of B: poll briefly (the last packing task is nearly done), then sleep.
          (local.set $spins (i32.const 0))
          (block $ready (loop $poll
            (local.set $v (i32.atomic.load (i32.const ${CTL.BDONE})))
            (br_if $ready (i32.ge_u ${get("v")} ${get("nb")}))
            (local.set $spins (i32.add ${get("spins")} (i32.const 1)))
            (if (i32.gt_u ${get("spins")} (i32.const ${SPIN}))
              (then (drop (memory.atomic.wait32 (i32.const ${CTL.BDONE}) ${get("v")} (i64.const -1)))))
            (br $poll)))
          (local.set $i0 (i32.mul (i32.sub ${get("t")} ${get("nb")}) ${p("CHUNK")}))
          (call $compute ${p("K")} ${p("A")} ${p("RSA")} ${p("CSA")} ${p("BP")} ${p("N")} ${p("C")} ${p("LDC")}
            ${get("i0")} ${minU(`(i32.add ${get("i0")} ${p("CHUNK")})`, p("M"))}
            (i32.add ${p("WORK")} (i32.mul ${get("tid")} ${p("WORK_STRIDE")})))))
      (if (i32.eq (i32.add (i32.atomic.rmw.add (i32.const ${CTL.DONE}) (i32.const 1)) (i32.const 1)) ${get("tasks")})
        (then (drop (memory.atomic.notify (i32.const ${CTL.DONE}) (i32.const -1)))))
      (br $claim))))`;
}

/**
 * The whole module. It imports its memory as `env.mem`, declared shared so that the main thread
 * and the workers run instances of one module over one memory (a shared memory needs a maximum).
 * Addresses, strides and ldc are in bytes.
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
  ${compute(s)}
  ${work()})
`;
}

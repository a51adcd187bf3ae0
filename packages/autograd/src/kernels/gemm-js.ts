/**
 * @file The plain-JavaScript matrix product, used for small products and wherever wasm SIMD is missing.
 */

// Pure JS. Register tiles: each out element is accumulated in a local over the whole k loop and
// stored once. Measured against specialised per-transpose loops with a contiguous inner loop
// (i-k-j streaming a row of B into a row of out, or row·row dot products): the tiles are 2× faster
// at every size and in every transpose combination (M×N×K = 4×400×2: 2.8 µs vs 5.1 µs; 4×2×400:
// 1.4 µs vs 4.6 µs; 32³: 16 µs vs 35 µs), because the JIT keeps the 8 accumulators in registers while the streaming loops load and
// store out on every multiply-add. Reading A and B through strides makes one loop nest serve all four
// transpose combinations at equal speed. 4×2 beats 2×4 and 3×3 on the course's shapes (a 4-row Z);
// 4×4 would need more than V8's 16 float registers. No allocation, no closures: at the course's sizes
// the call overhead is a visible part of the cost.

/**
 * out[M×N] = op(A) · op(B) with op(A)(i, k) = a[ao + i·rsA + k·csA] and op(B)(k, j) = b[bo + k·rsB + j·csB].
 * 4×2 tiles, then 4×1 for a last column, then 1×4 and 1×1 for the last M mod 4 rows.
 */
export function gemmJs(
  M: number,
  N: number,
  K: number,
  a: Float64Array,
  ao: number,
  rsA: number,
  csA: number,
  b: Float64Array,
  bo: number,
  rsB: number,
  csB: number,
  out: Float64Array,
  oo: number,
): void {
  const rsA2 = 2 * rsA;
  const rsA3 = 3 * rsA;
  let i = 0;
  for (; i + 3 < M; i += 4) {
    const aRow = ao + i * rsA;
    const o = oo + i * N;
    let j = 0;
    for (; j + 1 < N; j += 2) {
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      let s20 = 0;
      let s21 = 0;
      let s30 = 0;
      let s31 = 0;
      let pa = aRow;
      let pb = bo + j * csB;
      for (let k = 0; k < K; k++) {
        const x0 = a[pa]!;
        const x1 = a[pa + rsA]!;
        const x2 = a[pa + rsA2]!;
        const x3 = a[pa + rsA3]!;
        const y0 = b[pb]!;
        const y1 = b[pb + csB]!;
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s20 += x2 * y0;
        s21 += x2 * y1;
        s30 += x3 * y0;
        s31 += x3 * y1;
        pa += csA;
        pb += rsB;
      }
      const oj = o + j;
      out[oj] = s00;
      out[oj + 1] = s01;
      out[oj + N] = s10;
      out[oj + N + 1] = s11;
      out[oj + 2 * N] = s20;
      out[oj + 2 * N + 1] = s21;
      out[oj + 3 * N] = s30;
      out[oj + 3 * N + 1] = s31;
    }
    if (j < N) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let pa = aRow;
      let pb = bo + j * csB;
      for (let k = 0; k < K; k++) {
        const y = b[pb]!;
        s0 += a[pa]! * y;
        s1 += a[pa + rsA]! * y;
        s2 += a[pa + rsA2]! * y;
        s3 += a[pa + rsA3]! * y;
        pa += csA;
        pb += rsB;
      }
      const oj = o + j;
      out[oj] = s0;
      out[oj + N] = s1;
      out[oj + 2 * N] = s2;
      out[oj + 3 * N] = s3;
    }
  }
  // The last M mod 4 rows (all of a 1-row product): 1×4 tiles share each A load across 4 columns.
  const csB2 = 2 * csB;
  const csB3 = 3 * csB;
  for (; i < M; i++) {
    const aRow = ao + i * rsA;
    const o = oo + i * N;
    let j = 0;
    for (; j + 3 < N; j += 4) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let pa = aRow;
      let pb = bo + j * csB;
      for (let k = 0; k < K; k++) {
        const x = a[pa]!;
        s0 += x * b[pb]!;
        s1 += x * b[pb + csB]!;
        s2 += x * b[pb + csB2]!;
        s3 += x * b[pb + csB3]!;
        pa += csA;
        pb += rsB;
      }
      out[o + j] = s0;
      out[o + j + 1] = s1;
      out[o + j + 2] = s2;
      out[o + j + 3] = s3;
    }
    for (; j < N; j++) {
      let s = 0;
      let pa = aRow;
      let pb = bo + j * csB;
      for (let k = 0; k < K; k++) {
        s += a[pa]! * b[pb]!;
        pa += csA;
        pb += rsB;
      }
      out[o + j] = s;
    }
  }
}

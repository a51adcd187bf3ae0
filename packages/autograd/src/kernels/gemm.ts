/** @file Placeholder JS gemm (being replaced by the WASM SIMD kernel). */
export function gemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  a: Float64Array,
  aOffset: number,
  b: Float64Array,
  bOffset: number,
  out: Float64Array,
  outOffset: number,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const av = transA ? a[aOffset + k * M + i]! : a[aOffset + i * K + k]!;
        const bv = transB ? b[bOffset + j * K + k]! : b[bOffset + k * N + j]!;
        s += av * bv;
      }
      out[outOffset + i * N + j] = s;
    }
  }
}

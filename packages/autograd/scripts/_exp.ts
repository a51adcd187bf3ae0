import { setFlagsFromString } from "node:v8";
import wabtInit from "wabt";
import { gemmWat, packedABytes, packedBBytes, type GemmKernelSpec } from "./gemm-wat.js";
setFlagsFromString("--experimental-wasm-relaxed-simd");
const wabt = await wabtInit();
const specs: Record<string, GemmKernelSpec> = JSON.parse(process.argv[2] ?? "{}");
const n = Number(process.argv[3] ?? 1024);
const mem = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
const insts: Record<string, { gemm: Function; spec: GemmKernelSpec }> = {};
for (const [name, s] of Object.entries(specs)) {
  const mod = wabt.parseWat("k.wat", gemmWat(s, 65536), { threads: true, relaxed_simd: true, simd: true });
  const { buffer } = mod.toBinary({});
  const inst = new WebAssembly.Instance(new WebAssembly.Module(buffer), { env: { mem } });
  insts[name] = { gemm: inst.exports.gemm as Function, spec: s };
}
const M = n, N = n, K = n;
const base = 4096, aP = base, bP = aP + M * K * 8, cP = bP + K * N * 8;
const ldc = (N + 6) * 8; // enough padding
const work = cP + (M + 4) * ldc;
const need = work + 64 * 1024 * 1024;
mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
const f = new Float64Array(mem.buffer);
for (let i = 0; i < M * K + K * N; i++) f[aP / 8 + i] = Math.random() - 0.5;
function ref(i: number, j: number, tA: boolean, tB: boolean) {
  let s = 0;
  for (let k = 0; k < K; k++) s += f[aP / 8 + (tA ? k * M + i : i * K + k)]! * f[bP / 8 + (tB ? j * K + k : k * N + j)]!;
  return s;
}
for (const combo of ["NN", "NT", "TN"]) {
  const tA = combo[0] === "T", tB = combo[1] === "T";
  for (const [name, { gemm, spec }] of Object.entries(insts)) {
    const rsA = tA ? 8 : K * 8, csA = tA ? M * 8 : 8, rsB = tB ? 8 : N * 8, csB = tB ? K * 8 : 8;
    const ts: number[] = [];
    for (let r = 0; r < 7; r++) {
      const t0 = performance.now();
      gemm(K, aP, rsA, csA, bP, rsB, csB, cP, ldc, 0, M, 0, N, work);
      ts.push(performance.now() - t0);
    }
    ts.sort((x, y) => x - y);
    let err = 0;
    for (let t = 0; t < 20; t++) { const i = (t * 37) % M, j = (t * 91) % N; err = Math.max(err, Math.abs(f[cP / 8 + i * ldc / 8 + j]! - ref(i, j, tA, tB))); }
    console.log(combo, name, (2 * M * N * K / ts[3]! / 1e6).toFixed(2), "GFLOP/s", "err", err.toExponential(1));
  }
}

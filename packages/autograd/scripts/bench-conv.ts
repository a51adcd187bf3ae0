/**
 * @file Timing of a LeNet-like first convolution, forward + backward (batch 64, 1×28×28 → 6×24×24, 5×5
 * kernel, bias), through conv2d (im2col + WASM GEMM) against a naive seven-deep loop doing the same three
 * products. Run from the repository root:
 *
 *   npx tsx packages/autograd/scripts/bench-conv.ts [--batch 64] [--in 1] [--out 6] [--size 28] [--k 5]
 *
 * Variants are interleaved round by round and medians reported (the machines are noisy); the results of
 * the two are compared before timing.
 */
import { conv2d, type Tensor, tensor } from "../src/index.js";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = arg("batch", 64);
const C = arg("in", 1);
const O = arg("out", 6);
const H = arg("size", 28);
const K = arg("k", 5);
const OH = H - K + 1;

const random = (n: number) => Float64Array.from({ length: n }, () => Math.random() * 2 - 1);
const xData = random(N * C * H * H);
const wData = random(O * C * K * K);
const bData = random(O);
const gData = random(N * O * OH * OH);

/** conv2d forward + backward through the library (the upstream gradient g, as backward of Σ g ⊙ y). */
function library(): Float64Array[] {
  const x = tensor(xData, { shape: [N, C, H, H], requiresGrad: true });
  const w = tensor(wData, { shape: [O, C, K, K], requiresGrad: true });
  const b = tensor(bData, { requiresGrad: true });
  const y = conv2d(x, w, b);
  y.backward(tensor(gData, { shape: [N, O, OH, OH] }));
  return [y.data, (x.grad as Tensor).data, (w.grad as Tensor).data, (b.grad as Tensor).data];
}

/** The same three products as plain loops (stride 1, no padding). */
function naive(): Float64Array[] {
  const y = new Float64Array(N * O * OH * OH);
  const dx = new Float64Array(N * C * H * H);
  const dw = new Float64Array(O * C * K * K);
  const db = new Float64Array(O);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let i = 0; i < OH; i++)
        for (let j = 0; j < OH; j++) {
          const yi = ((n * O + o) * OH + i) * OH + j;
          let s = bData[o]!;
          const g = gData[yi]!;
          db[o]! += g;
          for (let c = 0; c < C; c++)
            for (let p = 0; p < K; p++)
              for (let q = 0; q < K; q++) {
                const xi = ((n * C + c) * H + i + p) * H + j + q;
                const wi = ((o * C + c) * K + p) * K + q;
                s += xData[xi]! * wData[wi]!;
                dx[xi]! += g * wData[wi]!;
                dw[wi]! += g * xData[xi]!;
              }
          y[yi] = s;
        }
  return [y, dx, dw, db];
}

const a = library();
const b = naive();
const worst = a.map((arr, k) =>
  arr.reduce((m, v, i) => Math.max(m, Math.abs(v - b[k]![i]!) / (1 + Math.abs(b[k]![i]!))), 0),
);
console.log(
  `checked: worst relative difference per result ${worst.map((w) => w.toExponential(1)).join(", ")}`,
);

const times: Record<string, number[]> = { "conv2d (im2col + GEMM)": [], "naive loops": [] };
for (let round = 0; round < 15; round++) {
  for (const [name, f] of [
    ["conv2d (im2col + GEMM)", library],
    ["naive loops", naive],
  ] as const) {
    const t0 = performance.now();
    f();
    times[name]!.push(performance.now() - t0);
  }
}
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[xs.length >> 1]!;
console.log(`conv ${N}×${C}×${H}×${H} ⋆ ${O}×${C}×${K}×${K}, forward + backward, median of 15 (ms):`);
for (const [name, ts] of Object.entries(times)) console.log(`  ${name.padEnd(24)} ${median(ts).toFixed(2)}`);

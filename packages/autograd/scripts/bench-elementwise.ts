/**
 * @file Micro-benchmark of exp, tanh and sigmoid through the public ops, JS loops against the wasm
 * kernels (copies into and out of wasm memory included), run from the repository root:
 *
 *   npx tsx packages/autograd/scripts/bench-elementwise.ts                 ns per element across lengths
 *   npx tsx packages/autograd/scripts/bench-elementwise.ts --n 1600,1048576 chosen lengths
 *
 * The machines are noisy, so the two paths are interleaved round by round and medians reported.
 */
import { exp, sigmoid, type Tensor, tanh, tensor } from "../src/index.js";
import { type ElementwisePath, forceElementwisePath } from "../src/kernels/elementwise.js";

const OPS: [string, (x: Tensor) => Tensor][] = [
  ["tanh", tanh],
  ["exp", exp],
  ["sigmoid", sigmoid],
];
const PATHS: ElementwisePath[] = ["js", "wasm"];

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[s.length >> 1]!;
}

const i = process.argv.indexOf("--n");
const lengths = (i < 0 ? "4,8,12,16,24,32,48,64,400,1600,16384,1048576" : process.argv[i + 1]!)
  .split(",")
  .map(Number);

for (const [name, op] of OPS) {
  for (const n of lengths) {
    const x = tensor(
      Float64Array.from({ length: n }, () => Math.random() * 8 - 4),
      { shape: [n] },
    );
    const reps = Math.max(3, Math.floor(2e6 / n));
    const times: Record<string, number[]> = {};
    for (let round = 0; round < 11; round++) {
      for (const path of PATHS) {
        forceElementwisePath(path);
        const t0 = performance.now();
        for (let r = 0; r < reps; r++) op(x);
        // The first rounds warm up (and let V8 tier the wasm up); they are not counted.
        if (round >= 2) (times[path] ??= []).push(((performance.now() - t0) / reps / n) * 1e6);
      }
    }
    const [js, wasm] = PATHS.map((p) => median(times[p]!));
    console.log(
      `${name.padEnd(8)} n=${String(n).padStart(8)}  js ${js!.toFixed(2)}  wasm ${wasm!.toFixed(2)} ns/element  (×${(js! / wasm!).toFixed(2)})`,
    );
  }
}
forceElementwisePath("auto");

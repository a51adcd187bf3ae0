/**
 * @file The core library on a page: a gradient, a matmul through the WASM kernels, and a safetensors round
 * trip through bytes. Results go to `window.smokeResult` (read by test/browser-smoke.test.ts) and the page.
 */
import { backendInfo, matmul, mul, sum, tanh, tensor } from "@tapegrad/autograd";
import { decodeSafetensors, encodeSafetensors } from "@tapegrad/nn";

/** What the page reports. */
export interface SmokeResult {
  gradient: number[];
  backend: ReturnType<typeof backendInfo>;
  matmul: { shape: number[]; checksum: number; entry: number };
  roundTrip: { names: string[]; equal: boolean };
  crossOriginIsolated: boolean;
  error?: string;
}

function run(): SmokeResult {
  const x = tensor([0.5, -1.25], { requiresGrad: true });
  sum(mul(tanh(x), x)).backward();

  // 96 × 80 · 80 × 64: large enough for the WASM GEMM; entries chosen so the product is known in closed form
  const a = tensor(
    Float64Array.from({ length: 96 * 80 }, (_, k) => ((k % 7) - 3) / 4),
    { shape: [96, 80] },
  );
  const b = tensor(
    Float64Array.from({ length: 80 * 64 }, (_, k) => ((k % 5) - 2) / 8),
    { shape: [80, 64] },
  );
  const c = matmul(a, b);

  const bytes = encodeSafetensors({ weight: a, gradient: x.grad! });
  const back = decodeSafetensors(bytes).tensors;
  const equal =
    Array.from(back.weight!.data).every((v, i) => Object.is(v, a.data[i])) &&
    Array.from(back.gradient!.data).every((v, i) => Object.is(v, x.grad!.data[i]));
  return {
    gradient: Array.from(x.grad!.data),
    backend: backendInfo(),
    matmul: {
      shape: [...c.shape],
      checksum: Array.from(c.data).reduce((s, v) => s + v, 0),
      entry: c.data[5 * 64 + 7]!,
    },
    roundTrip: { names: Object.keys(back).sort(), equal },
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
  };
}

declare global {
  interface Window {
    smokeResult?: SmokeResult;
  }
}

let result: SmokeResult;
try {
  result = run();
} catch (e) {
  result = { error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) } as SmokeResult;
}
window.smokeResult = result;
document.getElementById("result")!.textContent = JSON.stringify(result, null, 2);

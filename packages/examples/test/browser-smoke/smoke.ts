/**
 * @file The core library on a page's main thread, for test/browser-smoke.test.ts: a gradient, a matrix
 * product large enough for the WebAssembly kernel, and a safetensors round trip through bytes. The results
 * go to `window.smoke` (or the error to `window.smokeError`) as plain data: arrays of doubles and bytes as
 * hex strings of their bytes (little-endian), which cross to the test quickly and exactly.
 */
import { backendInfo, matmul, RandomState, sum, tanh, tensor } from "@tapegrad/autograd";
import { decodeSafetensors, encodeSafetensors } from "@tapegrad/nn";

/** What the page reports. */
export interface SmokeResult {
  /** d sum(tanh(W x)) / dW for the README's W and x, row-major. */
  grad: number[];
  /** A (96, 80) · B (80, 64), both from numpy's RandomState(0): the product's doubles, row-major. */
  product: string;
  a: string;
  b: string;
  backend: ReturnType<typeof backendInfo>;
  /**
   * C (160, 160) · C from RandomState(1): past the size where the library uses its worker pool, which the
   * main thread must not block on (one thread there, never Atomics.wait).
   */
  square: string;
  c: string;
  /** encodeSafetensors({ A, B }, { note: "smoke" }). */
  safetensors: string;
  /** decodeSafetensors of those bytes gave back A and B exactly, with the metadata. */
  roundTrip: boolean;
}

/** The bytes of `data` as hex, two digits a byte. */
function hex(data: Float64Array | Uint8Array): string {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const page = window as unknown as { smoke?: SmokeResult; smokeError?: string };
try {
  const W = tensor(
    [
      [0.5, -1],
      [2, 0.25],
    ],
    { requiresGrad: true },
  );
  const x = tensor([[1], [3]]);
  sum(tanh(matmul(W, x))).backward();
  const rng = new RandomState(0);
  const A = rng.randn(96, 80);
  const B = rng.randn(80, 64);
  const product = matmul(A, B);
  const C = new RandomState(1).randn(160, 160);
  const square = matmul(C, C);
  const bytes = encodeSafetensors({ A, B }, { note: "smoke" });
  const back = decodeSafetensors(bytes);
  const same = (p: ArrayLike<number>, q: ArrayLike<number>) =>
    p.length === q.length && Array.from(p).every((v, i) => Object.is(v, q[i]));
  page.smoke = {
    grad: Array.from(W.grad!.data),
    product: hex(product.data),
    a: hex(A.data),
    b: hex(B.data),
    square: hex(square.data),
    c: hex(C.data),
    backend: backendInfo(),
    safetensors: hex(bytes),
    roundTrip:
      same(back.tensors.A!.data, A.data) &&
      same(back.tensors.B!.data, B.data) &&
      back.metadata?.note === "smoke",
  };
  document.getElementById("out")!.textContent = JSON.stringify(page.smoke.backend);
} catch (e) {
  page.smokeError = e instanceof Error ? `${e.message}\n${e.stack}` : String(e);
  document.getElementById("out")!.textContent = page.smokeError;
}

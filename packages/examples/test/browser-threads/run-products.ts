/**
 * @file The work both the page's main thread and its worker do: wait until the worker pool is up (or the
 * reason says it cannot be), then the 512³ product on the default thread count and on one thread, and
 * optionally the time of a 1024³ product each way.
 */
import { backendInfo, backendReady, getNumThreads, matmul, setNumThreads, tensor } from "@tapegrad/autograd";
import { bitsDigest, operand } from "./operands.js";
import type { ThreadReport } from "./protocol.js";

function operands(n: number) {
  return [tensor(operand(n, 1), { shape: [n, n] }), tensor(operand(n, 2), { shape: [n, n] })] as const;
}

function product(n: number) {
  const [a, b] = operands(n);
  return matmul(a, b).data;
}

/** Median ms of five n³ products (after a warm-up that grows the memory and wakes the workers). */
function medianMs(n: number): number {
  const [a, b] = operands(n);
  matmul(a, b);
  const times: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    matmul(a, b);
    times.push(performance.now() - t0);
  }
  return times.sort((x, y) => x - y)[2]!;
}

/** The report of this thread; never throws (an error is reported). */
export async function runProducts(timing: boolean): Promise<ThreadReport> {
  try {
    const threads = getNumThreads();
    // Before this thread's event loop turns: a browser has not started the pool's workers yet.
    const early = backendInfo();
    const backend = await backendReady();
    const c = product(512);
    setNumThreads(1);
    const c1 = product(512);
    let ms1024: ThreadReport["ms1024"];
    if (timing) {
      const oneThread = medianMs(1024);
      setNumThreads(threads);
      await backendReady();
      ms1024 = { defaultThreads: medianMs(1024), oneThread, threads: backendInfo().threads };
    }
    setNumThreads(threads);
    return {
      early,
      backend,
      product: {
        defaultThreads: bitsDigest(c),
        oneThread: bitsDigest(c1),
        entries: [c[0]!, c[512 * 300 + 77]!],
      },
      ms1024,
    };
  } catch (e) {
    return { error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) } as ThreadReport;
  }
}

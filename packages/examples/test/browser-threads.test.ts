/**
 * @file Threads in the browser (headless Chromium): in a cross-origin-isolated page, tapegrad inside a
 * dedicated Worker runs large products on a pool of Web Workers (once `backendReady()` let them start), bit
 * for bit equal to one thread and to Node; on the main thread, and in a page that is not isolated, it runs on
 * one thread without an exception and `backendInfo().reason` says why and what to change.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { matmul, tensor } from "@tapegrad/autograd";
import { build as viteBuild } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChromiumSession, launchChromium, serveStatic } from "../../../test-support/browser.js";
import { bitsDigest, operand } from "./browser-threads/operands.js";
import type { ThreadsResult } from "./browser-threads/protocol.js";
import { EXAMPLES_DIR } from "./helpers.js";

const PAGE = join(EXAMPLES_DIR, "test", "browser-threads");
let out = "";
let chromium: ChromiumSession;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), "tapegrad-threads-"));
  await viteBuild({ root: PAGE, logLevel: "warn", build: { outDir: out, emptyOutDir: true } });
  chromium = await launchChromium();
}, 180_000);

afterAll(async () => {
  await chromium?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

/** Open the page (served with or without COOP/COEP) and wait for its report. */
async function threadsResult(isolated: boolean, query = ""): Promise<ThreadsResult> {
  const server = await serveStatic(out, { isolated });
  try {
    const page = await chromium.context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(server.url + query);
    await page.waitForFunction(() => window.threadsResult !== undefined, undefined, {
      timeout: 150_000,
      polling: 100, // requestAnimationFrame, the default, barely runs in a headless tab
    });
    const result = (await page.evaluate(() => window.threadsResult)) as ThreadsResult;
    await page.close();
    expect(errors).toEqual([]);
    return result;
  } finally {
    await server.close();
  }
}

/** Node's 512³ product of the page's operands, and two of its entries by a plain loop (an independent computation). */
function nodeProduct(): { digest: string; data: Float64Array; naive: number[] } {
  const a = operand(512, 1);
  const b = operand(512, 2);
  const data = matmul(tensor(a, { shape: [512, 512] }), tensor(b, { shape: [512, 512] })).data;
  const naive = [
    [0, 0],
    [300, 77],
  ].map(([i, j]) => {
    let s = 0;
    for (let k = 0; k < 512; k++) s += a[i! * 512 + k]! * b[k * 512 + j!]!;
    return s;
  });
  return { digest: bitsDigest(data), data, naive };
}

describe("threads in the browser (headless Chromium)", () => {
  it("the bits digest tells products apart that differ in one ulp of one entry", () => {
    const { digest, data } = nodeProduct();
    const planted = data.slice();
    planted[12345] = planted[12345]! + Math.abs(planted[12345]!) * Number.EPSILON;
    expect(planted[12345]).not.toBe(data[12345]);
    expect(bitsDigest(planted)).not.toBe(digest);
  });

  it("isolated page: in a Worker, 2 threads, the product bit for bit equal to one thread and to Node; on the main thread, 1 thread and the reason", async () => {
    const r = await threadsResult(true);
    expect(r.crossOriginIsolated).toBe(true);
    expect(r.worker.error).toBeUndefined();
    expect(r.worker.backend).toMatchObject({ wasm: true, simd: true });
    // before its event loop turned, the Worker ran on one thread, and the reason said what to do
    expect(r.worker.early.threads).toBe(1);
    expect(r.worker.early.reason).toContain("still starting");
    expect(r.worker.early.reason).toContain("await backendReady()");
    expect(r.worker.backend.threads).toBeGreaterThanOrEqual(2);
    expect(r.worker.backend.reason).not.toMatch(/thread/);
    const node = nodeProduct();
    expect(r.worker.product.defaultThreads).toBe(r.worker.product.oneThread);
    expect(r.worker.product.defaultThreads).toBe(node.digest);
    expect(r.worker.product.entries).toBeAllClose(node.naive, { rtol: 1e-12 });

    // the main thread of the same page: one thread, no exception, the same bits, and why
    expect(r.main.error).toBeUndefined();
    expect(r.main.backend.threads).toBe(1);
    expect(r.main.backend.reason).toContain(
      "threads: off on the main thread (Atomics.wait is not allowed there)",
    );
    expect(r.main.backend.reason).toContain("run tapegrad in a Worker of a cross-origin-isolated page");
    expect(r.main.backend.reason).not.toContain("lacks cross-origin isolation");
    expect(r.main.product.defaultThreads).toBe(node.digest);
  }, 180_000);

  it("page not isolated: in a Worker, 1 thread and the reason names COOP/COEP; on the main thread, both reasons", async () => {
    const r = await threadsResult(false);
    expect(r.crossOriginIsolated).toBe(false);
    expect(r.worker.error).toBeUndefined();
    expect(r.worker.backend.threads).toBe(1);
    expect(r.worker.backend.reason).toContain("threads: off, the page is not cross-origin isolated");
    expect(r.worker.backend.reason).toContain("Cross-Origin-Opener-Policy: same-origin");
    expect(r.worker.backend.reason).toContain("Cross-Origin-Embedder-Policy: require-corp");
    expect(r.main.error).toBeUndefined();
    expect(r.main.backend.threads).toBe(1);
    expect(r.main.backend.reason).toContain("off on the main thread");
    expect(r.main.backend.reason).toContain("this page also lacks cross-origin isolation");
    const node = nodeProduct();
    expect(r.worker.product.defaultThreads).toBe(node.digest);
    expect(r.main.product.defaultThreads).toBe(node.digest);
  }, 180_000);
});

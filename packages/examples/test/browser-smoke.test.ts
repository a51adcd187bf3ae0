/**
 * @file A smoke test of the core library in Debian's Chromium, on the page's main thread (one thread, no
 * Atomics.wait): a gradient against its closed form, a matrix product with `backendInfo().wasm` true
 * against a plain loop, and a safetensors round trip through bytes equal to Node's. The page
 * (test/browser-smoke/) is built with Vite's `build()` and served plainly and cross-origin isolated.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RandomState } from "@tapegrad/autograd";
import { encodeSafetensors } from "@tapegrad/nn";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ChromiumSession,
  launchChromium,
  type StaticServer,
  serveStatic,
} from "../../../test-support/browser.js";
import type { SmokeResult } from "./browser-smoke/smoke.js";

/** The doubles of a hex string of little-endian bytes (as the page sends them). */
function doubles(hex: string): Float64Array {
  return new Float64Array(new Uint8Array(Buffer.from(hex, "hex")).buffer);
}

/** A (M, K) · B (K, N), row-major, by the textbook loop. */
function loopProduct(A: Float64Array, B: Float64Array, M: number, K: number, N: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A[i * K + k]! * B[k * N + j]!;
      out.push(s);
    }
  }
  return out;
}

const here = dirname(fileURLToPath(import.meta.url));
let outDir: string;
let chromium: ChromiumSession;
const servers: Record<"plain" | "isolated", StaticServer | undefined> = {
  plain: undefined,
  isolated: undefined,
};

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), "tapegrad-smoke-"));
  await build({
    root: join(here, "browser-smoke"),
    configFile: false,
    base: "./",
    logLevel: "warn",
    build: { outDir, emptyOutDir: true, target: "es2022" },
  });
  servers.plain = await serveStatic(outDir);
  servers.isolated = await serveStatic(outDir, { isolated: true });
  chromium = await launchChromium();
}, 180_000);

// the servers close after the browser: an open keep-alive connection would hold server.close()
afterAll(async () => {
  await chromium?.close();
  await servers.plain?.close();
  await servers.isolated?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe.each([false, true])("the core library in Chromium (cross-origin isolated: %s)", (isolated) => {
  it("computes a gradient, a WebAssembly matrix product and a safetensors round trip", async () => {
    const server = servers[isolated ? "isolated" : "plain"]!;
    const page = await chromium.context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    try {
      await page.goto(server.url);
      await page.waitForFunction(() => "smoke" in window || "smokeError" in window, undefined, {
        timeout: 30_000,
      });
      const { smoke, smokeError } = await page.evaluate(() => {
        const w = window as unknown as { smoke?: SmokeResult; smokeError?: string };
        return { smoke: w.smoke, smokeError: w.smokeError };
      });
      expect(smokeError).toBeUndefined();
      expect(errors).toEqual([]);
      const r = smoke!;
      expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(isolated);

      // d sum(tanh(W x)) / dW = (1 − tanh²(W x)) xᵀ, with W = [[0.5, −1], [2, 0.25]], x = [1, 3]
      const z = [0.5 * 1 - 1 * 3, 2 * 1 + 0.25 * 3];
      const want = [0, 1].flatMap((i) => [1, 3].map((xj) => (1 - Math.tanh(z[i]!) ** 2) * xj));
      expect(r.grad).toBeAllClose(want, { rtol: 1e-15 });

      // the product ran in WebAssembly and agrees with a plain loop over numpy's RandomState(0) draws
      expect(r.backend.wasm).toBe(true);
      expect(r.backend.simd).toBe(true);
      // the main thread never blocks in Atomics.wait: one thread, and backendInfo says why
      expect(r.backend.threads).toBe(1);
      expect(r.backend.reason).toMatch(/thread/i);
      const rng = new RandomState(0);
      const At = rng.randn(96, 80);
      const Bt = rng.randn(80, 64);
      const A = At.data;
      const B = Bt.data;
      expect(r.a).toBe(Buffer.from(A.buffer).toString("hex"));
      expect(r.b).toBe(Buffer.from(B.buffer).toString("hex"));
      expect(doubles(r.product)).toBeAllClose(loopProduct(A, B, 96, 80, 64), { rtol: 1e-12, atol: 1e-12 });
      // a product the size of the worker pool's, on the main thread: no exception, the right numbers
      const C = new RandomState(1).randn(160, 160).data;
      expect(r.c).toBe(Buffer.from(C.buffer).toString("hex"));
      expect(doubles(r.square)).toBeAllClose(loopProduct(C, C, 160, 160, 160), { rtol: 1e-12, atol: 1e-12 });

      // the bytes are Node's, and they decode back exactly
      const bytes = encodeSafetensors({ A: At, B: Bt }, { note: "smoke" });
      expect(r.safetensors).toBe(Buffer.from(bytes).toString("hex"));
      expect(r.roundTrip).toBe(true);
    } finally {
      await page.close();
    }
  });
});

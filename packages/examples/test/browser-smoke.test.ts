/**
 * @file The libraries in a browser: both packages bundle for the browser with no aliases, stubs or polyfills
 * (Vite 7's default config and esbuild `--platform=browser`), and in headless Chromium a gradient, a matmul
 * through the WASM kernels and a safetensors round trip through bytes give Node's results bit for bit.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backendInfo, matmul, mul, sum, tanh, tensor } from "@tapegrad/autograd";
import { build as esbuild } from "esbuild";
import { build as viteBuild } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChromiumSession, launchChromium, serveStatic } from "../../../test-support/browser.js";
import type { SmokeResult } from "../browser-smoke/main.js";
import { EXAMPLES_DIR } from "./helpers.js";

const PAGE = join(EXAMPLES_DIR, "browser-smoke");
let out = "";
let chromium: ChromiumSession;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), "tapegrad-smoke-"));
  await viteBuild({ root: PAGE, logLevel: "warn", build: { outDir: out, emptyOutDir: true } });
  chromium = await launchChromium();
}, 180_000);

afterAll(async () => {
  await chromium?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

async function smokeResult(isolated: boolean): Promise<SmokeResult> {
  const server = await serveStatic(out, { isolated });
  try {
    const page = await chromium.context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForFunction(() => window.smokeResult !== undefined, undefined, {
      timeout: 60_000,
      polling: 100, // requestAnimationFrame, the default, barely runs in a headless tab
    });
    const result = (await page.evaluate(() => window.smokeResult)) as SmokeResult;
    await page.close();
    expect(errors).toEqual([]);
    return result;
  } finally {
    await server.close();
  }
}

/** The product of the page's matrices by plain loops (an independent computation). */
function referenceProduct(): { checksum: number; entry: number } {
  const a = (i: number, k: number) => (((i * 80 + k) % 7) - 3) / 4;
  const b = (k: number, j: number) => (((k * 64 + j) % 5) - 2) / 8;
  let checksum = 0;
  let entry = 0;
  for (let i = 0; i < 96; i++) {
    for (let j = 0; j < 64; j++) {
      let s = 0;
      for (let k = 0; k < 80; k++) s += a(i, k) * b(k, j);
      checksum += s;
      if (i === 5 && j === 7) entry = s;
    }
  }
  return { checksum, entry };
}

describe("in the browser (headless Chromium)", () => {
  it("bundles both packages with esbuild --platform=browser, no node: modules", async () => {
    const r = await esbuild({
      stdin: {
        contents: `export * from "@tapegrad/autograd"; export * from "@tapegrad/nn";`,
        resolveDir: EXAMPLES_DIR,
        loader: "ts",
      },
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      logLevel: "silent",
    });
    expect(r.errors).toEqual([]);
    expect(r.outputFiles[0]!.text).not.toMatch(/from\s*["']node:/);
  });

  it("computes a gradient, a WASM matmul and a safetensors round trip, equal to Node's", async () => {
    const page = await smokeResult(false);
    expect(page.error).toBeUndefined();
    // the same computation in Node: bit for bit
    const x = tensor([0.5, -1.25], { requiresGrad: true });
    sum(mul(tanh(x), x)).backward();
    expect(page.gradient).toEqual(Array.from(x.grad!.data));
    // d/dx x·tanh x = tanh x + x(1 − tanh² x)
    expect(page.gradient).toBeAllClose([0.5, -1.25].map((v) => Math.tanh(v) + v * (1 - Math.tanh(v) ** 2)));

    expect(page.backend.wasm).toBe(true);
    expect(page.backend.simd).toBe(true);
    expect(page.matmul.shape).toEqual([96, 64]);
    const ref = referenceProduct();
    expect(page.matmul.entry).toBeAllClose(ref.entry);
    expect(page.matmul.checksum).toBeAllClose(ref.checksum, { rtol: 1e-12, atol: 1e-9 });
    const a = tensor(
      Float64Array.from({ length: 96 * 80 }, (_, k) => ((k % 7) - 3) / 4),
      { shape: [96, 80] },
    );
    const b = tensor(
      Float64Array.from({ length: 80 * 64 }, (_, k) => ((k % 5) - 2) / 8),
      { shape: [80, 64] },
    );
    expect(page.matmul.entry).toBe(matmul(a, b).data[5 * 64 + 7]);

    expect(page.roundTrip).toEqual({ names: ["gradient", "weight"], equal: true });
    // on the main thread of a page that is not cross-origin isolated: one thread, and the reason is given
    expect(page.crossOriginIsolated).toBe(false);
    expect(page.backend.threads).toBe(1);
    expect(page.backend.reason).toMatch(/thread/i);
    // Node's backend, for comparison: the same kernels
    expect(backendInfo().wasm).toBe(true);
  }, 120_000);
});

/**
 * @file Anomaly mode's "created at" in bundled code: when a bundler puts the library and the user's code in one
 * script, the line must still be the user's call, not a frame of the library. Checked in headless Chromium on a
 * page built by Vite (default config: minified, no sourcemaps) and in Node on an esbuild bundle: the frame is
 * the user's method (its name survives minification) and its line and column fall inside that method's code in
 * the bundle file.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build as esbuild } from "esbuild";
import { build as viteBuild } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChromiumSession, launchChromium, serveStatic } from "../../../test-support/browser.js";
import { EXAMPLES_DIR } from "./helpers.js";

const PAGE = join(EXAMPLES_DIR, "test", "browser-anomaly");
let out = "";
let chromium: ChromiumSession;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), "tapegrad-anomaly-"));
  await viteBuild({ root: PAGE, logLevel: "warn", build: { outDir: join(out, "page"), emptyOutDir: true } });
  chromium = await launchChromium();
}, 180_000);

afterAll(async () => {
  await chromium?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

/** The frame after "created at" (forward) or "op created at" (backward), and its url, line and column. */
function createdAt(message: string): { frame: string; url: string; line: number; column: number } {
  const frame = /created at (.+)$/m.exec(message)?.[1];
  const m = frame === undefined ? null : /\(?([^\s()]+):(\d+):(\d+)\)?$/.exec(frame);
  if (frame === undefined || m === null) throw new Error(`no "created at" location in: ${message}`);
  return { frame, url: m[1]!, line: Number(m[2]), column: Number(m[3]) };
}

/** Offset in `text` of a 1-based line and column. */
function offsetOf(text: string, line: number, column: number): number {
  const lines = text.split("\n");
  let offset = 0;
  for (let i = 0; i < line - 1; i++) offset += lines[i]!.length + 1;
  return offset + column - 1;
}

/**
 * Asserts that the message's "created at" is the user's method `method` in `bundle`: the frame is named after
 * it, and its position lies between the method's definition and the next 200 characters of its code.
 */
function expectUserSite(message: string, bundle: string, method: string): void {
  const site = createdAt(message);
  expect(site.frame).toContain(method);
  const definition = bundle.indexOf(`${method}(`);
  expect(definition).toBeGreaterThan(0);
  const at = offsetOf(bundle, site.line, site.column);
  expect(at).toBeGreaterThan(definition);
  expect(at).toBeLessThan(definition + 200);
}

describe("anomaly mode's created-at in a bundle", () => {
  it("a Vite-bundled page in Chromium names the user's call (bundle URL, line and column)", async () => {
    const server = await serveStatic(join(out, "page"));
    try {
      const page = await chromium.context.newPage();
      await page.goto(server.url);
      await page.waitForFunction(() => window.anomalyResult !== undefined, undefined, {
        timeout: 60_000,
        polling: 100, // requestAnimationFrame, the default, barely runs in a headless tab
      });
      const r = (await page.evaluate(() => window.anomalyResult))!;
      await page.close();
      expect(r.error).toBeUndefined();
      expect(r.forward).toContain("detectAnomaly: forward of log produced NaN at [1]");
      expect(r.backward).toContain("detectAnomaly: backward of sqrt produced Infinity at [0]");
      const script = readdirSync(join(out, "page", "assets")).find((f) => f.endsWith(".js"))!;
      const bundle = readFileSync(join(out, "page", "assets", script), "utf8");
      // one script holds the library and the user's code
      expect(createdAt(r.forward).url).toBe(`${server.url}assets/${script}`);
      expect(createdAt(r.backward).url).toBe(`${server.url}assets/${script}`);
      expectUserSite(r.forward, bundle, "poisonedForward");
      expectUserSite(r.backward, bundle, "poisonedBackward");
    } finally {
      await server.close();
    }
  }, 120_000);

  it("an esbuild bundle run by Node names the user's call", async () => {
    const file = join(out, "bundle.mjs");
    await esbuild({
      stdin: {
        contents: `import { anomalyMessages } from "./test/browser-anomaly/user-code.ts"; console.log(JSON.stringify(anomalyMessages()));`,
        resolveDir: EXAMPLES_DIR,
        loader: "ts",
      },
      bundle: true,
      platform: "node",
      format: "esm",
      minify: true,
      outfile: file,
      logLevel: "silent",
    });
    const run = spawnSync(process.execPath, [file], { encoding: "utf8", timeout: 60_000 });
    expect(run.stderr).toBe("");
    const r = JSON.parse(run.stdout) as { forward: string; backward: string };
    const bundle = readFileSync(file, "utf8");
    expect(createdAt(r.forward).url).toContain("bundle.mjs");
    expectUserSite(r.forward, bundle, "poisonedForward");
    expectUserSite(r.backward, bundle, "poisonedBackward");
  }, 60_000);
});

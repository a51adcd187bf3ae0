/**
 * @file Both libraries bundle for the browser with no aliases, stubs or polyfills: esbuild with
 * `--platform=browser` resolves every import (a `node:` import would fail to resolve), and the bundle holds
 * no import of a Node built-in. Vite's default config is covered by workspace-package.test.ts and the
 * browser tests' pages.
 */
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { EXAMPLES_DIR } from "./helpers.js";

describe("browser bundles", () => {
  it("esbuild --platform=browser bundles @tapegrad/autograd, @tapegrad/nn and @tapegrad/plot", async () => {
    const r = await build({
      stdin: {
        contents: `export * from "@tapegrad/autograd"; export * from "@tapegrad/nn"; export * from "@tapegrad/plot";`,
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
    expect(r.outputFiles[0]!.text).not.toMatch(/\bimport\s*\(?\s*["']node:|\bfrom\s*["']node:/);
  });
});

/**
 * @file Vite configuration of the playground: a relative base so that `dist/` works from any static host
 * (a sub-folder too), the training worker bundled as an ES module, and the cross-origin-isolation headers on
 * the dev and preview servers, so that the training Worker may use tapegrad's thread pool (see autograd's
 * README, "In the browser"); a static host without them runs on one thread, and the backend line says so.
 */
import { defineConfig } from "vite";

const isolation = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export default defineConfig({
  base: "./",
  server: { headers: isolation },
  preview: { headers: isolation },
  worker: { format: "es" },
  build: { target: "es2022", outDir: "dist", emptyOutDir: true },
});

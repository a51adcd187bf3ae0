/**
 * @file Vite configuration of the playground: a relative base so that `dist/` works from any static host
 * (a sub-folder too), and the training worker bundled as an ES module.
 */
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  worker: { format: "es" },
  build: { target: "es2022", outDir: "dist", emptyOutDir: true },
});

/** @file Helpers shared by the examples' tests: running a program as a subprocess, reading SVG (test-support/svg.ts). */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** packages/examples, absolute. */
export const EXAMPLES_DIR = fileURLToPath(new URL("..", import.meta.url));

/** Run a TypeScript program the way `pnpm demo` does (tsx, source condition); returns its exit code and output. */
export function runTsx(file: string, args: readonly string[], cwd = EXAMPLES_DIR) {
  const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");
  const r = spawnSync(process.execPath, [tsxCli, file, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, INIT_CWD: cwd, FORCE_COLOR: "0" },
    timeout: 300_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export { countTags, xmlProblem } from "../../../test-support/svg.js";

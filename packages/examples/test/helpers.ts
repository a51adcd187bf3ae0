/** @file Helpers shared by the examples' tests: running a program as a subprocess, reading SVG. */
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
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Number of elements `<tag …>` in an SVG text. */
export function countTags(svg: string, tag: string): number {
  return svg.match(new RegExp(`<${tag}[\\s/>]`, "g"))?.length ?? 0;
}

/**
 * Check that an SVG text is well-formed enough to render: every element closed in order, one root <svg>.
 * @returns null, or what is wrong.
 */
export function xmlProblem(svg: string): string | null {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (closing) {
      const open = stack.pop();
      if (open !== name) return `</${name}> closes <${open}>`;
    } else stack.push(name!);
  }
  if (stack.length > 0) return `unclosed <${stack.join("> <")}>`;
  return svg.trimStart().startsWith("<svg") ? null : "the root is not <svg>";
}

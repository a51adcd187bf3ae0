#!/usr/bin/env node
/**
 * @file The line budget: no hand-written source file (TypeScript or JavaScript, sources, tests and scripts of
 * every package) may exceed 600 lines; a file that long usually holds two ideas. Generated files
 * (`*.generated.ts`) are exempt. Run by `pnpm lint` (and so by CI); exits 1 naming each file over budget.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const BUDGET = 600;
const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
  encoding: "utf8",
})
  .split("\n")
  .filter(
    (f) => /\.(ts|tsx|js|mjs|cjs)$/.test(f) && !/\.generated\.ts$/.test(f) && !f.includes("node_modules/"),
  );
const over = [];
for (const f of files) {
  let text;
  try {
    text = readFileSync(f, "utf8");
  } catch {
    continue; // deleted in the work tree, still in the index
  }
  const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
  if (lines > BUDGET) over.push(`${f}: ${lines} lines`);
}
if (over.length > 0) {
  console.error(
    `line budget: ${over.length} file(s) over ${BUDGET} lines (split them by idea):\n  ${over.join("\n  ")}`,
  );
  process.exit(1);
}
console.log(`line budget: ${files.length} source files, none over ${BUDGET} lines`);

/** @file Helpers every runnable example shares: "was this file executed directly?" and its output sink. */
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";

/**
 * True when the module whose `import.meta.url` is given is the program being run (`tsx src/demo.ts`),
 * false when it is imported (by a test or another example). Symlinks are resolved on both sides.
 */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  let path = entry;
  try {
    path = realpathSync(entry);
  } catch {
    // a path that cannot be resolved is compared as given
  }
  return moduleUrl === pathToFileURL(path).href || moduleUrl === pathToFileURL(entry).href;
}

/** Where an example prints its lines: `console.log` by default, an array in tests. */
export type Log = (line: string) => void;

/** Whether `--flag` is among the command-line arguments. */
export function hasFlag(flag: string, argv: readonly string[] = process.argv.slice(2)): boolean {
  return argv.includes(`--${flag}`);
}

/**
 * @file `pnpm soak` in a shorter form, with the same assertion: memory grows by less than 5 % over the run.
 * It runs as its own process (as `pnpm soak` does): a minute of synchronous training on a busy machine would
 * otherwise hold up the test runner's messages.
 */
import { expect, test } from "vitest";
import { runTsx } from "./helpers.js";

test("training through the tape keeps memory flat (784-128-1, m = 256)", () => {
  const r = runTsx("src/soak.ts", ["--steps", "600", "--every", "200", "--warmup", "300"]);
  expect(r.stderr).not.toContain("FAILED");
  expect(r.status).toBe(0);
  const steps = [...r.stdout.matchAll(/^ {2}step +(\d+) .* loss (\S+)$/gm)];
  expect(steps.map((m) => Number(m[1]))).toEqual([0, 200, 400, 600]);
  expect(steps.every((m) => Number.isFinite(Number(m[2])))).toBe(true);
  const growth = Number(/memory growth (-?[\d.]+) %/.exec(r.stdout)?.[1]);
  expect(growth).toBeLessThan(5);
}, 300_000);

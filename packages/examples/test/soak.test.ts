/** `pnpm soak` in a shorter form, with the same assertion: memory grows by less than 5 % over the run. */
import { expect, test } from "vitest";
import { runSoak } from "../src/soak.js";

test("training through the tape keeps memory flat (784-128-1, m = 256)", () => {
  const result = runSoak({ steps: 600, every: 200, warmup: 300 });
  expect(result.samples.map((s) => s.step)).toEqual([0, 200, 400, 600]);
  expect(result.samples.every((s) => Number.isFinite(s.loss))).toBe(true);
  expect(result.growth).toBeLessThan(0.05);
});

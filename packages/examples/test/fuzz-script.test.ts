/** `pnpm fuzz` in a reduced form: the script's entry point runs, passes, and reports its counts and seed. */
import { expect, test } from "vitest";
import { runFuzz } from "../src/fuzz.js";

test("runFuzz checks the requested number of graphs with a fixed seed and passes", () => {
  const progress: number[] = [];
  const result = runFuzz({
    runs: 200,
    seed: 42,
    progressEvery: 100,
    onProgress: (done) => progress.push(done),
  });
  expect(result).toMatchObject({ runs: 200, seed: 42, failed: false, report: null });
  expect(progress).toEqual([100, 200]);
  expect(result.worst).toBeLessThan(1e-6);
});

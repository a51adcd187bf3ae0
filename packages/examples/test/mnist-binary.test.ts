import { describe, expect, it } from "vitest";
import { loadDigitVsRest, run } from "../src/mnist-binary.js";

describe("mnist-binary example", () => {
  it("loads the package's digits as (784, m) columns in [0, 1], about one in ten labelled 1", () => {
    const { train, test } = loadDigitVsRest(3, { limit: 1000 });
    expect(train.X.shape).toEqual([784, 800]);
    expect(test.X.shape).toEqual([784, 200]);
    expect(train.X.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    const share = train.Y.data.reduce((a, b) => a + b, 0) / 800;
    expect(share).toBeGreaterThan(0.05);
    expect(share).toBeLessThan(0.16);
    expect(() => loadDigitVsRest(10)).toThrow(/digit must be an integer 0 … 9, got 10/);
  });

  it("quick mode: beats always answering 'not 3' on the test set", () => {
    const lines: string[] = [];
    const r = run({ quick: true, bar: false, log: (l) => lines.push(l) });
    expect(r.testAccuracy).toBeGreaterThan(r.baseline + 2);
    expect(lines.at(-1)).toMatch(/^test accuracy: \d+\.\d\d %/);
  });
});

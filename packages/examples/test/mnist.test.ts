import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RandomState, Tensor } from "@tapegrad/autograd";
import { beforeAll, describe, expect, it } from "vitest";
import { MLP, type ModelResult, run, trainModel } from "../src/mnist.js";
import { loadDigits, PIXELS, randomShift } from "../src/mnist-data.js";
import { confusionMatrix } from "../src/mnist-figures.js";
import { createProgressGroup } from "../src/progress.js";

/** Learning above chance (10 % for ten digits), by a margin that a network that does not learn misses. */
const ABOVE_CHANCE = 30;

describe("pnpm mnist --quick", () => {
  const lines: string[] = [];
  let outDir: string;
  let results: ModelResult[];
  let files: string[];

  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), "tapegrad-mnist-"));
    ({ results, files } = run({ quick: true, bar: false, outDir, log: (l) => lines.push(l) }));
  }, 600_000);

  it("prints `MLP test accuracy: NN.NN %` and `CNN test accuracy: NN.NN %`, each beside the time taken", () => {
    for (const name of ["MLP", "CNN"]) {
      const printed = lines.filter((l) => l.startsWith(`${name} test accuracy: `));
      expect(printed, name).toHaveLength(1);
      expect(printed[0]).toMatch(
        new RegExp(`^${name} test accuracy: \\d{1,3}\\.\\d\\d %   \\(trained in \\d+\\.\\d s\\)$`),
      );
      const r = results.find((x) => x.name === name)!;
      expect(printed[0]).toContain(`${r.accuracy.toFixed(2)} %`);
    }
    expect(lines[0]).toBe(
      "MNIST (the mnist npm package): 800 images to train, 200 held out (seeded split) — quick mode",
    );
  });

  it("learns above chance in one epoch; the confusion matrix agrees with the accuracy", () => {
    for (const r of results) {
      expect(r.accuracy, r.name).toBeGreaterThan(ABOVE_CHANCE);
      expect(r.epochLosses).toHaveLength(1);
      const total = r.confusion.flat().reduce((a, b) => a + b, 0);
      const diagonal = r.confusion.reduce((a, row, i) => a + row[i]!, 0);
      expect(total).toBe(200);
      expect((100 * diagonal) / total).toBeAllClose(r.accuracy, { rtol: 0, atol: 5e-11 });
      expect(r.misclassified).toHaveLength(total - diagonal);
      for (const m of r.misclassified) expect(m.label).not.toBe(m.predicted);
    }
  });

  it("writes the confusion matrix and the misclassified digits of both networks as SVG", () => {
    expect(files.map((f) => f.slice(outDir.length + 1))).toEqual([
      "mnist-mlp-confusion.svg",
      "mnist-mlp-misclassified.svg",
      "mnist-cnn-confusion.svg",
      "mnist-cnn-misclassified.svg",
    ]);
    for (const f of files) {
      const svg = readFileSync(f, "utf8");
      expect(svg.startsWith("<svg"), f).toBe(true);
      expect(svg.trimEnd().endsWith("</svg>"), f).toBe(true);
      expect(svg).toMatch(/<title[^>]*>[^<]*(MLP|CNN)/);
    }
    const cnn = results[1]!;
    const wrong = readFileSync(files[3]!, "utf8");
    const captions = [...wrong.matchAll(/>(\d) → (\d)<\/text>/g)].map((m) => [Number(m[1]), Number(m[2])]);
    const shown = cnn.misclassified.slice(0, 60).map((m) => [m.label, m.predicted]);
    expect(captions).toEqual(shown);
    expect(lines.at(-1)).toBe(`wrote ${files.join(", ")}`);
  });

  it("the above-chance bar bites: the same MLP with learning rate 0 stays near chance", () => {
    const data = loadDigits({ train: 800, test: 200 });
    const progress = createProgressGroup({ bar: false, log: () => {} });
    const frozen = trainModel({ ...MLP, lr: 0 }, data, progress, { quick: true });
    expect(frozen.accuracy).toBeLessThan(ABOVE_CHANCE);
  });
});

describe("the MNIST data", () => {
  it("a fixed seeded split of the package's 10 000 digits: 8 000 / 2 000, every digit in both", () => {
    const { train, test } = loadDigits();
    expect(train.X.shape).toEqual([8000, PIXELS]);
    expect(test.X.shape).toEqual([2000, PIXELS]);
    expect(train.X.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    for (const split of [train, test]) {
      const counts = new Array(10).fill(0);
      for (const d of split.labels) counts[d]++;
      // about a tenth each (the package has 1 000 of most digits)
      for (const c of counts) expect(c / split.labels.length).toBeGreaterThan(0.07);
    }
    const again = loadDigits({ train: 50, test: 10 });
    expect(again.train.labels).toEqual(train.labels.subarray(0, 50));
    expect(again.test.labels).toEqual(train.labels.subarray(50, 60));
    const other = loadDigits({ train: 50, test: 10, seed: 1 });
    expect(other.train.labels).not.toEqual(again.train.labels);
  });

  it("rejects sizes beyond the package", () => {
    expect(() => loadDigits({ train: 9000, test: 2000 })).toThrow(
      "loadDigits: train + test = 9000 + 2000 exceeds the 10000 images of the mnist package",
    );
    expect(() => loadDigits({ train: 0 })).toThrow("loadDigits: train must be a positive integer, got 0");
  });

  it("randomShift moves each image by whole pixels within ±maxShift, filling with 0; 0 is the identity", () => {
    // one lit pixel per image at (10, 12): after the shift it is at (10 + dy, 12 + dx), alone
    const m = 200;
    const X = new Float64Array(m * PIXELS);
    for (let k = 0; k < m; k++) X[k * PIXELS + 10 * 28 + 12] = 1;
    const shifted = randomShift(new Tensor(X, [m, PIXELS]), 2, new RandomState(0)).data;
    const seen = new Set<string>();
    for (let k = 0; k < m; k++) {
      const lit = [];
      for (let p = 0; p < PIXELS; p++) if (shifted[k * PIXELS + p] !== 0) lit.push(p);
      expect(lit).toHaveLength(1);
      const [r, c] = [Math.floor(lit[0]! / 28), lit[0]! % 28];
      expect(Math.abs(r - 10)).toBeLessThanOrEqual(2);
      expect(Math.abs(c - 12)).toBeLessThanOrEqual(2);
      seen.add(`${r - 10},${c - 12}`);
    }
    expect(seen.size).toBe(25); // all 5 × 5 shifts occur in 200 draws
    // a pixel shifted out of the image is gone, and zeros come in
    const edge = new Float64Array(PIXELS).fill(1);
    const moved = randomShift(new Tensor(edge, [1, PIXELS]), 3, new RandomState(5)).data;
    const ones = moved.reduce((a, b) => a + b, 0);
    const [dy, dx] = new RandomState(5).randint(-3, 4, [1, 2]).data as unknown as [number, number];
    expect(ones).toBe((28 - Math.abs(dy)) * (28 - Math.abs(dx)));
    expect(randomShift(new Tensor(X, [m, PIXELS]), 0, new RandomState(0)).data).toEqual(X);
  });

  it("confusionMatrix counts label → prediction pairs", () => {
    const c = confusionMatrix([3, 3, 1, 0], [3, 8, 1, 1]);
    expect(c[3]![3]).toBe(1);
    expect(c[3]![8]).toBe(1);
    expect(c[1]![1]).toBe(1);
    expect(c[0]![1]).toBe(1);
    expect(c.flat().reduce((a, b) => a + b, 0)).toBe(4);
  });
});

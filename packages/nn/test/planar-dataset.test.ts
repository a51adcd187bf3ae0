import { readFileSync } from "node:fs";
import { linspace, loadPlanarDataset } from "@tapegrad/nn";
import { describe, expect, it } from "vitest";

// numpy's X and Y (Debian's numpy 1.24 on x86-64 with AVX-512), made by fixtures/make-planar-fixture.py
const numpy = JSON.parse(readFileSync(new URL("fixtures/planar-dataset.json", import.meta.url), "utf8")) as {
  X: number[][];
  Y: number[][];
};

describe("loadPlanarDataset", () => {
  const { X, Y } = loadPlanarDataset();

  it("has the course's shapes: X (2, 400), Y (1, 400)", () => {
    expect(X.shape).toEqual([2, 400]);
    expect(Y.shape).toEqual([1, 400]);
  });

  it("matches the issue's fingerprints: X[:, 0] and numpy's sum(X[0, :])", () => {
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    expect(rel(X.data[0]!, 1.2044422922543192)).toBeLessThan(1e-15);
    expect(rel(X.data[400]!, 3.576114148128845)).toBeLessThan(1e-15);
    // np.sum adds pairwise, this loop left to right: the orders differ by a few 1e-14 (Σ|x| ≈ 900), as do
    // the terms' last bits (numpy's sin/cos)
    let s = 0;
    for (let c = 0; c < 400; c++) s += X.data[c]!;
    expect(Math.abs(s - -17.33836367040442)).toBeLessThan(1e-13);
  });

  it("equals numpy's X element by element to 1e-15 relative, and Y exactly", () => {
    for (let r = 0; r < 2; r++) {
      for (let c = 0; c < 400; c++) {
        const want = numpy.X[r]![c]!;
        const got = X.data[r * 400 + c]!;
        // numpy's vectorised sin/cos are off by up to 4 ulp here (REPRODUCTION-NOTES), V8's by under 1
        if (Math.abs(got - want) > 1e-15 * Math.abs(want)) {
          throw new Error(
            `X[${r}, ${c}] = ${got}, numpy ${want} (relative ${Math.abs(got - want) / Math.abs(want)})`,
          );
        }
      }
    }
    expect(Array.from(Y.data)).toEqual(numpy.Y[0]);
  });

  it("labels the first 200 examples 0 and the next 200 1", () => {
    expect(Y.data.slice(0, 200).every((v) => v === 0)).toBe(true);
    expect(Y.data.slice(200).every((v) => v === 1)).toBe(true);
  });
});

describe("linspace (numpy's formula)", () => {
  it("is i·step + start with the last element exactly stop", () => {
    const y = linspace(3.12, 6.24, 200);
    const step = (6.24 - 3.12) / 199;
    expect(y[0]).toBe(3.12);
    expect(y[199]).toBe(6.24);
    for (let i = 0; i < 199; i++) expect(y[i]).toBe(i * step + 3.12);
  });

  it("differs from start + i·(stop − start)/(num − 1) somewhere (the formula matters)", () => {
    const y = linspace(0, 3.12, 200);
    const other = Array.from({ length: 200 }, (_, i) => (i * 3.12) / 199);
    expect(other.some((v, i) => v !== y[i])).toBe(true);
  });

  it("handles num 0 and 1 and rejects a bad num", () => {
    expect(Array.from(linspace(1, 2, 0))).toEqual([]);
    expect(Array.from(linspace(1, 2, 1))).toEqual([1]);
    expect(() => linspace(0, 1, 2.5)).toThrow(/num must be a non-negative integer, got 2.5/);
  });
});

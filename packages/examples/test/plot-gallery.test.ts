import { RandomState } from "@tapegrad/autograd";
import { PALETTE, REGION_PALETTE, VERDICT_COLORS } from "@tapegrad/plot";
import { beforeAll, describe, expect, it } from "vitest";
import { type GalleryResult, run, spiral } from "../src/plot-gallery.js";
import { countTags, xmlProblem } from "./helpers.js";

describe("plot gallery (quick)", () => {
  let result: GalleryResult;
  beforeAll(() => {
    result = run({ steps: 300, outDir: null, log: () => {} });
  });

  it("draws five well-formed figures", () => {
    expect(Object.keys(result.svgs)).toEqual([
      "spiral-regions.svg",
      "spiral-cost.svg",
      "spiral-confusion.svg",
      "spiral-weights.svg",
      "course-tape.svg",
    ]);
    for (const svg of Object.values(result.svgs)) expect(xmlProblem(svg)).toBeNull();
  });

  it("draws the 3-class spiral's regions and its 300 points in three colours", () => {
    const svg = result.svgs["spiral-regions.svg"]!;
    expect(countTags(svg, "circle")).toBe(300);
    for (let c = 0; c < 3; c++) {
      expect(svg).toMatch(new RegExp(`fill="${REGION_PALETTE[c]}"`));
      expect(countTags(svg.match(new RegExp(`<g fill="${PALETTE[c]}">(.*?)</g>`))?.[1] ?? "", "circle")).toBe(
        100,
      );
    }
    expect(result.accuracy).toBeGreaterThan(80);
  });

  it("marks exactly dZ1 red on the course's tape (the planted g instead of g′) and the other five green", () => {
    const svg = result.svgs["course-tape.svg"]!;
    expect(svg.match(/class="node [a-z]+ verdict-mismatch"[^>]*data-name="([^"]+)"/g)).toHaveLength(1);
    expect(svg).toMatch(/verdict-mismatch"[^>]*data-name="Z1"/);
    for (const name of ["W1", "b1", "W2", "b2", "Z2"])
      expect(svg).toMatch(new RegExp(`verdict-ok"[^>]*data-name="${name}"`));
    expect(svg).toContain(VERDICT_COLORS.mismatch.stroke);
  });

  it("makes cs231n's spiral: radius i/(n−1), one arm per class", () => {
    const { X, y } = spiral(5, 3, new RandomState(0));
    expect(X.shape).toEqual([15, 2]);
    expect(y).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    for (let i = 0; i < 15; i++)
      expect(Math.hypot(X.data[2 * i]!, X.data[2 * i + 1]!)).toBeAllClose((i % 5) / 4, {
        rtol: 0,
        atol: 5e-13,
      });
  });
});

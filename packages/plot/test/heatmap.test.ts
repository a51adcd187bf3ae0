/** heatmapSvg: colours at the ends of the scales, values in cells, NaN cells, and bad input. */
import { tensor } from "@tapegrad/autograd";
import { heatmapSvg } from "@tapegrad/plot";
import { describe, expect, it } from "vitest";
import { xmlProblem } from "../../../test-support/svg.js";

// the ends of the scales, from matplotlib's viridis and ColorBrewer's RdBu
const VIRIDIS_MIN = "#440154";
const VIRIDIS_MAX = "#fde725";
const RDBU_NEGATIVE = "#2166ac";
const RDBU_ZERO = "#f7f7f7";
const RDBU_POSITIVE = "#b2182b";

/** The fill of the cell whose run starts at (x, y), from the cell paths. */
function fills(svg: string): string[] {
  return [...svg.matchAll(/<path fill="(#[0-9a-f]{6})" d="M/g)].map((m) => m[1]!);
}

describe("heatmapSvg", () => {
  it("draws a confusion matrix with its counts, labels and viridis from min to max", () => {
    const svg = heatmapSvg(
      [
        [50, 1, 0],
        [3, 40, 7],
        [0, 2, 60],
      ],
      { title: "Confusion matrix", rowLabels: ["cat", "dog", "bird"], colLabels: ["cat", "dog", "bird"] },
    );
    expect(xmlProblem(svg)).toBeNull();
    for (const v of [50, 1, 0, 3, 40, 7, 2, 60]) expect(svg).toMatch(new RegExp(`>${v}</text>`));
    expect(svg.match(/>cat<\/text>/g)).toHaveLength(2);
    expect(fills(svg)).toContain(VIRIDIS_MIN);
    expect(fills(svg)).toContain(VIRIDIS_MAX);
    // dark text on the bright maximum, white on the dark minimum
    expect(svg).toMatch(/fill="#111">60</);
    expect(svg).toMatch(/fill="#fff">0</);
    expect(svg).toContain("<title");
  });

  it("centres signed values on white, negative blue and positive red", () => {
    const svg = heatmapSvg(tensor([[-2, 0, 1]]));
    expect(new Set(fills(svg))).toEqual(new Set([RDBU_NEGATIVE, RDBU_ZERO, "#f6b395"]));
    // ±max|v| = ±2: 1 sits three quarters up the scale, halfway between the stops #fddbc7 and #ef8a62:
    // ((253 + 239)/2, (219 + 138)/2, (199 + 98)/2) rounded = (246, 179, 149) = #f6b395
    const full = heatmapSvg(tensor([[-2, 2]]));
    expect(new Set(fills(full))).toEqual(new Set([RDBU_NEGATIVE, RDBU_POSITIVE]));
  });

  it("merges equal neighbours in a row into one rectangle, so a 28 × 28 image stays small", () => {
    const digit = Array.from({ length: 28 }, (_, i) =>
      Array.from({ length: 28 }, (_, j) => (i > 8 && i < 20 && j === 14 ? 1 : 0)),
    );
    const svg = heatmapSvg(digit, { scale: "greys" });
    expect(xmlProblem(svg)).toBeNull();
    // 11 rows of 3 runs (0…13, 14, 15…27) and 17 rows of 1 run
    expect(svg.match(/M[\d.]+ [\d.]+h/g)).toHaveLength(11 * 3 + 17);
    expect(svg).not.toContain('class="values"'); // values are not written in 15 px cells
  });

  it("stretches the cells of an elongated matrix so that its map is at least 120 px thick", () => {
    const svg = heatmapSvg(
      tensor(Array.from({ length: 3 }, (_, i) => Array.from({ length: 64 }, (_, j) => i - j / 32))),
    );
    const frame = svg.match(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="([\d.]+)" fill="none"/)!;
    expect(Number(frame[1])).toBeAllClose(420, { rtol: 0, atol: 0.5 });
    expect(Number(frame[2])).toBeAllClose(120, { rtol: 0, atol: 0.5 });
    expect(() => heatmapSvg([[1]], { cellSize: 0 })).toThrow(
      /^heatmapSvg: cellSize is 0; expected a positive number/,
    );
  });

  it("paints NaN cells grey and says so on the colour bar", () => {
    const svg = heatmapSvg([[1, Number.NaN, 3]]);
    expect(fills(svg)).toContain("#bdbdbd");
    expect(svg).toContain(">NaN</text>");
    expect(svg).toContain("1 not finite");
  });

  it("rejects what is not a non-empty 2-D matrix, naming itself and the shape", () => {
    expect(() => heatmapSvg(tensor([1, 2, 3]))).toThrow(
      /^heatmapSvg: the input has shape \[3\]; expected a non-empty 2-D tensor/,
    );
    expect(() => heatmapSvg([[1, 2], [3]])).toThrow(
      /^heatmapSvg: the input row 1 has 1 numbers, row 0 has 2/,
    );
    expect(() => heatmapSvg([] as never)).toThrow(/^heatmapSvg: the input is an array of length 0/);
    expect(() => heatmapSvg([[1, 2]], { rowLabels: ["a", "b"] })).toThrow(
      /^heatmapSvg: 2 rowLabels for 1 rows/,
    );
    expect(() => heatmapSvg([[1, 2]], { range: [1, 0] })).toThrow(/^heatmapSvg: range \[1,0\] is empty/);
  });
});

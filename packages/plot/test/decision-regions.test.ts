/** decisionRegionsSvg / decisionRegionsPanel: k classes, each way a classifier can answer, and bad input. */
import { Tensor, tensor } from "@tapegrad/autograd";
import {
  decisionRegionsPanel,
  decisionRegionsSvg,
  PALETTE,
  REGION_PALETTE,
  type RegionsLayer,
} from "@tapegrad/plot";
import { describe, expect, it } from "vitest";
import { countTags, xmlProblem } from "../../../test-support/svg.js";

// three well-separated blobs around these centres, four points each
const CENTRES = [
  [-2, 0],
  [2, 0],
  [0, 3],
];
const points = CENTRES.flatMap(([cx, cy]) => [
  [cx! - 0.3, cy!],
  [cx! + 0.3, cy!],
  [cx!, cy! - 0.3],
  [cx!, cy! + 0.3],
]);
const labels = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2];

/** The nearest centre's index, as class ids (the closed-form rule the regions must show). */
function nearest(x: number, y: number): number {
  const d = CENTRES.map(([cx, cy]) => (x - cx!) ** 2 + (y - cy!) ** 2);
  return d.indexOf(Math.min(...d));
}
const nearestIds = (grid: Tensor) =>
  Array.from({ length: grid.shape[0]! }, (_, i) => nearest(grid.data[2 * i]!, grid.data[2 * i + 1]!));

function regionsOf(panel: ReturnType<typeof decisionRegionsPanel>): RegionsLayer {
  return panel.layers.find((l) => l.kind === "regions") as RegionsLayer;
}

describe("decisionRegionsSvg with 3 classes (the examples' figure crashed here)", () => {
  it("draws three regions and three groups of points in the first three palette colours", () => {
    const svg = decisionRegionsSvg({ points, labels, predict: nearestIds, title: "three blobs" });
    expect(xmlProblem(svg)).toBeNull();
    for (let c = 0; c < 3; c++) {
      expect(svg).toMatch(new RegExp(`<(rect|path)[^>]*fill="${REGION_PALETTE[c]}"`));
      const group = svg.match(new RegExp(`<g fill="${PALETTE[c]}">(.*?)</g>`))?.[1] ?? "";
      expect(countTags(group, "circle")).toBe(4);
    }
    expect(svg).not.toContain(REGION_PALETTE[3]);
    for (const name of ["class 0", "class 1", "class 2", "three blobs", ">x1<", ">x2<"])
      expect(svg).toContain(name);
  });

  it("colours each cell by the class predicted at its centre", () => {
    const regions = regionsOf(decisionRegionsPanel({ points, labels, predict: nearestIds, h: 0.25 }));
    let checked = 0;
    for (let j = 0; j < regions.ny; j++) {
      for (let i = 0; i < regions.nx; i++) {
        expect(regions.classes[j * regions.nx + i]).toBe(
          nearest(regions.x0 + i * regions.h, regions.y0 + j * regions.h),
        );
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it("takes scores (n, k) and picks the largest, and the course's column layout with (k, n) scores", () => {
    const scores = (grid: Tensor) => {
      const n = grid.shape[0]!;
      const s = new Float64Array(n * 3);
      for (let i = 0; i < n; i++) s[i * 3 + nearest(grid.data[2 * i]!, grid.data[2 * i + 1]!)] = 1;
      return new Tensor(s, [n, 3]);
    };
    const byIds = regionsOf(decisionRegionsPanel({ points, labels, predict: nearestIds }));
    const byScores = regionsOf(decisionRegionsPanel({ points, labels, predict: scores }));
    expect(Array.from(byScores.classes)).toEqual(Array.from(byIds.classes));

    // the same data one point per column; predict receives (2, n) and answers (3, n)
    const columns = tensor([points.map((p) => p[0]!), points.map((p) => p[1]!)]);
    const scoresByColumn = (grid: Tensor) => {
      expect(grid.shape[0]).toBe(2);
      const n = grid.shape[1]!;
      const s = new Float64Array(3 * n);
      for (let i = 0; i < n; i++) s[nearest(grid.data[i]!, grid.data[n + i]!) * n + i] = 1;
      return new Tensor(s, [3, n]);
    };
    const byColumns = regionsOf(
      decisionRegionsPanel({
        points: columns,
        labels: tensor([labels]),
        layout: "columns",
        predict: scoresByColumn,
      }),
    );
    expect(Array.from(byColumns.classes)).toEqual(Array.from(byIds.classes));
  });
});

describe("decisionRegionsSvg, binary", () => {
  const two = [
    [-1, 0],
    [1, 0],
  ];
  it("reads n probabilities of class 1 as class 1 where ≥ 0.5", () => {
    // P(class 1) = sigmoid(4x): class 1 exactly where x ≥ 0
    const panel = decisionRegionsPanel({
      points: two,
      labels: [0, 1],
      h: 0.1,
      predict: (g) => Array.from({ length: g.shape[0]! }, (_, i) => 1 / (1 + Math.exp(-4 * g.data[2 * i]!))),
    });
    const r = regionsOf(panel);
    for (let i = 0; i < r.nx; i++) expect(r.classes[i]).toBe(r.x0 + i * r.h >= 0 ? 1 : 0);
    expect(panel.legend?.map((l) => l.color)).toEqual([PALETTE[0], PALETTE[1]]);
  });
});

describe("decisionRegionsSvg rejects bad input, naming itself", () => {
  const ok = { points, labels, predict: nearestIds };
  it.each([
    [{ ...ok, points: [[1, 2, 3]] }, /^decisionRegionsSvg: points has shape \[1, 3\]; expected \(m, 2\)/],
    [{ ...ok, labels: [0, 1] }, /^decisionRegionsSvg: labels holds 2 numbers for 12 points/],
    [
      { ...ok, labels: labels.map((l) => l + 0.5) },
      /^decisionRegionsSvg: labels\[0\] is 0.5; expected a class id/,
    ],
    [{ ...ok, points: points.map((p, i) => (i === 3 ? [Number.NaN, 0] : p)) }, /point 3 is \(NaN, 0\)/],
    [
      { ...ok, predict: () => [1, 2] },
      /^decisionRegionsSvg: predict returned shape \[2\] for \d+ grid points/,
    ],
    [
      { ...ok, predict: (g: Tensor) => new Float64Array(g.shape[0]!).fill(3.7) },
      /predict returned 3.7 for grid point 0/,
    ],
    [{ ...ok, predict: (g: Tensor) => new Float64Array(g.shape[0]!).fill(11) }, /12 classes but 10 colours/],
    [{ ...ok, predict: "no" }, /^decisionRegionsSvg: predict is the string "no"; expected a function/],
    [{ ...ok, h: -1 }, /^decisionRegionsSvg: h is -1; expected a positive grid step/],
  ])("case %# → %s", (options, message) => {
    expect(() => decisionRegionsSvg(options as never)).toThrow(message);
  });

  it("names decisionRegionsPanel when called as the panel", () => {
    expect(() => decisionRegionsPanel({ ...ok, labels: [0] })).toThrow(
      /^decisionRegionsPanel: labels holds 1/,
    );
  });
});

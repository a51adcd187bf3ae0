/** lineChartSvg: where values land (linear and log), gaps where a run diverged, several series, bad input. */
import { tensor } from "@tapegrad/autograd";
import { lineChartSvg, PALETTE } from "@tapegrad/plot";
import { describe, expect, it } from "vitest";
import { xmlProblem } from "../../../test-support/svg.js";

// The default 640 × 400 panel: plotting area from y = 26 (top) to 400 − 42 = 358 (bottom), x from 56 to 640 − 14.
const TOP = 26;
const BOTTOM = 358;
const LEFT = 56;
const RIGHT = 626;

/** The vertices of each `M…L…` run of the first line path. */
function runs(svg: string): [number, number][][] {
  const d = svg.match(/<path[^>]*class="line"[^>]*d="([^"]*)"/)![1]!;
  return d
    .split("M")
    .filter(Boolean)
    .map((run) => run.split("L").map((p) => p.split(" ").map(Number) as [number, number]));
}

describe("lineChartSvg", () => {
  it("maps values linearly: the range's ends to the frame's edges, its middle to the middle", () => {
    const svg = lineChartSvg({ series: { name: "cost", y: [1, 0.5, 0] }, y: [0, 1] });
    expect(xmlProblem(svg)).toBeNull();
    expect(runs(svg)).toEqual([
      [
        [LEFT, TOP],
        [(LEFT + RIGHT) / 2, (TOP + BOTTOM) / 2],
        [RIGHT, BOTTOM],
      ],
    ]);
  });

  it("on a log scale puts 1, 10, 100 at equal steps", () => {
    const svg = lineChartSvg({ series: { name: "cost", y: tensor([1, 10, 100]) }, logY: true, y: [1, 100] });
    expect(runs(svg)[0]!.map((p) => p[1])).toEqual([BOTTOM, (TOP + BOTTOM) / 2, TOP]);
    expect(svg).toMatch(/>10<\/text>/);
    expect(svg).toMatch(/>100<\/text>/);
  });

  it("leaves a gap at NaN and says in the legend where the series broke", () => {
    const svg = lineChartSvg({ series: { name: "diverged", y: [1, 2, Number.NaN, 3, 4] } });
    expect(xmlProblem(svg)).toBeNull();
    expect(runs(svg).map((r) => r.length)).toEqual([2, 2]);
    expect(svg).toContain("diverged (NaN at x = 2)");
  });

  it("draws a series that is all NaN as an empty frame instead of failing", () => {
    const svg = lineChartSvg({ series: { name: "broken", y: [Number.NaN, Number.NaN] } });
    expect(xmlProblem(svg)).toBeNull();
    expect(svg).toContain("broken (NaN at x = 0)");
  });

  it("gives each series its own colour, blue first, and a legend entry; markers for points", () => {
    const svg = lineChartSvg({
      series: [
        { name: "train", y: [3, 2, 1] },
        { name: "test", y: [3, 2.5, 2], dash: "6 3" },
        { name: "course", x: [0, 2], y: [3, 1], style: "points" },
      ],
      title: "two runs",
    });
    expect(xmlProblem(svg)).toBeNull();
    expect(svg).toMatch(new RegExp(`class="line"[^>]*stroke="${PALETTE[1]}"`));
    expect(svg).toMatch(new RegExp(`class="line"[^>]*stroke="${PALETTE[0]}"[^>]*stroke-dasharray="6 3"`));
    expect(svg).toMatch(new RegExp(`<g fill="${PALETTE[2]}"><circle`));
    for (const text of [">train<", ">test<", ">course<", ">two runs<", ">iteration<", ">cost<"]) {
      expect(svg).toContain(text);
    }
  });

  it("rejects bad input, naming itself", () => {
    expect(() => lineChartSvg({ series: [] })).toThrow(/^lineChartSvg: series is empty/);
    // a series without a name (here `label`, another library's word) is named, not a TypeError in the legend
    expect(() => lineChartSvg({ series: [{ label: "cost", y: [3, 2] } as never] })).toThrow(
      "lineChartSvg: series 0 has name undefined; expected { name, y } with a string name (its legend label)",
    );
    expect(() => lineChartSvg({ series: { name: "a", y: [] } })).toThrow(
      /^lineChartSvg: series "a" has no values/,
    );
    expect(() => lineChartSvg({ series: { name: "a", y: [1, 2], x: [0] } })).toThrow(
      /^lineChartSvg: series "a" has 1 x values and 2 y values/,
    );
    expect(() => lineChartSvg({ series: { name: "a", y: "1,2" as never } })).toThrow(
      /^lineChartSvg: series "a" y is the string "1,2"; expected a tensor or an array of numbers/,
    );
    expect(() => lineChartSvg({ series: { name: "a", y: [1, 2] }, y: [1, 1] })).toThrow(/empty range/);
  });
});

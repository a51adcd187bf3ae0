import { logTicks, niceTicks, type Panel, renderFigure } from "@tapegrad/plot";
import { describe, expect, it } from "vitest";
import { countTags, xmlProblem } from "../../../test-support/svg.js";

describe("niceTicks", () => {
  it("steps by 1, 2 or 5 × 10^k inside the range", () => {
    expect(niceTicks(0, 10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(-5.2, 5.1)).toEqual([-4, -2, 0, 2, 4]);
    expect(niceTicks(0, 0.7)).toEqual([0, 0.2, 0.4, 0.6]);
    expect(niceTicks(0, 0.35)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(1, 1)).toEqual([]);
  });
});

describe("renderFigure", () => {
  // a 4 × 2 grid of cells: row 0 = 0 0 1 1, row 1 = 1 1 1 0 (class 1 is the majority: background)
  const regions: Panel = {
    title: "t & <t>",
    x: [-0.5, 3.5],
    y: [-0.5, 1.5],
    layers: [
      {
        kind: "regions",
        x0: 0,
        y0: 0,
        h: 1,
        nx: 4,
        ny: 2,
        classes: [0, 0, 1, 1, 1, 1, 1, 0],
        colors: ["#aa0000", "#0000aa"],
      },
    ],
  };

  it("draws the majority class as one rectangle and each run of another class as one sub-path", () => {
    const svg = renderFigure([regions], { panelWidth: 466, panelHeight: 268 });
    expect(xmlProblem(svg)).toBeNull();
    expect(svg).toMatch(/<rect[^>]*fill="#0000aa"/);
    const d = svg.match(/<path fill="#aa0000" d="([^"]*)"/)?.[1] ?? "";
    // two runs: cells 0–1 of row 0 and cell 3 of row 1
    expect(d.match(/M/g)).toHaveLength(2);
    expect(svg).not.toMatch(/<path fill="#0000aa"/);
  });

  it("escapes text, writes a shared layer once and uses it from every panel", () => {
    const points: Panel = {
      title: "p",
      x: [0, 1],
      y: [0, 1],
      layers: [{ kind: "points", xs: [0.2, 0.8], ys: [0.5, 0.5], classes: [0, 1], colors: ["red", "blue"] }],
    };
    const svg = renderFigure([points, { ...points, title: "q" }, regions], { columns: 2, title: "fig" });
    expect(xmlProblem(svg)).toBeNull();
    expect(svg).toContain("t &amp; &lt;t&gt;");
    expect(countTags(svg, "circle")).toBe(2);
    expect(countTags(svg, "use")).toBe(3);
    expect(svg).toContain('width="840" height="832"'); // 2 columns × 2 rows of 420 × 400, plus the title
  });

  it("rejects an empty range or no panels, naming the panel", () => {
    expect(() => renderFigure([])).toThrow(/no panels/);
    expect(() => renderFigure([{ title: "flat", x: [1, 1], y: [0, 1], layers: [] }])).toThrow(
      /panel "flat" has an empty range/,
    );
  });
});

describe("logTicks", () => {
  it("puts ticks at powers of ten, or at 1, 2, 5 or every multiple when the range is short", () => {
    expect(logTicks(1e-4, 1)).toEqual([1e-4, 1e-3, 1e-2, 1e-1, 1]);
    expect(logTicks(0.05, 3)).toEqual([0.05, 0.1, 0.2, 0.5, 1, 2]);
    expect(logTicks(0.25, 0.95)).toEqual([0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    expect(logTicks(0, 1)).toEqual([]);
  });
});

describe("the SVG document", () => {
  it("is accessible: role img, a <title> and a <desc> the svg element points at", () => {
    const svg = renderFigure([{ title: "a < b", x: [0, 1], y: [0, 1], layers: [] }], {
      description: "d & e",
    });
    const labelled = svg.match(/aria-labelledby="([^"]+) ([^"]+)"/)!;
    expect(svg).toMatch(/^<svg [^>]*role="img"/);
    expect(svg).toContain(`<title id="${labelled[1]}">a &lt; b</title>`);
    expect(svg).toContain(`<desc id="${labelled[2]}">d &amp; e</desc>`);
  });

  it("gives two different figures different ids, so both can be inlined in one page", () => {
    const panel = (title: string): Panel => ({ title, x: [0, 1], y: [0, 1], layers: [] });
    const ids = (svg: string) => [...svg.matchAll(/id="([^"]+)"/g)].map((m) => m[1]);
    const a = ids(renderFigure([panel("a")]));
    const b = ids(renderFigure([panel("b")]));
    expect(a.filter((id) => b.includes(id))).toEqual([]);
    expect(renderFigure([panel("a")])).toBe(renderFigure([panel("a")])); // and the same figure, the same text
  });
});

describe("xmlProblem (the check the tests rely on) catches broken SVG", () => {
  it("accepts a good document and names each planted fault", () => {
    expect(xmlProblem('<svg><g><text x="1">a &amp; b</text></g><rect/></svg>')).toBeNull();
    expect(xmlProblem("<svg><g><text>a</g></text></svg>")).toMatch(/<\/g> closes <text>/);
    expect(xmlProblem("<svg><g></svg>")).toMatch(/closes <g>/);
    expect(xmlProblem("<svg><text>a & b</text></svg>")).toMatch(/unescaped &/);
    expect(xmlProblem('<svg><text a="x<y">a</text></svg>')).toMatch(/unescaped < or &/);
    expect(xmlProblem("<svg></svg><svg></svg>")).toMatch(/2 root elements/);
  });
});

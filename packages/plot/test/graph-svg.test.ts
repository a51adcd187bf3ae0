/** graphSvg and its layout: every op and shape of a known graph, names, verdict colours, and bad input. */
import { add, matmul, mul, sigmoid, sum, type Tensor, tanh, tapeGraph, tensor } from "@tapegrad/autograd";
import { graphSvg, VERDICT_COLORS } from "@tapegrad/plot";
import { describe, expect, it } from "vitest";
import { countTags, xmlProblem } from "../../../test-support/svg.js";
import { layoutDag } from "../src/graph-layout.js";

/** Z1 = W1·X + b1, A1 = tanh(Z1), J = Σ σ(2·A1): 4 leaves (W1, X, b1, the 2) and 6 ops. */
function smallNet() {
  const X = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  const W1 = tensor([[0.1, 0.2]], { requiresGrad: true });
  const b1 = tensor([[0.5]], { requiresGrad: true });
  const Z1 = add(matmul(W1, X), b1);
  const A1 = tanh(Z1);
  const J = sum(sigmoid(mul(A1, 2)));
  return { X, W1, b1, Z1, A1, J };
}

/** The `<g class="node …">` element of the box named `name`. */
function nodeNamed(svg: string, name: string): string {
  return svg.match(new RegExp(`<g class="node[^"]*"[^>]*data-name="${name}">.*?</g>`))?.[0] ?? "";
}

describe("graphSvg", () => {
  it("shows each op and each shape of a small known graph, one box per tensor, one arrow per edge", () => {
    const { J } = smallNet();
    const svg = graphSvg(J);
    expect(xmlProblem(svg)).toBeNull();
    for (const op of ["matmul", "add", "tanh", "mul", "sigmoid", "sum"]) {
      expect(svg).toMatch(new RegExp(`font-weight="bold" fill="#2b3a67">${op}</text>`));
    }
    for (const shape of ["[1, 2]", "[2, 3]", "[1, 1]", "[1, 3]", "[]"])
      expect(svg).toContain(`>${shape}</text>`);
    expect(svg.match(/<g class="node /g)).toHaveLength(10);
    expect(svg.match(/<g class="node value/g)).toHaveLength(6);
    expect(svg.match(/<g class="node param/g)).toHaveLength(2);
    expect(svg.match(/<g class="node constant/g)).toHaveLength(2);
    expect(svg).toContain(">2</text>"); // the wrapped number shows its value
    const edges = svg.match(/<g class="edges"[^>]*>(.*?)<\/g>/)![1]!;
    expect(countTags(edges, "path")).toBe(9); // matmul 2, add 2, tanh 1, mul 2, sigmoid 1, sum 1
    expect(svg).toMatch(/<title id="[^"]+">The tape behind a tensor of shape \[\]<\/title>/);
  });

  it("labels named values and colours verdicts: ok green, mismatch red, a gradient name colours its value", () => {
    const { X, W1, b1, Z1, A1, J } = smallNet();
    const svg = graphSvg(J, {
      names: { X, W1, b1, Z1, A1, J },
      verdicts: {
        dW1: "ok",
        dZ1: { ok: false, relativeDifference: 0.5, diagnosis: "g instead of g′" },
        b1: "ok",
      },
    });
    expect(xmlProblem(svg)).toBeNull();
    const w1 = nodeNamed(svg, "W1");
    expect(w1).toContain("verdict-ok");
    expect(w1).toContain(`stroke="${VERDICT_COLORS.ok.stroke}"`);
    expect(w1).toContain(`fill="${VERDICT_COLORS.ok.fill}"`);
    expect(w1).toContain("✓ dW1 ok");
    const z1 = nodeNamed(svg, "Z1");
    expect(z1).toContain("verdict-mismatch");
    expect(z1).toContain(`stroke="${VERDICT_COLORS.mismatch.stroke}"`);
    expect(z1).toContain("✗ dZ1 mismatch (5.0e-1)");
    expect(z1).toContain("(g instead of g′)"); // the diagnosis, in the tooltip
    expect(nodeNamed(svg, "A1")).not.toContain("verdict");
    expect(svg).toContain("Verdicts: mismatch at Z1.");
    expect(svg).toContain(">The tape behind J</text>");
  });

  it("draws top to bottom with direction TB: the output below its inputs", () => {
    const { W1, J } = smallNet();
    const svg = graphSvg(J, { names: { W1, J }, direction: "TB" });
    expect(xmlProblem(svg)).toBeNull();
    const yOf = (name: string) => Number(nodeNamed(svg, name).match(/<rect x="[\d.-]+" y="([\d.-]+)"/)![1]);
    expect(yOf("J")).toBeGreaterThan(yOf("W1") + 100);
  });

  it("leaves out unnamed constants with hideConstants", () => {
    const { J } = smallNet();
    const svg = graphSvg(J, { hideConstants: true });
    expect(svg.match(/<g class="node /g)).toHaveLength(8);
    expect(svg).not.toContain('class="node constant');
  });

  it("rejects bad input, naming itself", () => {
    const { J, W1 } = smallNet();
    const other = tensor([1], { requiresGrad: true });
    expect(() => graphSvg([1] as never)).toThrow(/^graphSvg: expected a Tensor, got an array of length 1/);
    expect(() => graphSvg(J, { names: { W: other } })).toThrow(
      /^graphSvg: names.W \(shape \[1\]\) is not in the graph of y/,
    );
    expect(() => graphSvg(J, { names: { W1: [1] as never } })).toThrow(/^graphSvg: names.W1 is an array/);
    expect(() => graphSvg(J, { names: { W1 }, verdicts: { dW2: "ok" } })).toThrow(
      /^graphSvg: verdict "dW2" matches no named value \(names: W1\)/,
    );
    expect(() => graphSvg(J, { names: { W1 }, verdicts: { W1: "fine" as never } })).toThrow(
      /^graphSvg: verdicts.W1 is the string "fine"; expected "ok", "mismatch" or \{ ok: boolean \}/,
    );
    expect(() => graphSvg(J, { direction: "up" as never })).toThrow(
      /^graphSvg: direction is the string "up"; expected "LR" or "TB"/,
    );
    expect(() => graphSvg(J, { maxNodes: 5 })).toThrow(
      /^graphSvg: the graph has 10 boxes; expected at most 5/,
    );
  });
});

describe("layoutDag", () => {
  it("puts every input in an earlier column, leaves just before their first consumer, and no boxes on top of each other", () => {
    let y: Tensor = tensor([[1, 2]], { requiresGrad: true });
    const late = tensor([[3, 4]], { requiresGrad: true });
    for (let i = 0; i < 5; i++) y = tanh(y);
    y = add(y, late); // a leaf used only at the end
    const g = tapeGraph(y);
    const boxes = g.nodes.map((n) => ({ width: 60, height: 30, inputs: n.inputs }));
    const layout = layoutDag(boxes);
    const lateId = g.nodes.find((n) => n.tensor === late)!.id;
    for (const n of g.nodes)
      for (const i of n.inputs) expect(layout.layer[i]).toBeLessThan(layout.layer[n.id]!);
    expect(layout.layer[lateId]).toBe(layout.layer[g.output]! - 1);
    for (let a = 0; a < boxes.length; a++) {
      for (let b = a + 1; b < boxes.length; b++) {
        if (layout.layer[a] !== layout.layer[b]) continue;
        expect(Math.abs(layout.y[a]! - layout.y[b]!)).toBeGreaterThanOrEqual(30);
      }
    }
    // edges run left to right, from the input's column to the consumer's
    for (const e of layout.edges) expect(e.points[0]!.x).toBeLessThan(e.points.at(-1)!.x);
  });

  it("with direction TB stacks the layers top to bottom, boxes of a layer side by side", () => {
    const boxes = [
      { width: 80, height: 20, inputs: [] },
      { width: 60, height: 20, inputs: [] },
      { width: 50, height: 30, inputs: [0, 1] },
    ];
    const layout = layoutDag(boxes, "TB");
    expect(layout.y[0]).toBe(layout.y[1]);
    expect(layout.y[2]).toBeGreaterThan(layout.y[0]! + 20);
    expect(Math.abs(layout.x[0]! - layout.x[1]!)).toBeGreaterThanOrEqual((80 + 60) / 2);
    for (const e of layout.edges) expect(e.points[0]!.y).toBeLessThan(e.points.at(-1)!.y);
  });

  it("routes an edge that skips columns through one point per skipped column", () => {
    // 0 → 1 → 2 → 3 and 0 → 3 (skips two columns)
    const layout = layoutDag([
      { width: 10, height: 10, inputs: [] },
      { width: 10, height: 10, inputs: [0] },
      { width: 10, height: 10, inputs: [1] },
      { width: 10, height: 10, inputs: [2, 0] },
    ]);
    expect(layout.edges.find((e) => e.from === 0 && e.to === 3)!.points).toHaveLength(4);
    expect(layout.layer).toEqual([0, 1, 2, 3]);
  });
});

/**
 * @file graphSvg: a picture of the tape behind a tensor, as micrograd's `draw_dot` draws its graph — one
 * box per tensor (the op that made it, its name if given, its shape), edges from inputs to consumers,
 * parameters and constants told apart, and each named value optionally coloured by a verdict of
 * `checkBackprop` or `checkDerivation`.
 */
import { formatShape, type TapeGraphNode, Tensor, tapeGraph } from "@tapegrad/autograd";
import { type LayoutDirection, layoutDag } from "./graph-layout.js";
import { describeValue } from "./input.js";
import { VERDICT_COLORS } from "./palette.js";
import { escapeXml, FONT, formatNumber, ID, MONO, px, svgDocument } from "./svg.js";

/** A verdict on a value: "ok"/"mismatch", or a check's result such as `checkBackprop(...).equations.dW1`. */
export type Verdict =
  | "ok"
  | "mismatch"
  | { ok: boolean; relativeDifference?: number; diagnosis?: string | null };

/** Options of `graphSvg`. */
export interface GraphSvgOptions {
  /** Title above the graph (default "The tape behind <name of y, or its shape>"). */
  title?: string;
  /** Names of values, shown in their boxes: `{ X, W1, b1, Z1, A1, … }`. Each must be in the graph. */
  names?: Record<string, Tensor>;
  /**
   * Verdicts by name. A key names a value of `names`, or its gradient: `dW1` colours `W1` (the course's
   * equation names), so `checkBackprop(...).equations` can be passed as it is.
   */
  verdicts?: Record<string, Verdict>;
  /** Leave out leaves that do not require grad and have no name (wrapped numbers such as the 1 of 1 − A2). */
  hideConstants?: boolean;
  /** "LR" (default): layers left to right, as micrograd's `draw_dot`; "TB": top to bottom, narrower. */
  direction?: LayoutDirection;
  /** Refuse graphs larger than this many boxes (default 400: a bigger picture cannot be read). */
  maxNodes?: number;
}

const CHAR = 6.7; // width of a character of the 11 px monospace font
const LINE = 14;
const PAD = 8;
const COLORS = {
  op: { fill: "#e8eefc", stroke: "#5b6fa8" },
  value: { fill: "#ffffff", stroke: "#5b6fa8" },
  param: { fill: "#fff4c2", stroke: "#9a7b00" },
  constant: { fill: "#f2f2f2", stroke: "#8a8a8a" },
};

interface Box {
  node: TapeGraphNode;
  name: string | null;
  verdict: { key: string; ok: boolean; detail: string; diagnosis: string | null } | null;
  opWidth: number;
  lines: string[];
  width: number;
  height: number;
}

/**
 * Draw the tape behind `y` (see `tapeGraph`) as an SVG document, laid out in layers left to right (or top
 * to bottom with `direction: "TB"`): leaves just before the ops that read them, `y` last. An op's box has two cells — the op and the value
 * (name, shape) — as micrograd's; parameters (leaves that require grad) are yellow, constants grey and
 * dashed, the output has a thick border. A value with a verdict gets a green (ok) or red (mismatch) border,
 * fill and a line saying so, with the relative difference when the verdict carries one.
 * @returns the SVG text; each box has a `<title>` tooltip (op, inputs, shape, diagnosis).
 * @throws Error starting with `graphSvg:` if `y` is not a Tensor, a name is not a Tensor of the graph, a
 * verdict matches no named value, or the graph has more than `maxNodes` boxes.
 */
export function graphSvg(y: Tensor, options: GraphSvgOptions = {}): string {
  const fn = "graphSvg";
  if (!(y instanceof Tensor)) throw new Error(`${fn}: expected a Tensor, got ${describeValue(y)}`);
  const graph = tapeGraph(y);
  const nameOf = new Map<Tensor, string>();
  for (const [name, t] of Object.entries(options.names ?? {})) {
    if (!(t instanceof Tensor))
      throw new Error(`${fn}: names.${name} is ${describeValue(t)}; expected a Tensor`);
    if (!graph.nodes.some((n) => n.tensor === t)) {
      throw new Error(
        `${fn}: names.${name} (shape ${formatShape(t.shape)}) is not in the graph of y; expected a tensor y was computed from`,
      );
    }
    nameOf.set(t, name);
  }
  const verdictOf = new Map<string, Box["verdict"]>();
  const names = new Set(nameOf.values());
  for (const [key, v] of Object.entries(options.verdicts ?? {})) {
    const target = names.has(key)
      ? key
      : key.startsWith("d") && names.has(key.slice(1))
        ? key.slice(1)
        : null;
    if (target === null) {
      throw new Error(
        `${fn}: verdict "${key}" matches no named value (names: ${[...names].join(", ") || "none"}); expected a key of names, or d + a key`,
      );
    }
    verdictOf.set(target, readVerdict(fn, key, v));
  }

  const keep = graph.nodes.filter(
    (n) =>
      !(
        options.hideConstants &&
        n.isLeaf &&
        !n.requiresGrad &&
        !nameOf.has(n.tensor) &&
        n.id !== graph.output
      ),
  );
  const maxNodes = options.maxNodes ?? 400;
  if (keep.length > maxNodes) {
    throw new Error(
      `${fn}: the graph has ${keep.length} boxes; expected at most ${maxNodes} (pass maxNodes to draw it anyway, or draw a smaller piece)`,
    );
  }
  const index = new Map(keep.map((n, i) => [n.id, i]));
  const boxes: Box[] = keep.map((node) => {
    const name = nameOf.get(node.tensor) ?? null;
    const verdict = name === null ? null : (verdictOf.get(name) ?? null);
    const lines: string[] = [];
    if (name !== null) lines.push(name);
    lines.push(formatShape(node.shape));
    if (node.isLeaf && !node.requiresGrad && node.tensor.size === 1 && name === null) {
      lines[lines.length - 1] = formatNumber(node.tensor.data[0]!, 4); // a wrapped number: show its value
    }
    if (verdict !== null) lines.push(`${verdict.ok ? "✓" : "✗"} ${verdict.key} ${verdict.detail}`);
    const opWidth = node.op === null ? 0 : node.op.length * CHAR + 2 * PAD;
    const width = Math.ceil(opWidth + Math.max(...lines.map((l) => l.length)) * CHAR + 2 * PAD);
    return { node, name, verdict, opWidth, lines, width, height: lines.length * LINE + 10 };
  });
  const direction = options.direction ?? "LR";
  if (direction !== "LR" && direction !== "TB") {
    throw new Error(`${fn}: direction is ${describeValue(direction)}; expected "LR" or "TB"`);
  }
  const layout = layoutDag(
    boxes.map((b) => ({
      width: b.width,
      height: b.height,
      inputs: b.node.inputs.filter((i) => index.has(i)).map((i) => index.get(i)!),
    })),
    direction,
  );

  const margin = 20;
  const titleHeight = 34;
  const hasVerdicts = verdictOf.size > 0;
  const legendHeight = 28;
  const yName = nameOf.get(y);
  const title = options.title ?? `The tape behind ${yName ?? `a tensor of shape ${formatShape(y.shape)}`}`;
  // wide enough for the graph, the legend and the title (15 px bold: about 8.5 px a character)
  const width = Math.ceil(Math.max(layout.width + 2 * margin, 520, title.length * 8.5 + 2 * margin));
  const height = Math.ceil(layout.height + 2 * margin + titleHeight + legendHeight);
  const ox = (width - layout.width) / 2;
  const oy = margin + titleHeight;
  const X = (v: number) => ox + v;
  const Y = (v: number) => oy + v;

  const edges = layout.edges.map((e) => {
    const pts = e.points.map((p) => ({ x: X(p.x), y: Y(p.y) }));
    const last = pts[pts.length - 1]!;
    // leave the source on its far side, reach the target on its near side, room for the arrowhead
    if (direction === "LR") {
      pts[0]!.x += boxes[e.from]!.width / 2;
      last.x -= boxes[e.to]!.width / 2 + 2;
    } else {
      pts[0]!.y += boxes[e.from]!.height / 2;
      last.y -= boxes[e.to]!.height / 2 + 2;
    }
    let d = `M${px(pts[0]!.x)} ${px(pts[0]!.y)}`;
    for (let k = 1; k < pts.length; k++) {
      const a = pts[k - 1]!;
      const b = pts[k]!;
      // a cubic whose tangents run along the layers' direction at both ends
      const cx = direction === "LR" ? (b.x - a.x) / 2 : 0;
      const cy = direction === "LR" ? 0 : (b.y - a.y) / 2;
      d += `C${px(a.x + cx)} ${px(a.y + cy)} ${px(b.x - cx)} ${px(b.y - cy)} ${px(b.x)} ${px(b.y)}`;
    }
    return `<path d="${d}"/>`;
  });

  const nodes = boxes.map((b, i) =>
    renderBox(b, X(layout.x[i]!), Y(layout.y[i]!), b.node.id === graph.output),
  );
  const ops = new Set(keep.filter((n) => n.op !== null).map((n) => n.op));
  const mismatches = boxes.filter((b) => b.verdict !== null && !b.verdict.ok).map((b) => b.name);
  const desc =
    `A graph of ${keep.length} values: ${keep.filter((n) => n.op !== null).length} results of the ops ${[...ops].join(", ")}, ` +
    `and ${keep.filter((n) => n.isLeaf).length} leaves.` +
    (hasVerdicts
      ? ` Verdicts: ${mismatches.length === 0 ? "all ok" : `mismatch at ${mismatches.join(", ")}`}.`
      : "");
  const body = [
    `<defs><marker id="${ID}arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#666"/></marker></defs>`,
    `<text ${FONT} font-size="15" font-weight="bold" x="${width / 2}" y="26" text-anchor="middle">${escapeXml(title)}</text>`,
    `<g class="edges" fill="none" stroke="#666" stroke-width="1.2" marker-end="url(#${ID}arrow)">${edges.join("")}</g>`,
    `<g class="nodes" ${MONO} font-size="11">${nodes.join("\n")}</g>`,
    legend(width, height - legendHeight + 4, hasVerdicts),
  ];
  return svgDocument(width, height, title, desc, body.join("\n"));
}

function readVerdict(fn: string, key: string, v: Verdict): NonNullable<Box["verdict"]> {
  if (v === "ok" || v === "mismatch") return { key, ok: v === "ok", detail: v, diagnosis: null };
  if (v !== null && typeof v === "object" && typeof v.ok === "boolean") {
    const rd = v.relativeDifference;
    const detail = `${v.ok ? "ok" : "mismatch"}${typeof rd === "number" ? ` (${rd === 0 ? "0" : rd.toExponential(1)})` : ""}`;
    return { key, ok: v.ok, detail, diagnosis: v.diagnosis ?? null };
  }
  throw new Error(
    `${fn}: verdicts.${key} is ${describeValue(v)}; expected "ok", "mismatch" or { ok: boolean }`,
  );
}

function renderBox(b: Box, cx: number, cy: number, isOutput: boolean): string {
  const { node } = b;
  const left = cx - b.width / 2;
  const top = cy - b.height / 2;
  const kind = node.op !== null ? "value" : node.requiresGrad ? "param" : "constant";
  let { fill, stroke } = COLORS[kind];
  if (b.verdict !== null) ({ fill, stroke } = VERDICT_COLORS[b.verdict.ok ? "ok" : "mismatch"]);
  const strokeWidth = b.verdict !== null || isOutput ? 2.5 : 1.2;
  const dash = kind === "constant" ? ' stroke-dasharray="4 2"' : "";
  const what =
    node.op === null
      ? node.requiresGrad
        ? "parameter (leaf, requires grad)"
        : "constant (leaf)"
      : `${node.op}(${node.inputs.map((i) => `#${i}`).join(", ")})`;
  const tip = `#${node.id}${b.name === null ? "" : ` ${b.name}`} = ${what}, shape ${formatShape(node.shape)}${b.verdict === null ? "" : `; ${b.verdict.key}: ${b.verdict.detail}${b.verdict.diagnosis ? ` (${b.verdict.diagnosis})` : ""}`}`;
  const out = [
    `<g class="node ${kind}${b.verdict === null ? "" : ` verdict-${b.verdict.ok ? "ok" : "mismatch"}`}" data-id="${node.id}"${b.name === null ? "" : ` data-name="${escapeXml(b.name)}"`}><title>${escapeXml(tip)}</title>`,
    `<rect x="${px(left)}" y="${px(top)}" width="${b.width}" height="${b.height}" rx="4" fill="${fill}" stroke="${stroke}" stroke-width="${strokeWidth}"${dash}/>`,
  ];
  if (node.op !== null) {
    out.push(
      `<path d="M${px(left + 4)} ${px(top)}H${px(left + b.opWidth)}V${px(top + b.height)}H${px(left + 4)}a4 4 0 0 1 -4 -4V${px(top + 4)}a4 4 0 0 1 4 -4z" fill="${COLORS.op.fill}" stroke="none"/>`,
      `<path d="M${px(left + b.opWidth)} ${px(top)}v${b.height}" stroke="${stroke}" stroke-width="1"/>`,
      `<text x="${px(left + b.opWidth / 2)}" y="${px(cy + 4)}" text-anchor="middle" font-weight="bold" fill="#2b3a67">${escapeXml(node.op)}</text>`,
    );
  }
  const textX = left + b.opWidth + (b.width - b.opWidth) / 2;
  const first = cy - ((b.lines.length - 1) * LINE) / 2 + 4;
  b.lines.forEach((line, k) => {
    const isName = k === 0 && b.name !== null;
    const isVerdict = b.verdict !== null && k === b.lines.length - 1;
    const color = isVerdict
      ? VERDICT_COLORS[b.verdict!.ok ? "ok" : "mismatch"].stroke
      : isName
        ? "#111"
        : "#444";
    out.push(
      `<text x="${px(textX)}" y="${px(first + k * LINE)}" text-anchor="middle" fill="${color}"${isName || isVerdict ? ' font-weight="bold"' : ""}>${escapeXml(line)}</text>`,
    );
  });
  out.push("</g>");
  return out.join("");
}

function legend(width: number, y: number, verdicts: boolean): string {
  const items: [string, string, string, string][] = [
    ["op │ value", COLORS.op.fill, COLORS.op.stroke, ""],
    ["parameter", COLORS.param.fill, COLORS.param.stroke, ""],
    ["constant", COLORS.constant.fill, COLORS.constant.stroke, ' stroke-dasharray="3 2"'],
  ];
  if (verdicts) {
    items.push(["ok", VERDICT_COLORS.ok.fill, VERDICT_COLORS.ok.stroke, ""]);
    items.push(["mismatch", VERDICT_COLORS.mismatch.fill, VERDICT_COLORS.mismatch.stroke, ""]);
  }
  const widths = items.map(([label]) => 24 + label.length * 6.5 + 14);
  let x = (width - widths.reduce((s, w) => s + w, 0)) / 2;
  const parts = items.map(([label, fill, stroke, dash], k) => {
    const part = `<rect x="${px(x)}" y="${y}" width="16" height="12" rx="2" fill="${fill}" stroke="${stroke}" stroke-width="1.2"${dash}/><text x="${px(x + 22)}" y="${y + 10}">${label}</text>`;
    x += widths[k]!;
    return part;
  });
  return `<g class="legend" ${FONT} font-size="11" fill="#333">${parts.join("")}</g>`;
}

/**
 * @file A layered (Sugiyama-style) layout of a small DAG, drawn left to right like micrograd's `draw_dot`
 * through graphviz, but computed here: longest-path layers, dummy points on long edges, barycenter
 * ordering to reduce crossings, and vertical positions pulled towards neighbours without overlaps.
 */

/** A box to place: its size in pixels and its inputs (ids of earlier boxes). */
export interface LayoutBox {
  width: number;
  height: number;
  inputs: readonly number[];
}

/** Which way the layers run: left to right (graphviz's rankdir LR, micrograd's) or top to bottom. */
export type LayoutDirection = "LR" | "TB";

/** Where each box goes (centres) and the route of each edge. */
export interface Layout {
  /** Centre of each box, in pixels, margins excluded (the smallest x and y edges are 0). */
  x: number[];
  y: number[];
  /** The layer (column, or row for "TB") of each box, 0 = leftmost (topmost). */
  layer: number[];
  /** One route per distinct edge (from → to), through the centres of its dummy points. */
  edges: { from: number; to: number; points: { x: number; y: number }[] }[];
  width: number;
  height: number;
}

const LAYER_GAP = { LR: 46, TB: 34 };
const NODE_GAP = 16;

/**
 * Lay out boxes given in topological order (every input id smaller than its consumer's).
 * Boxes with inputs sit one layer after their latest input (longest path from the sources); boxes without
 * inputs sit just before their first consumer, so a parameter appears next to the op that reads it.
 */
export function layoutDag(boxes: readonly LayoutBox[], direction: LayoutDirection = "LR"): Layout {
  const n = boxes.length;
  const consumers: number[][] = boxes.map(() => []);
  const edgeSet = new Set<string>();
  const edgeList: [number, number][] = [];
  boxes.forEach((b, v) => {
    for (const u of b.inputs) {
      const key = `${u},${v}`;
      if (edgeSet.has(key)) continue;
      edgeSet.add(key);
      edgeList.push([u, v]);
      consumers[u]!.push(v);
    }
  });

  // 1. layers
  const layer = new Array<number>(n).fill(0);
  for (let v = 0; v < n; v++) {
    const ins = boxes[v]!.inputs;
    if (ins.length > 0) layer[v] = 1 + Math.max(...ins.map((u) => layer[u]!));
  }
  for (let v = 0; v < n; v++) {
    if (boxes[v]!.inputs.length === 0 && consumers[v]!.length > 0) {
      layer[v] = Math.min(...consumers[v]!.map((c) => layer[c]!)) - 1;
    }
  }
  const base = Math.min(...layer);
  for (let v = 0; v < n; v++) layer[v]! -= base;
  const layerCount = Math.max(...layer) + 1;

  // 2. dummy points on edges spanning several layers: vertex ids n, n+1, … of size 0
  // the algorithm runs in (along the layers, across them) = "width", "height" for LR; swapped for TB
  const lr = direction === "LR";
  const width = boxes.map((b) => (lr ? b.width : b.height));
  const height = boxes.map((b) => (lr ? b.height : b.width));
  const preds: number[][] = boxes.map(() => []);
  const succs: number[][] = boxes.map(() => []);
  const chains: number[][] = [];
  for (const [u, v] of edgeList) {
    const chain = [u];
    for (let l = layer[u]! + 1; l < layer[v]!; l++) {
      const d = layer.length;
      layer.push(l);
      width.push(0);
      height.push(0);
      preds.push([]);
      succs.push([]);
      chain.push(d);
    }
    chain.push(v);
    for (let k = 1; k < chain.length; k++) {
      succs[chain[k - 1]!]!.push(chain[k]!);
      preds[chain[k]!]!.push(chain[k - 1]!);
    }
    chains.push(chain);
  }
  const total = layer.length;

  // 3. order within layers: start from creation order, then barycenter sweeps, keeping the best
  const layers: number[][] = Array.from({ length: layerCount }, () => []);
  for (let v = 0; v < total; v++) layers[layer[v]!]!.push(v);
  const pos = new Array<number>(total).fill(0);
  const setPositions = () => {
    for (const l of layers)
      l.forEach((v, i) => {
        pos[v] = i;
      });
  };
  setPositions();
  let best = layers.map((l) => [...l]);
  let bestCrossings = crossings(layers, succs, pos);
  for (let iter = 0; iter < 12 && bestCrossings > 0; iter++) {
    const down = iter % 2 === 0;
    for (let k = 1; k < layerCount; k++) {
      const l = down ? k : layerCount - 1 - k;
      const side = down ? preds : succs;
      const bary = (v: number) => {
        const nb = side[v]!;
        return nb.length === 0 ? pos[v]! : nb.reduce((s, u) => s + pos[u]!, 0) / nb.length;
      };
      const keyed = layers[l]!.map((v) => [bary(v), pos[v]!, v] as const);
      keyed.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      layers[l] = keyed.map((e) => e[2]);
      layers[l]!.forEach((v, i) => {
        pos[v] = i;
      });
    }
    const c = crossings(layers, succs, pos);
    if (c < bestCrossings) {
      bestCrossings = c;
      best = layers.map((l) => [...l]);
    }
  }
  for (let k = 0; k < layerCount; k++) layers[k] = best[k]!;
  setPositions();

  // 4. coordinates: columns as wide as their widest box; rows pulled towards the neighbours' centres
  const colWidth = layers.map((l) => Math.max(0, ...l.map((v) => width[v]!)));
  const colX: number[] = [];
  let x = 0;
  for (let k = 0; k < layerCount; k++) {
    colX.push(x + colWidth[k]! / 2);
    x += colWidth[k]! + LAYER_GAP[direction];
  }
  const yc = new Array<number>(total).fill(0);
  for (const l of layers) {
    let y = 0;
    for (const v of l) {
      yc[v] = y + height[v]! / 2;
      y += height[v]! + NODE_GAP;
    }
  }
  const gapOf = (v: number) => (height[v]! === 0 ? NODE_GAP / 2 : NODE_GAP);
  for (let iter = 0; iter < 16; iter++) {
    const down = iter % 2 === 0;
    for (let k = 0; k < layerCount; k++) {
      const l = layers[down ? k : layerCount - 1 - k]!;
      const desired = l.map((v) => {
        const nb = [...preds[v]!, ...succs[v]!];
        return nb.length === 0 ? yc[v]! : nb.reduce((s, u) => s + yc[u]!, 0) / nb.length;
      });
      placeInOrder(l, desired, height, gapOf, yc);
    }
  }
  const top = Math.min(...Array.from({ length: total }, (_, v) => yc[v]! - height[v]! / 2));
  for (let v = 0; v < total; v++) yc[v]! -= top;
  const bottom = Math.max(...Array.from({ length: total }, (_, v) => yc[v]! + height[v]! / 2));
  const xs = Array.from({ length: total }, (_, v) => colX[layer[v]!]!);

  const along = Math.max(0, x - LAYER_GAP[direction]);
  return {
    x: (lr ? xs : yc).slice(0, n),
    y: (lr ? yc : xs).slice(0, n),
    layer: layer.slice(0, n),
    edges: chains.map((chain) => ({
      from: chain[0]!,
      to: chain[chain.length - 1]!,
      points: chain.map((v) => (lr ? { x: xs[v]!, y: yc[v]! } : { x: yc[v]!, y: xs[v]! })),
    })),
    width: lr ? along : bottom,
    height: lr ? bottom : along,
  };
}

/**
 * Centres of a layer's boxes as close to `desired` as the order allows: each box at least its half-height
 * plus a gap below the previous one. Blocks of boxes pushed together move as one, to their mean desire.
 */
function placeInOrder(
  l: readonly number[],
  desired: readonly number[],
  height: readonly number[],
  gapOf: (v: number) => number,
  yc: number[],
): void {
  // blocks: [first index, last index, offset of each member from the block's first centre]
  const blocks: { start: number; end: number; y: number }[] = [];
  const offset: number[] = [0];
  for (let i = 1; i < l.length; i++) {
    const a = l[i - 1]!;
    const b = l[i]!;
    offset.push(offset[i - 1]! + height[a]! / 2 + Math.max(gapOf(a), gapOf(b)) + height[b]! / 2);
  }
  for (let i = 0; i < l.length; i++) {
    blocks.push({ start: i, end: i, y: desired[i]! - offset[i]! });
    // merge with the previous block while they overlap (the previous block's start must stay above)
    while (blocks.length > 1) {
      const cur = blocks[blocks.length - 1]!;
      const prev = blocks[blocks.length - 2]!;
      if (prev.y < cur.y) break;
      const size = (b: { start: number; end: number }) => b.end - b.start + 1;
      const y = (prev.y * size(prev) + cur.y * size(cur)) / (size(prev) + size(cur));
      blocks.splice(blocks.length - 2, 2, { start: prev.start, end: cur.end, y });
    }
  }
  for (const b of blocks) for (let i = b.start; i <= b.end; i++) yc[l[i]!] = b.y + offset[i]!;
}

/** Edge crossings between consecutive layers (pairs of edges whose ends are in opposite orders). */
function crossings(layers: readonly number[][], succs: readonly number[][], pos: readonly number[]): number {
  let count = 0;
  for (const l of layers) {
    const edges: [number, number][] = [];
    for (const u of l) for (const v of succs[u]!) edges.push([pos[u]!, pos[v]!]);
    for (let i = 0; i < edges.length; i++) {
      for (let j = i + 1; j < edges.length; j++) {
        const [a, b] = edges[i]!;
        const [c, d] = edges[j]!;
        if ((a - c) * (b - d) < 0) count++;
      }
    }
  }
  return count;
}

/**
 * @file tapeGraph: the recorded computation behind a tensor as plain data — one node per tensor (ops and
 * leaves), in topological order — for pictures (`@tapegrad/plot`'s `graphSvg`), debugging and teaching.
 * Read-only: it walks the nodes that hang off the tensors and changes nothing.
 */

import { Tensor } from "./tensor.js";
import { describeValue } from "./validate.js";

/** One tensor of a tape graph: an op's output, or a leaf (a parameter, an input or a constant). */
export interface TapeGraphNode {
  /** Position in `TapeGraph.nodes` (0, 1, …); every input's id is smaller than its consumer's. */
  readonly id: number;
  /** The op that produced the tensor (the gradient rule's name: `matmul`, `tanh`, `custom op "swish"`), null for a leaf. */
  readonly op: string | null;
  readonly shape: readonly number[];
  /** Ids of the op's inputs, in argument order (an input used twice appears twice); [] for a leaf. */
  readonly inputs: readonly number[];
  /** True for a tensor no recorded op produced (`tensor.isLeaf`). */
  readonly isLeaf: boolean;
  /** `tensor.requiresGrad`: true for parameters and for every recorded op's output. */
  readonly requiresGrad: boolean;
  /** The tensor itself, to match nodes with names the caller gives them. */
  readonly tensor: Tensor;
}

/** The result of `tapeGraph`. */
export interface TapeGraph {
  /** Every tensor reachable from the output through recorded ops, inputs before the ops that use them. */
  readonly nodes: readonly TapeGraphNode[];
  /** Id of the tensor the graph was taken from (always the last node). */
  readonly output: number;
}

/**
 * The tape behind `y`: every tensor `y` was computed from through recorded ops, each with the op that made
 * it and the ids of its inputs. Leaves include tensors that do not require grad (inputs such as X, and the
 * scalars wrapped from plain numbers as in `sub(1, A2)`), so the graph shows everything an op read.
 * A tensor computed with grad mode off, or from inputs none of which required grad, is a leaf: the tape
 * holds nothing behind it. The walk is iterative (a chain of 100 000 ops does not overflow the stack).
 * @param y any tensor; a leaf gives a graph of one node.
 * @returns `{ nodes, output }` with nodes in topological order (inputs first) and `output === nodes.length − 1`.
 * @throws Error if `y` is not a Tensor.
 */
export function tapeGraph(y: Tensor): TapeGraph {
  if (!(y instanceof Tensor)) {
    throw new Error(`tapeGraph: expected a Tensor, got ${describeValue(y)}`);
  }
  const ids = new Map<Tensor, number>();
  const nodes: TapeGraphNode[] = [];
  // Iterative post-order: a tensor is numbered after all of its inputs. `expanded` marks tensors whose
  // inputs have been pushed; they are numbered when popped the second time.
  const stack: Tensor[] = [y];
  const expanded = new Set<Tensor>();
  while (stack.length > 0) {
    const t = stack[stack.length - 1]!;
    if (ids.has(t)) {
      stack.pop();
      continue;
    }
    const inputs = t._node?.inputs ?? [];
    if (!expanded.has(t)) {
      expanded.add(t);
      // pushed in reverse so that the first argument is numbered first
      for (let i = inputs.length - 1; i >= 0; i--) if (!ids.has(inputs[i]!)) stack.push(inputs[i]!);
      continue;
    }
    stack.pop();
    const id = nodes.length;
    ids.set(t, id);
    nodes.push({
      id,
      op: t._node === null ? null : t._node.rule.name,
      shape: [...t.shape],
      inputs: inputs.map((x) => ids.get(x)!),
      isLeaf: t._node === null,
      requiresGrad: t.requiresGrad,
      tensor: t,
    });
  }
  return { nodes, output: nodes.length - 1 };
}

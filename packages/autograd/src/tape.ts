/**
 * @file The tape: every differentiable op that runs with grad mode on and an input requiring grad
 * records a node; `backward` walks the recorded nodes reachable from the output in reverse tape order,
 * applying each op's vector-Jacobian product and accumulating contributions.
 *
 * Nodes hang off the tensors they produced (not off a global list), so a graph nobody references is
 * garbage-collected: no tidy/dispose. Each node's `id` is its position on the tape; visiting reachable
 * nodes in decreasing id is a reverse topological order, computed without recursion.
 */
import { anomalyBackwardCheck, anomalyVjp, isAnomalyEnabled } from "./anomaly.js";
import { withGradMode } from "./grad-mode.js";
import { formatShape, shapesEqual } from "./shape.js";
import type { Tensor } from "./tensor.js";

/** The gradient rule of an op: given the cotangent `g` of its output, one gradient per input (null = none). */
export interface VjpRule<A = unknown> {
  /** Name used in error messages (`tanh`, `matmul`, `custom op "swish"`). */
  readonly name: string;
  vjp(g: Tensor, inputs: readonly Tensor[], out: Tensor, attrs: A): (Tensor | null)[];
  /** Optional check of the returned gradients (custom ops verify count and shapes). */
  checkGradients?(grads: readonly (Tensor | null)[], inputs: readonly Tensor[]): void;
}

/** One recorded op. */
export interface TapeNode {
  /** Position on the tape; larger = recorded later. */
  readonly id: number;
  readonly rule: VjpRule<never>;
  readonly inputs: readonly Tensor[];
  readonly attrs: unknown;
  /** Where user code created the op; recorded only in anomaly mode. */
  readonly site: string | null;
}

let nextId = 0;

/** Record a node for `out` (called by ops after their forward ran). */
export function recordNode<A>(out: Tensor, rule: VjpRule<A>, inputs: readonly Tensor[], attrs: A): void {
  out._node = {
    id: nextId++,
    rule: rule as VjpRule<never>,
    inputs,
    attrs,
    site: isAnomalyEnabled() ? (new Error().stack ?? null) : null,
  };
  out._requiresGrad = true;
}

/** Options of `backward`. */
export interface BackwardOptions {
  /**
   * Record the backward pass itself on the tape, so the gradients are differentiable tensors
   * (for higher-order gradients). Default false.
   */
  createGraph?: boolean;
}

/**
 * Reverse-mode sweep from `root` with cotangent `seed`.
 * - With `targets`: returns d(root)/d(target) for each (zeros where unreachable); `.grad` is not touched.
 * - Without: accumulates into `.grad` of every reachable leaf that requires grad (and of tensors that
 *   called `retainGrad()`), PyTorch style.
 */
export function runBackward(
  root: Tensor,
  seed: Tensor,
  createGraph: boolean,
  targets?: readonly Tensor[],
): (Tensor | null)[] | undefined {
  if (!shapesEqual(seed.shape, root.shape)) {
    throw new Error(
      `backward: the seed gradient has shape ${formatShape(seed.shape)}, expected the output's shape ${formatShape(root.shape)}`,
    );
  }
  // Reachable nodes, without recursion (a chain of 100 000 ops must not overflow the stack).
  let nodes: TapeNode[] = [];
  const visited = new Set<TapeNode>();
  const stack: Tensor[] = [root];
  while (stack.length > 0) {
    const t = stack.pop()!;
    const node = t._node;
    if (node === null || visited.has(node)) continue;
    visited.add(node);
    nodes.push(node);
    for (const input of node.inputs) if (input._requiresGrad && input._node !== null) stack.push(input);
  }
  nodes.sort((a, b) => b.id - a.id);
  if (targets !== undefined) {
    // Only the nodes through which some target reaches the root matter (like torch.autograd.grad): skip
    // the rest, so that an inner grad() inside an outer one neither does the outer graph's work nor fires
    // its hooks. Inputs come before outputs on the tape, so one pass in increasing id decides.
    const targetSet = new Set(targets);
    const needed = new Set<TapeNode>();
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i]!;
      if (node.inputs.some((t) => targetSet.has(t) || (t._node !== null && needed.has(t._node))))
        needed.add(node);
    }
    nodes = nodes.filter((node) => needed.has(node));
  }

  const outputOf = new Map<TapeNode, Tensor>();
  // Find the tensor each node produced: the root, or an input of a later node.
  if (root._node !== null) outputOf.set(root._node, root);
  for (const node of nodes)
    for (const input of node.inputs) if (input._node !== null) outputOf.set(input._node, input);

  const grads = new Map<Tensor, Tensor>();
  grads.set(root, seed);
  const accumulate = (t: Tensor, g: Tensor): void => {
    const prev = grads.get(t);
    grads.set(t, prev === undefined ? g : prev.add(g));
  };

  withGradMode(createGraph, () => {
    for (const node of nodes) {
      const out = outputOf.get(node)!;
      let g = grads.get(out);
      if (g === undefined) continue;
      g = applyHooks(out, g);
      grads.set(out, g);
      if (targets === undefined && out._retainsGrad) out.grad = out.grad === null ? g : out.grad.add(g);
      const inputGrads = isAnomalyEnabled()
        ? anomalyVjp(node, g, out)
        : node.rule.vjp(g, node.inputs, out, node.attrs as never);
      node.rule.checkGradients?.(inputGrads, node.inputs);
      if (isAnomalyEnabled()) anomalyBackwardCheck(node, g, inputGrads);
      for (let i = 0; i < node.inputs.length; i++) {
        const input = node.inputs[i]!;
        const gi = inputGrads[i];
        if (gi === null || gi === undefined || !input._requiresGrad) continue;
        accumulate(input, gi);
      }
    }
  });

  if (targets !== undefined) {
    return targets.map((t) => {
      const g = grads.get(t);
      return g === undefined ? null : t._node === null ? applyHooks(t, g) : g;
    });
  }
  withGradMode(createGraph, () => {
    for (const [t, g0] of grads) {
      if (t._node !== null) continue; // non-leaves were handled above
      const g = applyHooks(t, g0);
      t.grad = t.grad === null ? (createGraph ? g : g.detach()) : t.grad.add(g);
    }
  });
  return undefined;
}

function applyHooks(t: Tensor, g: Tensor): Tensor {
  if (t._hooks === null) return g;
  for (const hook of t._hooks) {
    const replaced = hook(g);
    if (replaced !== undefined) {
      if (!shapesEqual(replaced.shape, t.shape)) {
        throw new Error(
          `registerHook: a hook returned a gradient of shape ${formatShape(replaced.shape)} for a tensor of shape ${formatShape(t.shape)}`,
        );
      }
      g = replaced;
    }
  }
  return g;
}

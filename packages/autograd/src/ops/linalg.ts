/**
 * @file Matrix products, validated at the door: `matmul` (numpy semantics, transpose flags) and `addmm`
 * (bias fused). Their derivatives: primitives/linalg.ts.
 */
import { inner } from "../primitives/index.js";
import { broadcastShapes, formatShape, type Shape, shapesEqual } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { type TensorLike, toTensor } from "./convert.js";

/** Options of `matmul`: read an operand as transposed (its last two axes swapped) without copying it. */
export interface MatmulOptions {
  /** Use Aᵀ (swap A's last two axes). */
  transposeA?: boolean;
  /** Use Bᵀ (swap B's last two axes). */
  transposeB?: boolean;
}

/**
 * Matrix product with numpy semantics: 2-D @ 2-D; a 1-D operand is a row (left) or column (right) vector
 * whose axis is removed from the result; ≥ 3-D operands are stacks of matrices whose batch axes broadcast.
 * `transposeA` / `transposeB` use an operand's transpose without materialising it (fast backprop).
 * @throws Error `matmul: inner dimensions differ: [4, 2] @ [3, 400] (2 ≠ 3)`, or for 0-d operands.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const x = toTensor(a, "matmul", 1);
  const y = toTensor(b, "matmul", 2);
  const transA = options.transposeA ?? false;
  const transB = options.transposeB ?? false;
  if (x.ndim === 0 || y.ndim === 0) {
    throw new Error(
      `matmul: operands must have at least 1 axis, got ${formatShape(x.shape)} @ ${formatShape(y.shape)} (use mul for scalars)`,
    );
  }
  if ((transA && x.ndim < 2) || (transB && y.ndim < 2)) {
    throw new Error(
      `matmul: transpose options need a ≥ 2-D operand, got ${formatShape(x.shape)} @ ${formatShape(y.shape)}`,
    );
  }
  const x2 = x.ndim === 1 ? inner.reshape(x, [1, x.shape[0]!]) : x;
  const y2 = y.ndim === 1 ? inner.reshape(y, [y.shape[0]!, 1]) : y;
  checkMatmulShapes("matmul", x2, y2, transA, transB, x.shape, y.shape);
  let out = inner.matmul(x2, y2, transA, transB);
  if (x.ndim === 1 || y.ndim === 1) {
    const s = out.shape.slice();
    if (y.ndim === 1) s.pop();
    if (x.ndim === 1) s.splice(s.length - (y.ndim === 1 ? 1 : 2), 1);
    out = inner.reshape(out, s);
  }
  return out;
}

/** Validate op(x)·op(y) for ≥ 2-D operands and return the result's shape. */
function checkMatmulShapes(
  op: string,
  x: Tensor,
  y: Tensor,
  transA: boolean,
  transB: boolean,
  shownA: Shape = x.shape,
  shownB: Shape = y.shape,
): number[] {
  const kA = transA ? x.shape[x.ndim - 2]! : x.shape[x.ndim - 1]!;
  const kB = transB ? y.shape[y.ndim - 1]! : y.shape[y.ndim - 2]!;
  // The message is built only on failure: this runs on every product.
  const shown = () =>
    `${formatShape(shownA)}${transA ? "ᵀ" : ""} @ ${formatShape(shownB)}${transB ? "ᵀ" : ""}`;
  if (kA !== kB) throw new Error(`${op}: inner dimensions differ: ${shown()} (${kA} ≠ ${kB})`);
  const batch =
    x.ndim === 2 && y.ndim === 2
      ? []
      : broadcastShapes(x.shape.slice(0, -2), y.shape.slice(0, -2), `${op}: batch axes of ${shown()}`);
  const M = transA ? x.shape[x.ndim - 1]! : x.shape[x.ndim - 2]!;
  const N = transB ? y.shape[y.ndim - 2]! : y.shape[y.ndim - 1]!;
  return [...batch, M, N];
}

/**
 * `c + op(a)·op(b)` in one op, the bias fused into the product (PyTorch's `addmm`): `addmm(b1, W1, X)` is
 * the course's Z1 = W1·X + b1 with one pass and one allocation less. `a` and `b` are ≥ 2-D (stacks of
 * matrices broadcast like `matmul`); `c` broadcasts to the product's shape.
 * @throws Error for inner dimensions that differ, a 1-D operand, or a `c` that does not broadcast to the result.
 */
export function addmm(c: TensorLike, a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const bias = toTensor(c, "addmm", 1);
  const x = toTensor(a, "addmm", 2);
  const y = toTensor(b, "addmm", 3);
  if (x.ndim < 2 || y.ndim < 2) {
    throw new Error(
      `addmm: the factors must be at least 2-D, got ${formatShape(x.shape)} @ ${formatShape(y.shape)}`,
    );
  }
  const transA = options.transposeA ?? false;
  const transB = options.transposeB ?? false;
  const shape = checkMatmulShapes("addmm", x, y, transA, transB);
  const s = broadcastShapes(bias.shape, shape, "addmm: bias");
  if (!shapesEqual(s, shape)) {
    throw new Error(
      `addmm: the bias of shape ${formatShape(bias.shape)} does not broadcast to the product's shape ${formatShape(shape)}`,
    );
  }
  return inner.addmm(bias, x, y, transA, transB);
}

/**
 * @file The linear-algebra primitives — matmul and addmm (bias fused into the product) — with transpose
 * flags instead of transposed copies. The product itself is kernels/gemm.ts.
 */
import { addKernel, binaryInto } from "../kernels/binary.js";
import { gemm } from "../kernels/gemm.js";
import { broadcastStrides, shapeSize, stridesOf, tryBroadcastShapes } from "../shape.js";
import { Tensor } from "../tensor.js";
import type { InnerOps } from "./index.js";
import type { PrimitiveTable } from "./types.js";

/** The attributes of the linear-algebra primitives: which operand is read transposed. */
export interface LinalgAttrs {
  matmul: { transA: boolean; transB: boolean };
  addmm: { transA: boolean; transB: boolean };
}

/** op(x)·op(y) for ≥ 2-D operands; batch axes broadcast like numpy. */
export function matmulForward(x: Tensor, y: Tensor, transA: boolean, transB: boolean): Tensor {
  const ra = x.ndim;
  const rb = y.ndim;
  const M = transA ? x.shape[ra - 1]! : x.shape[ra - 2]!;
  const K = transA ? x.shape[ra - 2]! : x.shape[ra - 1]!;
  const N = transB ? y.shape[rb - 2]! : y.shape[rb - 1]!;
  const batchA = x.shape.slice(0, ra - 2);
  const batchB = y.shape.slice(0, rb - 2);
  const batch = tryBroadcastShapes(batchA, batchB)!;
  const nBatch = shapeSize(batch);
  const out = new Float64Array(nBatch * M * N);
  if (nBatch === 1) {
    gemm(transA, transB, M, N, K, x.data, 0, y.data, 0, out, 0);
  } else {
    const sA = broadcastStrides(batchA, batch);
    const sB = broadcastStrides(batchB, batch);
    const bstr = stridesOf(batch);
    const mA = M * K;
    const mB = K * N;
    for (let bi = 0; bi < nBatch; bi++) {
      let offA = 0;
      let offB = 0;
      for (let ax = 0, rem = bi; ax < batch.length; ax++) {
        const i = Math.floor(rem / bstr[ax]!);
        rem -= i * bstr[ax]!;
        offA += i * sA[ax]!;
        offB += i * sB[ax]!;
      }
      gemm(transA, transB, M, N, K, x.data, offA * mA, y.data, offB * mB, out, bi * M * N);
    }
  }
  return new Tensor(out, [...batch, M, N]);
}

/** c + op(x)·op(y): the product, then the bias added in place. */
function addmmForward(c: Tensor, x: Tensor, y: Tensor, transA: boolean, transB: boolean): Tensor {
  const out = matmulForward(x, y, transA, transB);
  binaryInto(addKernel, out.data, out.shape, c.data, c.shape, out.data, out.shape);
  return out;
}

/** The linear-algebra primitives; vjps are written with the inner ops `o`. */
export function linalgPrimitives(o: InnerOps): PrimitiveTable<keyof LinalgAttrs> {
  /**
   * C = op(A)·op(B): dA = g·op(B)ᵀ, dB = op(A)ᵀ·g, written with the transpose flags (no copies), then
   * summed over broadcast batch axes; null for an operand that does not require grad.
   */
  const matmulVjp = (g: Tensor, x: Tensor, y: Tensor, transA: boolean, transB: boolean) => {
    const dx = x.requiresGrad
      ? transA
        ? o.matmul(y, g, transB, true)
        : o.matmul(g, y, false, !transB)
      : null;
    const dy = y.requiresGrad
      ? transB
        ? o.matmul(g, x, true, transA)
        : o.matmul(x, g, !transA, false)
      : null;
    return [dx && o.sumTo(dx, x.shape), dy && o.sumTo(dy, y.shape)];
  };
  return {
    // C = op(A)·op(B): dA = g·op(B)ᵀ, dB = op(A)ᵀ·g
    matmul: {
      name: "matmul",
      forward: ([x, y], { transA, transB }) => matmulForward(x!, y!, transA, transB),
      vjp: (g, [x, y], _, { transA, transB }) => matmulVjp(g, x!, y!, transA, transB),
    },
    // C = c + op(A)·op(B) (bias fused into the product, one pass less): dc = sumTo(g), dA and dB as matmul
    addmm: {
      name: "addmm",
      forward: ([c, x, y], { transA, transB }) => addmmForward(c!, x!, y!, transA, transB),
      vjp: (g, [c, x, y], _, { transA, transB }) => [
        c!.requiresGrad ? o.sumTo(g, c!.shape) : null,
        ...matmulVjp(g, x!, y!, transA, transB),
      ],
    },
  };
}

/**
 * @file fast-check arbitraries for convolution and pooling (small shapes with stride, padding, dilation and
 * groups), and the rows of the gradient table for their primitives. A configuration travels as a tensor of
 * integers (the table's inputs are tensors); the attributes are computed here from PyTorch's output-size
 * formula, independently of the code under test.
 */

import type { Tensor } from "@tapegrad/autograd";
import * as ag from "@tapegrad/autograd";
import fc from "fast-check";
import { distinctValues, values } from "./helpers.js";

/** A convolution configuration (sizes and options). */
export interface ConvConfig {
  N: number;
  C: number;
  O: number;
  H: number;
  W: number;
  kH: number;
  kW: number;
  sH: number;
  sW: number;
  pH: number;
  pW: number;
  dH: number;
  dW: number;
  groups: number;
  bias: boolean;
}

/** Small convolutions: 1–2 groups of 1–2 channels, kernels 1–3, stride, dilation 1–2, padding 0–2. */
export const convConfig: fc.Arbitrary<ConvConfig> = fc
  .record({
    N: fc.integer({ min: 1, max: 2 }),
    groups: fc.integer({ min: 1, max: 2 }),
    cPer: fc.integer({ min: 1, max: 2 }),
    oPer: fc.integer({ min: 1, max: 2 }),
    kH: fc.integer({ min: 1, max: 3 }),
    kW: fc.integer({ min: 1, max: 3 }),
    sH: fc.integer({ min: 1, max: 2 }),
    sW: fc.integer({ min: 1, max: 2 }),
    pH: fc.integer({ min: 0, max: 2 }),
    pW: fc.integer({ min: 0, max: 2 }),
    dH: fc.integer({ min: 1, max: 2 }),
    dW: fc.integer({ min: 1, max: 2 }),
    extraH: fc.integer({ min: 0, max: 3 }),
    extraW: fc.integer({ min: 0, max: 3 }),
    bias: fc.boolean(),
  })
  .map(({ cPer, oPer, extraH, extraW, ...c }) => ({
    ...c,
    C: cPer * c.groups,
    O: oPer * c.groups,
    // at least one window: H + 2p ≥ dilation·(k − 1) + 1
    H: Math.max(1, c.dH * (c.kH - 1) + 1 - 2 * c.pH) + extraH,
    W: Math.max(1, c.dW * (c.kW - 1) + 1 - 2 * c.pW) + extraW,
  }));

/** PyTorch's output size: ⌊(H + 2p − d·(k − 1) − 1) / s⌋ + 1. */
export const convOutputSize = (c: ConvConfig): [number, number] => [
  Math.floor((c.H + 2 * c.pH - c.dH * (c.kH - 1) - 1) / c.sH) + 1,
  Math.floor((c.W + 2 * c.pW - c.dW * (c.kW - 1) - 1) / c.sW) + 1,
];

const KEYS = ["N", "C", "O", "H", "W", "kH", "kW", "sH", "sW", "pH", "pW", "dH", "dW", "groups"] as const;

/** A configuration as a tensor (the last input of a gradient-table row). */
export const configTensor = (c: ConvConfig): Tensor => ag.tensor([...KEYS.map((k) => c[k]), c.bias ? 1 : 0]);

/** The configuration back from its tensor. */
export function configOf(t: Tensor): ConvConfig {
  const v = Array.from(t.data);
  const c = Object.fromEntries(KEYS.map((k, i) => [k, v[i]!])) as Omit<ConvConfig, "bias">;
  return { ...c, bias: v[KEYS.length] === 1 };
}

/** conv2d's options for a configuration. */
export const convOptions = (c: ConvConfig): ag.Conv2dOptions => ({
  stride: [c.sH, c.sW],
  padding: [c.pH, c.pW],
  dilation: [c.dH, c.dW],
  groups: c.groups,
});

/** x, weight and bias for a configuration, with values in [−2, 2]. */
export const convInputs = (c: ConvConfig): fc.Arbitrary<[Tensor, Tensor, Tensor]> =>
  fc.tuple(values([c.N, c.C, c.H, c.W]), values([c.O, c.C / c.groups, c.kH, c.kW]), values([c.O]));

/** A pooling configuration. */
export interface PoolConfig {
  N: number;
  C: number;
  H: number;
  W: number;
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
}

/** Small poolings: kernels 1–3, stride 1–3, padding up to half the kernel. */
export const poolConfig: fc.Arbitrary<PoolConfig> = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
  .chain(([kH, kW]) =>
    fc.record({
      N: fc.integer({ min: 1, max: 2 }),
      C: fc.integer({ min: 1, max: 2 }),
      kernel: fc.constant<[number, number]>([kH, kW]),
      stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      padding: fc.tuple(fc.integer({ min: 0, max: kH >> 1 }), fc.integer({ min: 0, max: kW >> 1 })),
      extra: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
    }),
  )
  .map(({ extra, ...c }) => ({
    ...c,
    H: Math.max(1, c.kernel[0] - 2 * c.padding[0]) + extra[0],
    W: Math.max(1, c.kernel[1] - 2 * c.padding[1]) + extra[1],
  }));

/** Pool output size (ceil_mode=False): ⌊(H + 2p − k) / s⌋ + 1. */
export const poolOutputSize = (c: PoolConfig): [number, number] => [
  Math.floor((c.H + 2 * c.padding[0] - c.kernel[0]) / c.stride[0]) + 1,
  Math.floor((c.W + 2 * c.padding[1] - c.kernel[1]) / c.stride[1]) + 1,
];

const poolTensor = (c: PoolConfig): Tensor =>
  ag.tensor([c.N, c.C, c.H, c.W, ...c.kernel, ...c.stride, ...c.padding]);
const poolOf = (t: Tensor): PoolConfig => {
  const [N, C, H, W, kH, kW, sH, sW, pH, pW] = Array.from(t.data) as number[];
  return { N: N!, C: C!, H: H!, W: W!, kernel: [kH!, kW!], stride: [sH!, sW!], padding: [pH!, pW!] };
};

/** A row of the gradient table (the same shape as gradients.test.ts's `GradCase`). */
interface GradCase {
  inputs: fc.Arbitrary<Tensor[]>;
  f: (...xs: Tensor[]) => Tensor;
}

/** The gradient-table rows of the conv and pool primitives; each row's last input is its configuration. */
export const convPrimitiveCases = {
  conv2d: {
    inputs: convConfig.chain((c) => convInputs(c).map(([x, w, b]) => [x, w, b, configTensor(c)])),
    f: (x, w, b, cfg) => {
      const c = configOf(cfg!);
      return ag.conv2d(x!, w!, c.bias ? b : undefined, convOptions(c));
    },
  },
  conv2dBackwardInput: {
    inputs: convConfig.chain((c) => {
      const [OH, OW] = convOutputSize(c);
      return fc
        .tuple(values([c.N, c.O, OH, OW]), values([c.O, c.C / c.groups, c.kH, c.kW]))
        .map(([gy, w]) => [gy, w, configTensor(c)]);
    }),
    // the backward primitives are internal; vjp reaches them through the public conv2d (its pullback
    // computes conv2dBackwardInput(gy, w)), and the check then differentiates that, i.e. runs their own rules
    f: (gy, w, cfg) => {
      const c = configOf(cfg!);
      const x = ag.zeros([c.N, c.C, c.H, c.W]);
      return ag.vjp((x: Tensor) => ag.conv2d(x, w!, undefined, convOptions(c)), x)[1](gy!)[0]!;
    },
  },
  conv2dBackwardWeight: {
    inputs: convConfig.chain((c) => {
      const [OH, OW] = convOutputSize(c);
      return fc
        .tuple(values([c.N, c.C, c.H, c.W]), values([c.N, c.O, OH, OW]))
        .map(([x, gy]) => [x, gy, configTensor(c)]);
    }),
    f: (x, gy, cfg) => {
      const c = configOf(cfg!);
      const w = ag.zeros([c.O, c.C / c.groups, c.kH, c.kW]);
      return ag.vjp((w: Tensor) => ag.conv2d(x!, w, undefined, convOptions(c)), w)[1](gy!)[0]!;
    },
  },
  maxPool2d: {
    // distinct values: no ties, so the maximum of each window is unique and stable under ±h
    inputs: poolConfig.chain((c) => distinctValues([c.N, c.C, c.H, c.W]).map((x) => [x, poolTensor(c)])),
    f: (x, cfg) => {
      const c = poolOf(cfg!);
      return ag.maxPool2d(x!, c.kernel, { stride: c.stride, padding: c.padding });
    },
  },
  avgPool2d: {
    inputs: poolConfig.chain((c) => values([c.N, c.C, c.H, c.W]).map((x) => [x, poolTensor(c)])),
    f: (x, cfg) => {
      const c = poolOf(cfg!);
      return ag.avgPool2d(x!, c.kernel, { stride: c.stride, padding: c.padding });
    },
  },
  avgPool2dBackward: {
    inputs: poolConfig.chain((c) => {
      const [OH, OW] = poolOutputSize(c);
      return values([c.N, c.C, OH, OW]).map((g) => [g, poolTensor(c)]);
    }),
    f: (g, cfg) => {
      const c = poolOf(cfg!);
      const x = ag.zeros([c.N, c.C, c.H, c.W]);
      return ag.vjp((x: Tensor) => ag.avgPool2d(x, c.kernel, { stride: c.stride, padding: c.padding }), x)[1](
        g!,
      )[0]!;
    },
  },
  argmax: "not differentiable",
  argmin: "not differentiable",
} satisfies Record<string, GradCase | "not differentiable">;

/** How many leading inputs of each row are differentiated (the rest is configuration). */
export const convDifferentiated: Record<string, number> = {
  conv2d: 3,
  conv2dBackwardInput: 2,
  conv2dBackwardWeight: 2,
  maxPool2d: 1,
  avgPool2d: 1,
  avgPool2dBackward: 1,
};

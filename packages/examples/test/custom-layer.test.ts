import { gradcheck, sum, tensor } from "@tapegrad/autograd";
import { describe, expect, it } from "vitest";
import { layerNorm, run, swish } from "../src/custom-layer.js";

describe("custom-layer example", () => {
  it("swish computes x·σ(x) = x / (1 + e^−x)", () => {
    const xs = [-3, -0.5, 0, 0.25, 4];
    const got = Array.from(swish(tensor(xs)).data);
    for (const [i, x] of xs.entries())
      expect(got[i]).toBeAllClose(x / (1 + Math.exp(-x)), { rtol: 0, atol: 5e-16 });
  });

  it("LayerNorm normalises each row to mean 0 and variance 1 (γ = 1, β = 0)", () => {
    const y = layerNorm(tensor([[1, 2, 3, 6]]), tensor([1, 1, 1, 1]), tensor([0, 0, 0, 0]), 0);
    const v = Array.from(y.data);
    expect(v.reduce((a, b) => a + b, 0)).toBeAllClose(0, { rtol: 0, atol: 5e-13 });
    expect(v.reduce((a, b) => a + b * b, 0) / 4).toBeAllClose(1, { rtol: 0, atol: 5e-13 });
  });

  it("runs quickly: swish and LayerNorm pass gradcheck, the wrong backward fails, both classifiers learn", () => {
    const lines: string[] = [];
    const r = run({ quick: true, log: (l) => lines.push(l) });
    expect(r.swishCheck.ok).toBe(true);
    expect(r.wrongCheck.ok).toBe(false);
    expect(r.layerNormCheck.ok).toBe(true);
    expect(r.swishFlower.accuracy).toBeGreaterThan(60);
    expect(r.lnFlower.accuracy).toBeGreaterThan(75);
    expect(lines.some((l) => l.includes("gradcheck: FAILED"))).toBe(true);
  });

  it("swish's gradient is checked at many points, large |x| included", () => {
    const x = tensor([-30, -5, -1e-3, 0, 1e-3, 5, 30]);
    expect(gradcheck((t) => sum(swish(t!)), [x]).ok).toBe(true);
  });
});

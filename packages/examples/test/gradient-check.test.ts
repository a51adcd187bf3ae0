import { describe, expect, it } from "vitest";
import { run, THRESHOLD } from "../src/gradient-check.js";

describe("gradient-check example", () => {
  const lines: string[] = [];
  const r = run({ log: (l) => lines.push(l) });

  it("1-D: J(θ) = θx, x = 2, θ = 4, ε = 1e-7 — the course's difference ≈ 3e-10 < 2e-7", () => {
    expect(r.oneD.grad).toBe(2);
    expect(r.oneD.difference).toBeLessThan(THRESHOLD);
    expect(r.oneD.difference).toBeGreaterThan(1e-10);
    expect(r.oneD.difference).toBeLessThan(1e-9);
    expect(lines).toContain(`  The gradient is correct! difference = ${r.oneD.difference}`);
  });

  it("N-D: the planted bugs are caught, and located: dW2 × 2, db1 × 4", () => {
    expect(r.nDBuggy.difference).toBeGreaterThan(THRESHOLD);
    const by = Object.fromEntries(r.nDBuggy.perParameter.map((p) => [p.name, p]));
    expect(by.dW2?.diagnosis).toMatch(/2 × numeric|factor-of-two|×2/);
    expect(by.db1?.diagnosis).toMatch(/×4|4 ×/);
    for (const name of ["dW1", "db2", "dW3", "db3"]) expect(by[name]?.diagnosis).toBeNull();
    expect(r.nDFixed.difference).toBeLessThan(THRESHOLD);
  });

  it("the notes' dZ1 typo (g instead of g′) is reported by checkBackprop at equation (4)", () => {
    expect(r.notesBackprop.ok).toBe(false);
    expect(r.notesBackprop.firstMismatch).toBe("dZ1");
    expect(r.notesBackprop.summary).toContain("(4) dZ1");
    expect(r.notesBackprop.equations.dW1.ok).toBe(true); // located, not propagated
    expect(r.notesBackprop.equations.dZ1.diagnosis).toContain("the notes' own typo");
  });

  it("the notes' update typo (α·w instead of α·dw) is caught; updateParameters is gradient descent", () => {
    for (const c of r.notesUpdate) expect(c.diagnosis).toContain("where α·d");
    for (const c of r.correctUpdate) expect(c.relativeDifference).toBeLessThan(1e-12);
  });

  it("gradcheck catches the same typo inside a custom op: W1 and b1 fail, W2 and b2 pass", () => {
    expect(r.typoGradcheck.ok).toBe(false);
    expect(r.typoGradcheck.inputs.map((i) => i.ok)).toEqual([false, false, true, true]);
    expect(r.typoGradcheck.toString()).toContain("W1");
  });
});

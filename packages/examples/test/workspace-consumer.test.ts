import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXAMPLES_DIR, runTsx } from "./helpers.js";

const CONSUMER = join(EXAMPLES_DIR, "workspace-consumer");

describe("workspace-consumer", () => {
  it("depends on the libraries through workspace:* and is in the lockfile", () => {
    const pkg = JSON.parse(readFileSync(join(CONSUMER, "package.json"), "utf8"));
    expect(pkg.name).toBe("@tapegrad/workspace-consumer");
    expect(pkg.private).toBe(true);
    expect(pkg.dependencies).toEqual({ "@tapegrad/autograd": "workspace:*", "@tapegrad/nn": "workspace:*" });
    const lock = readFileSync(join(EXAMPLES_DIR, "../../pnpm-lock.yaml"), "utf8");
    expect(lock).toContain("packages/examples/workspace-consumer:");
  });

  it("runs from its own directory (its node_modules links), learning XOR", () => {
    const r = runTsx("src/main.ts", [], CONSUMER);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("predicted as 0 1 1 0 (expected 0 1 1 0)");
    // d/dx x·tanh x = tanh x + x(1 − tanh² x) at 0.5 and −1.25
    const expected = [0.5, -1.25].map((v) => Math.tanh(v) + v * (1 - Math.tanh(v) ** 2));
    expect(r.stdout).toContain(`[${expected.map((g) => g.toFixed(6)).join(", ")}]`);
  });
});

/** @tapegrad/plot runs in browsers: no Node built-ins, Buffer or process in its sources, no runtime dependency but autograd. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** What in a source text would break a browser bundle, or null. */
function nodeOnly(text: string): string | null {
  const m = text.match(/from\s+"node:[^"]+"|require\(|\bBuffer\b|\bprocess\.|import\.meta\.url/);
  return m ? m[0] : null;
}

describe("browser safety", () => {
  it("the check itself flags a node: import, Buffer and process", () => {
    expect(nodeOnly('import { x } from "node:fs";')).toBe('from "node:fs"');
    expect(nodeOnly("Buffer.from(s)")).toBe("Buffer");
    expect(nodeOnly("process.env.X")).toBe("process.");
    expect(nodeOnly("const s = `<svg>`;")).toBeNull();
  });

  it("no source file of the package uses them", () => {
    const files = readdirSync(join(ROOT, "src")).filter((f) => f.endsWith(".ts"));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files)
      expect([f, nodeOnly(readFileSync(join(ROOT, "src", f), "utf8"))]).toEqual([f, null]);
  });

  it("depends at run time on @tapegrad/autograd only", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(pkg.dependencies).toEqual({ "@tapegrad/autograd": "workspace:*" });
  });
});

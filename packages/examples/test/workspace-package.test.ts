/**
 * @file A new workspace package uses tapegrad with no flags and no build step (README: "Use tapegrad from your
 * own workspace package"). In a temporary copy of the workspace, `packages/my-experiment` depends on both
 * packages with `workspace:*`, and its `hello.ts` runs with plain `tsx`, type-checks with `tsc -p .` against a
 * minimal NodeNext tsconfig (no @types/node, no customConditions), and builds with Vite's default config.
 */
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLES_DIR } from "./helpers.js";

const ROOT = join(EXAMPLES_DIR, "../..");
let copy = "";
let experiment = "";

function run(cmd: string, args: readonly string[], cwd: string) {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, FORCE_COLOR: "0", NODE_OPTIONS: "" },
    timeout: 240_000,
  });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

const bin = (name: string): string => join(copy, "node_modules/.bin", name);

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), "tapegrad-workspace-"));
  // the workspace as a clone would have it: tracked files plus new, not-ignored ones (no node_modules, no dist)
  const files = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: ROOT,
    encoding: "utf8",
  })
    .stdout.split("\0")
    .filter((f) => f !== "" && existsSync(join(ROOT, f)));
  for (const f of files) {
    mkdirSync(dirname(join(copy, f)), { recursive: true });
    cpSync(join(ROOT, f), join(copy, f));
  }
  experiment = join(copy, "packages/my-experiment");
  mkdirSync(experiment);
  writeFileSync(
    join(experiment, "package.json"),
    JSON.stringify({
      name: "my-experiment",
      private: true,
      type: "module",
      dependencies: { "@tapegrad/autograd": "workspace:*", "@tapegrad/nn": "workspace:*" },
    }),
  );
  // exactly the minimal tsconfig: no extends, no types, no customConditions
  writeFileSync(
    join(experiment, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2022",
        strict: true,
        noEmit: true,
        skipLibCheck: true,
      },
    }),
  );
  writeFileSync(
    join(experiment, "hello.ts"),
    `import { mul, sum, tanh, tensor } from "@tapegrad/autograd";
import { Linear, mseLoss } from "@tapegrad/nn";

const x = tensor([0.5, -1.25], { requiresGrad: true });
sum(mul(tanh(x), x)).backward();
const layer = new Linear(2, 1, { seed: 0 });
const loss = mseLoss(layer.forward(tensor([[1, 2]])), tensor([[0]]));
loss.backward();
const shape: readonly number[] = layer.weight.grad!.shape;
console.log(\`hello: grad \${Array.from(x.grad!.data, (v) => v.toFixed(6)).join(" ")} weight grad \${shape.join("x")}\`);
`,
  );
  writeFileSync(
    join(experiment, "index.html"),
    `<!doctype html><html><body><script type="module" src="./hello.ts"></script></body></html>\n`,
  );
  // the lockfile does not know the new package yet: a plain (not frozen) install, from the local store
  const install = run("npx", ["-y", "pnpm@10", "install", "--offline", "--no-frozen-lockfile"], copy);
  if (install.status !== 0) throw new Error(`pnpm install in the copy failed:\n${install.output}`);
}, 300_000);

afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe("a new workspace package (no flags, no build step)", () => {
  it("runs a .ts file with plain tsx", () => {
    const r = run(bin("tsx"), ["hello.ts"], experiment);
    expect(r.output).not.toContain("ERR_MODULE_NOT_FOUND");
    expect(r.status).toBe(0);
    // d/dx x·tanh x = tanh x + x(1 − tanh² x)
    const g = [0.5, -1.25].map((v) => (Math.tanh(v) + v * (1 - Math.tanh(v) ** 2)).toFixed(6));
    expect(r.output).toContain(`hello: grad ${g.join(" ")} weight grad 1x2`);
  });

  it("type-checks with tsc -p . and the minimal NodeNext tsconfig", () => {
    const r = run(bin("tsc"), ["-p", "."], experiment);
    expect(r.output.trim()).toBe("");
    expect(r.status).toBe(0);
  });

  it("builds with Vite's default config", () => {
    const r = run(bin("vite"), ["build"], experiment);
    expect(r.output).not.toContain("Failed to resolve");
    expect(r.status).toBe(0);
    const assets = readdirSync(join(experiment, "dist/assets"));
    const js = assets.find((f) => f.endsWith(".js"))!;
    // the bundle holds the library, not an import of it
    const bundle = readFileSync(join(experiment, "dist/assets", js), "utf8");
    expect(bundle).not.toMatch(/from\s*["']@tapegrad\//);
    // no import of a Node built-in (Node-only code is reached at run time through process.getBuiltinModule)
    expect(bundle).not.toMatch(/\bimport\s*\(?\s*["']node:|\bfrom\s*["']node:/);
  });
});

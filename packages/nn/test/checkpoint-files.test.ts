/**
 * @file Checkpoint files in Node: input checks, failed writes that name the path and leave no temp file,
 * a writer SIGKILLed in the middle of a write, and the message when Node's modules are missing.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tensor, tensor } from "@tapegrad/autograd";
import { loadNpy, loadParameters, saveNpy, saveParameters } from "@tapegrad/nn";
import { afterAll, describe, expect, it } from "vitest";
import { fixture, tempDir } from "./checkpoint-support.js";

const dir = tempDir();

describe("saveParameters: input checks and failed writes", () => {
  it("names the bad argument", () => {
    const p = join(dir, "bad.safetensors");
    expect(() => saveParameters(p, { w: [1, 2] as unknown as Tensor })).toThrow(
      'saveParameters: params["w"] must be a Tensor, got an array',
    );
    expect(() => saveParameters(p, { __metadata__: tensor([1]) })).toThrow(/"__metadata__" is reserved/);
    expect(() => saveParameters(p, { "\ud800": tensor([1]) })).toThrow(/lone surrogate/);
    expect(() => saveParameters(p, {}, { metadata: { step: 3 as unknown as string } })).toThrow(
      'saveParameters: metadata["step"] must be a string (safetensors metadata is text only), got the number 3',
    );
  });

  it("a write that fails names the path and leaves no temp file behind", () => {
    const folder = join(dir, "failing");
    mkdirSync(join(folder, "occupied.safetensors"), { recursive: true });
    // renaming a file over a folder fails after the temp file was fully written
    expect(() => saveParameters(join(folder, "occupied.safetensors"), { w: tensor([1]) })).toThrow(
      `saveParameters: could not write ${join(folder, "occupied.safetensors")}: `,
    );
    expect(readdirSync(folder)).toEqual(["occupied.safetensors"]);
    expect(() => saveNpy(join(folder, "missing", "x.npy"), tensor([1]))).toThrow(
      /saveNpy: could not write .*ENOENT/,
    );
  });

  it("loading a missing file names it", () => {
    expect(() => loadParameters(join(dir, "nope.safetensors"))).toThrow(
      `loadParameters: could not read ${join(dir, "nope.safetensors")}: ENOENT`,
    );
  });
});

describe("without Node's modules (a browser)", () => {
  it("each file function throws, naming itself and the bytes function to use instead", () => {
    // what a page sees: no process.getBuiltinModule (the functions look it up at call time)
    const proc = process as { getBuiltinModule?: unknown };
    const original = proc.getBuiltinModule;
    proc.getBuiltinModule = undefined;
    try {
      const p = join(dir, "never.safetensors");
      expect(() => saveParameters(p, { w: tensor([1]) })).toThrow(
        "saveParameters: writing files needs Node.js; in a browser use encodeSafetensors(...) and save the bytes yourself",
      );
      expect(() => loadParameters(p)).toThrow(
        "loadParameters: reading files needs Node.js; in a browser use decodeSafetensors(bytes)",
      );
      expect(() => saveNpy(p, tensor([1]))).toThrow(
        "saveNpy: writing files needs Node.js; in a browser use encodeNpy(...)",
      );
      expect(() => loadNpy(p)).toThrow(
        "loadNpy: reading files needs Node.js; in a browser use decodeNpy(bytes)",
      );
    } finally {
      proc.getBuiltinModule = original;
    }
    expect(readdirSync(dir)).not.toContain("never.safetensors");
    saveParameters(join(dir, "now.safetensors"), { w: tensor([1]) });
    expect(loadParameters(join(dir, "now.safetensors")).w!.data[0]).toBe(1);
  });
});

describe("browser-safe sources", () => {
  // What a browser bundler or a tsc without @types/node would trip over, outside comments.
  const nodeOnly = (source: string): string[] =>
    source
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .split("\n")
      .map((line) => line.replace(/\/\/.*$/, ""))
      .filter((line) =>
        /from\s+["']node:|import\(["']node:|\bBuffer\b|(?<![.?]\s*)\bprocess\b(?!\?:)/.test(line),
      );

  it("no file of packages/nn/src imports node: modules or uses the Buffer or process globals", () => {
    const src = fileURLToPath(new URL("../src/", import.meta.url));
    const files = readdirSync(src).filter((f) => f.endsWith(".ts"));
    expect(files).toContain("checkpoint-files.ts");
    for (const f of files) expect(nodeOnly(readFileSync(join(src, f), "utf8")), f).toEqual([]);
  });

  it("the scan finds each kind of Node-only use (planted)", () => {
    expect(nodeOnly('import { readFileSync } from "node:fs";')).toHaveLength(1);
    expect(nodeOnly('const os = await import("node:os");')).toHaveLength(1);
    expect(nodeOnly("const b = Buffer.from(s);")).toHaveLength(1);
    expect(nodeOnly("const id = process.pid;")).toHaveLength(1);
    expect(nodeOnly("/** Buffer, process, node:fs in a comment */ // process.pid")).toEqual([]);
    expect(nodeOnly("const proc = (globalThis as { process?: P }).process;")).toEqual([]);
  });
});

describe("atomic writes: a writer killed mid-write", () => {
  // The child runs fixtures/write-checkpoint.ts (which calls saveParameters) in a single node process,
  // with tsx as an in-process loader so that SIGKILL hits the process that writes.
  const killDir = join(dir, "kill");
  mkdirSync(killDir);
  const target = join(killDir, "model.safetensors");
  const tensors = 16; // 16 tensors of 1 MiB each
  const shapes = Object.fromEntries(
    Array.from({ length: tensors }, (_, k) => [`layer${String(k).padStart(3, "0")}`, [512, 256]]),
  );

  // a failed assertion must not leave a paused writer behind
  const writers: ChildProcess[] = [];
  afterAll(() => {
    for (const w of writers) if (w.exitCode === null && w.signalCode === null) w.kill("SIGKILL");
  });

  function startWriter(value: number, mebibytes: number, pauseAfterWrites?: number) {
    const args = [target, String(mebibytes), String(value)];
    if (pauseAfterWrites !== undefined) args.push(String(pauseAfterWrites));
    const child: ChildProcess = spawn(
      process.execPath,
      ["--import", "tsx", fixture("write-checkpoint.ts"), ...args],
      { cwd: fileURLToPath(new URL("..", import.meta.url)), stdio: ["ignore", "pipe", "pipe"] },
    );
    writers.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
      // "close", not "exit": stderr is complete only once the pipes are closed
      (done) => child.on("close", (code, signal) => done({ code, signal, stderr })),
    );
    const printed = (text: string) =>
      new Promise<string>((done, fail) => {
        const poll = setInterval(() => {
          if (stdout.includes(text)) done(stdout);
          else if (child.exitCode !== null) fail(new Error(`writer exited: ${stderr}`));
          else return;
          clearInterval(poll);
        }, 2);
      });
    return { child, exited, printed };
  }

  const tempFiles = () =>
    readdirSync(killDir).filter((n) => n.startsWith(".model.safetensors.") && n.endsWith(".tmp"));

  /** The checkpoint at `target` is complete and every element equals `value`. */
  function holds(value: number): boolean {
    const loaded = loadParameters(target, shapes);
    return Object.values(loaded).every((t) => t.data.every((v) => v === value));
  }

  it("SIGKILL after part of the data was written leaves the previous checkpoint intact", async () => {
    // the previous checkpoint, by the same child script run to completion
    const first = startWriter(1.5, tensors);
    expect(await first.exited).toMatchObject({ code: 0, signal: null, stderr: "" });
    expect(holds(1.5)).toBe(true);
    const fullSize = statSync(target).size;

    // the writer blocks inside fs.writeSync after 4 writes (header + 3 MiB of 16), then is killed
    const second = startWriter(2.5, tensors, 4);
    const stdout = await second.printed("paused");
    const written = Number(/paused (\d+)/.exec(stdout)![1]);
    const [temp] = tempFiles();
    expect(temp).toBeDefined();
    expect(statSync(join(killDir, temp!)).size).toBe(written);
    expect(written).toBeGreaterThan(3 << 20);
    expect(written).toBeLessThan(fullSize);
    expect(holds(1.5)).toBe(true); // readers see the old checkpoint during the write

    second.child.kill("SIGKILL");
    expect(await second.exited).toMatchObject({ code: null, signal: "SIGKILL" });
    expect(statSync(target).size).toBe(fullSize);
    expect(holds(1.5)).toBe(true);
    // the partial temp file stays behind; it is never read, and would be refused if it were
    expect(tempFiles()).toEqual([temp]);
    expect(() => loadParameters(join(killDir, temp!))).toThrow(/extend beyond the data section/);
    rmSync(join(killDir, temp!));
  });

  it("SIGKILL at full speed, as soon as the temp file has data: the old or the new checkpoint, never a mix", async () => {
    saveParameters(
      target,
      Object.fromEntries(
        Object.entries(shapes).map(([k, s]) => [k, new Tensor(new Float64Array(1 << 17).fill(1.5), s)]),
      ),
    );
    const writer = startWriter(3.5, tensors);
    let finished = false;
    void writer.exited.then(() => (finished = true));
    let sawPartial = false;
    while (!finished) {
      const [temp] = tempFiles();
      if (temp !== undefined && statSync(join(killDir, temp), { throwIfNoEntry: false })?.size) {
        writer.child.kill("SIGKILL");
        sawPartial = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    const { code, signal } = await writer.exited;
    expect(sawPartial ? signal : code).toBe(sawPartial ? "SIGKILL" : 0);
    expect(holds(1.5) || holds(3.5)).toBe(true);
    for (const temp of tempFiles()) rmSync(join(killDir, temp));
  });
});

/**
 * @file Checkpoint files (Node.js): `saveParameters`/`loadParameters` (safetensors) and `saveNpy`/`loadNpy`,
 * written atomically (temp file, fsync, rename) and validated field by field on load, so that a truncated,
 * damaged or mismatched file is an Error naming the file and the problem, never a silently wrong model.
 *
 * The bytes come from safetensors.ts and npy.ts, which run anywhere. This file has no static `node:`
 * import and no `Buffer`/`process` global: Node's fs and path are obtained when a function is called,
 * through `process.getBuiltinModule` (Node ≥ 20.16), so browser bundlers and a `tsc` without @types/node
 * accept the package; in a browser the functions throw, pointing to the bytes API.
 */
import type { Tensor } from "@tapegrad/autograd";
import { npyParts, readNpy } from "./npy.js";
import { readSafetensors, type SafetensorsContents, safetensorsParts } from "./safetensors.js";

/** Options of `saveParameters`. */
export interface SaveParametersOptions {
  /** Free-form text stored in the header's `__metadata__` (safetensors allows string values only). */
  metadata?: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------------
// Node's modules, at call time
// ---------------------------------------------------------------------------------------------------

/** The part of node:fs used here (its synchronous calls, so a save is done when the function returns). */
interface NodeFs {
  openSync(path: string, flags: string, mode?: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  readFileSync(path: string): Uint8Array;
}

/** The part of node:path used here. */
interface NodePath {
  resolve(path: string): string;
  dirname(path: string): string;
  basename(path: string): string;
  join(...parts: string[]): string;
}

/** What this file reads of `globalThis.process`: Node's, when there is one. */
interface NodeProcess {
  pid: number;
  getBuiltinModule?: (id: string) => unknown;
}

interface NodeModules {
  fs: NodeFs;
  path: NodePath;
  pid: number;
}

/** Node's fs and path, or an Error naming `op` that points to the bytes API when they are not there. */
function nodeModules(op: string, bytesApi: string): NodeModules {
  const proc = (globalThis as { process?: NodeProcess }).process;
  const fs = proc?.getBuiltinModule?.("node:fs") as NodeFs | undefined;
  const path = proc?.getBuiltinModule?.("node:path") as NodePath | undefined;
  if (proc === undefined || fs === undefined || path === undefined) {
    const saving = op.startsWith("save");
    throw new Error(
      `${op}: ${saving ? "writing" : "reading"} files needs Node.js; in a browser use ${bytesApi} and ${saving ? "save the bytes yourself" : "give it the bytes you fetched"} (Node.js ≥ 20.16)`,
    );
  }
  return { fs, path, pid: proc.pid };
}

// ---------------------------------------------------------------------------------------------------
// Atomic writes
// ---------------------------------------------------------------------------------------------------

// write(2) in slices, so that a large checkpoint never sits in one uninterruptible syscall.
const WRITE_CHUNK_BYTES = 1 << 20;

/** 12 random hex digits for a temp file's name. */
function randomHex(): string {
  // typed here: neither @types/node nor the DOM library is needed to type-check this file
  const { crypto } = globalThis as unknown as { crypto: { getRandomValues(a: Uint8Array): Uint8Array } };
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Write `parts` to `path` so that at every instant `path` holds either its previous content or the
 * complete new content: write a uniquely named temp file in the same folder (rename is only atomic within
 * one file system), fsync it, rename it over `path`, then fsync the folder so the rename itself survives
 * a power cut. A crash leaves at worst a `.<name>.<pid>-<random>.tmp` file behind, which loaders never read.
 */
function writeFileAtomic(node: NodeModules, op: string, path: string, parts: readonly Uint8Array[]): void {
  const { fs } = node;
  const target = node.path.resolve(path);
  const folder = node.path.dirname(target);
  const temp = node.path.join(folder, `.${node.path.basename(target)}.${node.pid}-${randomHex()}.tmp`);
  let fd = -1;
  try {
    fd = fs.openSync(temp, "wx", 0o666);
    for (const part of parts) {
      for (let at = 0; at < part.byteLength; ) {
        at += fs.writeSync(fd, part, at, Math.min(WRITE_CHUNK_BYTES, part.byteLength - at));
      }
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = -1;
    fs.renameSync(temp, target);
  } catch (err) {
    if (fd >= 0) ignoreErrors(() => fs.closeSync(fd));
    ignoreErrors(() => fs.unlinkSync(temp));
    throw new Error(`${op}: could not write ${path}: ${(err as Error).message}`, { cause: err });
  }
  // Best effort: some platforms (Windows) and file systems cannot open or fsync a folder.
  ignoreErrors(() => {
    const dirFd = fs.openSync(folder, "r");
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  });
}

function ignoreErrors(fn: () => void): void {
  try {
    fn();
  } catch {
    // nothing useful to do: the caller either succeeded already or is reporting the first error
  }
}

function readFile(node: NodeModules, op: string, path: string): Uint8Array {
  try {
    return node.fs.readFileSync(path);
  } catch (err) {
    throw new Error(`${op}: could not read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------------------------------
// safetensors files
// ---------------------------------------------------------------------------------------------------

/**
 * Save named tensors to `path` in the safetensors format, as F64 (Node.js only): the bytes of
 * `encodeSafetensors`, which PyTorch (`safetensors.torch.load_file`), numpy and JAX read.
 *
 * The write is atomic: `path` keeps its previous content until the new file is complete and on disk.
 *
 * @param params tensors by name (any shape, including 0-d and empty); typically `module.stateDict()`.
 * @param options `metadata`: strings stored in `__metadata__`.
 * @throws Error if a value is not a Tensor, a name is `"__metadata__"` or not well-formed Unicode, a
 *   metadata value is not a string, the file cannot be written (naming the path and the cause), or there
 *   is no Node.js (in a browser, use `encodeSafetensors`).
 */
export function saveParameters(
  path: string,
  params: Record<string, Tensor>,
  options: SaveParametersOptions = {},
): void {
  const op = "saveParameters";
  const node = nodeModules(op, "encodeSafetensors(...)");
  const parts = safetensorsParts(op, "params", "options.metadata", params, options.metadata);
  writeFileAtomic(node, op, path, parts);
}

/**
 * Load a safetensors file written by `saveParameters`, PyTorch, numpy or any other writer (Node.js only):
 * F64 tensors bit for bit, F32 tensors converted exactly to float64. Checks everything
 * `decodeSafetensors` checks, and names the file in every Error.
 *
 * @param expected names → shapes the caller needs (e.g. from `module.namedParameters()`): every missing
 *   name, unexpected name and wrong shape is listed in one Error.
 * @throws Error naming the file and the problem (or that there is no Node.js: use `decodeSafetensors`).
 */
export function loadSafetensors(
  path: string,
  expected?: Record<string, readonly number[]>,
): SafetensorsContents {
  const op = "loadSafetensors";
  const node = nodeModules(op, "decodeSafetensors(bytes)");
  return readSafetensors(op, path, readFile(node, op, path), expected);
}

/**
 * Load the tensors of a safetensors file by name (Node.js only); see `loadSafetensors` for what is checked.
 * @param expected names → shapes to require: a file with a missing name, an unexpected name or a wrong
 *   shape is rejected, each one named.
 * @returns new tensors (not requiring grad) by name; feed them to `module.loadStateDict`.
 * @throws Error naming the file and the problem.
 */
export function loadParameters(
  path: string,
  expected?: Record<string, readonly number[]>,
): Record<string, Tensor> {
  const op = "loadParameters";
  const node = nodeModules(op, "decodeSafetensors(bytes)");
  return readSafetensors(op, path, readFile(node, op, path), expected).tensors;
}

// ---------------------------------------------------------------------------------------------------
// .npy files
// ---------------------------------------------------------------------------------------------------

/**
 * Save one tensor to `path` in numpy's .npy format (Node.js only): the bytes of `encodeNpy`, which
 * `np.load(path)` returns bit for bit. The write is atomic.
 * @throws Error if `t` is not a Tensor or the file cannot be written (or there is no Node.js: use
 *   `encodeNpy`).
 */
export function saveNpy(path: string, t: Tensor): void {
  const op = "saveNpy";
  const node = nodeModules(op, "encodeNpy(...)");
  writeFileAtomic(node, op, path, npyParts(op, t));
}

/**
 * Load one tensor from a .npy file written by `np.save` or `saveNpy` (Node.js only); checks everything
 * `decodeNpy` checks.
 * @throws Error naming the file and the problem (or that there is no Node.js: use `decodeNpy`).
 */
export function loadNpy(path: string): Tensor {
  const op = "loadNpy";
  const node = nodeModules(op, "decodeNpy(bytes)");
  return readNpy(op, path, readFile(node, op, path));
}

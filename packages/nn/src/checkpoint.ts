/**
 * @file Checkpoints that cannot be corrupted: named parameters in the safetensors format (readable by
 * PyTorch, numpy, JAX), single tensors in numpy's .npy format, written atomically (temp file, fsync,
 * rename) and validated field by field on load, so that a truncated, damaged or mismatched file is an
 * Error naming the file and the problem, never a silently wrong model.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { endianness } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { formatShape, Tensor } from "@tapegrad/autograd";

/** Options of `saveParameters`. */
export interface SaveParametersOptions {
  /** Free-form text stored in the header's `__metadata__` (safetensors allows string values only). */
  metadata?: Record<string, string>;
}

/** What `loadSafetensors` returns: the tensors and the header's `__metadata__`. */
export interface SafetensorsContents {
  /** The tensors by name, in the order of their data in the file (name order for files we write). */
  tensors: Record<string, Tensor>;
  /** The `__metadata__` strings, or `undefined` when the header has none. */
  metadata: Record<string, string> | undefined;
}

// The reference implementation's limit (safetensors/src/tensor.rs MAX_HEADER_SIZE): larger headers are
// not real checkpoints, and refusing them keeps a damaged length field from allocating gigabytes.
const MAX_HEADER_BYTES = 100_000_000;
// write(2) in slices, so that a large checkpoint never sits in one uninterruptible syscall.
const WRITE_CHUNK_BYTES = 1 << 20;
// Both formats store little-endian values: on little-endian hosts (all mainstream ones) tensor data is
// copied byte for byte, which also keeps NaN payloads; big-endian hosts go through a DataView.
const HOST_IS_LITTLE_ENDIAN = endianness() === "LE";

// ---------------------------------------------------------------------------------------------------
// Atomic writes
// ---------------------------------------------------------------------------------------------------

/**
 * Write `parts` to `path` so that at every instant `path` holds either its previous content or the
 * complete new content: write a uniquely named temp file in the same folder (rename is only atomic within
 * one file system), fsync it, rename it over `path`, then fsync the folder so the rename itself survives
 * a power cut. A crash leaves at worst a `.<name>.<pid>-<random>.tmp` file behind, which loaders never read.
 */
function writeFileAtomic(op: string, path: string, parts: readonly Uint8Array[]): void {
  const target = resolve(path);
  const folder = dirname(target);
  const temp = join(folder, `.${basename(target)}.${process.pid}-${randomBytes(6).toString("hex")}.tmp`);
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

function readFile(op: string, path: string): Uint8Array {
  try {
    return fs.readFileSync(path);
  } catch (err) {
    throw new Error(`${op}: could not read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------------------------------
// Little-endian float data
// ---------------------------------------------------------------------------------------------------

/** The bytes of `data` as little-endian float64: a view on little-endian hosts, a copy otherwise. */
function float64Bytes(data: Float64Array): Uint8Array {
  if (HOST_IS_LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let k = 0; k < data.length; k++) view.setFloat64(8 * k, data[k]!, true);
  return out;
}

/** `count` little-endian floats of `itemBytes` (8 or 4) bytes from `bytes[begin..]`, as float64. */
function readFloats(bytes: Uint8Array, begin: number, count: number, itemBytes: 4 | 8): Float64Array {
  const out = new Float64Array(count);
  const src = bytes.subarray(begin, begin + count * itemBytes);
  if (HOST_IS_LITTLE_ENDIAN) {
    // copy into a fresh, aligned buffer: the data in the file need not be 8-byte aligned
    if (itemBytes === 8) {
      new Uint8Array(out.buffer).set(src);
    } else {
      const f32 = new Float32Array(count);
      new Uint8Array(f32.buffer).set(src);
      out.set(f32);
    }
    return out;
  }
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  for (let k = 0; k < count; k++) {
    out[k] = itemBytes === 8 ? view.getFloat64(8 * k, true) : view.getFloat32(4 * k, true);
  }
  return out;
}

/** Product of `shape`, or -1 when it exceeds what a float64 counts exactly. */
function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) return -1;
  }
  return n;
}

function isWellFormed(s: string): boolean {
  // lone surrogates have no UTF-8 encoding: they come back from Buffer as U+FFFD
  return Buffer.from(s, "utf8").toString("utf8") === s;
}

/** A plain record `{ [name]: value }`, safe for every name including `"__proto__"`. */
function record<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, value] of entries) {
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// safetensors
// ---------------------------------------------------------------------------------------------------

/** Bytes per element of the dtypes we load; every other safetensors dtype is refused by name. */
const LOADABLE_DTYPES: Readonly<Record<string, 4 | 8>> = { F64: 8, F32: 4 };
const OTHER_SAFETENSORS_DTYPES = new Set([
  "BOOL",
  "U8",
  "I8",
  "F8_E5M2",
  "F8_E4M3",
  "F8_E8M0",
  "F4",
  "F6_E2M3",
  "F6_E3M2",
  "I16",
  "U16",
  "F16",
  "BF16",
  "I32",
  "U32",
  "I64",
  "U64",
  "C64",
]);
const ENTRY_FIELDS = ["dtype", "shape", "data_offsets"] as const;
const METADATA_KEY = "__metadata__";

/**
 * Save named tensors to `path` in the safetensors format, as F64, so that PyTorch
 * (`safetensors.torch.load_file`), numpy (`safetensors.numpy.load_file`) and JAX users can read them.
 *
 * Layout (https://github.com/huggingface/safetensors): 8 bytes little-endian u64 N; N bytes of compact
 * UTF-8 JSON `{"__metadata__":{…},"name":{"dtype":"F64","shape":[…],"data_offsets":[begin,end]},…}`
 * padded with spaces to a multiple of 8; then each tensor's row-major little-endian float64 data,
 * contiguous. Tensors are ordered by the UTF-8 bytes of their names and metadata keys likewise, so the
 * same parameters always give the same bytes (identical to the reference Python writer's output).
 *
 * The write is atomic: `path` keeps its previous content until the new file is complete and on disk.
 *
 * @param params tensors by name (any shape, including 0-d and empty); typically `module.stateDict()`.
 * @param options `metadata`: strings stored in `__metadata__`.
 * @throws Error if a value is not a Tensor, a name is `"__metadata__"` or not well-formed Unicode, a
 *   metadata value is not a string, or the file cannot be written (naming the path and the cause).
 */
export function saveParameters(
  path: string,
  params: Record<string, Tensor>,
  options: SaveParametersOptions = {},
): void {
  const op = "saveParameters";
  if (typeof params !== "object" || params === null) {
    throw new Error(`${op}: params must be an object of Tensors by name, got ${String(params)}`);
  }
  const names = Object.keys(params).map((name) => ({ name, utf8: Buffer.from(name, "utf8") }));
  names.sort((a, b) => Buffer.compare(a.utf8, b.utf8));
  const header: string[] = [];
  const data: Uint8Array[] = [];
  const { metadata } = options;
  if (metadata !== undefined) header.push(`${JSON.stringify(METADATA_KEY)}:${encodeMetadata(op, metadata)}`);
  let offset = 0;
  for (const { name } of names) {
    const t = params[name];
    if (!(t instanceof Tensor)) {
      throw new Error(`${op}: params[${JSON.stringify(name)}] must be a Tensor, got ${describe(t)}`);
    }
    if (name === METADATA_KEY) throw new Error(`${op}: "${METADATA_KEY}" is reserved by safetensors`);
    if (!isWellFormed(name)) {
      throw new Error(`${op}: name ${JSON.stringify(name)} has a lone surrogate (not encodable as UTF-8)`);
    }
    const bytes = float64Bytes(t.data);
    header.push(
      `${JSON.stringify(name)}:{"dtype":"F64","shape":[${t.shape.join(",")}],"data_offsets":[${offset},${offset + bytes.byteLength}]}`,
    );
    data.push(bytes);
    offset += bytes.byteLength;
  }
  const json = Buffer.from(`{${header.join(",")}}`, "utf8");
  // pad with spaces so the data starts 8-byte aligned (as the reference writer does)
  const headerLength = Math.ceil(json.byteLength / 8) * 8;
  const prefix = Buffer.alloc(8 + headerLength, 0x20);
  prefix.writeBigUInt64LE(BigInt(headerLength), 0);
  json.copy(prefix, 8);
  writeFileAtomic(op, path, [prefix, ...data]);
}

function encodeMetadata(op: string, metadata: Record<string, string>): string {
  if (typeof metadata !== "object" || metadata === null) {
    throw new Error(`${op}: options.metadata must be an object of strings, got ${String(metadata)}`);
  }
  const keys = Object.keys(metadata).map((key) => ({ key, utf8: Buffer.from(key, "utf8") }));
  keys.sort((a, b) => Buffer.compare(a.utf8, b.utf8));
  const items = keys.map(({ key }) => {
    const value: unknown = metadata[key];
    if (typeof value !== "string") {
      throw new Error(
        `${op}: metadata[${JSON.stringify(key)}] must be a string (safetensors metadata is text only), got ${describe(value)}`,
      );
    }
    if (!isWellFormed(key) || !isWellFormed(value)) {
      throw new Error(
        `${op}: metadata[${JSON.stringify(key)}] has a lone surrogate (not encodable as UTF-8)`,
      );
    }
    return `${JSON.stringify(key)}:${JSON.stringify(value)}`;
  });
  return `{${items.join(",")}}`;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? (v.constructor?.name ?? "object") : `${typeof v} ${String(v)}`;
}

/**
 * Load a safetensors file written by `saveParameters`, PyTorch, numpy or any other writer: F64 tensors
 * bit for bit, F32 tensors converted exactly to float64.
 *
 * Everything is checked before any tensor is built, and the first problem is thrown as an Error naming
 * the file: too short for the 8-byte length, a header length beyond the file or over 100 MB, a header that
 * is not UTF-8, not JSON, not an object or does not start with `{`, duplicate names or fields, an entry
 * without `dtype`/`shape`/`data_offsets` or with other fields, shapes that are not non-negative integers,
 * dtypes other than F64/F32, offsets out of the data section or not matching shape × dtype size, data
 * regions that overlap or leave a gap, trailing bytes, `__metadata__` that is not an object of strings.
 * NaN and ±Infinity in the data are values like any other.
 *
 * @param expected names → shapes the caller needs (e.g. from `module.namedParameters()`): every missing
 *   name, unexpected name and wrong shape is listed in one Error.
 */
export function loadSafetensors(
  path: string,
  expected?: Record<string, readonly number[]>,
): SafetensorsContents {
  return decodeSafetensors("loadSafetensors", path, readFile("loadSafetensors", path), expected);
}

/**
 * Load the tensors of a safetensors file by name; see `loadSafetensors` for what is checked.
 * @param expected names → shapes to require: a file with a missing name, an unexpected name or a wrong
 *   shape is rejected, each one named.
 * @returns new tensors (not requiring grad) by name; feed them to `module.loadStateDict`.
 * @throws Error naming the file and the problem.
 */
export function loadParameters(
  path: string,
  expected?: Record<string, readonly number[]>,
): Record<string, Tensor> {
  return decodeSafetensors("loadParameters", path, readFile("loadParameters", path), expected).tensors;
}

/** Throws an Error naming the op, the file and `problem`; typed so that TypeScript narrows after a call. */
type Fail = (problem: string) => never;

interface Entry {
  name: string;
  itemBytes: 4 | 8;
  shape: number[];
  begin: number;
  end: number;
}

function decodeSafetensors(
  op: string,
  path: string,
  bytes: Uint8Array,
  expected: Record<string, readonly number[]> | undefined,
): SafetensorsContents {
  const fail: Fail = (problem) => {
    throw new Error(`${op}: ${path}: ${problem}`);
  };
  if (bytes.byteLength < 8) {
    fail(`file is ${bytes.byteLength} bytes, shorter than the 8-byte header length of a safetensors file`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) {
    fail(`header length ${n64} is absurd (limit ${MAX_HEADER_BYTES} bytes): not a safetensors file?`);
  }
  const n = Number(n64);
  if (8 + n > bytes.byteLength) {
    fail(`header length ${n} extends beyond the file (${bytes.byteLength} bytes): truncated?`);
  }
  let text = "";
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail("header is not valid UTF-8");
  }
  let header: JsonValue = null;
  try {
    header = parseJson(text);
  } catch (err) {
    fail(`header is not valid JSON: ${(err as Error).message}`);
  }
  if (!(header instanceof Map)) fail(`header is not a JSON object, got ${jsonKind(header)}`);
  // serde-based readers (safetensors ≥ 0.4) refuse anything before the "{"
  if (!text.startsWith("{")) fail('header does not start with "{"');

  const dataLength = bytes.byteLength - 8 - n;
  const entries: Entry[] = [];
  let metadata: Record<string, string> | undefined;
  for (const [name, value] of header) {
    if (name === METADATA_KEY) {
      metadata = decodeMetadata(value, fail);
      continue;
    }
    const where = `tensor ${JSON.stringify(name)}`;
    if (!(value instanceof Map)) return fail(`${where}: expected an object, got ${jsonKind(value)}`);
    const fields = value;
    for (const field of ENTRY_FIELDS) if (!fields.has(field)) fail(`${where}: missing "${field}"`);
    for (const field of fields.keys()) {
      if (!(ENTRY_FIELDS as readonly string[]).includes(field)) {
        fail(`${where}: unexpected field ${JSON.stringify(field)}`);
      }
    }
    const dtype = fields.get("dtype");
    if (typeof dtype !== "string") fail(`${where}: dtype must be a string, got ${jsonKind(dtype)}`);
    const itemBytes = LOADABLE_DTYPES[dtype];
    if (itemBytes === undefined) {
      fail(
        OTHER_SAFETENSORS_DTYPES.has(dtype)
          ? `${where}: dtype ${dtype} is not supported (tapegrad loads F64, and F32 converted to float64)`
          : `${where}: unknown dtype ${JSON.stringify(dtype)} (expected F64 or F32)`,
      );
    }
    const shape = integers(fields.get("shape"), `${where}: shape`, fail);
    const offsets = integers(fields.get("data_offsets"), `${where}: data_offsets`, fail);
    if (offsets.length !== 2)
      fail(`${where}: data_offsets must be [begin, end], got ${formatShape(offsets)}`);
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLength) {
      fail(
        `${where}: data_offsets [${begin}, ${end}] extend beyond the data section (${dataLength} bytes): truncated?`,
      );
    }
    const count = elementCount(shape);
    if (count < 0 || count * itemBytes !== end - begin) {
      fail(
        `${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes but shape ${formatShape(shape)} of ${dtype} needs ${count < 0 ? "more than 2^53" : count * itemBytes}`,
      );
    }
    entries.push({ name, itemBytes, shape, begin, end });
  }

  // The data section must be exactly the tensors' regions, back to back: no byte unaccounted for.
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: Entry | undefined;
  for (const e of byOffset) {
    if (e.begin > cursor) {
      fail(
        `bytes [${cursor}, ${e.begin}) of the data section belong to no tensor (gap before ${JSON.stringify(e.name)})`,
      );
    }
    if (e.begin < cursor && previous !== undefined) {
      fail(
        `tensor ${JSON.stringify(e.name)} at [${e.begin}, ${e.end}] overlaps ${JSON.stringify(previous.name)} at [${previous.begin}, ${previous.end}]`,
      );
    }
    cursor = e.end;
    previous = e;
  }
  if (cursor !== dataLength) {
    fail(
      `${dataLength - cursor} trailing bytes after the last tensor (data section ${dataLength} bytes, tensors cover ${cursor})`,
    );
  }

  if (expected !== undefined) checkExpected(byOffset, expected, fail);
  const start = 8 + n;
  const tensors = record(
    byOffset.map(
      (e) =>
        [
          e.name,
          new Tensor(
            readFloats(bytes, start + e.begin, (e.end - e.begin) / e.itemBytes, e.itemBytes),
            e.shape,
          ),
        ] as const,
    ),
  );
  return { tensors, metadata };
}

function decodeMetadata(value: JsonValue, fail: Fail): Record<string, string> {
  if (!(value instanceof Map))
    return fail(`__metadata__ must be an object of strings, got ${jsonKind(value)}`);
  for (const [key, v] of value) {
    if (typeof v !== "string")
      fail(`__metadata__[${JSON.stringify(key)}] must be a string, got ${jsonKind(v)}`);
  }
  return record(value as Map<string, string>);
}

/** `value` as an array of non-negative integers written as plain JSON integers (no `2.0`, no `1e3`). */
function integers(value: JsonValue | undefined, what: string, fail: Fail): number[] {
  if (!Array.isArray(value)) return fail(`${what} must be an array of integers, got ${jsonKind(value)}`);
  return value.map((v, k) => {
    if (
      v instanceof JsonNumber &&
      /^(0|[1-9][0-9]*)$/.test(v.text) &&
      Number(v.text) <= Number.MAX_SAFE_INTEGER
    ) {
      return Number(v.text);
    }
    return fail(
      `${what}: entry ${k} is ${v instanceof JsonNumber ? v.text : jsonKind(v)}, expected a non-negative integer`,
    );
  });
}

function checkExpected(
  entries: readonly Entry[],
  expected: Record<string, readonly number[]>,
  fail: Fail,
): void {
  const found = new Map(entries.map((e) => [e.name, e.shape]));
  const problems: string[] = [];
  for (const name of Object.keys(expected)) {
    const want = expected[name]!;
    const got = found.get(name);
    if (got === undefined)
      problems.push(`missing ${JSON.stringify(name)} (expected shape ${formatShape(want)})`);
    else if (got.length !== want.length || got.some((d, k) => d !== want[k])) {
      problems.push(`${JSON.stringify(name)} has shape ${formatShape(got)}, expected ${formatShape(want)}`);
    }
  }
  for (const e of entries) {
    if (!Object.hasOwn(expected, e.name)) {
      problems.push(`unexpected ${JSON.stringify(e.name)} (shape ${formatShape(e.shape)})`);
    }
  }
  if (problems.length > 0) fail(`does not match the expected parameters: ${problems.join("; ")}`);
}

// ---------------------------------------------------------------------------------------------------
// A strict JSON parser for the header
// ---------------------------------------------------------------------------------------------------

/** A JSON number, kept as its source text so that integers are checked exactly. */
class JsonNumber {
  constructor(readonly text: string) {}
}
/** Objects are Maps: duplicate keys are refused and no key (`"__proto__"`) is special. */
type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | Map<string, JsonValue>;

function jsonKind(v: JsonValue | undefined): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (v instanceof Map) return "an object";
  if (Array.isArray(v)) return "an array";
  if (v instanceof JsonNumber) return `the number ${v.text}`;
  return typeof v === "string" ? `the string ${JSON.stringify(v)}` : `${v}`;
}

// JSON.parse keeps the last of duplicate keys silently; safetensors forbids duplicates, so we parse
// ourselves. Headers are small (a few KB for a model), the data is never parsed as JSON.
const MAX_JSON_DEPTH = 64;
const JSON_NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

function parseJson(text: string): JsonValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at character ${i}`);
  };
  const skipSpace = (): void => {
    for (
      let c = text.charCodeAt(i);
      c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
      c = text.charCodeAt(++i)
    );
  };
  const expect = (ch: string): void => {
    if (text[i] !== ch) fail(`expected ${JSON.stringify(ch)}, found ${found()}`);
    i++;
  };
  const found = (): string => (i < text.length ? JSON.stringify(text[i]) : "end of input");
  const hex4 = (): number => {
    HEX4.lastIndex = i;
    if (!HEX4.test(text)) fail("expected 4 hex digits after \\u");
    i += 4;
    return Number.parseInt(text.slice(i - 4, i), 16);
  };
  const string = (): string => {
    i++; // the opening quote
    let out = "";
    let from = i;
    for (;;) {
      const c = text.charCodeAt(i);
      if (Number.isNaN(c)) fail("unterminated string");
      if (c === 0x22) break;
      if (c < 0x20) fail("raw control character in a string");
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(from, i);
      const e = text[++i] ?? "";
      i++;
      if (e === "u") {
        const unit = hex4();
        if (unit >= 0xdc00 && unit <= 0xdfff) fail("lone low surrogate escape");
        if (unit >= 0xd800 && unit <= 0xdbff) {
          if (text.slice(i, i + 2) !== "\\u") fail("lone high surrogate escape");
          i += 2;
          const low = hex4();
          if (low < 0xdc00 || low > 0xdfff) fail("lone high surrogate escape");
          out += String.fromCharCode(unit, low);
        } else {
          out += String.fromCharCode(unit);
        }
      } else {
        const ch = SIMPLE_ESCAPES[e];
        if (ch === undefined) fail(`invalid escape \\${e}`);
        out += ch;
      }
      from = i;
    }
    out += text.slice(from, i);
    i++; // the closing quote
    return out;
  };
  const value = (depth: number): JsonValue => {
    if (depth > MAX_JSON_DEPTH) fail(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    skipSpace();
    const c = text[i];
    if (c === "{") {
      i++;
      const map = new Map<string, JsonValue>();
      skipSpace();
      if (text[i] === "}") {
        i++;
        return map;
      }
      for (;;) {
        skipSpace();
        if (text[i] !== '"') fail(`expected a string key, found ${found()}`);
        const key = string();
        if (map.has(key)) fail(`duplicate key ${JSON.stringify(key)}`);
        skipSpace();
        expect(":");
        map.set(key, value(depth + 1));
        skipSpace();
        if (text[i] === "}") {
          i++;
          return map;
        }
        expect(",");
      }
    }
    if (c === "[") {
      i++;
      const items: JsonValue[] = [];
      skipSpace();
      if (text[i] === "]") {
        i++;
        return items;
      }
      for (;;) {
        items.push(value(depth + 1));
        skipSpace();
        if (text[i] === "]") {
          i++;
          return items;
        }
        expect(",");
      }
    }
    if (c === '"') return string();
    JSON_NUMBER.lastIndex = i;
    const num = JSON_NUMBER.exec(text);
    if (num !== null) {
      i += num[0].length;
      return new JsonNumber(num[0]);
    }
    for (const [word, v] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return fail(`unexpected ${found()}`);
  };
  const result = value(0);
  skipSpace();
  if (i !== text.length) fail(`unexpected ${found()} after the JSON value`);
  return result;
}

// ---------------------------------------------------------------------------------------------------
// .npy
// ---------------------------------------------------------------------------------------------------

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const NPY_ALIGN = 64;
// np.save leaves room in the header for the first axis to grow to this many digits (numpy 2.x
// GROWTH_AXIS_MAX_DIGITS); doing the same makes saveNpy's bytes identical to np.save's.
const NPY_GROWTH_DIGITS = 21;
const NPY_DESCR_BYTES: Readonly<Record<string, 4 | 8>> = { "<f8": 8, "<f4": 4 };

/**
 * Save one tensor to `path` in numpy's .npy format, version 1.0, dtype `<f8`, C order, so that
 * `np.load(path)` returns it bit for bit. The bytes are those `np.save` writes: magic `\x93NUMPY`,
 * version 1.0, u16 little-endian header length, the header dict
 * `{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }` padded with spaces and a newline so that
 * the data starts at a multiple of 64 bytes, then the row-major data. The write is atomic.
 * @throws Error if `t` is not a Tensor or the file cannot be written.
 */
export function saveNpy(path: string, t: Tensor): void {
  const op = "saveNpy";
  if (!(t instanceof Tensor)) throw new Error(`${op}: expected a Tensor, got ${describe(t)}`);
  const { shape } = t;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '<f8', 'fortran_order': False, 'shape': ${shapeText}, }`;
  if (shape.length > 0) dict += " ".repeat(Math.max(0, NPY_GROWTH_DIGITS - String(shape[0]).length));
  // numpy's _wrap_header: the newline counts in the header, and an already aligned header still gets
  // a full block of padding
  const padding = NPY_ALIGN - ((10 + dict.length + 1) % NPY_ALIGN);
  const headerLength = dict.length + padding + 1;
  if (headerLength > 0xffff) {
    throw new Error(
      `${op}: shape ${formatShape(shape)} needs a ${headerLength}-byte header, over format 1.0's 65535`,
    );
  }
  const prefix = Buffer.alloc(10 + headerLength, 0x20);
  prefix.set(NPY_MAGIC, 0);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(headerLength, 8);
  prefix.write(dict, 10, "latin1");
  prefix[prefix.length - 1] = 0x0a;
  writeFileAtomic(op, path, [prefix, float64Bytes(t.data)]);
}

/**
 * Load one tensor from a .npy file (format 1.0 or 2.0, dtype `<f8` bit for bit, or `<f4` converted
 * exactly to float64, C order), as written by `np.save` or `saveNpy`.
 * @throws Error naming the file and the problem: a short file, wrong magic, an unsupported version, a
 *   header beyond the file or not a dict with exactly `descr`, `fortran_order` and `shape`, another dtype,
 *   Fortran order, or data whose byte count does not match the shape.
 */
export function loadNpy(path: string): Tensor {
  const op = "loadNpy";
  const fail: Fail = (problem) => {
    throw new Error(`${op}: ${path}: ${problem}`);
  };
  const bytes = readFile(op, path);
  if (bytes.byteLength < 10)
    fail(`file is ${bytes.byteLength} bytes, shorter than the 10-byte .npy preamble`);
  if (NPY_MAGIC.some((b, k) => bytes[k] !== b)) fail("not a .npy file (it does not start with \\x93NUMPY)");
  const [major, minor] = [bytes[6]!, bytes[7]!];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start = 10;
  let headerLength = 0;
  if (major === 1 && minor === 0) {
    headerLength = view.getUint16(8, true);
  } else if (major === 2 && minor === 0) {
    if (bytes.byteLength < 12)
      fail(`file is ${bytes.byteLength} bytes, shorter than the 12-byte .npy 2.0 preamble`);
    headerLength = view.getUint32(8, true);
    start = 12;
  } else {
    fail(`.npy version ${major}.${minor} is not supported (expected 1.0 or 2.0)`);
  }
  if (start + headerLength > bytes.byteLength) {
    fail(`header length ${headerLength} extends beyond the file (${bytes.byteLength} bytes): truncated?`);
  }
  const headerText = Buffer.from(bytes.buffer, bytes.byteOffset + start, headerLength).toString("latin1");
  let dict = new Map<string, PyValue>();
  try {
    dict = parsePyDict(headerText);
  } catch (err) {
    fail(`header is not a Python dict literal: ${(err as Error).message}`);
  }
  const keys = [...dict.keys()].sort();
  if (keys.join() !== "descr,fortran_order,shape") {
    fail(
      `header keys are ${keys.map((k) => `'${k}'`).join(", ")}; expected 'descr', 'fortran_order', 'shape'`,
    );
  }
  const descr = dict.get("descr");
  const itemBytes = typeof descr === "string" ? NPY_DESCR_BYTES[descr] : undefined;
  if (itemBytes === undefined) {
    fail(`dtype ${pyRepr(descr)} is not supported (expected '<f8', or '<f4' converted to float64)`);
  }
  const fortranOrder = dict.get("fortran_order");
  if (fortranOrder !== false) {
    fail(
      `fortran_order is ${pyRepr(fortranOrder)}; only C order (False) is supported (tensors are row-major)`,
    );
  }
  const shape = dict.get("shape");
  if (!Array.isArray(shape)) return fail(`shape is ${pyRepr(shape)}, expected a tuple of integers`);
  const count = elementCount(shape);
  const dataBytes = bytes.byteLength - start - headerLength;
  const needed = count * itemBytes;
  if (count < 0 || needed !== dataBytes) {
    fail(
      `data is ${dataBytes} bytes but shape ${pyRepr(shape)} of ${pyRepr(descr)} needs ${count < 0 ? "more than 2^53 elements" : `${needed}`}${needed > dataBytes ? ": truncated?" : ""}`,
    );
  }
  return new Tensor(readFloats(bytes, start + headerLength, count, itemBytes), [...shape]);
}

/** The values a .npy header holds: strings, booleans, tuples of non-negative integers. */
type PyValue = string | boolean | number[];

function pyRepr(v: PyValue | undefined): string {
  if (v === undefined) return "missing";
  if (typeof v === "string") return `'${v}'`;
  if (typeof v === "boolean") return v ? "True" : "False";
  return v.length === 1 ? `(${v[0]},)` : `(${v.join(", ")})`;
}

/**
 * Parse the subset of Python literals numpy writes in a .npy header: `{'key': value, …}` with string,
 * `True`/`False` and integer-tuple values, optional trailing commas, trailing spaces and newline.
 */
function parsePyDict(text: string): Map<string, PyValue> {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at character ${i}`);
  };
  const found = (): string => (i < text.length ? JSON.stringify(text[i]) : "end of input");
  const skipSpace = (): void => {
    while (i < text.length && " \t\r\n".includes(text[i]!)) i++;
  };
  const expect = (ch: string): void => {
    skipSpace();
    if (text[i] !== ch) fail(`expected ${JSON.stringify(ch)}, found ${found()}`);
    i++;
  };
  const string = (): string => {
    const quote = text[i]!;
    const close = text.indexOf(quote, i + 1);
    if (close < 0) fail("unterminated string");
    const s = text.slice(i + 1, close);
    if (s.includes("\\") || s.includes("\n")) fail("escapes are not supported in header strings");
    i = close + 1;
    return s;
  };
  const integer = (): number => {
    const m = /0|[1-9][0-9]*/y;
    m.lastIndex = i;
    const digits = m.exec(text)?.[0];
    if (digits === undefined) return fail(`expected a non-negative integer, found ${found()}`);
    i += digits.length;
    const v = Number(digits);
    if (!Number.isSafeInteger(v)) fail(`integer ${digits} is too large`);
    return v;
  };
  const tuple = (): number[] => {
    i++; // "("
    const items: number[] = [];
    let comma = false;
    for (;;) {
      skipSpace();
      if (text[i] === ")") break;
      items.push(integer());
      skipSpace();
      comma = text[i] === ",";
      if (comma) i++;
      else if (text[i] !== ")") fail(`expected "," or ")", found ${found()}`);
    }
    i++;
    // (5) is the integer 5 in Python, not a tuple
    if (items.length === 1 && !comma) fail("a one-element tuple needs a trailing comma");
    return items;
  };
  const value = (): PyValue => {
    skipSpace();
    const c = text[i];
    if (c === "'" || c === '"') return string();
    if (c === "(") return tuple();
    for (const [word, v] of [
      ["True", true],
      ["False", false],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return fail(`unexpected ${found()}`);
  };
  const dict = new Map<string, PyValue>();
  expect("{");
  for (;;) {
    skipSpace();
    if (text[i] === "}") break;
    if (text[i] !== "'" && text[i] !== '"') fail(`expected a string key, found ${found()}`);
    const key = string();
    if (dict.has(key)) fail(`duplicate key '${key}'`);
    expect(":");
    dict.set(key, value());
    skipSpace();
    if (text[i] === ",") i++;
    else if (text[i] !== "}") fail(`expected "," or "}", found ${found()}`);
  }
  i++;
  skipSpace();
  if (i !== text.length) fail(`unexpected ${found()} after the dict`);
  return dict;
}

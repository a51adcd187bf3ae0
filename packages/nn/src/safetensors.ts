/**
 * @file safetensors as bytes: `encodeSafetensors` and `decodeSafetensors`, the format PyTorch, numpy and
 * JAX read (https://github.com/huggingface/safetensors). Web-platform APIs only, so it runs in Node and in
 * browsers; checkpoint-files.ts writes and reads these bytes as files in Node.
 *
 * Layout: 8 bytes little-endian u64 N; N bytes of compact UTF-8 JSON
 * `{"__metadata__":{…},"name":{"dtype":"F64","shape":[…],"data_offsets":[begin,end]},…}` padded with
 * spaces to a multiple of 8; then each tensor's row-major little-endian data, contiguous.
 */
import { formatShape, Tensor } from "@tapegrad/autograd";
import { describeValue } from "@tapegrad/autograd/validate";
import {
  compareBytes,
  concatBytes,
  elementCount,
  type Fail,
  failWith,
  float64Bytes,
  isWellFormed,
  readFloats,
  readIntegers,
  record,
  utf8,
} from "./bytes.js";
import { JsonNumber, type JsonValue, jsonKind, parseJson } from "./strict-json.js";

/** What `decodeSafetensors` (and `loadSafetensors`) return: the tensors and the header's `__metadata__`. */
export interface SafetensorsContents {
  /** The tensors by name, in the order of their data in the file (name order for files we write). */
  tensors: Record<string, Tensor>;
  /** The `__metadata__` strings, or `undefined` when the header has none. */
  metadata: Record<string, string> | undefined;
}

// The reference implementation's limit (safetensors/src/tensor.rs MAX_HEADER_SIZE): larger headers are
// not real checkpoints, and refusing them keeps a damaged length field from allocating gigabytes.
const MAX_HEADER_BYTES = 100_000_000;

/**
 * Bytes per element of the dtypes we load, all converted exactly to float64 (integers only while |v| ≤ 2^53,
 * which PyTorch's int64 buffers such as `num_batches_tracked` always are); every other dtype is refused by
 * name.
 */
const LOADABLE_DTYPES: Readonly<Record<LoadableDtype, 4 | 8>> = { F64: 8, F32: 4, I64: 8, I32: 4 };
type LoadableDtype = "F64" | "F32" | "I64" | "I32";
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
  "U32",
  "U64",
  "C64",
]);
const ENTRY_FIELDS = ["dtype", "shape", "data_offsets"] as const;
const METADATA_KEY = "__metadata__";

// ---------------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------------

/**
 * Encode named tensors as a safetensors file's bytes, F64, so that PyTorch
 * (`safetensors.torch.load`), numpy and JAX users can read them. Tensors are ordered by the UTF-8 bytes of
 * their names and metadata keys likewise, so the same tensors always give the same bytes (identical to
 * the reference Python writer's output). Save the bytes as you like: a download in a browser,
 * `saveParameters` in Node.
 *
 * @param tensors tensors by name (any shape, including 0-d and empty); typically `module.stateDict()`.
 * @param metadata strings stored in the header's `__metadata__` (safetensors allows string values only).
 * @returns the complete file, header and data.
 * @throws Error starting `encodeSafetensors:` if a value is not a Tensor, a name is `"__metadata__"` or not
 *   well-formed Unicode, or a metadata value is not a string.
 * @example
 * const bytes = encodeSafetensors(model.stateDict(), { step: "100" });
 * model.loadStateDict(decodeSafetensors(bytes).tensors);
 */
export function encodeSafetensors(
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  return concatBytes(safetensorsParts("encodeSafetensors", "tensors", "metadata", tensors, metadata));
}

/**
 * The bytes of a safetensors file as parts (the header, then each tensor's data: views, not copies, on
 * little-endian hosts), so that a file writer streams them without one more copy of every tensor.
 * `argName`/`metadataName` are how messages call the two arguments (`params`, `options.metadata`).
 */
export function safetensorsParts(
  op: string,
  argName: string,
  metadataName: string,
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> | undefined,
): Uint8Array[] {
  if (typeof tensors !== "object" || tensors === null) {
    throw new Error(`${op}: ${argName} must be an object of Tensors by name, got ${describeValue(tensors)}`);
  }
  const names = Object.keys(tensors).map((name) => ({ name, utf8: utf8(name) }));
  names.sort((a, b) => compareBytes(a.utf8, b.utf8));
  const header: string[] = [];
  const data: Uint8Array[] = [];
  if (metadata !== undefined) {
    header.push(`${JSON.stringify(METADATA_KEY)}:${encodeMetadata(op, metadataName, metadata)}`);
  }
  let offset = 0;
  for (const { name } of names) {
    const t = tensors[name];
    if (!(t instanceof Tensor)) {
      throw new Error(`${op}: ${argName}[${JSON.stringify(name)}] must be a Tensor, got ${describeValue(t)}`);
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
  const json = utf8(`{${header.join(",")}}`);
  // pad with spaces so the data starts 8-byte aligned (as the reference writer does)
  const headerLength = Math.ceil(json.byteLength / 8) * 8;
  const prefix = new Uint8Array(8 + headerLength).fill(0x20);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerLength), true);
  prefix.set(json, 8);
  return [prefix, ...data];
}

function encodeMetadata(op: string, name: string, metadata: Record<string, string>): string {
  if (typeof metadata !== "object" || metadata === null) {
    throw new Error(`${op}: ${name} must be an object of strings, got ${describeValue(metadata)}`);
  }
  const keys = Object.keys(metadata).map((key) => ({ key, utf8: utf8(key) }));
  keys.sort((a, b) => compareBytes(a.utf8, b.utf8));
  const items = keys.map(({ key }) => {
    const value: unknown = metadata[key];
    if (typeof value !== "string") {
      throw new Error(
        `${op}: metadata[${JSON.stringify(key)}] must be a string (safetensors metadata is text only), got ${describeValue(value)}`,
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

// ---------------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------------

/**
 * Decode the bytes of a safetensors file written by `encodeSafetensors`, PyTorch, numpy or any other
 * writer: F64 tensors bit for bit, F32 tensors converted exactly to float64.
 *
 * Everything is checked before any tensor is built, and the first problem is thrown: too short for the
 * 8-byte length, a header length beyond the input or over 100 MB, a header that is not UTF-8, not JSON,
 * not an object or does not start with `{`, duplicate names or fields, an entry without
 * `dtype`/`shape`/`data_offsets` or with other fields, shapes that are not non-negative integers, dtypes
 * other than F64/F32, offsets out of the data section or not matching shape × dtype size, data regions
 * that overlap or leave a gap, trailing bytes, `__metadata__` that is not an object of strings.
 * NaN and ±Infinity in the data are values like any other.
 *
 * @param bytes the whole file (a `Uint8Array`, or an `ArrayBuffer` such as `await response.arrayBuffer()`).
 * @param expected names → shapes the caller needs (e.g. from `module.namedParameters()`): every missing
 *   name, unexpected name and wrong shape is listed in one Error.
 * @returns new tensors (not requiring grad) by name, and the `__metadata__` strings.
 * @throws Error starting `decodeSafetensors:` and naming the problem.
 */
export function decodeSafetensors(
  bytes: Uint8Array | ArrayBuffer,
  expected?: Record<string, readonly number[]>,
): SafetensorsContents {
  return readSafetensors("decodeSafetensors", undefined, asBytes("decodeSafetensors", bytes), expected);
}

/** `bytes` as a Uint8Array, or an Error naming `op` for anything else. */
export function asBytes(op: string, bytes: unknown): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  throw new Error(`${op}: bytes must be a Uint8Array or an ArrayBuffer, got ${describeValue(bytes)}`);
}

interface Entry {
  name: string;
  dtype: LoadableDtype;
  itemBytes: 4 | 8;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * `decodeSafetensors` for any caller: messages start `op: ` (and name `path` when the bytes came from a
 * file).
 */
export function readSafetensors(
  op: string,
  path: string | undefined,
  bytes: Uint8Array,
  expected: Record<string, readonly number[]> | undefined,
): SafetensorsContents {
  const fail: Fail = failWith(op, path);
  const source = path === undefined ? "input" : "file";
  if (bytes.byteLength < 8) {
    fail(
      `${source} is ${bytes.byteLength} bytes, shorter than the 8-byte header length of a safetensors file`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) {
    fail(`header length ${n64} is absurd (limit ${MAX_HEADER_BYTES} bytes): not a safetensors file?`);
  }
  const n = Number(n64);
  if (8 + n > bytes.byteLength) {
    fail(`header length ${n} extends beyond the ${source} (${bytes.byteLength} bytes): truncated?`);
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
    const itemBytes = Object.hasOwn(LOADABLE_DTYPES, dtype)
      ? LOADABLE_DTYPES[dtype as LoadableDtype]
      : undefined;
    if (itemBytes === undefined) {
      fail(
        OTHER_SAFETENSORS_DTYPES.has(dtype)
          ? `${where}: dtype ${dtype} is not supported (tapegrad loads F64, and F32, I64, I32 converted exactly to float64)`
          : `${where}: unknown dtype ${JSON.stringify(dtype)} (expected F64, F32, I64 or I32)`,
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
    entries.push({ name, dtype: dtype as LoadableDtype, itemBytes, shape, begin, end });
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
            e.dtype === "I64" || e.dtype === "I32"
              ? readIntegers(bytes, start + e.begin, (e.end - e.begin) / e.itemBytes, e.itemBytes, (k, v) =>
                  fail(
                    `tensor ${JSON.stringify(e.name)}: ${e.dtype} value ${v} at flat index ${k} is beyond 2^53 and has no exact float64`,
                  ),
                )
              : readFloats(bytes, start + e.begin, (e.end - e.begin) / e.itemBytes, e.itemBytes),
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

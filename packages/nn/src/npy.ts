/**
 * @file numpy's .npy format as bytes: `encodeNpy` writes what `np.save` writes, `decodeNpy` reads what it
 * (or `encodeNpy`) wrote. Web-platform APIs only, so it runs in Node and in browsers; checkpoint-files.ts
 * writes and reads these bytes as files in Node.
 */
import { formatShape, Tensor } from "@tapegrad/autograd";
import { describeValue } from "@tapegrad/autograd/validate";
import { concatBytes, elementCount, type Fail, failWith, float64Bytes, latin1, readFloats } from "./bytes.js";
import { asBytes } from "./safetensors.js";

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const NPY_ALIGN = 64;
// np.save leaves room in the header for the first axis to grow to this many digits (numpy 2.x
// GROWTH_AXIS_MAX_DIGITS); doing the same makes encodeNpy's bytes identical to np.save's.
const NPY_GROWTH_DIGITS = 21;
const NPY_DESCR_BYTES: Readonly<Record<string, 4 | 8>> = { "<f8": 8, "<f4": 4 };

/**
 * Encode one tensor in numpy's .npy format, version 1.0, dtype `<f8`, C order, so that `np.load` returns
 * it bit for bit. The bytes are those `np.save` writes: magic `\x93NUMPY`, version 1.0, u16 little-endian
 * header length, the header dict `{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }` padded
 * with spaces and a newline so that the data starts at a multiple of 64 bytes, then the row-major data.
 * @returns the complete file.
 * @throws Error starting `encodeNpy:` if `t` is not a Tensor.
 */
export function encodeNpy(t: Tensor): Uint8Array {
  return concatBytes(npyParts("encodeNpy", t));
}

/** The bytes of a .npy file as two parts, the header and the data (a view on little-endian hosts). */
export function npyParts(op: string, t: Tensor): Uint8Array[] {
  if (!(t instanceof Tensor)) throw new Error(`${op}: expected a Tensor, got ${describeValue(t)}`);
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
  const prefix = new Uint8Array(10 + headerLength).fill(0x20);
  prefix.set(NPY_MAGIC, 0);
  prefix[6] = 1;
  prefix[7] = 0;
  new DataView(prefix.buffer).setUint16(8, headerLength, true);
  // the dict is ASCII: digits, letters, quotes, punctuation
  for (let k = 0; k < dict.length; k++) prefix[10 + k] = dict.charCodeAt(k);
  prefix[prefix.length - 1] = 0x0a;
  return [prefix, float64Bytes(t.data)];
}

/**
 * Decode one tensor from the bytes of a .npy file (format 1.0 or 2.0, dtype `<f8` bit for bit, or `<f4`
 * converted exactly to float64, C order), as written by `np.save` or `encodeNpy`.
 * @param bytes the whole file (a `Uint8Array` or an `ArrayBuffer`).
 * @throws Error starting `decodeNpy:` and naming the problem: a short input, wrong magic, an unsupported
 *   version, a header beyond the input or not a dict with exactly `descr`, `fortran_order` and `shape`,
 *   another dtype, Fortran order, or data whose byte count does not match the shape.
 */
export function decodeNpy(bytes: Uint8Array | ArrayBuffer): Tensor {
  return readNpy("decodeNpy", undefined, asBytes("decodeNpy", bytes));
}

/** `decodeNpy` for any caller: messages start `op: ` (and name `path` when the bytes came from a file). */
export function readNpy(op: string, path: string | undefined, bytes: Uint8Array): Tensor {
  const fail: Fail = failWith(op, path);
  const source = path === undefined ? "input" : "file";
  if (bytes.byteLength < 10)
    fail(`${source} is ${bytes.byteLength} bytes, shorter than the 10-byte .npy preamble`);
  if (NPY_MAGIC.some((b, k) => bytes[k] !== b)) fail(`not a .npy file (it does not start with \\x93NUMPY)`);
  const [major, minor] = [bytes[6]!, bytes[7]!];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start = 10;
  let headerLength = 0;
  if (major === 1 && minor === 0) {
    headerLength = view.getUint16(8, true);
  } else if (major === 2 && minor === 0) {
    if (bytes.byteLength < 12)
      fail(`${source} is ${bytes.byteLength} bytes, shorter than the 12-byte .npy 2.0 preamble`);
    headerLength = view.getUint32(8, true);
    start = 12;
  } else {
    fail(`.npy version ${major}.${minor} is not supported (expected 1.0 or 2.0)`);
  }
  if (start + headerLength > bytes.byteLength) {
    fail(
      `header length ${headerLength} extends beyond the ${source} (${bytes.byteLength} bytes): truncated?`,
    );
  }
  const headerText = latin1(bytes.subarray(start, start + headerLength));
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

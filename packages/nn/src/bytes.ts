/**
 * @file Little-endian float data, UTF-8 and Latin-1 text, for the byte codecs of safetensors.ts and
 * npy.ts. Web-platform APIs only (Uint8Array, DataView, TextEncoder, TextDecoder): runs in Node and browsers.
 */

/**
 * Both formats store little-endian values: on little-endian hosts (all mainstream ones) tensor data is
 * copied byte for byte, which also keeps NaN payloads; big-endian hosts go through a DataView.
 */
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const utf8Encoder = new TextEncoder();

/** The bytes of `data` as little-endian float64: a view on little-endian hosts, a copy otherwise. */
export function float64Bytes(data: Float64Array): Uint8Array {
  if (HOST_IS_LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let k = 0; k < data.length; k++) view.setFloat64(8 * k, data[k]!, true);
  return out;
}

/** `count` little-endian floats of `itemBytes` (8 or 4) bytes from `bytes[begin..]`, as float64. */
export function readFloats(bytes: Uint8Array, begin: number, count: number, itemBytes: 4 | 8): Float64Array {
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

/**
 * `count` little-endian signed integers of `itemBytes` (8: int64, 4: int32) bytes from `bytes[begin..]`, as
 * float64; an int64 beyond ±2^53 (no exact float64) calls `tooLarge(k, value)`, which throws.
 */
export function readIntegers(
  bytes: Uint8Array,
  begin: number,
  count: number,
  itemBytes: 4 | 8,
  tooLarge: (k: number, value: bigint) => never,
): Float64Array {
  const out = new Float64Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + begin, count * itemBytes);
  const limit = BigInt(Number.MAX_SAFE_INTEGER);
  for (let k = 0; k < count; k++) {
    if (itemBytes === 4) out[k] = view.getInt32(4 * k, true);
    else {
      const v = view.getBigInt64(8 * k, true);
      if (v > limit || v < -limit) tooLarge(k, v);
      out[k] = Number(v);
    }
  }
  return out;
}

/** Product of `shape`, or -1 when it exceeds what a float64 counts exactly. */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) return -1;
  }
  return n;
}

/** The UTF-8 bytes of `s` (a lone surrogate becomes U+FFFD: check `isWellFormed` first). */
export function utf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

/** Whether `s` has a UTF-8 encoding: no lone surrogate (those come back from a round trip as U+FFFD). */
export function isWellFormed(s: string): boolean {
  return new TextDecoder().decode(utf8Encoder.encode(s)) === s;
}

/** Byte-wise order of two byte strings (memcmp, then the shorter first), as Rust and Python sort bytes. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) if (a[k] !== b[k]) return a[k]! - b[k]!;
  return a.length - b.length;
}

/** `bytes` read as ISO-8859-1 (each byte one code unit; TextDecoder's "latin1" is windows-1252, not this). */
export function latin1(bytes: Uint8Array): string {
  let out = "";
  // fromCharCode takes its arguments on the stack: convert in slices
  for (let k = 0; k < bytes.length; k += 8192) {
    out += String.fromCharCode(...bytes.subarray(k, k + 8192));
  }
  return out;
}

/** The parts, back to back, in one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** A plain record `{ [name]: value }`, safe for every name including `"__proto__"`. */
export function record<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, value] of entries) {
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Throws an Error naming the function (and the file, when there is one) and `problem`; typed as never. */
export type Fail = (problem: string) => never;

/** A `Fail` whose messages read `op: problem`, or `op: path: problem` when the bytes came from a file. */
export function failWith(op: string, path?: string): Fail {
  const prefix = path === undefined ? `${op}: ` : `${op}: ${path}: `;
  return (problem) => {
    throw new Error(prefix + problem);
  };
}

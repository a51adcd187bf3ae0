/**
 * @file Checkpoints: safetensors and .npy round trips (bit for bit), byte layouts against buffers built
 * by hand from the specs and against files written by the reference writers (Hugging Face's safetensors,
 * numpy), a corruption battery, and a writer SIGKILLed in the middle of a write.
 *
 * fixtures/reference-*.{safetensors,npy} were written by fixtures/make-checkpoint-fixtures.py with
 * safetensors 0.8.0 and numpy 2.4.6; the values they hold are restated below.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tensor, tensor } from "@tapegrad/autograd";
import fc from "fast-check";
import { afterAll, describe, expect, it, test } from "vitest";
import { loadNpy, loadParameters, loadSafetensors, saveNpy, saveParameters } from "../src/checkpoint.js";

const dir = mkdtempSync(join(tmpdir(), "tapegrad-checkpoint-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Same bytes, so same values bit for bit: -0 vs 0, NaN payloads, subnormals. */
function expectSameBits(got: Tensor, want: Tensor): void {
  expect(got.shape).toEqual(want.shape);
  const bytes = (t: Tensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  expect(bytes(got).equals(bytes(want))).toBe(true);
}

/** A safetensors file from its parts: u64 LE header length, header text, data bytes. */
function safetensorsFile(header: string, data: number | Uint8Array = 0): Buffer {
  const json = Buffer.from(header, "utf8");
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.byteLength));
  return Buffer.concat([length, json, typeof data === "number" ? Buffer.alloc(data) : data]);
}

/** A .npy file from its parts: magic, version, header length (u16 or u32 LE), header text, data. */
function npyFile(header: string, data: number | Uint8Array, version: 1 | 2 = 1): Buffer {
  const text = Buffer.from(header, "latin1");
  const length = Buffer.alloc(version === 1 ? 2 : 4);
  if (version === 1) length.writeUInt16LE(text.byteLength);
  else length.writeUInt32LE(text.byteLength);
  return Buffer.concat([
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]),
    length,
    text,
    typeof data === "number" ? Buffer.alloc(data) : data,
  ]);
}

const entry = (dtype: string, shape: string, offsets: string) =>
  `{"dtype":"${dtype}","shape":${shape},"data_offsets":${offsets}}`;

describe("safetensors: byte layout", () => {
  it("writes the bytes the spec prescribes (built by hand): sorted names, metadata first, 8-byte padding", () => {
    const path = join(dir, "layout.safetensors");
    saveParameters(
      path,
      {
        b: tensor([
          [1, -0],
          [Infinity, 5e-324],
        ]),
        a: tensor([0.5, -2]),
      },
      { metadata: { run: "a", epoch: "3" } },
    );
    const header =
      '{"__metadata__":{"epoch":"3","run":"a"},' +
      '"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},' +
      '"b":{"dtype":"F64","shape":[2,2],"data_offsets":[16,48]}}' +
      " "; // 151 bytes of JSON, padded to 152 so that the data starts 8-byte aligned
    const want = Buffer.concat([
      Buffer.from([152, 0, 0, 0, 0, 0, 0, 0]),
      Buffer.from(header, "utf8"),
      // IEEE 754 binary64, little-endian
      Buffer.from([0, 0, 0, 0, 0, 0, 0xe0, 0x3f]), // 0.5
      Buffer.from([0, 0, 0, 0, 0, 0, 0x00, 0xc0]), // -2
      Buffer.from([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]), // 1
      Buffer.from([0, 0, 0, 0, 0, 0, 0x00, 0x80]), // -0
      Buffer.from([0, 0, 0, 0, 0, 0, 0xf0, 0x7f]), // Infinity
      Buffer.from([1, 0, 0, 0, 0, 0, 0x00, 0x00]), // 5e-324, the smallest subnormal
    ]);
    expect(readFileSync(path).equals(want)).toBe(true);
  });

  it("writes an empty checkpoint as {} padded to 8 bytes (the reference writer's bytes)", () => {
    const path = join(dir, "empty.safetensors");
    saveParameters(path, {});
    expect([...readFileSync(path)]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 32, 32, 32, 32, 32, 32]);
    expect(loadParameters(path)).toEqual({});
  });

  it("reads an F32 file built by hand, converting to float64 exactly", () => {
    const path = join(dir, "f32.safetensors");
    const f32 = Buffer.from(
      [
        [0, 0, 0, 0], // 0
        [0, 0, 0x80, 0x3f], // 1
        [0, 0, 0, 0x40], // 2
        [0, 0, 0x40, 0x40], // 3
        [0, 0, 0x80, 0x40], // 4
        [0, 0, 0xa0, 0x40], // 5
      ].flat(),
    );
    writeFileSync(path, safetensorsFile(`{"attn.0":${entry("F32", "[1,2,3]", "[0,24]")}}`, f32));
    const { "attn.0": t } = loadParameters(path);
    expect(t!.shape).toEqual([1, 2, 3]);
    expect([...t!.data]).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("saveParameters writes the same bytes as Hugging Face's safetensors writer", () => {
    // fixtures/reference-f64.safetensors: save_file({weight, bias, scalar, empty}, metadata={step, format})
    const path = join(dir, "same-as-reference.safetensors");
    saveParameters(
      path,
      {
        weight: tensor([
          [-0.25, -0.125, 0],
          [0.125, 0.25, 0.375],
        ]),
        bias: tensor([0.5, -0, Infinity, -Infinity, 5e-324, Number.NaN]),
        scalar: tensor(3.25),
        empty: new Tensor(new Float64Array(0), [0, 4]),
      },
      { metadata: { step: "100", format: "np" } },
    );
    expect(readFileSync(path).equals(readFileSync(fixture("reference-f64.safetensors")))).toBe(true);
  });

  it("loads files written by the reference writer: F64 bit for bit, F32 exactly converted, metadata", () => {
    const { tensors, metadata } = loadSafetensors(fixture("reference-f64.safetensors"));
    expect(Object.keys(tensors)).toEqual(["bias", "empty", "scalar", "weight"]);
    expect(metadata).toEqual({ format: "np", step: "100" });
    expectSameBits(
      tensors.weight!,
      tensor([
        [-0.25, -0.125, 0],
        [0.125, 0.25, 0.375],
      ]),
    );
    expectSameBits(tensors.bias!, tensor([0.5, -0, Infinity, -Infinity, 5e-324, Number.NaN]));
    expect(Object.is(tensors.bias!.data[1], -0)).toBe(true);
    expectSameBits(tensors.scalar!, tensor(3.25));
    expect(tensors.empty!.shape).toEqual([0, 4]);

    const mixed = loadParameters(fixture("reference-mixed.safetensors"), { w64: [1, 2], w32: [4] });
    expectSameBits(mixed.w64!, tensor([[1.5, -2]]));
    expectSameBits(mixed.w32!, tensor([Math.fround(0.1), -2.5, Math.fround(1e-40), Infinity]));
  });
});

it("expectSameBits tells -0 from 0 and one NaN from another", () => {
  const nanWithPayload = new Float64Array(new BigUint64Array([0x7ff8000000000001n]).buffer);
  expect(() => expectSameBits(tensor([-0]), tensor([0]))).toThrow();
  expect(() => expectSameBits(new Tensor(nanWithPayload, [1]), tensor([Number.NaN]))).toThrow();
  expect(() => expectSameBits(tensor([1, 2]), tensor([[1, 2]]))).toThrow();
});

describe("safetensors: round trips", () => {
  const shape = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 });
  const anyTensor = shape.chain((s) => {
    const size = s.reduce((a, b) => a * b, 1);
    // fc.double() includes -0, ±Infinity, NaN, subnormals and the extremes
    return fc
      .array(fc.double(), { minLength: size, maxLength: size })
      .map((v) => tensor(Float64Array.from(v), { shape: s }));
  });
  const name = fc.string({ unit: "binary", maxLength: 10 }).filter((s) => s !== "__metadata__");
  const params = fc.dictionary(name, anyTensor, { maxKeys: 6 });
  const metadata = fc.option(fc.dictionary(fc.string({ unit: "binary" }), fc.string({ unit: "binary" })), {
    nil: undefined,
  });

  test("every tensor comes back bit for bit, with its name, shape and the metadata", () => {
    const path = join(dir, "roundtrip.safetensors");
    fc.assert(
      fc.property(params, metadata, (p, m) => {
        saveParameters(path, p, { metadata: m });
        const back = loadSafetensors(path);
        expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(p).sort());
        for (const k of Object.keys(p)) expectSameBits(back.tensors[k]!, p[k]!);
        expect(back.metadata).toEqual(m);
      }),
      { numRuns: 200 },
    );
  });

  test("the bytes depend on the contents only, not on the order the names were inserted in", () => {
    const [a, b] = [join(dir, "order-a.safetensors"), join(dir, "order-b.safetensors")];
    fc.assert(
      fc.property(params, (p) => {
        const reversed: Record<string, Tensor> = {};
        for (const k of Object.keys(p).reverse()) {
          Object.defineProperty(reversed, k, { value: p[k], enumerable: true });
        }
        saveParameters(a, p);
        saveParameters(b, reversed);
        expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it("keeps special values exactly: -0, ±Infinity, subnormals, NaN, extremes", () => {
    const path = join(dir, "special.safetensors");
    const t = tensor([
      -0,
      0,
      Infinity,
      -Infinity,
      5e-324,
      -2.2250738585072014e-308,
      Number.NaN,
      1.7976931348623157e308,
    ]);
    saveParameters(path, { t });
    expectSameBits(loadParameters(path).t!, t);
  });

  it("accepts valid files other writers may produce", () => {
    const data16 = new Uint8Array(16);
    const cases: [string, Buffer][] = [
      [
        "whitespace inside the JSON",
        safetensorsFile(`{ "a" : {"dtype": "F64",\n "shape": [ 2 ], "data_offsets": [0, 16] } }`, data16),
      ],
      ["header not padded to 8 bytes", safetensorsFile(`{"a":${entry("F64", "[2]", "[0,16]")}}`, data16)],
      [
        "entries not in offset order",
        safetensorsFile(`{"b":${entry("F64", "[1]", "[8,16]")},"a":${entry("F64", "[1]", "[0,8]")}}`, data16),
      ],
      ["escaped names", safetensorsFile(`{"\\u0061\\/\\"":${entry("F64", "[2]", "[0,16]")}}`, data16)],
      [
        "zero-size tensors anywhere",
        safetensorsFile(
          `{"e":${entry("F64", "[0,3]", "[16,16]")},"a":${entry("F64", "[2]", "[0,16]")},"z":${entry("F32", "[0]", "[0,0]")}}`,
          data16,
        ),
      ],
      ["a 0-d tensor", safetensorsFile(`{"s":${entry("F64", "[]", "[0,8]")}}`, 8)],
      ["empty metadata", safetensorsFile(`{"__metadata__":{},"a":${entry("F64", "[2]", "[0,16]")}}`, data16)],
    ];
    for (const [what, bytes] of cases) {
      const path = join(dir, "valid.safetensors");
      writeFileSync(path, bytes);
      expect(() => loadParameters(path), what).not.toThrow();
    }
    writeFileSync(join(dir, "escaped.safetensors"), cases[3]![1]);
    expect(Object.keys(loadParameters(join(dir, "escaped.safetensors")))).toEqual(['a/"']);
  });

  it("stores names like __proto__ and constructor as plain keys", () => {
    const path = join(dir, "proto.safetensors");
    const p: Record<string, Tensor> = {};
    for (const k of ["__proto__", "constructor", "toString"]) {
      Object.defineProperty(p, k, { value: tensor([k.length]), enumerable: true });
    }
    saveParameters(path, p);
    const back = loadParameters(path);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(["__proto__", "constructor", "toString"]);
    expect(Object.getOwnPropertyDescriptor(back, "__proto__")?.value).toBeInstanceOf(Tensor);
  });
});

describe("safetensors: corruption battery", () => {
  // Three tensors, no metadata: every byte of the header is structure, a name, a dtype or a number.
  const params = {
    "fc1.weight": tensor([
      [0.5, -1.25],
      [2, 3.5],
      [-0.75, 1],
    ]),
    "fc1.bias": tensor([0.125, -0.5, 4]),
    "fc2.weight": tensor([[1.5, -2.5, 0.25]]),
  };
  const expected = { "fc1.weight": [3, 2], "fc1.bias": [3], "fc2.weight": [1, 3] };
  const path = join(dir, "corrupt.safetensors");
  saveParameters(path, params);
  const good = readFileSync(path);
  const headerEnd = 8 + Number(good.readBigUInt64LE(0));
  let rejected = 0;

  /** Write `bytes` to the file and require loadParameters to throw an Error naming the file. */
  const expectRejected = (bytes: Uint8Array, message: RegExp = /./, withExpected = true): void => {
    writeFileSync(path, bytes);
    let error: unknown;
    try {
      loadParameters(path, withExpected ? expected : undefined);
    } catch (err) {
      error = err;
    }
    // plain checks first: thousands of cases, and expect() is slow enough to matter here
    const ok =
      error instanceof Error &&
      error.message.startsWith(`loadParameters: ${path}: `) &&
      message.test(error.message);
    if (!ok) {
      expect(error, `accepted corrupted bytes ${Buffer.from(bytes).toString("latin1")}`).toBeInstanceOf(
        Error,
      );
      expect((error as Error).message).toContain(`loadParameters: ${path}: `);
      expect((error as Error).message).toMatch(message);
    }
    rejected++;
  };

  it("rejects the file truncated at every length", () => {
    for (let n = 0; n < good.length; n++) expectRejected(good.subarray(0, n));
  });

  it("rejects trailing bytes", () => {
    for (let n = 1; n <= 16; n++) expectRejected(Buffer.concat([good, Buffer.alloc(n)]), /trailing bytes/);
    expectRejected(Buffer.concat([good, Buffer.from("        ")]), /trailing bytes/);
  });

  it("rejects every single-bit flip in the length and header (names checked against `expected`)", () => {
    for (let k = 0; k < headerEnd; k++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = Buffer.from(good);
        bad[k]! ^= 1 << bit;
        expectRejected(bad);
      }
    }
  });

  it("without `expected`, the only single-bit header flips that load are renamed tensors", () => {
    // safetensors has no checksum: a flipped bit inside a name gives another valid name
    let renamed = 0;
    for (let k = 0; k < headerEnd; k++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = Buffer.from(good);
        bad[k]! ^= 1 << bit;
        writeFileSync(path, bad);
        let loaded: Record<string, Tensor> | undefined;
        try {
          loaded = loadParameters(path);
        } catch {
          continue;
        }
        renamed++;
        const names = Object.keys(loaded);
        expect(names).not.toEqual(Object.keys(params).sort());
        expect(names.filter((n) => !(n in params))).toHaveLength(1);
      }
    }
    expect(renamed).toBeGreaterThan(0);
  });

  const data = (bytes: number) => new Uint8Array(bytes);
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty file", data(0), /0 bytes, shorter than the 8-byte header length/],
    ["7-byte file", data(7), /7 bytes, shorter than the 8-byte/],
    [
      "header length beyond the file",
      Buffer.concat([Buffer.from([100, 0, 0, 0, 0, 0, 0, 0]), Buffer.from("{}")]),
      /header length 100 extends beyond the file \(10 bytes\)/,
    ],
    [
      "absurd header length 2^40",
      Buffer.from([0, 0, 0, 0, 0, 1, 0, 0, 0x7b, 0x7d]),
      /header length 1099511627776 is absurd/,
    ],
    [
      "header length just over 100 MB",
      Buffer.from([0x01, 0xe1, 0xf5, 0x05, 0, 0, 0, 0]),
      /header length 100000001 is absurd/,
    ],
    ["header length 2^64 - 1", Buffer.from([255, 255, 255, 255, 255, 255, 255, 255]), /absurd/],
    [
      "header not UTF-8",
      Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([0x7b, 0x22, 0xff, 0x22])]),
      /not valid UTF-8/,
    ],
    ["header with a byte-order mark", safetensorsFile("\ufeff{}"), /not valid JSON/],
    [
      "header cut mid-JSON",
      safetensorsFile('{"a":'),
      /not valid JSON: unexpected end of input at character 5/,
    ],
    [
      "header with garbage after the object",
      safetensorsFile("{} x"),
      /not valid JSON: unexpected "x" after the JSON value/,
    ],
    ["header with NUL padding", safetensorsFile("{}\0\0\0\0\0\0"), /not valid JSON/],
    ["header is an array", safetensorsFile("[]"), /header is not a JSON object, got an array/],
    ["header is a string", safetensorsFile('"weights"'), /not a JSON object, got the string "weights"/],
    ["header is null", safetensorsFile("null"), /not a JSON object, got null/],
    ["header starts with whitespace", safetensorsFile(" {}"), /does not start with "\{"/],
    ["NaN literal", safetensorsFile(`{"a":${entry("F64", "[NaN]", "[0,8]")}}`, 8), /not valid JSON/],
    ["entry is a number", safetensorsFile('{"a":5}'), /tensor "a": expected an object, got the number 5/],
    [
      "entry without dtype",
      safetensorsFile('{"a":{"shape":[1],"data_offsets":[0,8]}}', 8),
      /tensor "a": missing "dtype"/,
    ],
    [
      "entry without shape",
      safetensorsFile('{"a":{"dtype":"F64","data_offsets":[0,8]}}', 8),
      /tensor "a": missing "shape"/,
    ],
    [
      "entry without data_offsets",
      safetensorsFile('{"a":{"dtype":"F64","shape":[1]}}', 8),
      /tensor "a": missing "data_offsets"/,
    ],
    [
      "entry with offsets instead of data_offsets",
      safetensorsFile('{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8],"offsets":[0,8]}}', 8),
      /tensor "a": unexpected field "offsets"/,
    ],
    [
      "dtype not a string",
      safetensorsFile(`{"a":${entry("F64", "[1]", "[0,8]").replace('"F64"', "64")}}`, 8),
      /dtype must be a string, got the number 64/,
    ],
    [
      "unknown dtype",
      safetensorsFile(`{"a":${entry("F65", "[1]", "[0,8]")}}`, 8),
      /tensor "a": unknown dtype "F65" \(expected F64 or F32\)/,
    ],
    ["lowercase dtype", safetensorsFile(`{"a":${entry("f64", "[1]", "[0,8]")}}`, 8), /unknown dtype "f64"/],
    [
      "integer dtype",
      safetensorsFile(`{"a":${entry("I64", "[1]", "[0,8]")}}`, 8),
      /tensor "a": dtype I64 is not supported/,
    ],
    [
      "bfloat16 dtype",
      safetensorsFile(`{"a":${entry("BF16", "[4]", "[0,8]")}}`, 8),
      /dtype BF16 is not supported/,
    ],
    [
      "shape not an array",
      safetensorsFile(`{"a":${entry("F64", "1", "[0,8]")}}`, 8),
      /shape must be an array of integers, got the number 1/,
    ],
    [
      "negative shape",
      safetensorsFile(`{"a":${entry("F64", "[-1]", "[0,8]")}}`, 8),
      /shape: entry 0 is -1, expected a non-negative integer/,
    ],
    [
      "fractional shape",
      safetensorsFile(`{"a":${entry("F64", "[2,0.5]", "[0,8]")}}`, 8),
      /shape: entry 1 is 0.5/,
    ],
    [
      "shape written 1.0",
      safetensorsFile(`{"a":${entry("F64", "[1.0]", "[0,8]")}}`, 8),
      /shape: entry 0 is 1.0/,
    ],
    [
      "shape written 1e0",
      safetensorsFile(`{"a":${entry("F64", "[1e0]", "[0,8]")}}`, 8),
      /shape: entry 0 is 1e0/,
    ],
    [
      "shape entry a string",
      safetensorsFile(`{"a":${entry("F64", '["1"]', "[0,8]")}}`, 8),
      /shape: entry 0 is the string "1"/,
    ],
    [
      "shape entry beyond 2^53",
      safetensorsFile(`{"a":${entry("F64", "[9007199254740993]", "[0,8]")}}`, 8),
      /entry 0 is 9007199254740993/,
    ],
    [
      "shape whose product overflows",
      safetensorsFile(`{"a":${entry("F64", "[4294967296,4294967296]", "[0,8]")}}`, 8),
      /needs more than 2\^53/,
    ],
    [
      "data_offsets with one number",
      safetensorsFile(`{"a":${entry("F64", "[1]", "[8]")}}`, 8),
      /data_offsets must be \[begin, end\], got \[8\]/,
    ],
    [
      "data_offsets with three numbers",
      safetensorsFile(`{"a":${entry("F64", "[1]", "[0,8,8]")}}`, 8),
      /data_offsets must be \[begin, end\]/,
    ],
    [
      "data_offsets null",
      safetensorsFile(`{"a":${entry("F64", "[1]", "null")}}`, 8),
      /data_offsets must be an array of integers, got null/,
    ],
    [
      "negative offset",
      safetensorsFile(`{"a":${entry("F64", "[1]", "[-8,0]")}}`, 8),
      /data_offsets: entry 0 is -8/,
    ],
    [
      "offsets ending before they begin",
      safetensorsFile(`{"a":${entry("F64", "[1]", "[8,0]")}}`, 8),
      /data_offsets \[8, 0\] end before they begin/,
    ],
    [
      "offsets beyond the data",
      safetensorsFile(`{"a":${entry("F64", "[8]", "[0,64]")}}`, 16),
      /data_offsets \[0, 64\] extend beyond the data section \(16 bytes\)/,
    ],
    [
      "offsets too short for the shape",
      safetensorsFile(`{"a":${entry("F64", "[3]", "[0,16]")}}`, 16),
      /data_offsets \[0, 16\] hold 16 bytes but shape \[3\] of F64 needs 24/,
    ],
    [
      "F32 shape with F64 byte count",
      safetensorsFile(`{"a":${entry("F32", "[2]", "[0,16]")}}`, 16),
      /hold 16 bytes but shape \[2\] of F32 needs 8/,
    ],
    [
      "overlapping regions",
      safetensorsFile(`{"a":${entry("F64", "[2]", "[0,16]")},"b":${entry("F64", "[2]", "[8,24]")}}`, 24),
      /tensor "b" at \[8, 24\] overlaps "a" at \[0, 16\]/,
    ],
    [
      "two names for one region",
      safetensorsFile(`{"a":${entry("F64", "[2]", "[0,16]")},"b":${entry("F64", "[2]", "[0,16]")}}`, 16),
      /overlaps/,
    ],
    [
      "empty tensor inside another's region",
      safetensorsFile(`{"a":${entry("F64", "[2]", "[0,16]")},"e":${entry("F64", "[0]", "[8,8]")}}`, 16),
      /tensor "e" at \[8, 8\] overlaps "a"/,
    ],
    [
      "gap between regions",
      safetensorsFile(`{"a":${entry("F64", "[2]", "[0,16]")},"b":${entry("F64", "[2]", "[24,40]")}}`, 40),
      /bytes \[16, 24\) of the data section belong to no tensor \(gap before "b"\)/,
    ],
    [
      "gap at the start",
      safetensorsFile(`{"a":${entry("F64", "[2]", "[8,24]")}}`, 24),
      /bytes \[0, 8\) of the data section belong to no tensor \(gap before "a"\)/,
    ],
    [
      "trailing bytes",
      safetensorsFile(`{"a":${entry("F64", "[2]", "[0,16]")}}`, 24),
      /8 trailing bytes after the last tensor \(data section 24 bytes, tensors cover 16\)/,
    ],
    ["data with no tensors", safetensorsFile("{}", 8), /8 trailing bytes/],
    [
      "duplicate names",
      safetensorsFile(`{"a":${entry("F64", "[1]", "[0,8]")},"a":${entry("F64", "[1]", "[8,16]")}}`, 16),
      /duplicate key "a"/,
    ],
    [
      "duplicate field",
      safetensorsFile('{"a":{"dtype":"F64","dtype":"F32","shape":[1],"data_offsets":[0,8]}}', 8),
      /duplicate key "dtype"/,
    ],
    [
      "__metadata__ not an object",
      safetensorsFile('{"__metadata__":"pt"}'),
      /__metadata__ must be an object of strings, got the string "pt"/,
    ],
    [
      "__metadata__ with a number",
      safetensorsFile('{"__metadata__":{"step":100}}'),
      /__metadata__\["step"\] must be a string, got the number 100/,
    ],
    [
      "lone surrogate escape",
      safetensorsFile(`{"\\ud800":${entry("F64", "[1]", "[0,8]")}}`, 8),
      /lone high surrogate/,
    ],
    [
      "raw control character in a name",
      safetensorsFile(`{"a\nb":${entry("F64", "[1]", "[0,8]")}}`, 8),
      /raw control character/,
    ],
    ["invalid escape", safetensorsFile(`{"\\x41":${entry("F64", "[1]", "[0,8]")}}`, 8), /invalid escape \\x/],
    [
      "nesting 100 deep",
      safetensorsFile(`{"__metadata__":${"[".repeat(100)}${"]".repeat(100)}}`),
      /nested deeper than 64 levels/,
    ],
  ];

  it.each(cases)("rejects %s", (_what, bytes, message) => {
    expectRejected(bytes, message, false);
  });

  it("names every missing name, unexpected name and wrong shape against `expected`", () => {
    const p = join(dir, "expected.safetensors");
    saveParameters(p, { w: tensor([[1, 2]]), b: tensor([3]), extra: tensor([4]) });
    const error = (() => {
      try {
        loadParameters(p, { w: [2, 1], b: [1], bias2: [3] });
      } catch (err) {
        return (err as Error).message;
      }
      return "accepted";
    })();
    expect(error).toContain(`loadParameters: ${p}: does not match the expected parameters`);
    expect(error).toContain('"w" has shape [1, 2], expected [2, 1]');
    expect(error).toContain('missing "bias2" (expected shape [3])');
    expect(error).toContain('unexpected "extra" (shape [1])');
    expect(error).not.toContain('"b"');
    rejected++;
  });

  afterAll(() => {
    console.info(`checkpoint corruption battery: ${rejected} corrupted safetensors files, all rejected`);
  });
});

describe("saveParameters: input checks and failed writes", () => {
  it("names the bad argument", () => {
    const p = join(dir, "bad.safetensors");
    expect(() => saveParameters(p, { w: [1, 2] as unknown as Tensor })).toThrow(
      'saveParameters: params["w"] must be a Tensor, got an array',
    );
    expect(() => saveParameters(p, { __metadata__: tensor([1]) })).toThrow(/"__metadata__" is reserved/);
    expect(() => saveParameters(p, { "\ud800": tensor([1]) })).toThrow(/lone surrogate/);
    expect(() => saveParameters(p, {}, { metadata: { step: 3 as unknown as string } })).toThrow(
      'saveParameters: metadata["step"] must be a string (safetensors metadata is text only), got number 3',
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

describe(".npy", () => {
  it("writes the bytes the .npy 1.0 spec prescribes (built by hand), which np.save writes too", () => {
    const path = join(dir, "layout.npy");
    saveNpy(
      path,
      tensor([
        [1, -0, 0.5],
        [Infinity, 5e-324, -2],
      ]),
    );
    const dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
    const want = Buffer.concat([
      Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]), // \x93NUMPY
      Buffer.from([1, 0]), // version 1.0
      Buffer.from([118, 0]), // header length: 10 + 118 = 128, a multiple of 64
      Buffer.from(`${dict}${" ".repeat(118 - dict.length - 1)}\n`, "latin1"),
      Buffer.from([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]), // 1
      Buffer.from([0, 0, 0, 0, 0, 0, 0x00, 0x80]), // -0
      Buffer.from([0, 0, 0, 0, 0, 0, 0xe0, 0x3f]), // 0.5
      Buffer.from([0, 0, 0, 0, 0, 0, 0xf0, 0x7f]), // Infinity
      Buffer.from([1, 0, 0, 0, 0, 0, 0x00, 0x00]), // 5e-324
      Buffer.from([0, 0, 0, 0, 0, 0, 0x00, 0xc0]), // -2
    ]);
    expect(readFileSync(path).equals(want)).toBe(true);
    // fixtures/reference-f8.npy: np.save of np.arange(6).reshape(2, 3) / 8 - 0.25
    saveNpy(
      path,
      tensor([
        [-0.25, -0.125, 0],
        [0.125, 0.25, 0.375],
      ]),
    );
    expect(readFileSync(path).equals(readFileSync(fixture("reference-f8.npy")))).toBe(true);
  });

  it("loads np.save files: <f8 bit for bit, <f4 converted exactly", () => {
    expectSameBits(
      loadNpy(fixture("reference-f8.npy")),
      tensor([
        [-0.25, -0.125, 0],
        [0.125, 0.25, 0.375],
      ]),
    );
    expectSameBits(
      loadNpy(fixture("reference-f4.npy")),
      tensor([[Math.fround(0.1)], [-2.5], [Math.fround(1e-40)]]),
    );
  });

  test("every tensor comes back bit for bit (any shape, 0-d and empty included)", () => {
    const path = join(dir, "roundtrip.npy");
    const anyTensor = fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }).chain((s) => {
      const size = s.reduce((a, b) => a * b, 1);
      return fc
        .array(fc.double(), { minLength: size, maxLength: size })
        .map((v) => tensor(Float64Array.from(v), { shape: s }));
    });
    fc.assert(
      fc.property(anyTensor, (t) => {
        saveNpy(path, t);
        expect(readFileSync(path).readUInt16LE(8) + 10).toSatisfy((n: number) => n % 64 === 0);
        expectSameBits(loadNpy(path), t);
      }),
      { numRuns: 200 },
    );
  });

  it("accepts other valid headers: version 2.0, numpy < 1.14's 16-byte alignment, double quotes, any key order", () => {
    const path = join(dir, "valid.npy");
    const f8 = Buffer.from(new Float64Array([1.5, -2]).buffer);
    const headers: [string, 1 | 2][] = [
      ["{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }    \n", 2],
      ["{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }  \n", 1],
      ['{"shape": (2,), "fortran_order": False, "descr": "<f8"}\n', 1],
      ["{'descr':'<f8','fortran_order':False,'shape':(2,)}", 1],
    ];
    for (const [header, version] of headers) {
      writeFileSync(path, npyFile(header, f8, version));
      expectSameBits(loadNpy(path), tensor([1.5, -2]));
    }
    writeFileSync(
      path,
      npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (), }\n", f8.subarray(0, 8)),
    );
    expectSameBits(loadNpy(path), tensor(1.5));
  });

  it("rejects corrupted files, naming the file and the problem", () => {
    const path = join(dir, "bad.npy");
    const good = (() => {
      saveNpy(
        path,
        tensor([
          [1, 2, 3],
          [4, 5, 6],
        ]),
      );
      return readFileSync(path);
    })();
    const h = (descr: string, fortran: string, shape: string) =>
      `{'descr': ${descr}, 'fortran_order': ${fortran}, 'shape': ${shape}, }\n`;
    const cases: [string, Uint8Array, RegExp][] = [
      ["9-byte file", good.subarray(0, 9), /9 bytes, shorter than the 10-byte .npy preamble/],
      ["wrong magic", Buffer.concat([Buffer.from("\x92"), good.subarray(1)]), /not a .npy file/],
      ["version 3.0", npyFile(h("'<f8'", "False", "(1,)"), 8).fill(3, 6, 7), /version 3.0 is not supported/],
      ["version 1.1", npyFile(h("'<f8'", "False", "(1,)"), 8).fill(1, 7, 8), /version 1.1 is not supported/],
      [
        "version 2.0 cut in the length",
        npyFile(h("'<f8'", "False", "(1,)"), 8, 2).subarray(0, 11),
        /shorter than the 12-byte .npy 2.0 preamble/,
      ],
      [
        "header beyond the file",
        good.subarray(0, 100),
        /header length 118 extends beyond the file \(100 bytes\)/,
      ],
      ["header not a dict", npyFile("[1, 2]\n", 8), /header is not a Python dict literal: expected "\{"/],
      ["header cut", npyFile("{'descr': '<f8', 'fortran_order'", 8), /not a Python dict literal/],
      [
        "missing key",
        npyFile("{'descr': '<f8', 'shape': (1,), }\n", 8),
        /header keys are 'descr', 'shape'; expected/,
      ],
      [
        "extra key",
        npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': True}\n", 8),
        /header keys are/,
      ],
      [
        "duplicate key",
        npyFile("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}\n", 8),
        /duplicate key 'descr'/,
      ],
      ["big-endian float64", npyFile(h("'>f8'", "False", "(1,)"), 8), /dtype '>f8' is not supported/],
      ["int64", npyFile(h("'<i8'", "False", "(1,)"), 8), /dtype '<i8' is not supported/],
      ["Fortran order", npyFile(h("'<f8'", "True", "(2, 2)"), 32), /fortran_order is True; only C order/],
      ["shape not a tuple", npyFile(h("'<f8'", "False", "'1'"), 8), /shape is '1', expected a tuple/],
      [
        "(1) is not a tuple",
        npyFile(h("'<f8'", "False", "(1)"), 8),
        /one-element tuple needs a trailing comma/,
      ],
      [
        "negative shape",
        npyFile(h("'<f8'", "False", "(-1,)"), 8),
        /expected a non-negative integer, found "-"/,
      ],
      [
        "data too short",
        good.subarray(0, good.length - 1),
        /data is 47 bytes but shape \(2, 3\) of '<f8' needs 48: truncated\?/,
      ],
      [
        "data too long",
        Buffer.concat([good, Buffer.alloc(8)]),
        /data is 56 bytes but shape \(2, 3\) of '<f8' needs 48/,
      ],
      [
        "<f4 byte count",
        npyFile(h("'<f4'", "False", "(3,)"), 8),
        /data is 8 bytes but shape \(3,\) of '<f4' needs 12/,
      ],
    ];
    for (const [what, bytes, message] of cases) {
      writeFileSync(path, bytes);
      expect(() => loadNpy(path), what).toThrow(message);
      expect(() => loadNpy(path), what).toThrow(`loadNpy: ${path}: `);
    }
    for (let n = 0; n < good.length; n++) {
      writeFileSync(path, good.subarray(0, n));
      expect(() => loadNpy(path), `truncated to ${n} bytes`).toThrow(`loadNpy: ${path}: `);
    }
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

/**
 * @file safetensors files: a corruption battery (every truncation, every single-bit flip of the header,
 * hand-made bad headers), each rejected with an Error naming the file and the problem.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Tensor, tensor } from "@tapegrad/autograd";
import { loadParameters, saveParameters } from "@tapegrad/nn";
import { afterAll, describe, expect, it } from "vitest";
import { entry, safetensorsFile, tempDir } from "./checkpoint-support.js";

const dir = tempDir();

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
      /tensor "a": unknown dtype "F65" \(expected F64, F32, I64 or I32\)/,
    ],
    ["lowercase dtype", safetensorsFile(`{"a":${entry("f64", "[1]", "[0,8]")}}`, 8), /unknown dtype "f64"/],
    [
      "unsigned integer dtype",
      safetensorsFile(`{"a":${entry("U64", "[1]", "[0,8]")}}`, 8),
      /tensor "a": dtype U64 is not supported/,
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

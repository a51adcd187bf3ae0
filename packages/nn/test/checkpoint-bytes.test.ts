/**
 * @file The byte codecs, with no file in sight (what a browser uses): encodeSafetensors/decodeSafetensors
 * and encodeNpy/decodeNpy against the bytes the reference writers produced (fixtures written by
 * fixtures/make-checkpoint-fixtures.py with safetensors 0.8.0 and numpy 2.4.6), round trips bit for bit,
 * the same validation as the file loaders with messages that name the function, and the same bytes as
 * the file writers.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Tensor, tensor } from "@tapegrad/autograd";
import {
  decodeNpy,
  decodeSafetensors,
  encodeNpy,
  encodeSafetensors,
  saveNpy,
  saveParameters,
} from "@tapegrad/nn";
import fc from "fast-check";
import { describe, expect, it, test } from "vitest";
import { entry, expectSameBits, fixture, npyFile, safetensorsFile, tempDir } from "./checkpoint-support.js";

const dir = tempDir();
const bytesOf = (name: string): Uint8Array => new Uint8Array(readFileSync(fixture(name)));

// Tensors of any shape (0-d and empty included) with any float64 (-0, ±Infinity, NaN, subnormals).
const anyTensor = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }).chain((s) => {
  const size = s.reduce((a, b) => a * b, 1);
  return fc
    .array(fc.double(), { minLength: size, maxLength: size })
    .map((v) => tensor(Float64Array.from(v), { shape: s }));
});

describe("safetensors bytes", () => {
  it("decodes the bytes Hugging Face's writer produced: F64 bit for bit, F32 exactly, metadata", () => {
    const { tensors, metadata } = decodeSafetensors(bytesOf("reference-f64.safetensors"));
    expect(metadata).toEqual({ format: "np", step: "100" });
    expectSameBits(
      tensors.weight!,
      tensor([
        [-0.25, -0.125, 0],
        [0.125, 0.25, 0.375],
      ]),
    );
    expectSameBits(tensors.bias!, tensor([0.5, -0, Infinity, -Infinity, 5e-324, Number.NaN]));
    expectSameBits(tensors.scalar!, tensor(3.25));
    expect(tensors.empty!.shape).toEqual([0, 4]);
    const mixed = decodeSafetensors(bytesOf("reference-mixed.safetensors"), { w64: [1, 2], w32: [4] });
    expectSameBits(mixed.tensors.w32!, tensor([Math.fround(0.1), -2.5, Math.fround(1e-40), Infinity]));
  });

  it("accepts an ArrayBuffer (what fetch's arrayBuffer() gives) and a view into a larger buffer", () => {
    const file = bytesOf("reference-mixed.safetensors");
    const buffer = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer;
    expectSameBits(decodeSafetensors(buffer).tensors.w64!, tensor([[1.5, -2]]));
    // odd offset: the data is not aligned for a Float64Array view, the decoder must copy
    const padded = new Uint8Array(file.byteLength + 3);
    padded.set(file, 3);
    expectSameBits(decodeSafetensors(padded.subarray(3)).tensors.w64!, tensor([[1.5, -2]]));
  });

  it("decodes I64 and I32 exactly to float64, and refuses an int64 beyond 2^53", () => {
    const data = new DataView(new ArrayBuffer(24 + 8));
    data.setBigInt64(0, -(2n ** 53n) + 1n, true);
    data.setBigInt64(8, 7n, true);
    data.setBigInt64(16, 2n ** 53n - 1n, true);
    data.setInt32(24, -2147483648, true);
    data.setInt32(28, 41, true);
    const file = safetensorsFile(
      `{"big":${entry("I64", "[3]", "[0,24]")},"small":${entry("I32", "[2]", "[24,32]")}}`,
      new Uint8Array(data.buffer),
    );
    const { tensors } = decodeSafetensors(file);
    expect(Array.from(tensors.big!.data)).toEqual([-(2 ** 53) + 1, 7, 2 ** 53 - 1]);
    expect(Array.from(tensors.small!.data)).toEqual([-2147483648, 41]);

    data.setBigInt64(8, 2n ** 60n, true);
    const tooBig = safetensorsFile(
      `{"big":${entry("I64", "[3]", "[0,24]")},"small":${entry("I32", "[2]", "[24,32]")}}`,
      new Uint8Array(data.buffer),
    );
    expect(() => decodeSafetensors(tooBig)).toThrow(
      /decodeSafetensors: .*tensor "big": I64 value 1152921504606846976 at flat index 1 is beyond 2\^53/,
    );
  });

  it("encodes the reference writer's exact bytes", () => {
    const bytes = encodeSafetensors(
      {
        weight: tensor([
          [-0.25, -0.125, 0],
          [0.125, 0.25, 0.375],
        ]),
        bias: tensor([0.5, -0, Infinity, -Infinity, 5e-324, Number.NaN]),
        scalar: tensor(3.25),
        empty: new Tensor(new Float64Array(0), [0, 4]),
      },
      { step: "100", format: "np" },
    );
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(bytes).equals(bytesOf("reference-f64.safetensors"))).toBe(true);
  });

  test("round trip: every tensor back bit for bit, with the metadata; the same bytes as saveParameters", () => {
    const path = join(dir, "same.safetensors");
    const name = fc.string({ unit: "binary", maxLength: 8 }).filter((s) => s !== "__metadata__");
    const metadata = fc.option(fc.dictionary(fc.string(), fc.string()), { nil: undefined });
    fc.assert(
      fc.property(fc.dictionary(name, anyTensor, { maxKeys: 5 }), metadata, (p, m) => {
        const bytes = encodeSafetensors(p, m);
        const back = decodeSafetensors(bytes);
        expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(p).sort());
        for (const k of Object.keys(p)) expectSameBits(back.tensors[k]!, p[k]!);
        expect(back.metadata).toEqual(m);
        saveParameters(path, p, { metadata: m });
        expect(Buffer.from(bytes).equals(readFileSync(path))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it("validates as loading does, naming decodeSafetensors (no file name)", () => {
    const good = encodeSafetensors({ w: tensor([1, 2]) });
    const cases: [Uint8Array, string][] = [
      [good.subarray(0, 5), "decodeSafetensors: input is 5 bytes, shorter than the 8-byte header length"],
      [good.subarray(0, 20), "decodeSafetensors: header length 56 extends beyond the input (20 bytes)"],
      [
        safetensorsFile(`{"w":${entry("F16", "[2]", "[0,4]")}}`, 4),
        'decodeSafetensors: tensor "w": dtype F16 is not supported',
      ],
      [
        safetensorsFile(`{"w":${entry("F64", "[2]", "[0,16]")}}`, 24),
        "8 trailing bytes after the last tensor",
      ],
      [safetensorsFile('{"a":1,"a":2}'), 'header is not valid JSON: duplicate key "a"'],
    ];
    for (const [bytes, message] of cases) {
      expect(() => decodeSafetensors(bytes)).toThrow(message);
      expect(() => decodeSafetensors(bytes)).toThrow(/^decodeSafetensors: /);
    }
    expect(() => decodeSafetensors(good, { w: [3] })).toThrow(
      'decodeSafetensors: does not match the expected parameters: "w" has shape [2], expected [3]',
    );
    expect(() => decodeSafetensors([1, 2] as unknown as Uint8Array)).toThrow(
      "decodeSafetensors: bytes must be a Uint8Array or an ArrayBuffer, got an array of length 2",
    );
  });

  it("names encodeSafetensors and the bad argument", () => {
    expect(() => encodeSafetensors({ w: [1] as unknown as Tensor })).toThrow(
      'encodeSafetensors: tensors["w"] must be a Tensor, got an array of length 1',
    );
    expect(() => encodeSafetensors(null as unknown as Record<string, Tensor>)).toThrow(
      "encodeSafetensors: tensors must be an object of Tensors by name, got null",
    );
    expect(() => encodeSafetensors({}, { step: 3 as unknown as string })).toThrow(
      'encodeSafetensors: metadata["step"] must be a string (safetensors metadata is text only), got the number 3',
    );
    expect(() => encodeSafetensors({ "\ud800": tensor([1]) })).toThrow(
      /^encodeSafetensors: .*lone surrogate/,
    );
  });
});

describe(".npy bytes", () => {
  it("decodes np.save's bytes: <f8 bit for bit, <f4 converted exactly", () => {
    expectSameBits(
      decodeNpy(bytesOf("reference-f8.npy")),
      tensor([
        [-0.25, -0.125, 0],
        [0.125, 0.25, 0.375],
      ]),
    );
    expectSameBits(
      decodeNpy(bytesOf("reference-f4.npy")),
      tensor([[Math.fround(0.1)], [-2.5], [Math.fround(1e-40)]]),
    );
  });

  it("encodes np.save's exact bytes", () => {
    const bytes = encodeNpy(
      tensor([
        [-0.25, -0.125, 0],
        [0.125, 0.25, 0.375],
      ]),
    );
    expect(Buffer.from(bytes).equals(bytesOf("reference-f8.npy"))).toBe(true);
  });

  test("round trip bit for bit; the same bytes as saveNpy", () => {
    const path = join(dir, "same.npy");
    fc.assert(
      fc.property(anyTensor, (t) => {
        const bytes = encodeNpy(t);
        expectSameBits(decodeNpy(bytes), t);
        saveNpy(path, t);
        expect(Buffer.from(bytes).equals(readFileSync(path))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it("validates as loadNpy does, naming decodeNpy", () => {
    const h = "{'descr': '<f8', 'fortran_order': True, 'shape': (2,), }\n";
    expect(() => decodeNpy(npyFile(h, 16))).toThrow(
      "decodeNpy: fortran_order is True; only C order (False) is supported",
    );
    expect(() => decodeNpy(new Uint8Array(4))).toThrow(
      "decodeNpy: input is 4 bytes, shorter than the 10-byte .npy preamble",
    );
    expect(() => decodeNpy(encodeNpy(tensor([1, 2])).subarray(0, 130))).toThrow(
      "decodeNpy: data is 2 bytes but shape (2,) of '<f8' needs 16: truncated?",
    );
    expect(() => encodeNpy([1, 2] as unknown as Tensor)).toThrow(
      "encodeNpy: expected a Tensor, got an array of length 2",
    );
  });
});

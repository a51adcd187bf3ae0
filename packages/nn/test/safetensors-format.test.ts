/**
 * @file safetensors files: the byte layout against bytes built by hand from the spec and against the
 * reference writer (Hugging Face's safetensors), and round trips bit for bit.
 *
 * fixtures/reference-*.{safetensors,npy} were written by fixtures/make-checkpoint-fixtures.py with
 * safetensors 0.8.0 and numpy 2.4.6; the values they hold are restated below.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Tensor, tensor } from "@tapegrad/autograd";
import { loadParameters, loadSafetensors, saveParameters } from "@tapegrad/nn";
import fc from "fast-check";
import { describe, expect, it, test } from "vitest";
import { entry, expectSameBits, fixture, safetensorsFile, tempDir } from "./checkpoint-support.js";

const dir = tempDir();

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

/**
 * @file .npy files: the byte layout against bytes built by hand from the spec and against np.save,
 * round trips bit for bit, other valid headers, and corrupted files rejected by name.
 *
 * fixtures/reference-*.{safetensors,npy} were written by fixtures/make-checkpoint-fixtures.py with
 * safetensors 0.8.0 and numpy 2.4.6; the values they hold are restated below.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tensor } from "@tapegrad/autograd";
import { loadNpy, saveNpy } from "@tapegrad/nn";
import fc from "fast-check";
import { describe, expect, it, test } from "vitest";
import { expectSameBits, fixture, npyFile, tempDir } from "./checkpoint-support.js";

const dir = tempDir();

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

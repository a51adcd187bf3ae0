/**
 * @file Helpers of the checkpoint tests: byte strings built by hand from the specs (safetensors, .npy),
 * a bit-for-bit tensor comparison, the fixtures' paths and a temp folder removed after the file's tests.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Tensor } from "@tapegrad/autograd";
import { afterAll, expect } from "vitest";

/** A fresh temp folder, deleted after the calling test file's tests. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tapegrad-checkpoint-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The path of `test/fixtures/<name>`. */
export const fixture = (name: string): string =>
  fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Same bytes, so same values bit for bit: -0 vs 0, NaN payloads, subnormals. */
export function expectSameBits(got: Tensor, want: Tensor): void {
  expect(got.shape).toEqual(want.shape);
  const bytes = (t: Tensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  expect(bytes(got).equals(bytes(want))).toBe(true);
}

/** A safetensors file from its parts: u64 LE header length, header text, data bytes. */
export function safetensorsFile(header: string, data: number | Uint8Array = 0): Buffer {
  const json = Buffer.from(header, "utf8");
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.byteLength));
  return Buffer.concat([length, json, typeof data === "number" ? Buffer.alloc(data) : data]);
}

/** A .npy file from its parts: magic, version, header length (u16 or u32 LE), header text, data. */
export function npyFile(header: string, data: number | Uint8Array, version: 1 | 2 = 1): Buffer {
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

/** One safetensors header entry. */
export const entry = (dtype: string, shape: string, offsets: string): string =>
  `{"dtype":"${dtype}","shape":${shape},"data_offsets":${offsets}}`;

/**
 * @file The operands of the browser-threads page's products, shared by the page, its worker and the test
 * (which computes the same product in Node), and a digest of a result's exact bits.
 */

/**
 * An n×n matrix whose entries are exact quotients of small integers (the same bits in every engine) and not
 * dyadic, so that sums round and a different summation order would show in the bits. `seed` tells A from B.
 */
export function operand(n: number, seed: number): Float64Array {
  return Float64Array.from({ length: n * n }, (_, i) => (((i * 7919 + seed * 104729) % 1009) - 504) / 337);
}

/** FNV-1a over the 32-bit words of `values`: equal digests mean equal bits (with overwhelming probability). */
export function bitsDigest(values: Float64Array): string {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) {
    h ^= words[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

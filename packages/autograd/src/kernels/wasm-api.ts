/**
 * @file The slice of the WebAssembly JavaScript API the kernels use, typed here because the
 * project's lib (ES2022, no DOM) declares none of it.
 */

/** A `WebAssembly.Memory`; `buffer` is a SharedArrayBuffer when the memory is shared. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** Grows by `pages` 64 KiB pages; throws past the maximum. Returns the previous size in pages. */
  grow(pages: number): number;
}

/** A compiled `WebAssembly.Module` (opaque; it can be sent to a worker). */
export interface WasmModule {
  readonly __wasmModule?: never;
}

/** An instantiated `WebAssembly.Instance`. */
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

/** The `WebAssembly` namespace object. */
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}

/** The global `WebAssembly`, or undefined where it is disabled (e.g. `node --jitless`). */
export const wasmApi: WasmApi | undefined = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

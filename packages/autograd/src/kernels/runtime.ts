/**
 * @file What the engine offers, found at run time so that the library imports no `node:` module and
 * bundles for browsers: Node's built-in modules through `process.getBuiltinModule` (Node ≥ 20.16), the
 * CPU count, and base64 decoding. Only the few members used are typed here (no @types/node needed).
 */

/** The members of Node's `process` this file uses. */
interface NodeProcess {
  getBuiltinModule?(id: string): unknown;
}

/** The members of `node:os` used here. */
interface NodeOs {
  availableParallelism?(): number;
  cpus(): unknown[];
}

/** The members of `node:v8` used here. */
export interface NodeV8 {
  setFlagsFromString(flags: string): void;
}

/** A Node `worker_threads` Worker, as the gemm pool uses it. */
export interface NodeWorker {
  on(event: "error" | "exit", listener: () => void): void;
  unref(): void;
  terminate(): Promise<number>;
}

/** The members of `node:worker_threads` used here. */
export interface NodeWorkerThreads {
  Worker: new (
    source: string,
    options: { eval: true; execArgv: string[]; workerData: unknown },
  ) => NodeWorker;
}

/**
 * Node's built-in module `id` (e.g. "node:v8"), or undefined outside Node or before Node 20.16 (no
 * `process.getBuiltinModule`).
 */
export function nodeBuiltin<T>(id: string): T | undefined {
  const proc = (globalThis as { process?: NodeProcess }).process;
  try {
    return proc?.getBuiltinModule?.(id) as T | undefined;
  } catch {
    return undefined;
  }
}

/** Logical CPUs: `navigator.hardwareConcurrency` (browsers, Node ≥ 21), else node:os; undefined if unknown. */
export function cpuCount(): number | undefined {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (typeof nav?.hardwareConcurrency === "number" && nav.hardwareConcurrency > 0)
    return nav.hardwareConcurrency;
  const os = nodeBuiltin<NodeOs>("node:os");
  if (os !== undefined) return os.availableParallelism?.() ?? Math.max(1, os.cpus().length);
  return undefined;
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** The bytes of standard base64 `text` (padding optional), without Buffer or atob. */
export function decodeBase64(text: string): Uint8Array {
  const clean = text.replace(/=+$/, "");
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let k = 0;
  for (let i = 0; i < clean.length; i++) {
    const v = BASE64.indexOf(clean[i]!);
    if (v < 0) throw new Error(`decodeBase64: invalid character ${JSON.stringify(clean[i])} at ${i}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[k++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/**
 * The registry of code generators, by name. `js` and `reference` are ready at
 * once; `wasm` loads its code generator and thread host the first time it
 * is asked for (binaryen only where its optimizer is asked for), so programs
 * that never use it never pay for it.
 */
import type { Backend } from "./backend.js";
import { jsBackend } from "./backend.js";
import { referenceBackend } from "./reference.js";
import { wgslBackend, wgslBackendOn } from "./wgsl/index.js";

import { BACKEND_NAMES, type BackendName, isBackendName } from "./names.js";

export type { Backend } from "./backend.js";
export { BACKEND_NAMES, type BackendName, isBackendName } from "./names.js";

const ready = new Map<BackendName, Backend>([
  ["js", jsBackend],
  ["reference", referenceBackend],
]);

/** Options a backend may take (each backend ignores those that do not concern it). */
export interface BackendOptions {
  /** Threads of the `wasm` backend (see `WasmBackendOptions.threads`); undefined: its default. */
  readonly threads?: number;
  /** The program runs once: the `wasm` backend builds no threaded module a first run would not use (see `WasmBackendOptions.runOnce`). */
  readonly runOnce?: boolean;
  /** The `wasm` backend runs binaryen's optimizer over its modules (see `WasmBackendOptions.optimize`; binaryen must be loaded). */
  readonly optimizeWasm?: boolean;
  /** The device of the `wgsl` backend (default: this host's, once {@link loadBackend} has requested it). */
  readonly device?: GPUDevice;
}

/** Makes a `wasm` backend with options, once {@link loadBackend} has loaded it. */
let makeWasm: ((options: { threads?: number; runOnce?: boolean; optimize?: boolean }) => Backend) | null = null;

/**
 * A backend that is ready to use without waiting: `js`, `reference`,
 * `wasm` once {@link loadBackend} has loaded it, and `wgsl` once
 * {@link loadBackend} has requested this host's device or with
 * `options.device`. `options` configure the `wasm` and `wgsl` backends;
 * the others ignore them.
 *
 * @throws Error for `wasm` or `wgsl` before it was loaded
 * @throws RangeError for a `threads` that is not a positive integer
 * @example
 * ```ts
 * backendNamed("js").name; // "js"
 * backendNamed("wasm", { threads: 1 }); // after await loadBackend("wasm")
 * ```
 */
export function backendNamed(name: BackendName, options: BackendOptions = {}): Backend {
  if (name === "wasm" && makeWasm && (options.threads !== undefined || options.runOnce || options.optimizeWasm)) {
    return makeWasm({ threads: options.threads, runOnce: options.runOnce, optimize: options.optimizeWasm });
  }
  if (name === "wgsl" && options.device) return wgslBackendOn(options.device);
  const backend = ready.get(name);
  if (backend) return backend;
  throw new Error(`the ${name} backend loads asynchronously: use compileAsync(), or await loadBackend("${name}") once before compile()`);
}

/**
 * Any backend by name, loading its code generator first when needed (`wasm`
 * loads its modules on first use, `wgsl` requests this host's WebGPU device;
 * later calls return at once).
 *
 * @throws Error when no backend has that name
 * @throws CompileError (TNS0610) for `wgsl` when the host has no WebGPU adapter
 * @example
 * ```ts
 * const wasm = await loadBackend("wasm");
 * wasm.compile(program).executable.run({ A });
 * ```
 */
export async function loadBackend(name: string): Promise<Backend> {
  if (!isBackendName(name)) throw new Error(`unknown backend '${name}' (known: ${BACKEND_NAMES.join(", ")})`);
  const known = ready.get(name);
  if (known) return known;
  if (name === "wgsl") {
    const backend = await wgslBackend();
    ready.set(name, backend);
    return backend;
  }
  const { wasmBackendFactory } = await import("./wasm/index.js");
  const make = await wasmBackendFactory();
  const backend = make();
  makeWasm = make;
  ready.set(name, backend);
  return backend;
}

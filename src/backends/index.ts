/**
 * The registry of code generators, by name. `js` and `reference` are ready at
 * once; `wasm` loads binaryen (a large module) the first time it is asked for,
 * so programs that never use it never pay for it.
 */
import type { Backend } from "./backend.js";
import { jsBackend } from "./backend.js";
import { referenceBackend } from "./reference.js";

export type { Backend } from "./backend.js";

/** Names accepted by `compile({ backend })` and `--backend`. */
export type BackendName = "js" | "wasm" | "reference";

/** Every backend name, in the order `--help` lists them. */
export const BACKEND_NAMES: readonly BackendName[] = ["js", "wasm", "reference"];

const ready = new Map<BackendName, Backend>([
  ["js", jsBackend],
  ["reference", referenceBackend],
]);

/** Whether a string names a backend. */
export function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

/**
 * A backend that is ready to use without waiting: `js`, `reference`, and
 * `wasm` once {@link loadBackend} has loaded it.
 *
 * @throws Error for `wasm` before it was loaded
 * @example
 * ```ts
 * backendNamed("js").name; // "js"
 * ```
 */
export function backendNamed(name: BackendName): Backend {
  const backend = ready.get(name);
  if (backend) return backend;
  throw new Error(`the ${name} backend loads asynchronously: use compileAsync(), or await loadBackend("${name}") once before compile()`);
}

/**
 * Any backend by name, loading its code generator first when needed (`wasm`
 * loads binaryen on first use; later calls return at once).
 *
 * @throws Error when no backend has that name
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
  const { wasmBackend } = await import("./wasm/index.js");
  const backend = await wasmBackend();
  ready.set(name, backend);
  return backend;
}

/**
 * The backends' names, in a module of their own so that the command line
 * can check `--backend` without loading the backends (index.ts).
 */

/** Names accepted by `compile({ backend })` and `--backend`. */
export type BackendName = "js" | "wasm" | "wgsl" | "reference";

/** Every backend name, in the order `--help` lists them. */
export const BACKEND_NAMES: readonly BackendName[] = ["js", "wasm", "wgsl", "reference"];

/** Whether a string names a backend. */
export function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

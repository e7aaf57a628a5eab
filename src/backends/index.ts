/**
 * The registry of code generators, by name.
 */
import type { Backend } from "./backend.js";
import { jsBackend } from "./backend.js";
import { referenceBackend } from "./reference.js";

export type { Backend } from "./backend.js";

/** Names accepted by `compile({ backend })` and `--backend`. */
export type BackendName = "js" | "reference";

/** Every backend name, in the order `--help` lists them. */
export const BACKEND_NAMES: readonly BackendName[] = ["js", "reference"];

/**
 * The backend with a given name.
 *
 * @example
 * ```ts
 * backendNamed("js").name; // "js"
 * ```
 */
export function backendNamed(name: BackendName): Backend {
  switch (name) {
    case "js": return jsBackend;
    case "reference": return referenceBackend;
  }
}

/**
 * Diagnostics as data: the catalog of stable codes, the bag that collects
 * them, and the one renderer that prints them.
 *
 * @example
 * ```ts
 * import { DiagnosticBag, renderDiagnostics } from "./diagnostics/index.js";
 * ```
 */
export * from "./diagnostic.js";
export * from "./catalog.js";
export * from "./render.js";

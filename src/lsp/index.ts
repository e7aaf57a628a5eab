/**
 * The language server (`tns lsp`): one file per feature, `server.ts` wires
 * them to a connection.
 */
export { startLanguageServer } from "./server.js";
export type { LanguageServerOptions } from "./server.js";
export { analyze, overlayLoader } from "./analysis.js";
export type { Analysis } from "./analysis.js";
export { buildSymbols } from "./symbols.js";
export type { SymbolTable, Binding, Occurrence, SymbolKind } from "./symbols.js";

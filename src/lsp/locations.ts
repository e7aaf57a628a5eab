/**
 * Between the compiler's places and the protocol's: spans (1-based line and
 * column) to LSP ranges (0-based), document URIs to the file names the
 * compiler reads, and file keys (`<stdlib>/nn.tns`) back to URIs.
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Position, Range } from "vscode-languageserver";
import type { Span } from "../diagnostics/diagnostic.js";
import { defaultStdlibDir, diskPath } from "../checker/index.js";

/** The LSP range of a span. */
export function rangeOf(span: Span): Range {
  return {
    start: { line: span.start.line - 1, character: span.start.column - 1 },
    end: { line: span.end.line - 1, character: span.end.column - 1 },
  };
}

/** The offset of an LSP position in a text. */
export function offsetAt(text: string, position: Position): number {
  let offset = 0;
  for (let line = 0; line < position.line; line++) {
    const next = text.indexOf("\n", offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  const end = text.indexOf("\n", offset);
  return Math.min(offset + position.character, end < 0 ? text.length : end);
}

/** The file name the compiler uses for a document: its path for `file:` URIs, else the URI itself. */
export function fileOfUri(uri: string): string {
  return uri.startsWith("file:") ? fileURLToPath(uri) : uri;
}

/** The URI of a compiler file key: stdlib keys map into the installed `stdlib/` folder. */
export function uriOfFile(file: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(file) && !file.startsWith("<")) return file;
  return pathToFileURL(diskPath(file, defaultStdlibDir())).href;
}

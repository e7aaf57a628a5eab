/**
 * Go to definition: a tensor, size or index to where it is declared (an
 * Einstein index to its first use), a function to its `fn`, in this file or
 * in the file an import names (`stdlib/nn.tns`, `./blocks.tns`), and an
 * import path to that file.
 */
import type { Location } from "vscode-languageserver";
import type { Analysis } from "./analysis.js";
import { rangeOf, uriOfFile } from "./locations.js";
import { occurrenceAt } from "./symbols.js";

const FILE_START = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

/** Where the name at `offset` is defined, or null. */
export function definitionAt(analysis: Analysis, offset: number, uri: string): Location | null {
  for (const item of analysis.module.items) {
    if (item.kind === "import" && item.pathSpan.start.offset <= offset && offset <= item.pathSpan.end.offset) {
      const file = analysis.loader.resolve(analysis.file, item.path);
      return file === null ? null : { uri: uriOfFile(file), range: FILE_START };
    }
  }
  const occurrence = occurrenceAt(analysis.symbols, offset);
  if (!occurrence) return null;
  const b = occurrence.binding;
  if (b.kind === "function" && b.importPath !== undefined) {
    const f = analysis.imports.get(b.name);
    return f ? { uri: uriOfFile(f.file), range: rangeOf(f.span) } : null;
  }
  return { uri, range: rangeOf(b.span) };
}

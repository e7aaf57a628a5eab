/**
 * Rename of a tensor, size, index or function declared in this file: every
 * occurrence of the same binding (scopes as in `symbols.ts`, so renaming the
 * `j` of `sum(j)` leaves the outer `j` alone). Functions imported from
 * another file, builtins and keywords are refused with a reason.
 */
import { ResponseError, ErrorCodes, type Range, type WorkspaceEdit } from "vscode-languageserver";
import type { Analysis } from "./analysis.js";
import { rangeOf } from "./locations.js";
import { type Binding, occurrenceAt, occurrencesOf } from "./symbols.js";
import { KEYWORDS } from "./completion.js";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The range of the name to rename at `offset`, or an error saying why it cannot be renamed. */
export function prepareRename(analysis: Analysis, offset: number): { range: Range; placeholder: string } {
  const occurrence = occurrenceAt(analysis.symbols, offset);
  if (!occurrence) throw new ResponseError(ErrorCodes.InvalidRequest, "no tensor, size, index or function here");
  refuseImported(occurrence.binding);
  return { range: rangeOf(occurrence.span), placeholder: occurrence.binding.name };
}

/** The edit renaming the name at `offset` to `newName`. */
export function renameAt(analysis: Analysis, offset: number, newName: string, uri: string): WorkspaceEdit {
  const occurrence = occurrenceAt(analysis.symbols, offset);
  if (!occurrence) throw new ResponseError(ErrorCodes.InvalidRequest, "no tensor, size, index or function here");
  refuseImported(occurrence.binding);
  if (!IDENTIFIER.test(newName)) throw new ResponseError(ErrorCodes.InvalidParams, `'${newName}' is not a name`);
  if ((KEYWORDS as readonly string[]).includes(newName)) throw new ResponseError(ErrorCodes.InvalidParams, `'${newName}' is a keyword`);
  const edits = occurrencesOf(analysis.symbols, occurrence.binding).map((o) => ({ range: rangeOf(o.span), newText: newName }));
  return { changes: { [uri]: edits } };
}

function refuseImported(b: Binding): void {
  if (b.importPath !== undefined) throw new ResponseError(ErrorCodes.InvalidRequest, `'${b.name}' is defined in "${b.importPath}"; rename it there`);
}

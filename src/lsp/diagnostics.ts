/**
 * The compiler's diagnostics as LSP diagnostics: the same code, message,
 * span and hint that `tns check` prints, notes as related information.
 * A diagnostic located in another file (an imported one) is shown on the
 * first line, naming where it is.
 */
import { DiagnosticSeverity, type Diagnostic as LspDiagnostic } from "vscode-languageserver";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { formatLocation } from "../diagnostics/render.js";
import type { Analysis } from "./analysis.js";
import { rangeOf, uriOfFile } from "./locations.js";

const START = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

/** The diagnostics to publish for an analysed document. */
export function documentDiagnostics(analysis: Analysis, uri: string): LspDiagnostic[] {
  const out = analysis.diagnostics.map((d) => toLsp(d, analysis.file, uri));
  if (analysis.internalError !== null) {
    out.push({
      range: START, severity: DiagnosticSeverity.Error, source: "tns",
      message: `internal compiler error: ${analysis.internalError}\nThis is a bug in tns; please report it with the program that triggered it.`,
    });
  }
  return out;
}

function toLsp(d: Diagnostic, file: string, uri: string): LspDiagnostic {
  const here = d.span !== undefined && d.span.file === file;
  const lines = [d.message];
  if (d.span && !here) lines[0] = `${formatLocation(d.span)}: ${d.message}`;
  for (const n of d.notes) if (!n.span) lines.push(`note: ${n.message}`);
  if (d.hint) lines.push(`hint: ${d.hint}`);
  const related = d.notes.flatMap((n) => (n.span ? [{ location: { uri: n.span.file === file ? uri : uriOfFile(n.span.file), range: rangeOf(n.span) }, message: n.message }] : []));
  return {
    range: here ? rangeOf(d.span!) : START,
    severity: d.severity === "error" ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: d.code,
    source: "tns",
    message: lines.join("\n"),
    ...(related.length > 0 ? { relatedInformation: related } : {}),
  };
}

/**
 * The one diagnostic renderer: a {@link Diagnostic} (data) becomes the text a
 * person reads, with its code, file:line:col, a code frame with carets under
 * the span, notes and a hint.
 *
 * Before: `{ code: "TNS0101", severity: "error", message: "unknown tensor 'Q'", span: a.tns 2:5-2:6 }`
 * After:
 * ```text
 * error[TNS0101]: unknown tensor 'Q'
 *   --> a.tns:2:5
 *    |
 *  2 | Y = Q * 2
 *    |     ^
 * ```
 */
import type { Diagnostic, Span } from "./diagnostic.js";

/** Finds a file's source text by name; undefined when it is not available. */
export type SourceLookup = (file: string) => string | undefined;

/** Rendering options. Color is off unless asked for. */
export interface RenderOptions {
  /** Use ANSI colors (for terminals). */
  color?: boolean;
}

const TAB_WIDTH = 4;

/**
 * `file:line:col` of a span's start.
 *
 * @example
 * ```ts
 * formatLocation(spanAt("a.tns", 3, 7)); // "a.tns:3:7"
 * ```
 */
export function formatLocation(span: Span): string {
  return `${span.file}:${span.start.line}:${span.start.column}`;
}

/**
 * One diagnostic as text (no trailing newline).
 *
 * @example
 * ```ts
 * const text = renderDiagnostic(diag, (f) => (f === "a.tns" ? "Y = Q * 2" : undefined));
 * text.split("\n")[0]; // "error[TNS0101]: unknown tensor 'Q'"
 * ```
 */
export function renderDiagnostic(d: Diagnostic, sources: SourceLookup, options: RenderOptions = {}): string {
  const paint = painter(options.color === true, d.severity);
  const spans = [d.span, ...d.notes.map((n) => n.span)].filter((s): s is Span => s !== undefined);
  const width = Math.max(1, ...spans.map((s) => String(s.start.line).length));
  const kind = d.severity === "error" ? paint.error(`error[${d.code}]`) : paint.warning(`warning[${d.code}]`);
  const out = [`${kind}${paint.bold(`: ${d.message}`)}`];
  if (d.span) out.push(...frame(d.span, sources, width, paint));
  for (const note of d.notes) {
    out.push(`${pad(width + 2)}${paint.gutter("=")} ${paint.bold("note")}: ${note.message}`);
    if (note.span) out.push(...frame(note.span, sources, width, paint));
  }
  if (d.hint !== undefined) out.push(`${pad(width + 2)}${paint.gutter("=")} ${paint.bold("hint")}: ${d.hint}`);
  return out.join("\n");
}

/**
 * Several diagnostics, separated by blank lines.
 *
 * @example
 * ```ts
 * console.error(renderDiagnostics(diags.items, (f) => readFileSync(f, "utf8"), { color: true }));
 * ```
 */
export function renderDiagnostics(list: readonly Diagnostic[], sources: SourceLookup, options: RenderOptions = {}): string {
  return list.map((d) => renderDiagnostic(d, sources, options)).join("\n\n");
}

/** The `-->` line and, when the source line exists, the code frame with carets. */
function frame(span: Span, sources: SourceLookup, width: number, paint: Painter): string[] {
  const lines = [`${pad(width + 1)}${paint.gutter("-->")} ${formatLocation(span)}`];
  const text = safeLookup(sources, span.file);
  const raw = text?.split(/\r?\n/)[span.start.line - 1];
  if (raw === undefined) return lines;
  const startCol = Math.max(1, span.start.column);
  const endCol = span.end.line === span.start.line ? Math.max(span.end.column, startCol + 1) : raw.length + 1;
  const before = visualWidth(raw.slice(0, startCol - 1));
  const length = Math.max(1, visualWidth(raw.slice(0, Math.max(endCol - 1, startCol))) - before);
  const marker = paint.caret("^".repeat(length));
  lines.push(`${pad(width + 2)}${paint.gutter("|")}`);
  lines.push(`${paint.gutter(` ${String(span.start.line).padStart(width)} |`)} ${expandTabs(raw)}`.trimEnd());
  lines.push(`${pad(width + 2)}${paint.gutter("|")} ${pad(before)}${marker}`);
  return lines;
}

function safeLookup(sources: SourceLookup, file: string): string | undefined {
  try {
    return sources(file);
  } catch {
    return undefined;
  }
}

/** Width on screen, with tabs to the next multiple of {@link TAB_WIDTH}. */
function visualWidth(s: string): number {
  return expandTabs(s).length;
}

function expandTabs(s: string): string {
  let out = "";
  for (const ch of s) out += ch === "\t" ? " ".repeat(TAB_WIDTH - (out.length % TAB_WIDTH)) : ch;
  return out;
}

function pad(n: number): string {
  return " ".repeat(n);
}

interface Painter {
  error(s: string): string;
  warning(s: string): string;
  bold(s: string): string;
  gutter(s: string): string;
  caret(s: string): string;
}

function painter(color: boolean, severity: Diagnostic["severity"]): Painter {
  const wrap = (code: string) => (s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const caret = severity === "error" ? wrap("1;31") : wrap("1;33");
  return { error: wrap("1;31"), warning: wrap("1;33"), bold: wrap("1"), gutter: wrap("1;34"), caret };
}

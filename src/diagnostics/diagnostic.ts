/**
 * Diagnostics are data: a stable code from the catalog, a message, a span,
 * notes and a hint. Every stage reports user mistakes through a
 * {@link DiagnosticBag}; nothing user-caused is thrown. Broken compiler
 * invariants are {@link InternalCompilerError}s instead.
 */
import { CATALOG, type DiagnosticCode } from "./catalog.js";

/** A position in a source file. `line` and `column` are 1-based; `offset` is 0-based. */
export interface SourcePos {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

/** A half-open range `[start, end)` of a source file. */
export interface Span {
  readonly file: string;
  readonly start: SourcePos;
  readonly end: SourcePos;
}

/** How bad a diagnostic is: errors stop compilation, warnings do not. */
export type Severity = "error" | "warning";

/** A secondary message attached to a diagnostic, optionally pointing elsewhere. */
export interface DiagnosticNote {
  readonly message: string;
  readonly span?: Span;
}

/**
 * One problem found in a user's program.
 *
 * @example
 * ```ts
 * const d: Diagnostic = { code: "TNS0101", severity: "error", message: "unknown tensor 'Q'", notes: [] };
 * ```
 */
export interface Diagnostic {
  /** Stable code from the catalog, e.g. `TNS0101`. */
  readonly code: DiagnosticCode;
  readonly severity: Severity;
  readonly message: string;
  readonly span?: Span;
  readonly notes: readonly DiagnosticNote[];
  /** A suggestion for how to fix the problem. */
  readonly hint?: string;
}

/** Errors one compilation reports before it only counts the rest. */
export const MAX_ERRORS = 100;

/** Options shared by {@link DiagnosticBag.error} and {@link DiagnosticBag.warning}. */
export interface DiagnosticExtras {
  notes?: DiagnosticNote[];
  hint?: string;
}

/**
 * Collects diagnostics for one compilation. Stages push into it instead of
 * throwing, so one run can report many problems.
 *
 * @example
 * ```ts
 * const bag = new DiagnosticBag();
 * bag.error("TNS0101", "unknown tensor 'Q'", undefined, { hint: "declare it with `input Q[n]`" });
 * bag.hasErrors; // true
 * ```
 */
export class DiagnosticBag {
  private readonly list: Diagnostic[] = [];
  private errors = 0;
  private suppressed = 0;

  /** @param errorLimit errors kept before the rest are only counted (docs/limits.md) */
  constructor(readonly errorLimit: number = MAX_ERRORS) {}

  /** Records an error. */
  error(code: DiagnosticCode, message: string, span?: Span, extras: DiagnosticExtras = {}): void {
    this.push({ code, severity: "error", message, span, notes: extras.notes ?? [], hint: extras.hint });
  }

  /** Records a warning. */
  warning(code: DiagnosticCode, message: string, span?: Span, extras: DiagnosticExtras = {}): void {
    this.push({ code, severity: "warning", message, span, notes: extras.notes ?? [], hint: extras.hint });
  }

  /** Records a ready-made diagnostic. */
  push(d: Diagnostic): void {
    if (!(d.code in CATALOG)) throw new InternalCompilerError(`diagnostic code ${d.code} is not in the catalog`);
    if (d.severity === "error" && this.errors >= this.errorLimit) {
      this.suppressed++;
      return;
    }
    if (d.severity === "error") this.errors++;
    const clean: Diagnostic = { ...d };
    if (clean.span === undefined) delete (clean as { span?: Span }).span;
    if (clean.hint === undefined) delete (clean as { hint?: string }).hint;
    this.list.push(clean);
  }

  /** Appends every diagnostic of another bag (and counts what it left out). */
  absorb(other: DiagnosticBag | readonly Diagnostic[]): void {
    for (const d of other instanceof DiagnosticBag ? other.list : other) this.push(d);
    if (other instanceof DiagnosticBag) this.suppressed += other.suppressed;
  }

  /** Orders the diagnostics by where they start in their file (stable). */
  sortByPosition(): void {
    this.list.sort((a, b) => (a.span?.start.offset ?? 0) - (b.span?.start.offset ?? 0));
  }

  /** Errors past {@link errorLimit}, counted but not kept. */
  get suppressedErrors(): number {
    return this.suppressed;
  }

  /**
   * All diagnostics, in the order they were reported. Past the error limit,
   * the last error kept carries a note saying how many more were found.
   */
  get items(): readonly Diagnostic[] {
    if (this.suppressed === 0) return this.list;
    const last = this.list.findLastIndex((d) => d.severity === "error");
    const note = { message: `${this.suppressed} more error${this.suppressed === 1 ? "" : "s"} not shown (tns stops after ${this.errorLimit})` };
    return this.list.map((d, k) => (k === last ? { ...d, notes: [...d.notes, note] } : d));
  }

  /** Whether any error (not warning) was reported. */
  get hasErrors(): boolean {
    return this.errors > 0;
  }
}

/**
 * A broken compiler invariant (a bug in tns, not in the user's program).
 * Users see it briefly; every test fails on it.
 */
export class InternalCompilerError extends Error {
  constructor(message: string) {
    super(`internal compiler error: ${message}`);
    this.name = "InternalCompilerError";
  }
}

/**
 * Thrown at the API boundary when a program that failed to compile is used
 * (for example `run()` on a program with errors). Carries the diagnostics.
 */
export class CompileError extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[], rendered?: string) {
    super(rendered ?? diagnostics.map((d) => `${d.code}: ${d.message}`).join("\n"));
    this.name = "CompileError";
  }
}

/** Builds a span from 1-based line/column pairs; handy for synthesized nodes and tests. */
export function spanAt(file: string, line: number, column: number, endLine = line, endColumn = column + 1): Span {
  return {
    file,
    start: { offset: -1, line, column },
    end: { offset: -1, line: endLine, column: endColumn },
  };
}

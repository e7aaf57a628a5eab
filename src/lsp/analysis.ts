/**
 * One open document, compiled the way `tns check` compiles a file: parsed,
 * checked (imports read through the same loader, open editors' unsaved text
 * first), with its symbol table. What the optimizer did is computed only
 * when a hover asks, once per version of the text.
 */
import { check, parse } from "../compiler.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { Module } from "../parser/ast.js";
import type { DefNode, Program } from "../ir/types.js";
import { nodeLoader, type SourceLoader } from "../checker/index.js";
import { explainWithin } from "../explain.js";
import type { ExplainReport } from "../explain-report.js";
import { buildSymbols, type SymbolTable } from "./symbols.js";
import { importedFunctions, type ImportedFunction } from "./imports.js";

/** Everything the features need to know about one version of a document. */
export interface Analysis {
  /** The file name the compiler saw (a path for `file:` documents, so relative imports resolve). */
  readonly file: string;
  readonly text: string;
  readonly module: Module;
  /** The checked IR, before any pass; null when the program has errors. */
  readonly program: Program | null;
  readonly diagnostics: readonly Diagnostic[];
  /** Texts of the file and of every file it imports, by file key. */
  readonly sources: ReadonlyMap<string, string>;
  readonly symbols: SymbolTable;
  /** Functions the imports bring in, by name. */
  readonly imports: ReadonlyMap<string, ImportedFunction>;
  /** The loader imports were read through. */
  readonly loader: SourceLoader;
  /** The message of an internal compiler error the check ran into (a bug in tns), or null. */
  readonly internalError: string | null;
  /** The `tns explain` report (null when the program has errors or the pipeline refused it). */
  explain(): ExplainReport | null;
}

/**
 * Parses and checks a document's text.
 *
 * @example
 * ```ts
 * const a = analyze("input X[4]\noutput Y[i] = 2 * X[i]", "/p/y.tns", nodeLoader());
 * a.program?.tensors.map((t) => t.name); // ["X", "Y"]
 * ```
 */
export function analyze(text: string, file: string, loader: SourceLoader): Analysis {
  const { module } = parse(text, file);
  let result: ReturnType<typeof check>;
  let internalError: string | null = null;
  try {
    result = check(text, { file, loader });
  } catch (e) {
    // A broken invariant in the compiler must not take the editor's server down with it.
    internalError = e instanceof Error ? e.message : String(e);
    result = { program: null, sources: new Map([[file, text]]), diagnostics: [] };
  }
  let report: ExplainReport | null | undefined;
  const imports = importedFunctions(module, loader);
  return {
    file, text, module, program: result.program, diagnostics: result.diagnostics, sources: result.sources,
    symbols: buildSymbols(module, imports), imports, loader, internalError,
    explain() {
      if (report !== undefined) return report;
      report = null;
      if (result.program) {
        try {
          const explained = explainWithin(result.program);
          if (explained.ok) report = explained.report;
        } catch {
          report = null;
        }
      }
      return report;
    },
  };
}

/** A loader that reads open documents before the disk, so imports see unsaved edits. */
export function overlayLoader(openText: (file: string) => string | undefined, base: SourceLoader = nodeLoader()): SourceLoader {
  return {
    resolve: (from, path) => base.resolve(from, path),
    read: (file) => openText(file) ?? base.read(file),
    candidates: base.candidates ? (from, path) => base.candidates!(from, path) : undefined,
  };
}

/** The checked def of a top-level tensor, if checking produced one. */
export function defNamed(program: Program | null, name: string): DefNode | null {
  const node = program?.tensors.find((t) => t.name === name);
  return node?.role === "def" ? node : null;
}

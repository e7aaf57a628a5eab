/**
 * What a file's `import` statements bring in: for each imported file, its
 * functions with where they are written, so that a call can be followed into
 * `stdlib/nn.tns` or `./blocks.tns` and hovered with its signature.
 */
import { parse } from "../compiler.js";
import type * as ast from "../parser/ast.js";
import type { SourceLoader } from "../checker/index.js";
import type { Span } from "../diagnostics/diagnostic.js";

/** A function that another file defines. */
export interface ImportedFunction {
  readonly name: string;
  /** The file key it lives in (`<stdlib>/nn.tns`, `p/blocks.tns`). */
  readonly file: string;
  /** The import path as written (`"nn"`). */
  readonly importPath: string;
  /** Its name in its own file. */
  readonly span: Span;
  /** `fn softmax(X[n, m]) -> Y[n, m]`, as written. */
  readonly signature: string;
  /** The `#` comment lines just above it, without the `#`. */
  readonly doc: string;
}

/** Functions visible through the imports of a module, by name (an import of named functions lists only those). */
export function importedFunctions(module: ast.Module, loader: SourceLoader): Map<string, ImportedFunction> {
  const out = new Map<string, ImportedFunction>();
  for (const item of module.items) {
    if (item.kind !== "import") continue;
    const wanted = item.names === null ? null : new Set(item.names.map((n) => n.name));
    for (const f of functionsOf(module.file, item.path, loader)) {
      if (wanted === null || wanted.has(f.name)) out.set(f.name, f);
    }
  }
  return out;
}

/** Every function of the file an import path names (empty when it does not resolve). */
export function functionsOf(fromFile: string, importPath: string, loader: SourceLoader): ImportedFunction[] {
  const file = loader.resolve(fromFile, importPath);
  const text = file === null ? null : loader.read(file);
  if (file === null || text === null) return [];
  const { module } = parse(text, file);
  return module.items.flatMap((item) => (item.kind === "fn" ? [describe(item, text, file, importPath)] : []));
}

/** The signature and doc comment of a function declared in `text`. */
export function describeFunction(fn: ast.FnDecl, text: string): { signature: string; doc: string } {
  const header = text.slice(fn.span.start.offset, fn.span.end.offset);
  const brace = header.indexOf("{");
  const signature = (brace < 0 ? header : header.slice(0, brace)).replace(/\s+/g, " ").trim();
  const before = text.slice(0, fn.span.start.offset).split("\n");
  before.pop();
  const doc: string[] = [];
  while (before.length > 0 && /^\s*#/.test(before.at(-1)!)) doc.unshift(before.pop()!.replace(/^\s*# ?/, ""));
  return { signature, doc: doc.join("\n") };
}

function describe(fn: ast.FnDecl, text: string, file: string, importPath: string): ImportedFunction {
  return { name: fn.name.name, file, importPath, span: fn.name.span, ...describeFunction(fn, text) };
}

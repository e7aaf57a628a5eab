/**
 * Loads the import graph of a program and builds, for each module, the table
 * of functions its code can call: its own functions plus the functions its
 * imports bring in (imports bring in functions only).
 *
 *     main.tns:  import softmax from "nn"      fn head(X[n]) -> Y { ... }
 *     ->  { head: main.tns#head, softmax: <stdlib>/nn.tns#softmax }
 */
import type { DiagnosticBag, Span } from "../diagnostics/diagnostic.js";
import type * as ast from "../parser/ast.js";
import { parseModule } from "../parser/index.js";
import type { SourceLoader } from "./loader.js";
import { BUILTINS } from "./lower-expr.js";
import { suggestion, type FnInfo } from "./scope.js";

/** Inputs of {@link loadFunctions}. */
export interface ModuleLoading {
  readonly loader: SourceLoader;
  readonly diags: DiagnosticBag;
  /** Receives the text of every imported file, for code frames. */
  readonly sources: Map<string, string>;
  /** Sizes visible in the main module's functions. */
  readonly mainSizes: ReadonlyMap<string, number>;
}

interface Loaded {
  /** The module's own functions (what importing it brings in). */
  readonly own: Map<string, FnInfo>;
}

/**
 * The functions the main module can call, loading and parsing its imports.
 * Reports TNS0107 (not found), TNS0108 (cycle), TNS0103 (defined twice) and
 * TNS0104 (importing a name the module does not define).
 *
 * @example
 * ```ts
 * const fns = loadFunctions(module, { loader: nodeLoader(), diags, sources, mainSizes: sizes });
 * fns.get("softmax")?.decl.params.length; // 1
 * ```
 */
export function loadFunctions(main: ast.Module, opts: ModuleLoading): Map<string, FnInfo> {
  const cache = new Map<string, Loaded>();
  const stack: { file: string; span: Span | null }[] = [{ file: main.file, span: null }];
  return scopeOf(main, opts.mainSizes, opts, cache, stack);
}

function scopeOf(
  module: ast.Module,
  sizes: ReadonlyMap<string, number>,
  opts: ModuleLoading,
  cache: Map<string, Loaded>,
  stack: { file: string; span: Span | null }[],
): Map<string, FnInfo> {
  const { diags } = opts;
  const table = new Map<string, FnInfo>();
  const own = new Map<string, FnInfo>();
  for (const item of module.items) {
    if (item.kind !== "fn") continue;
    const first = own.get(item.name.name);
    if (first !== undefined) {
      diags.error("TNS0103", `function '${item.name.name}' is defined twice`, item.name.span, {
        notes: [{ message: "first defined here", span: first.decl.name.span }],
      });
      continue;
    }
    if (BUILTINS.has(item.name.name)) {
      diags.error("TNS0103", `function '${item.name.name}' has the name of a builtin`, item.name.span, {
        hint: "builtins cannot be redefined; pick another name",
      });
      continue;
    }
    for (const d of item.body) {
      if (d.output) {
        diags.error("TNS0001", "'output' cannot be used inside a function body", d.span, {
          hint: "a function returns its declared result; mark the call's result as output instead",
        });
      }
    }
    const info: FnInfo = { key: `${module.file}#${item.name.name}`, decl: item, fns: table, sizes };
    own.set(item.name.name, info);
    table.set(item.name.name, info);
  }
  cache.set(module.file, { own });
  for (const item of module.items) {
    if (item.kind !== "import") continue;
    const imported = loadImport(module.file, item, opts, cache, stack);
    if (imported === null) continue;
    const chosen: [string, FnInfo, Span][] = [];
    if (item.names === null) {
      // A whole-module import never overrides a function of this module.
      for (const [n, f] of imported.own) if (!own.has(n)) chosen.push([n, f, item.pathSpan]);
    } else {
      for (const n of item.names) {
        const f = imported.own.get(n.name);
        if (f === undefined) {
          const near = suggestion(n.name, imported.own.keys());
          diags.error("TNS0104", `'${item.path}' defines no function '${n.name}'`, n.span,
            near === null ? { hint: `it defines: ${[...imported.own.keys()].join(", ") || "no functions"}` } : { hint: `did you mean '${near}'?` });
          continue;
        }
        chosen.push([n.name, f, n.span]);
      }
    }
    for (const [n, f, span] of chosen) {
      const had = table.get(n);
      if (had !== undefined && had.key !== f.key) {
        diags.error("TNS0103", `function '${n}' is both defined here and imported from '${item.path}'`, span, {
          notes: [{ message: "other definition", span: had.decl.name.span }],
        });
        continue;
      }
      table.set(n, f);
    }
  }
  return table;
}

function loadImport(
  fromFile: string,
  item: ast.ImportDecl,
  opts: ModuleLoading,
  cache: Map<string, Loaded>,
  stack: { file: string; span: Span | null }[],
): Loaded | null {
  const { diags, loader } = opts;
  const file = loader.resolve(fromFile, item.path);
  if (file === null) {
    diags.error("TNS0107", `cannot find module '${item.path}'`, item.pathSpan, { hint: missingImportHint(fromFile, item.path, loader) });
    return null;
  }
  const open = stack.findIndex((s) => s.file === file);
  if (open >= 0) {
    diags.error("TNS0108", `import cycle: ${[...stack.slice(open).map((s) => s.file), file].join(" -> ")}`, item.pathSpan, {
      notes: stack.slice(open + 1).map((s) => ({ message: `'${s.file}' is imported here`, span: s.span! })),
    });
    return null;
  }
  const done = cache.get(file);
  if (done !== undefined) return done;
  const text = loader.read(file);
  if (text === null) {
    diags.error("TNS0107", `cannot read module '${item.path}' (${file})`, item.pathSpan);
    return null;
  }
  opts.sources.set(file, text);
  const module = parseModule(text, file, diags);
  stack.push({ file, span: item.pathSpan });
  try {
    scopeOf(module, new Map(), opts, cache, stack);
  } finally {
    stack.pop();
  }
  return cache.get(file)!;
}

/** A "did you mean" among the paths that would resolve, else where such paths are looked for. */
function missingImportHint(fromFile: string, path: string, loader: SourceLoader): string {
  const known = loader.candidates?.(fromFile, path) ?? [];
  const near = suggestion(path, known);
  if (near !== null) return `did you mean "${near}"?`;
  if (path.startsWith(".")) return "relative paths are resolved from the importing file's folder";
  const listed = known.length > 0 ? `; the stdlib has ${known.map((k) => `"${k.replace(/\.tns$/, "")}"`).sort().join(", ")}` : "";
  return `a path not starting with '.' names a stdlib module, written without extension as in import "nn"${listed}`;
}

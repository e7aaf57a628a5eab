/**
 * Completion: inside an import's quotes, the stdlib modules; elsewhere the
 * tensors, sizes and functions in scope at the cursor (a function body sees
 * its own), the index variables of the definition being written, the
 * builtin functions and the keywords. The functions of stdlib modules not
 * yet imported are offered with the import they need in their detail.
 */
import { readdirSync } from "node:fs";
import { type CompletionItem, CompletionItemKind } from "vscode-languageserver";
import type * as ast from "../parser/ast.js";
import { defaultStdlibDir } from "../checker/index.js";
import type { Analysis } from "./analysis.js";
import { functionsOf } from "./imports.js";
import { BUILTIN_FUNCTIONS, type Binding } from "./symbols.js";

/** The keywords of the language, reduction operators and element types included. */
export const KEYWORDS = ["size", "input", "weight", "output", "fn", "import", "from", "sum", "prod", "max", "min", "argmax", "argmin", "topk", "f32", "f64", "i32", "inf"] as const;

/** The stdlib modules (`nn`, `linalg`, ...). */
export function stdlibModules(): string[] {
  try {
    return readdirSync(defaultStdlibDir()).filter((f) => f.endsWith(".tns")).map((f) => f.slice(0, -4)).sort();
  } catch {
    return [];
  }
}

const KIND: Record<Binding["kind"], CompletionItemKind> = {
  tensor: CompletionItemKind.Variable,
  size: CompletionItemKind.Constant,
  index: CompletionItemKind.TypeParameter,
  function: CompletionItemKind.Function,
};

/** The completions at a source offset. */
export function completionsAt(analysis: Analysis, offset: number): CompletionItem[] {
  if (insideImportString(analysis.text, offset)) {
    return stdlibModules().map((m) => ({ label: m, kind: CompletionItemKind.Module, detail: `stdlib/${m}.tns` }));
  }
  const { fn, def } = enclosing(analysis.module, offset);
  const items = new Map<string, CompletionItem>();
  const add = (item: CompletionItem): void => {
    if (!items.has(item.label)) items.set(item.label, item);
  };
  for (const b of analysis.symbols.bindings) {
    if (b.kind === "index") {
      if (def !== null && b.def === def && b.fn === fn && b.span.start.offset < offset) add({ label: b.name, kind: KIND.index, detail: `index of ${def}` });
      continue;
    }
    const visible = b.kind === "function" || b.fn === fn || (b.kind === "size" && b.fn === null);
    if (visible) add({ label: b.name, kind: KIND[b.kind], detail: detailOf(analysis, b) });
  }
  for (const f of BUILTIN_FUNCTIONS) add({ label: f, kind: CompletionItemKind.Function, detail: "builtin" });
  for (const m of stdlibModules()) {
    for (const f of functionsOf(analysis.file, m, analysis.loader)) {
      add({ label: f.name, kind: CompletionItemKind.Function, detail: `${f.signature}  (import ${f.name} from "${m}")`, documentation: f.doc });
    }
  }
  for (const k of KEYWORDS) add({ label: k, kind: CompletionItemKind.Keyword });
  return [...items.values()];
}

function detailOf(analysis: Analysis, b: Binding): string {
  if (b.kind === "function") return analysis.imports.get(b.name)?.signature ?? "fn";
  if (b.kind === "size") return b.fn === null && analysis.program ? `size = ${analysis.program.sizes[b.name]}` : "size";
  const t = b.fn === null ? analysis.program?.tensors.find((x) => x.name === b.name) : undefined;
  return t ? `${t.dtype}[${t.shape.join(", ")}]` : "tensor";
}

function insideImportString(text: string, offset: number): boolean {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  const before = text.slice(lineStart, offset);
  return /^\s*import\b[^"]*"[^"]*$/.test(before);
}

/** The function and the definition around an offset (a definition being typed counts up to the next statement). */
function enclosing(module: ast.Module, offset: number): { fn: string | null; def: string | null } {
  let fn: string | null = null;
  let def: string | null = null;
  for (const item of module.items) {
    if (item.span.start.offset > offset) break;
    if (item.kind === "fn" && offset <= item.span.end.offset) {
      fn = item.name.name;
      for (const d of item.body) if (d.span.start.offset <= offset) def = d.name.name;
      return { fn, def };
    }
    def = item.kind === "def" ? item.name.name : null;
  }
  return { fn, def };
}

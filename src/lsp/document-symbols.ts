/**
 * The outline of a file: imports, sizes, inputs and weights, definitions
 * (outputs marked) and functions with their body's definitions; a tensor's
 * detail is its type once the program checks.
 */
import { type DocumentSymbol, SymbolKind } from "vscode-languageserver";
import type * as ast from "../parser/ast.js";
import type { Analysis } from "./analysis.js";
import { rangeOf } from "./locations.js";

/** Every top-level item of a document as a symbol. */
export function documentSymbols(analysis: Analysis): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  for (const item of analysis.module.items) {
    switch (item.kind) {
      case "import":
        out.push(symbol(`import "${item.path}"`, SymbolKind.Module, item.span, item.pathSpan, item.names?.map((n) => n.name).join(", ") ?? "everything"));
        break;
      case "size":
        for (const e of item.entries) {
          const v = analysis.program?.sizes[e.name.name];
          out.push(symbol(e.name.name, SymbolKind.Constant, e.span, e.name.span, v === undefined ? "size" : `size = ${v}`));
        }
        break;
      case "tensor":
        out.push(symbol(item.name.name, SymbolKind.Variable, item.span, item.name.span, `${item.role} ${typeText(analysis, item.name.name) ?? item.dtype}`));
        break;
      case "def":
        out.push(defSymbol(analysis, item, true));
        break;
      case "fn":
        out.push({
          ...symbol(item.name.name, SymbolKind.Function, item.span, item.name.span, "fn"),
          children: item.body.map((d) => defSymbol(analysis, d, false)),
        });
        break;
    }
  }
  return out;
}

function defSymbol(analysis: Analysis, d: ast.Def, topLevel: boolean): DocumentSymbol {
  const type = topLevel ? typeText(analysis, d.name.name) : null;
  const detail = [d.output ? "output" : "", type ?? ""].filter((s) => s !== "").join(" ");
  return symbol(d.name.name, d.output ? SymbolKind.Field : SymbolKind.Variable, d.span, d.name.span, detail);
}

function typeText(analysis: Analysis, name: string): string | null {
  const t = analysis.program?.tensors.find((x) => x.name === name);
  return t ? `${t.dtype}[${t.shape.join(", ")}]` : null;
}

function symbol(name: string, kind: SymbolKind, span: ast.Name["span"], selection: ast.Name["span"], detail: string): DocumentSymbol {
  return { name, kind, range: rangeOf(span), selectionRange: rangeOf(selection), detail };
}

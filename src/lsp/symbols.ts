/**
 * Which name is which: every tensor, size, index variable and function of
 * one parsed file, each use tied to the binding it refers to. Hover, go to
 * definition, rename and document symbols all read this table; it is built
 * from the AST alone, so it exists even when checking failed.
 *
 *     size n = 4                   size n        (binding 0, declared)
 *     input X[n]                   tensor X      (binding 1), n -> 0
 *     output Y[i] = X[i] * 2       tensor Y (2), index i of Y (3), X -> 1, i -> 3
 *
 * Scopes follow the language: a def's left-side indices and its Einstein
 * (summed) indices belong to the def, an explicit reduction binds its own
 * indices (`sum(j)` inside `Y[i, j] = ...` is another `j`), a function's
 * parameters, size symbols and body defs are local to it.
 */
import type * as ast from "../parser/ast.js";
import type { Span } from "../diagnostics/diagnostic.js";

/** What a name denotes. */
export type SymbolKind = "tensor" | "size" | "index" | "function";

/** One declared name. */
export interface Binding {
  readonly id: number;
  readonly kind: SymbolKind;
  readonly name: string;
  /** Where it is declared (for an Einstein index: its first use). */
  readonly span: Span;
  /** The function it is local to, or null at the top level. */
  readonly fn: string | null;
  /** For an index: the def whose iteration space it belongs to. */
  readonly def: string | null;
  /** For an index: bound by an explicit reduction (`sum(j)`), by the Einstein rule, or on the left side. */
  readonly indexRole?: "left" | "summed" | "reduction";
  /** For a function imported from another file: the import path as written. */
  readonly importPath?: string;
}

/** One place a name is written. */
export interface Occurrence {
  readonly binding: Binding;
  readonly span: Span;
  readonly isDecl: boolean;
}

/** Every binding and occurrence of one file. */
export interface SymbolTable {
  readonly bindings: readonly Binding[];
  readonly occurrences: readonly Occurrence[];
}

/** The occurrence that covers a source offset (its end included, where a cursor after a name sits). */
export function occurrenceAt(table: SymbolTable, offset: number): Occurrence | undefined {
  return table.occurrences.find((o) => o.span.start.offset <= offset && offset <= o.span.end.offset);
}

/** Every occurrence of a binding, the declaration included. */
export function occurrencesOf(table: SymbolTable, binding: Binding): Occurrence[] {
  return table.occurrences.filter((o) => o.binding.id === binding.id);
}

/** Names of the builtin elementwise functions (docs/language.md, "Expressions"). */
export const BUILTIN_FUNCTIONS = [
  "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "relu", "abs", "pow", "min", "max", "where", "grad",
  "sin", "cos", "tan", "atan", "atan2", "erf", "log1p", "expm1", "softplus", "sign", "floor", "ceil", "round", "clamp",
] as const;

type Env = Map<string, Binding>;

/**
 * Builds the symbol table of a module. `imported` maps the function names
 * that `import "path"` statements bring in to the path they come from
 * (see `importedFunctions`); their binding is the import statement.
 *
 * @example
 * ```ts
 * const { module } = parse("size n = 4\ninput X[n]\noutput Y[i] = X[i]");
 * buildSymbols(module).bindings.map((b) => b.name); // ["n", "X", "Y", "i"]
 * ```
 */
export function buildSymbols(module: ast.Module, imported: ReadonlyMap<string, { readonly importPath: string }> = new Map()): SymbolTable {
  const b = new Builder(imported);
  b.module(module);
  return { bindings: b.bindings, occurrences: b.occurrences.sort((x, y) => x.span.start.offset - y.span.start.offset) };
}

class Builder {
  readonly bindings: Binding[] = [];
  readonly occurrences: Occurrence[] = [];
  private readonly sizes: Env = new Map();
  private readonly tensors: Env = new Map();
  private readonly functions: Env = new Map();

  constructor(private readonly imported: ReadonlyMap<string, { readonly importPath: string }>) {}

  module(m: ast.Module): void {
    // Functions may be called before they are written.
    for (const item of m.items) if (item.kind === "fn") this.declare(this.functions, "function", item.name, null);
    for (const item of m.items) {
      if (item.kind === "import") this.importDecl(item);
      else if (item.kind === "size") for (const e of item.entries) this.sizeEntry(e, this.sizes);
      else if (item.kind === "tensor") this.tensorDecl(item);
      else if (item.kind === "def") this.def(item, this.tensors, this.sizes, null);
      else this.fn(item);
    }
  }

  private bind(kind: SymbolKind, name: ast.Name, fn: string | null, extra: Partial<Binding> = {}): Binding {
    const binding: Binding = { id: this.bindings.length, kind, name: name.name, span: name.span, fn, def: null, ...extra };
    this.bindings.push(binding);
    this.occurrences.push({ binding, span: name.span, isDecl: true });
    return binding;
  }

  private declare(env: Env, kind: SymbolKind, name: ast.Name, fn: string | null, extra: Partial<Binding> = {}): Binding {
    const binding = this.bind(kind, name, fn, extra);
    env.set(name.name, binding);
    return binding;
  }

  private use(binding: Binding | undefined, span: Span): void {
    if (binding) this.occurrences.push({ binding, span, isDecl: false });
  }

  private importDecl(item: ast.ImportDecl): void {
    if (item.names === null) {
      for (const [name, f] of this.imported) {
        if (f.importPath !== item.path || this.functions.has(name)) continue;
        const binding: Binding = { id: this.bindings.length, kind: "function", name, span: item.pathSpan, fn: null, def: null, importPath: item.path };
        this.bindings.push(binding);
        this.functions.set(name, binding);
      }
    }
    for (const name of item.names ?? []) {
      if (!this.functions.has(name.name)) this.declare(this.functions, "function", name, null, { importPath: item.path });
      else this.use(this.functions.get(name.name), name.span);
    }
  }

  private sizeEntry(e: ast.SizeEntry, sizes: Env): void {
    if (e.value) this.sizeExpr(e.value, sizes);
    this.declare(sizes, "size", e.name, null);
  }

  private tensorDecl(item: ast.TensorDecl): void {
    for (const d of item.dims) this.sizeExpr(d, this.sizes);
    this.declare(this.tensors, "tensor", item.name, null);
  }

  /** A size expression: every name is a size (function parameters declare theirs on first use). */
  private sizeExpr(e: ast.Expr, sizes: Env, fn: string | null = null): void {
    walk(e, (node) => {
      if (node.kind !== "ident") return;
      if (sizes.has(node.name)) this.use(sizes.get(node.name), node.span);
      else if (fn !== null) this.declare(sizes, "size", node, fn);
    });
  }

  private def(d: ast.Def, tensors: Env, sizes: Env, fn: string | null, result?: Binding): void {
    const index: Env = new Map();
    for (const slot of d.indices ?? []) {
      // A stated extent (`y < H`, `(h, r < 2)`) is a size expression.
      for (const extent of slot.kind === "var" ? [slot.extent] : slot.extents) if (extent) this.sizeExpr(extent, sizes);
      for (const v of slot.kind === "var" ? [slot.name] : slot.vars) {
        this.declare(index, "index", v, fn, { def: d.name.name, indexRole: "left" });
      }
    }
    const scope: Scope = { tensors, sizes, index, fn, def: d.name.name };
    this.expr(d.rhs, scope, index);
    if (result) this.occurrences.push({ binding: result, span: d.name.span, isDecl: true });
    else this.declare(tensors, "tensor", d.name, fn);
    // The second result of `V[i, r], I[i, r] = topk(...)` (its indices are the first's).
    if (d.second) this.declare(tensors, "tensor", d.second.name, fn);
  }

  private expr(e: ast.Expr, scope: Scope, env: Env): void {
    switch (e.kind) {
      case "number":
        return;
      case "ident":
        return this.ident(e, scope, env);
      case "access":
        if ("kind" in e.target && e.target.kind === "call") this.expr(e.target, scope, env);
        else this.use(scope.tensors.get((e.target as ast.Name).name), (e.target as ast.Name).span);
        for (const i of e.indices) this.expr(i, scope, env);
        return;
      case "unary":
        return this.expr(e.arg, scope, env);
      case "binary":
        this.expr(e.lhs, scope, env);
        return this.expr(e.rhs, scope, env);
      case "call":
        this.use(this.functions.get(e.callee.name), e.callee.span);
        for (const a of e.args) this.expr(a, scope, env);
        return;
      case "group":
        for (const i of e.items) this.expr(i, scope, env);
        return;
      case "reduce": {
        const inner: Env = new Map(env);
        e.vars.forEach((v, k) => {
          const extent = e.extents[k];
          if (extent) this.sizeExpr(extent, scope.sizes);
          this.declare(inner, "index", v, scope.fn, { def: scope.def, indexRole: "reduction" });
        });
        return this.expr(e.body, scope, inner);
      }
    }
  }

  /** A bare name: an index in scope, a size, a tensor (as a call argument), or a new Einstein index of the def. */
  private ident(e: ast.Ident, scope: Scope, env: Env): void {
    const known = env.get(e.name) ?? scope.sizes.get(e.name) ?? scope.tensors.get(e.name);
    if (known) return this.use(known, e.span);
    if (this.functions.has(e.name)) return;
    this.declare(scope.index, "index", e, scope.fn, { def: scope.def, indexRole: "summed" });
    env.set(e.name, scope.index.get(e.name)!);
  }

  private fn(f: ast.FnDecl): void {
    const name = f.name.name;
    // Sizes of the top level stay visible; the parameters' own sizes shadow them.
    const sizes: Env = new Map(this.sizes);
    const tensors: Env = new Map();
    for (const p of f.params) {
      if (p.kind === "size") {
        if (p.value) this.sizeExpr(p.value, sizes, name);
        this.declare(sizes, "size", p.name, name);
      } else {
        for (const d of p.dims) this.sizeExpr(d, sizes, name);
        this.declare(tensors, "tensor", p.name, name);
      }
    }
    const results = new Map<string, Binding>();
    for (const r of f.results) {
      for (const d of r.dims ?? []) this.sizeExpr(d, sizes, name);
      results.set(r.name.name, this.declare(tensors, "tensor", r.name, name));
    }
    for (const d of f.body) this.def(d, tensors, sizes, name, results.get(d.name.name));
  }
}

interface Scope {
  readonly tensors: Env;
  readonly sizes: Env;
  /** The def's own indices (left side and Einstein-summed). */
  readonly index: Env;
  readonly fn: string | null;
  readonly def: string;
}

/** Visits an expression and every expression inside it. */
export function walk(e: ast.Expr, visit: (e: ast.Expr) => void): void {
  visit(e);
  switch (e.kind) {
    case "access":
      if ("kind" in e.target && e.target.kind === "call") walk(e.target, visit);
      for (const i of e.indices) walk(i, visit);
      return;
    case "unary":
      return walk(e.arg, visit);
    case "binary":
      walk(e.lhs, visit);
      return walk(e.rhs, visit);
    case "call":
      for (const a of e.args) walk(a, visit);
      return;
    case "group":
      for (const i of e.items) walk(i, visit);
      return;
    case "reduce":
      for (const x of e.extents) if (x) walk(x, visit);
      return walk(e.body, visit);
    default:
      return;
  }
}

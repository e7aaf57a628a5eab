/**
 * A compact text form of AST expressions for tests: `(+ a (* b c))`,
 * `X[i, j]`, `f(a, b)`, `(sum j: body)`, `(max dy<2 dx: body)` (a bounded
 * index), `(group a b)`.
 */
import type { Expr } from "../../src/parser/ast.js";

/** Prints an expression as an S-expression (spans dropped). */
export function sexpr(e: Expr): string {
  switch (e.kind) {
    case "number":
      return e.value === Infinity ? "inf" : String(e.value);
    case "ident":
      return e.name;
    case "access": {
      const target = "kind" in e.target ? sexpr(e.target) : e.target.name;
      return `${target}[${e.indices.map(sexpr).join(", ")}]`;
    }
    case "unary":
      return `(- ${sexpr(e.arg)})`;
    case "binary":
      return `(${e.op} ${sexpr(e.lhs)} ${sexpr(e.rhs)})`;
    case "call":
      return `${e.callee.name}(${e.args.map(sexpr).join(", ")})`;
    case "reduce":
      return `(${e.op} ${e.vars.map((v, k) => (e.extents[k] ? `${v.name}<${sexpr(e.extents[k])}` : v.name)).join(" ")}: ${sexpr(e.body)})`;
    case "group":
      return `(group ${e.items.map(sexpr).join(" ")})`;
  }
}

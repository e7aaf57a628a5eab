/**
 * Walking kernel expressions: the one place that knows which kinds have
 * operands, so analyses (what a loop loads, which locals or loop variables an
 * expression reads) are a test per node instead of a recursion each.
 *
 *     visitKExpr(relu(b[j] + t0), (x) => ...)   visits relu(..), b[j] + t0, b[j], t0
 */
import type { KExpr } from "./types.js";

/**
 * The operands of a kernel expression, in order (none for constants, index
 * values, locals and loads).
 *
 * @example
 * ```ts
 * kexprChildren({ kind: "unary", op: "exp", arg: x }); // [x]
 * ```
 */
export function kexprChildren(e: KExpr): readonly KExpr[] {
  switch (e.kind) {
    case "unary": return [e.arg];
    case "binary": return [e.lhs, e.rhs];
    case "select": return [e.cond, e.then, e.else];
    case "gather": return e.dims.map((d) => d.value);
    default: return [];
  }
}

/**
 * Calls `visit` on every node of an expression, the expression first, then
 * its operands' nodes in order.
 *
 * @example
 * ```ts
 * const locals = new Set<string>();
 * visitKExpr(e, (x) => { if (x.kind === "local") locals.add(x.name); });
 * ```
 */
export function visitKExpr(e: KExpr, visit: (node: KExpr) => void): void {
  visit(e);
  for (const c of kexprChildren(e)) visitKExpr(c, visit);
}

/**
 * Whether some node of an expression satisfies `test` (stops at the first).
 *
 * @example
 * ```ts
 * someKExpr(e, (x) => x.kind === "index" && x.var === "i"); // reads the value of i
 * ```
 */
export function someKExpr(e: KExpr, test: (node: KExpr) => boolean): boolean {
  return test(e) || kexprChildren(e).some((c) => someKExpr(c, test));
}

/**
 * Adds the kernel locals an expression reads to `into`, and returns it.
 *
 * @example
 * ```ts
 * localsReadBy(binary("add", local("t0"), local("t1")), new Set()); // Set { "t0", "t1" }
 * ```
 */
export function localsReadBy(e: KExpr, into: Set<string>): Set<string> {
  visitKExpr(e, (x) => { if (x.kind === "local") into.add(x.name); });
  return into;
}

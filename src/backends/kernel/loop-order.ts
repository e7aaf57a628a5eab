/**
 * Loop order for one def's main loop nest.
 *
 * The default is the output indices in storage order, then the reduction
 * variables. The innermost loop is then moved to the variable that walks
 * contiguous memory in the most places: the output's last index counts once,
 * and so does every access whose last index steps by one with the variable.
 * For `C[i, j] = sum_k A[i, k] * B[k, j]` the scores are j: 2 (C, B) and
 * k: 1 (A), so the order becomes `i, k, j`: the reduction loop sits outside
 * the output loop `j` and the kernel accumulates rows of `C` in place.
 *
 *     before: i, j, k        after: i, k, j
 *
 * The loops of a nested reduction are ordered the same way, with no output
 * indices: in `relu(sum(ci, dx, dy) K[ci, dy, dx] * X[ci, y + dy, x + dx])`
 * dx is contiguous in both accesses, so the loops run ci, dy, dx.
 */
import type { Access, Expr } from "../../ir/types.js";

/**
 * Accesses of an expression that are evaluated at every point of the main
 * nest (those outside nested reductions, which get loops of their own).
 */
function directAccesses(e: Expr, out: Access[] = []): Access[] {
  switch (e.kind) {
    case "access": out.push(e); break;
    case "unary": directAccesses(e.arg, out); break;
    case "binary": directAccesses(e.lhs, out); directAccesses(e.rhs, out); break;
    case "select": directAccesses(e.cond, out); directAccesses(e.then, out); directAccesses(e.else, out); break;
    default: break;
  }
  return out;
}

/**
 * The loop order (outermost first) of a def's main nest.
 *
 * @param outVars the def's output indices, in storage order
 * @param redVars the variables of its top-level reduction (empty when none)
 * @param body the reduced expression (the def's body without the top-level reduction)
 *
 * @example
 * ```ts
 * chooseLoopOrder(["i", "j"], ["k"], binary("mul", access("A", ["i", "k"]), access("B", ["k", "j"])));
 * // ["i", "k", "j"]
 * ```
 */
export function chooseLoopOrder(outVars: readonly string[], redVars: readonly string[], body: Expr): string[] {
  const all = [...outVars, ...redVars];
  if (all.length < 2) return all;
  const score = new Map<string, number>(all.map((v) => [v, 0]));
  const bump = (v: string): void => { if (score.has(v)) score.set(v, score.get(v)! + 1); };
  bump(outVars[outVars.length - 1] ?? "");
  for (const a of directAccesses(body)) {
    const last = a.index[a.index.length - 1];
    if (!last) continue;
    for (const t of last.terms) if (Math.abs(t.coef) === 1) bump(t.var);
  }
  const fallback = all[all.length - 1]!;
  let best = fallback;
  for (const v of all) if (score.get(v)! > score.get(best)!) best = v;
  if (best === fallback) return all;
  return [...all.filter((v) => v !== best), best];
}

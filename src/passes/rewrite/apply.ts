/**
 * Applying expression rules: once at one node, or at every node of a body
 * (the one-step neighbourhood the search explores), and the search over a
 * def's body with a cost function.
 */
import type { DefNode, Expr } from "../../ir/types.js";
import { exprKey } from "../../ir/walk.js";
import { search, type SearchLimits, type SearchResult, type Step } from "./engine.js";
import { defFlops } from "./flops.js";
import { failedCondition, type AnyExprRule, type ExprContext, type ExprRule } from "./rule.js";

/**
 * `rule` applied at the root of `e`, or null when it does not match or a
 * condition fails.
 *
 * @example
 * ```ts
 * applyAtRoot(mulComm, parseExprText("A[i] * B[i]").expr, ctx); // B[i] * A[i]
 * ```
 */
export function applyAtRoot<B>(rule: ExprRule<B>, e: Expr, ctx: ExprContext): Expr | null {
  const b = rule.match(e, ctx);
  if (b === null || failedCondition(rule, b, ctx) !== null) return null;
  return rule.rewrite(b, ctx);
}

/**
 * Every one-step rewrite of `e` by `rules` at any node, outermost nodes first.
 *
 * @example
 * ```ts
 * expressionRewrites(body, [sumFactorOut], { ranges, dtype: "f32", enclosing: [] }).map((s) => s.rule);
 * ```
 */
export function expressionRewrites(e: Expr, rules: readonly AnyExprRule[], ctx: ExprContext): Step<Expr>[] {
  const out: Step<Expr>[] = [];
  for (const rule of rules) {
    const r = applyAtRoot(rule, e, ctx);
    if (r !== null) out.push({ rule: rule.name, state: r });
  }
  switch (e.kind) {
    case "unary":
      for (const s of expressionRewrites(e.arg, rules, ctx)) out.push({ rule: s.rule, state: { ...e, arg: s.state } });
      break;
    case "binary":
      for (const s of expressionRewrites(e.lhs, rules, ctx)) out.push({ rule: s.rule, state: { ...e, lhs: s.state } });
      for (const s of expressionRewrites(e.rhs, rules, ctx)) out.push({ rule: s.rule, state: { ...e, rhs: s.state } });
      break;
    case "select":
      for (const s of expressionRewrites(e.cond, rules, ctx)) out.push({ rule: s.rule, state: { ...e, cond: s.state } });
      for (const s of expressionRewrites(e.then, rules, ctx)) out.push({ rule: s.rule, state: { ...e, then: s.state } });
      for (const s of expressionRewrites(e.else, rules, ctx)) out.push({ rule: s.rule, state: { ...e, else: s.state } });
      break;
    case "reduce": {
      const inner: ExprContext = { ...ctx, enclosing: [...ctx.enclosing, e.vars] };
      for (const s of expressionRewrites(e.body, rules, inner)) out.push({ rule: s.rule, state: { ...e, body: s.state } });
      break;
    }
    default:
      break;
  }
  return out;
}

/**
 * Searches rewrites of a def's body by `rules` and returns the search
 * result; the cost is the def's FLOP estimate ({@link defFlops}) unless
 * `cost` is given.
 *
 * @example
 * ```ts
 * const r = rewriteDefBody(def, EXPR_RULES, { maxNodes: 500 });
 * r.bestCost < r.startCost; // the body got cheaper
 * ```
 */
export function rewriteDefBody(
  def: DefNode, rules: readonly AnyExprRule[], limits: SearchLimits = {},
  cost: (body: Expr) => number = (body) => defFlops({ ...def, body }),
): SearchResult<Expr> {
  const ctx: ExprContext = { ranges: def.ranges, dtype: def.dtype, enclosing: [] };
  return search(def.body, { key: exprKey, cost, successors: (e) => expressionRewrites(e, rules, ctx) }, limits);
}

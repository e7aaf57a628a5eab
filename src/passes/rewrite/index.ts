/**
 * The rewrite engine and its rules: rules are data (`rule.ts`, `rules/`),
 * the bounded search is separate (`engine.ts`), and the cost functions are
 * passed in (`flops.ts` has the default).
 *
 * @example
 * ```ts
 * import { rewriteDefBody, OPTIMIZING_EXPR_RULES } from "./passes/rewrite/index.js";
 * rewriteDefBody(def, OPTIMIZING_EXPR_RULES).stopReason; // "saturated"
 * ```
 */
export { search, type SearchLimits, type SearchResult, type SearchSpace, type Step, type StopReason } from "./engine.js";
export { applyAtRoot, expressionRewrites, rewriteDefBody } from "./apply.js";
export { programCostAfterOrdering, programRewrites, rewriteProgram } from "./program.js";
export { defFlops, exprFlops, programFlops } from "./flops.js";
export { exprRule, failedCondition, programRule, type AnyExprRule, type AnyProgramRule, type Condition, type ExprContext, type ExprRule, type ProgramRule, type Rule } from "./rule.js";
export { ALL_RULES, EXPR_RULES, OPTIMIZING_EXPR_RULES, PROGRAM_RULES, ruleNamed } from "./registry.js";

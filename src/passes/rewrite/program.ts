/**
 * Program-level rewriting: every one-step application of the program rules,
 * and the bounded search over whole programs. The default cost looks one
 * pass ahead: a program is priced after `order-contractions` has split its
 * sums of products, so a rewrite that only makes a def splittable (a view
 * over a flattened vector) is seen to pay.
 */
import type { Program } from "../../ir/types.js";
import { printProgram } from "../../ir/print.js";
import { orderProgramContractions } from "../order-contractions.js";
import { search, type SearchLimits, type SearchResult, type Step } from "./engine.js";
import { programFlops } from "./flops.js";
import { failedCondition, type AnyProgramRule } from "./rule.js";

/**
 * Every one-step rewrite of `program` by `rules`, rule by rule, sites in
 * program order.
 *
 * @example
 * ```ts
 * programRewrites(program, PROGRAM_RULES).map((s) => s.rule); // ["split-index", "split-index"]
 * ```
 */
export function programRewrites(program: Program, rules: readonly AnyProgramRule[]): Step<Program>[] {
  const out: Step<Program>[] = [];
  for (const rule of rules) {
    for (const site of rule.sites(program)) {
      if (failedCondition(rule, site, program) === null) out.push({ rule: rule.name, state: rule.rewrite(site, program) });
    }
  }
  return out;
}

/**
 * The default program cost: {@link programFlops} of the program after
 * contraction ordering.
 *
 * @example
 * ```ts
 * programCostAfterOrdering(program) <= programFlops(program); // ordering never costs more
 * ```
 */
export function programCostAfterOrdering(program: Program): number {
  return programFlops(orderProgramContractions(program));
}

/**
 * Searches rewrites of a whole program by `rules`; states are keyed by their
 * text form.
 *
 * @example
 * ```ts
 * const r = rewriteProgram(program, PROGRAM_RULES);
 * r.derivation; // ["split-index", "split-index", "inline-product-producer", "ungroup-access"]
 * ```
 */
export function rewriteProgram(
  program: Program, rules: readonly AnyProgramRule[], limits: SearchLimits = {},
  cost: (p: Program) => number = programCostAfterOrdering,
): SearchResult<Program> {
  return search(program, { key: printProgram, cost, successors: (p) => programRewrites(p, rules) }, limits);
}

/**
 * Rewrite rules as data. A rule is a named identity (`sum-split`:
 * "Σ_{j,k} f(j)·g(k) = (Σ_j f(j))·(Σ_k g(k))") with a matcher, a rewriter
 * and named side conditions; the search engine (`engine.ts`) knows nothing
 * about any particular rule.
 *
 * Two kinds share one shape: expression rules rewrite one node of a def's
 * body (the engine tries them at every position), program rules change the
 * tensor DAG (inline a def, add a view) and enumerate their own sites.
 */
import type { DType, Expr, Program } from "../../ir/types.js";

/** Where an expression rule is being tried: the enclosing def and the reductions around the node. */
export interface ExprContext {
  /** Extent of every index variable of the def. */
  readonly ranges: Readonly<Record<string, number>>;
  /** Element type of the def (rules that change rounding refuse integer defs). */
  readonly dtype: DType;
  /** Variables of the reductions enclosing the node, innermost reduction last. */
  readonly enclosing: readonly (readonly string[])[];
}

/** A named side condition: the rule applies only where it holds. */
export interface Condition<B, C> {
  /** Kebab-case, read as "applies if <name>": `factor-invariant-in-sum`. */
  readonly name: string;
  holds(bindings: B, ctx: C): boolean;
}

interface RuleBase {
  /** Kebab-case identity name: `sum-factor-out`. */
  readonly name: string;
  /** The identity in one line, with its side conditions in words. */
  readonly statement: string;
}

/**
 * A rule rewriting one expression node: `match` binds the pieces, every
 * condition must hold, then `rewrite` builds the replacement.
 *
 * @example
 * ```ts
 * const comm: ExprRule<{ a: Expr; b: Expr }> = exprRule({
 *   name: "mul-comm", statement: "a·b = b·a",
 *   match: (e) => (e.kind === "binary" && e.op === "mul" ? { a: e.lhs, b: e.rhs } : null),
 *   rewrite: ({ a, b }) => binary("mul", b, a),
 * });
 * ```
 */
export interface ExprRule<B = unknown> extends RuleBase {
  readonly kind: "expr";
  readonly conditions: readonly Condition<B, ExprContext>[];
  match(e: Expr, ctx: ExprContext): B | null;
  rewrite(bindings: B, ctx: ExprContext): Expr;
}

/**
 * A rule changing the tensor DAG: `sites` lists every place it matches,
 * conditions filter them, `rewrite` gives the new program for one site.
 *
 * @example
 * ```ts
 * for (const site of rule.sites(program)) if (rule.conditions.every((c) => c.holds(site, program))) rule.rewrite(site, program);
 * ```
 */
export interface ProgramRule<B = unknown> extends RuleBase {
  readonly kind: "program";
  readonly conditions: readonly Condition<B, Program>[];
  /**
   * Every site, in program order. A rule that takes `only` lists just the
   * sites at the tensor of that index (a caller that knows where nothing
   * changed asks tensor by tensor instead of listing them all again).
   */
  sites(program: Program, only?: number): B[];
  rewrite(site: B, program: Program): Program;
}

// Rules bind different shapes, and a rule both produces and consumes its
// bindings, so no one binding type fits every rule: collections hold `any`.
/** An expression rule of any binding type (what the registry holds). */
export type AnyExprRule = ExprRule<any>;
/** A program rule of any binding type (what the registry holds). */
export type AnyProgramRule = ProgramRule<any>;
/** Any rule. */
export type Rule = AnyExprRule | AnyProgramRule;

const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

function checkIdentity(name: string, statement: string, conditions: readonly { name: string }[]): void {
  if (!KEBAB.test(name)) throw new RangeError(`rule name '${name}' is not kebab-case`);
  if (statement.trim() === "") throw new RangeError(`rule '${name}' has no statement`);
  for (const c of conditions) if (!KEBAB.test(c.name)) throw new RangeError(`condition '${c.name}' of rule '${name}' is not kebab-case`);
}

/**
 * Builds an expression rule, checking that its name and its conditions'
 * names are kebab-case and that it states its identity.
 *
 * @example
 * ```ts
 * exprRule({ name: "mul-comm", statement: "a·b = b·a", match: matchMul, rewrite: ({ a, b }) => binary("mul", b, a) });
 * ```
 */
export function exprRule<B>(spec: {
  name: string;
  statement: string;
  conditions?: readonly Condition<B, ExprContext>[];
  match(e: Expr, ctx: ExprContext): B | null;
  rewrite(bindings: B, ctx: ExprContext): Expr;
}): ExprRule<B> {
  const conditions = spec.conditions ?? [];
  checkIdentity(spec.name, spec.statement, conditions);
  return { kind: "expr", name: spec.name, statement: spec.statement, conditions, match: spec.match, rewrite: spec.rewrite };
}

/**
 * Builds a program rule (same checks as {@link exprRule}).
 *
 * @example
 * ```ts
 * programRule({ name: "ungroup-access", statement: "x[c·n + d] = x_v[c, d]", sites: findFlatAccesses, rewrite: addView });
 * ```
 */
export function programRule<B>(spec: {
  name: string;
  statement: string;
  conditions?: readonly Condition<B, Program>[];
  sites(program: Program, only?: number): B[];
  rewrite(site: B, program: Program): Program;
}): ProgramRule<B> {
  const conditions = spec.conditions ?? [];
  checkIdentity(spec.name, spec.statement, conditions);
  return { kind: "program", name: spec.name, statement: spec.statement, conditions, sites: spec.sites, rewrite: spec.rewrite };
}

/**
 * The first condition of `rule` that fails for `bindings`, or null when all hold
 * (so a refusal can say which one).
 *
 * @example
 * ```ts
 * failedCondition(sumFactorOut, bindings, ctx)?.name; // "has-invariant-factor"
 * ```
 */
export function failedCondition<B, C>(rule: { conditions: readonly Condition<B, C>[] }, bindings: B, ctx: C): Condition<B, C> | null {
  return rule.conditions.find((c) => !c.holds(bindings, ctx)) ?? null;
}

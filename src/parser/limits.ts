/**
 * The parser's documented limits (docs/limits.md), checked before and after
 * a statement is parsed so that no depth of nesting can overflow the call
 * stack of the parser or of any later stage:
 *
 * - {@link MAX_NESTING}: how deeply parentheses, brackets, calls,
 *   reductions, prefix minus signs and powers nest in one statement. It is
 *   measured on the tokens, before the recursive-descent parser runs, so
 *   `tanh(tanh(... x ...))` 10,000 deep is a diagnostic, not a stack
 *   overflow.
 * - {@link MAX_EXPRESSION_DEPTH}: how deep the expression tree of one
 *   statement may be once built. Long flat chains (`a + b + ... `) do not
 *   count against it: build-ast.ts builds them as balanced trees.
 *
 * Before: `y[i] = -(-(-( ... x[i] ... )))` 100 levels deep
 * After:  TNS0004 at the token that goes past 64 levels
 */
import { tokenMatcher, type IToken } from "./chevrotain.js";
import type { Expr, Item } from "./ast.js";
import {
  AdditiveOp, AlwaysReduce, Caret, Comma, ComparisonOp, Equals, Identifier, LBrace, LBracket, LParen, MaxMin,
  Minus, MultiplicativeOp, NumberLiteral, RBrace, RBracket, ReduceKeyword, RParen,
} from "./lexer.js";

export { MAX_SOURCE_BYTES } from "./source-size.js";

export { MAX_ERRORS } from "../diagnostics/diagnostic.js";

/** Most levels of nesting in one statement (brackets, calls, reductions, prefix minus, powers). */
export const MAX_NESTING = 64;

/** Deepest expression tree one statement may build (after long chains are balanced). */
export const MAX_EXPRESSION_DEPTH = 256;

/** What keeps a level of nesting open until its operand ends. */
type Scope = "minus" | "power" | "reduce";

interface Frame {
  /** Prefix constructs open at this bracket level, innermost last. */
  readonly scopes: Scope[];
  /** Whether the bracket is the `(...)` of a reduction header `sum(j, k)`. */
  readonly header: "always" | "maybe" | null;
}

/**
 * The first token of a statement at which nesting goes past
 * {@link MAX_NESTING}, or null. It follows the grammar's precedence: a
 * prefix minus or a `^` stays open until a `*`, `/`, `+`, `-`, comparison,
 * `,` or closing bracket at its level; a reduction's body until a `+`, `-`,
 * comparison, `,` or closing bracket.
 *
 * @example
 * ```ts
 * nestingTooDeep(tokenize("y[i] = " + "(".repeat(70) + "x[i]" + ")".repeat(70), "a.tns", diags)); // the 64th '('
 * ```
 */
export function nestingTooDeep(statement: readonly IToken[]): IToken | null {
  const frames: Frame[] = [{ scopes: [], header: null }];
  let depth = 0;
  let previous: IToken | undefined;
  let reductionHeaderClosed = false;
  const top = (): Frame => frames[frames.length - 1]!;
  const popScopes = (keepReductions: boolean): void => {
    const scopes = top().scopes;
    while (scopes.length > 0 && !(keepReductions && scopes[scopes.length - 1] === "reduce")) {
      scopes.pop();
      depth--;
    }
  };
  const push = (scope: Scope): boolean => {
    top().scopes.push(scope);
    return ++depth > MAX_NESTING;
  };
  for (let k = 0; k < statement.length; k++) {
    const token = statement[k]!;
    const closedHeader = reductionHeaderClosed;
    reductionHeaderClosed = false;
    if (tokenMatcher(token, LParen) || tokenMatcher(token, LBracket) || tokenMatcher(token, LBrace)) {
      const header = tokenMatcher(token, LParen) && previous !== undefined && tokenMatcher(previous, ReduceKeyword)
        ? (tokenMatcher(previous, AlwaysReduce) ? "always" : "maybe")
        : null;
      frames.push({ scopes: [], header });
      depth++;
      if (depth > MAX_NESTING) return token;
    } else if (tokenMatcher(token, RParen) || tokenMatcher(token, RBracket) || tokenMatcher(token, RBrace)) {
      if (frames.length > 1) {
        const frame = frames.pop()!;
        depth -= 1 + frame.scopes.length;
        const next = statement[k + 1];
        const bodyFollows = frame.header === "always" ||
          (frame.header === "maybe" && next !== undefined && OPERAND_STARTS.some((t) => tokenMatcher(next, t)));
        if (bodyFollows) {
          reductionHeaderClosed = true;
          if (push("reduce")) return token;
        }
      }
    } else if (tokenMatcher(token, Minus) && !endsOperand(previous, closedHeader)) {
      if (push("minus")) return token;
    } else if (tokenMatcher(token, Caret)) {
      if (push("power")) return token;
    } else if (tokenMatcher(token, MultiplicativeOp)) {
      popScopes(true);
    } else if (tokenMatcher(token, AdditiveOp) || tokenMatcher(token, ComparisonOp) || tokenMatcher(token, Comma) || tokenMatcher(token, Equals)) {
      popScopes(false);
    }
    previous = token;
  }
  return null;
}

/** Tokens that can begin an operand (what makes `max(j)` a reduction header; grammar.ts). */
const OPERAND_STARTS = [Identifier, NumberLiteral, LParen, ReduceKeyword];

/** Whether `previous` ends an operand, so that a `-` after it subtracts rather than negates. */
function endsOperand(previous: IToken | undefined, closedReductionHeader: boolean): boolean {
  if (previous === undefined || closedReductionHeader) return false;
  return tokenMatcher(previous, Identifier) || tokenMatcher(previous, NumberLiteral) ||
    tokenMatcher(previous, RParen) || tokenMatcher(previous, RBracket) || tokenMatcher(previous, MaxMin);
}

/**
 * The deepest expression node of an item when its tree is deeper than
 * {@link MAX_EXPRESSION_DEPTH}, else null. Iterative, so it cannot overflow
 * on the trees it exists to reject.
 *
 * @example
 * ```ts
 * expressionTooDeep(item); // null for any ordinary definition
 * ```
 */
export function expressionTooDeep(item: Item): Expr | null {
  const stack: [Expr, number][] = itemExpressions(item).map((e) => [e, 1]);
  while (stack.length > 0) {
    const [e, depth] = stack.pop()!;
    if (depth > MAX_EXPRESSION_DEPTH) return e;
    for (const c of astChildren(e)) stack.push([c, depth + 1]);
  }
  return null;
}

function itemExpressions(item: Item): Expr[] {
  switch (item.kind) {
    case "def": return [item.rhs];
    case "size": return item.entries.flatMap((e) => (e.value ? [e.value] : []));
    case "tensor": return [...item.dims];
    case "fn": return [
      ...item.params.flatMap((p) => (p.kind === "tensor" ? p.dims : p.value ? [p.value] : [])),
      ...item.results.flatMap((r) => r.dims ?? []),
      ...item.body.map((d) => d.rhs),
    ];
    default: return [];
  }
}

function astChildren(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case "access": return "kind" in e.target ? [e.target, ...e.indices] : e.indices;
    case "unary": return [e.arg];
    case "binary": return [e.lhs, e.rhs];
    case "call": return e.args;
    case "reduce": return [...e.extents.filter((x): x is Expr => x !== null), e.body];
    case "group": return e.items;
    default: return [];
  }
}

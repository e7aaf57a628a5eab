/**
 * The parser's entry point: source text → {@link Module}, with every syntax
 * problem reported as a diagnostic (TNS0001 syntax, TNS0002 characters,
 * TNS0003 numbers) and never thrown.
 *
 * Before: `size n = 4\ninput X[n]`
 * After:  `{ kind: "module", items: [{ kind: "size", ... }, { kind: "tensor", role: "input", ... }] }`
 *
 * The token list is first split into statements (split.ts) and each is
 * parsed on its own, so an error never spills into the next statement;
 * inside a statement Chevrotain's recovery is on, and the first error of a
 * statement is the one reported.
 */
import { EOF, tokenMatcher, type CstNode, type IParserErrorMessageProvider, type IRecognitionException, type IToken, type TokenType } from "./chevrotain.js";
import { DiagnosticBag, InternalCompilerError, type Span } from "../diagnostics/diagnostic.js";
import type { Item, Module } from "./ast.js";
import { AstBuilder } from "./build-ast.js";
import { TnsGrammar } from "./grammar.js";
import {
  AdditiveOp, Caret, ComparisonOp, Equals, Fn, From, Identifier, Import, Input, LBracket, Max, Min, MultiplicativeOp,
  Output, Prod, RBracket, RParen, Size, Sum, tokenize, tokenSpan, Weight,
} from "./lexer.js";
import { splitStatements } from "./split.js";
import { expressionTooDeep, MAX_EXPRESSION_DEPTH, MAX_NESTING, MAX_SOURCE_BYTES, nestingTooDeep } from "./limits.js";

export type * from "./ast.js";
export { allTokens, sourceTokens, tokenize, numberLiteralProblem } from "./lexer.js";
export { MAX_ERRORS, MAX_EXPRESSION_DEPTH, MAX_NESTING, MAX_SOURCE_BYTES } from "./limits.js";

/** What each rule stands for when none of its alternatives fits. */
const RULE_MEANING: Record<string, string> = {
  module: "a statement",
  item: "a statement (size, input, weight, output, fn, import or a definition)",
  importDecl: "a string or a list of names",
  slot: "an index name or a group like (a, b)",
  param: "a parameter (a tensor like X[n] or size s)",
  atom: "an expression",
  reduction: "an expression",
  tensorDecl: "'input' or 'weight'",
};

function describe(token: IToken): string {
  return token.tokenType === EOF ? "the end of the file" : `'${token.image}'`;
}

function label(type: TokenType): string {
  return type.LABEL ?? type.name;
}

/** Messages in the "expected ']' but found '='" style instead of Chevrotain's dumps. */
const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) =>
    expected === EOF ? `expected a statement but found ${describe(actual)}` : `expected ${label(expected)} but found ${describe(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) => `expected a statement but found ${describe(firstRedundant)}`,
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual, ruleName }) => {
    const wanted = RULE_MEANING[ruleName] ?? oneOf(expectedPathsPerAlt.flat().map((p) => p[0]).filter((t) => t !== undefined));
    return `expected ${wanted} but found ${describe(actual[0]!)}`;
  },
  buildEarlyExitMessage: ({ expectedIterationPaths, actual, ruleName }) => {
    const wanted = RULE_MEANING[ruleName] ?? oneOf(expectedIterationPaths.map((p) => p[0]).filter((t) => t !== undefined));
    return `expected ${wanted} but found ${describe(actual[0]!)}`;
  },
};

function oneOf(types: TokenType[]): string {
  const labels = [...new Set(types.map(label))];
  if (labels.length <= 1) return labels[0] ?? "something else";
  return `${labels.slice(0, -1).join(", ")} or ${labels[labels.length - 1]}`;
}

/**
 * Built once: Chevrotain's self-analysis is the expensive part of a parser.
 * Its grammar validations (ambiguities, left recursion) take half of it
 * (about 40 of 80 ms of every cold start) and can only fail on a change to
 * grammar.ts, so they run in the tests (test/parser/grammar.test.ts), not here.
 */
const grammar = new TnsGrammar({ errorMessageProvider: messages, skipValidations: true });

/** Keywords that begin a statement. */
const STATEMENT_KEYWORDS: readonly TokenType[] = [Size, Input, Weight, Output, Fn, Import];
const REDUCTION_KEYWORDS: readonly TokenType[] = [Sum, Prod, Max, Min];
const OPERATORS: readonly TokenType[] = [AdditiveOp, MultiplicativeOp, Caret, ComparisonOp];

/**
 * Parses one `.tns` file. Syntax problems go to `diags`; the module holds
 * every statement that parsed cleanly, so later stages can still look at it.
 * Never throws on any input.
 *
 * @example
 * ```ts
 * const diags = new DiagnosticBag();
 * const m = parseModule("size n = 4\ninput X[n]\noutput Y[i] = X[i] * 2", "a.tns", diags);
 * m.items.length;  // 3
 * diags.hasErrors; // false
 * ```
 */
export function parseModule(text: string, file: string, diags: DiagnosticBag): Module {
  const local = new DiagnosticBag(diags.errorLimit);
  const module = parseInto(text, file, local);
  local.sortByPosition();
  diags.absorb(local);
  return module;
}

function parseInto(text: string, file: string, diags: DiagnosticBag): Module {
  const end = endPosition(text);
  const empty: Module = { kind: "module", file, items: [], span: { file, start: { offset: 0, line: 1, column: 1 }, end } };
  if (!acceptableSource(text, file, diags)) return empty;
  const tokens = tokenize(text, file, diags);
  const lexProblems = new Set(diags.items.map((d) => d.span?.start.offset));
  const items: Item[] = [];
  const builder = new AstBuilder(file, diags);
  const statements = splitStatements(tokens);
  statements.forEach((statement, k) => {
    // Past the error cap the rest is not parsed: a file of noise would give thousands of echoes.
    if (diags.suppressedErrors > 0) return;
    const tooDeep = nestingTooDeep(statement);
    if (tooDeep !== null) {
      diags.error("TNS0004", `expression nested too deeply: more than ${MAX_NESTING} levels`, tokenSpan(file, tooDeep), {
        hint: "split it into several definitions; brackets, calls, reductions, minus signs and powers together nest at most " +
          `${MAX_NESTING} levels deep`,
      });
      return;
    }
    grammar.input = statement;
    const cst = grammar.module();
    // One error per statement: later ones are usually echoes of the first.
    const error = grammar.errors[0];
    if (error) {
      if (!lexProblems.has(error.token.startOffset)) reportSyntaxError(error, statement, k === statements.length - 1, file, diags);
      return;
    }
    for (const item of (cst.children["item"] ?? []) as CstNode[]) {
      for (const built of buildItem(builder, item)) {
        const deepest = expressionTooDeep(built);
        if (deepest === null) items.push(built);
        else {
          diags.error("TNS0004", `expression too deep: its tree has more than ${MAX_EXPRESSION_DEPTH} levels`, deepest.span, {
            hint: "split it into several definitions",
          });
        }
      }
    }
  });
  return { ...empty, items };
}

/**
 * Whether the text can be a program: at most {@link MAX_SOURCE_BYTES} long
 * and without NUL characters (binary data; a .tns file is UTF-8 text). One
 * diagnostic says why not, instead of thousands of syntax errors.
 */
function acceptableSource(text: string, file: string, diags: DiagnosticBag): boolean {
  const start = { offset: 0, line: 1, column: 1 };
  if (text.length > MAX_SOURCE_BYTES || (text.length > MAX_SOURCE_BYTES / 3 && new TextEncoder().encode(text).length > MAX_SOURCE_BYTES)) {
    diags.error("TNS0005", `the source is longer than the limit of ${MAX_SOURCE_BYTES} bytes`, { file, start, end: start }, {
      hint: "split the program into files that import each other (docs/limits.md)",
    });
    return false;
  }
  const nul = text.indexOf("\0");
  if (nul >= 0) {
    const before = text.slice(0, nul).split("\n");
    const at = { offset: nul, line: before.length, column: before[before.length - 1]!.length + 1 };
    diags.error("TNS0006", "this is not a text file: it holds a NUL character", { file, start: at, end: { ...at, offset: nul + 1, column: at.column + 1 } }, {
      hint: "give the path of a .tns program, which is UTF-8 text",
    });
    return false;
  }
  return true;
}

/** The AST of one statement that parsed cleanly; failing here is a bug in tns, not in the program. */
function buildItem(builder: AstBuilder, node: CstNode): Item[] {
  try {
    return builder.item(node);
  } catch (e) {
    throw new InternalCompilerError(`building the AST failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function reportSyntaxError(error: IRecognitionException, statement: readonly IToken[], isLast: boolean, file: string, diags: DiagnosticBag): void {
  const atEnd = error.token.tokenType === EOF;
  const last = statement[statement.length - 1]!;
  const span = atEnd ? justAfter(tokenSpan(file, last)) : tokenSpan(file, error.token);
  const message = atEnd && !isLast ? error.message.replace("the end of the file", "the end of the statement") : error.message;
  const body = reductionWithoutBody(error, statement);
  if (body !== null) {
    diags.error("TNS0001", `'${body}(...)' needs a body: ${message}`, span, {
      hint: `a reduction is written ${body}(j) X[i, j]; for an elementwise max or min of two values write max(a, b)`,
    });
    return;
  }
  const dangling = danglingOperator(error, statement);
  if (dangling !== null) {
    diags.error("TNS0001", `'${dangling.image}' has no right operand`, tokenSpan(file, dangling), {
      hint: "the statement ends here; finish the expression or remove the operator",
    });
    return;
  }
  const hint = hintFor(error, message);
  diags.error("TNS0001", message, span, hint === undefined ? {} : { hint });
}

/** The empty span just past `span`: where a missing token belongs. */
function justAfter(span: Span): Span {
  return { file: span.file, start: span.end, end: span.end };
}

/**
 * The operator left without a right operand: the last token of a statement,
 * or the end of a line when the found token is the `=` of a definition that
 * begins the next line (`T[i] = X[i] +` then `Y[i] = ...` reads as
 * `X[i] + Y[i]` followed by a stray `=`).
 */
function danglingOperator(error: IRecognitionException, statement: readonly IToken[]): IToken | null {
  const last = statement[statement.length - 1]!;
  if (error.token.tokenType === EOF) return OPERATORS.some((t) => tokenMatcher(last, t)) ? last : null;
  const at = statement.indexOf(error.token);
  if (at < 1 || error.token.tokenType !== Equals) return null;
  let j = at - 1;
  if (statement[j]!.tokenType === RBracket) {
    let depth = 0;
    for (; j >= 0; j--) {
      const type = statement[j]!.tokenType;
      if (type === RBracket) depth++;
      else if (type === LBracket && --depth === 0) break;
    }
    j--;
  }
  const name = statement[j];
  const operator = statement[j - 1];
  if (!name || !operator || name.tokenType !== Identifier) return null;
  const isOperator = OPERATORS.some((t) => tokenMatcher(operator, t));
  return isOperator && (operator.startLine ?? 0) < (name.startLine ?? 0) ? operator : null;
}

/** When the error follows `sum(j)` directly, the reduction keyword; else null. */
function reductionWithoutBody(error: IRecognitionException, tokens: readonly IToken[]): string | null {
  const at = tokens.indexOf(error.token);
  const before = at === -1 ? tokens.length - 1 : at - 1;
  if (before < 0 || tokens[before]!.tokenType !== RParen) return null;
  let depth = 0;
  for (let i = before; i >= 0; i--) {
    const t = tokens[i]!;
    if (t.tokenType === RParen) depth++;
    else if (t.image === "(" && --depth === 0) {
      const keyword = tokens[i - 1];
      return keyword !== undefined && (keyword.tokenType === Sum || keyword.tokenType === Prod) ? keyword.image : null;
    }
  }
  return null;
}

function hintFor(error: IRecognitionException, message: string): string | undefined {
  const found = error.token;
  const rules = error.context.ruleStack;
  const reserved = `'${found.image}' is a reserved word and cannot be used as a name`;
  if (REDUCTION_KEYWORDS.includes(found.tokenType) && !rules.includes("reduction")) return reserved;
  if ((STATEMENT_KEYWORDS.includes(found.tokenType) || found.tokenType === From) && /expected (a name|a string or a list)/.test(error.message)) {
    return reserved;
  }
  if (message.startsWith("expected '='") && rules.includes("def")) {
    return "a definition is written Name[i, j] = expression";
  }
  if (message.startsWith("expected a statement")) {
    return "each statement starts with size, input, weight, output, fn, import, or a definition like Y[i] = ...";
  }
  return undefined;
}

function endPosition(text: string): Span["end"] {
  const lines = text.split("\n");
  return { offset: text.length, line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

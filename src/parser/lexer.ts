/**
 * The tns token vocabulary and lexer (Chevrotain).
 *
 * Source text becomes a flat token list; comments and whitespace (newlines
 * included) are skipped because statements need no terminator. Keywords use
 * `longer_alt` so `summary` or `sizes` stay identifiers. Operator families
 * are token categories, so the grammar says `AdditiveOp` instead of listing
 * `+` and `-`.
 *
 * Before: `size n = 256  # rows`
 * After:  `[Size "size"] [Identifier "n"] [Equals "="] [NumberLiteral "256"]`
 *
 * Unrecognized characters become TNS0002 diagnostics, never exceptions.
 */
import { createToken, Lexer, type ILexerConfig, type IToken, type TokenType } from "./chevrotain.js";
import type { DiagnosticBag, Span } from "../diagnostics/diagnostic.js";

/** `[A-Za-z_][A-Za-z0-9_]*`: tensors, indices, sizes, functions, dtypes. */
export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/, label: "a name" });

function keyword(word: string, categories: TokenType[] = []): TokenType {
  const name = word[0]!.toUpperCase() + word.slice(1);
  return createToken({ name, pattern: new RegExp(word), longer_alt: Identifier, label: `'${word}'`, categories });
}

/** Statement keywords. */
export const Size = keyword("size");
export const Input = keyword("input");
export const Weight = keyword("weight");
export const Output = keyword("output");
export const Fn = keyword("fn");
export const Import = keyword("import");
export const From = keyword("from");

/** Every reduction keyword; `max`/`min` may also be elementwise calls. */
export const ReduceKeyword = createToken({ name: "ReduceKeyword", pattern: Lexer.NA, label: "a reduction" });
/** `sum` and `prod` always start a reduction. */
export const AlwaysReduce = createToken({ name: "AlwaysReduce", pattern: Lexer.NA, categories: [ReduceKeyword] });
/** `max` and `min`: a reduction `max(j) X[j]` or a call `max(a, b)`. */
export const MaxMin = createToken({ name: "MaxMin", pattern: Lexer.NA, categories: [ReduceKeyword] });
export const Sum = keyword("sum", [AlwaysReduce]);
export const Prod = keyword("prod", [AlwaysReduce]);
export const Max = keyword("max", [MaxMin]);
export const Min = keyword("min", [MaxMin]);
/** `argmax(j) X[j]`, `argmin(j) X[j]`: the index of the extreme element. */
export const ArgMax = keyword("argmax", [AlwaysReduce]);
export const ArgMin = keyword("argmin", [AlwaysReduce]);
/** `topk(r < 4, j) X[i, j]`: the largest values and their indices (two results). */
export const TopK = keyword("topk", [AlwaysReduce]);

/**
 * A number as written. The pattern is deliberately greedy (`12abc`, `1e`) so a
 * malformed literal is one token that {@link numberLiteralProblem} can name,
 * instead of a confusing pair of tokens.
 */
export const NumberLiteral = createToken({
  name: "NumberLiteral",
  pattern: /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d*)?[\w.]*/,
  label: "a number",
});
/** `"nn"`; the closing quote is optional here so an unterminated string gets a precise diagnostic. */
export const StringLiteral = createToken({ name: "StringLiteral", pattern: /"[^"\n]*"?/, label: "a string" });

export const LBracket = createToken({ name: "LBracket", pattern: /\[/, label: "'['" });
export const RBracket = createToken({ name: "RBracket", pattern: /]/, label: "']'" });
export const LParen = createToken({ name: "LParen", pattern: /\(/, label: "'('" });
export const RParen = createToken({ name: "RParen", pattern: /\)/, label: "')'" });
export const LBrace = createToken({ name: "LBrace", pattern: /{/, label: "'{'" });
export const RBrace = createToken({ name: "RBrace", pattern: /}/, label: "'}'" });
export const Comma = createToken({ name: "Comma", pattern: /,/, label: "','" });
export const Colon = createToken({ name: "Colon", pattern: /:/, label: "':'" });
export const Arrow = createToken({ name: "Arrow", pattern: /->/, label: "'->'" });

/** `+ -` */
export const AdditiveOp = createToken({ name: "AdditiveOp", pattern: Lexer.NA, label: "'+' or '-'" });
/** `* / %` */
export const MultiplicativeOp = createToken({ name: "MultiplicativeOp", pattern: Lexer.NA, label: "'*', '/' or '%'" });
/** `< <= > >= == !=` */
export const ComparisonOp = createToken({ name: "ComparisonOp", pattern: Lexer.NA, label: "a comparison" });
export const Plus = createToken({ name: "Plus", pattern: /\+/, categories: [AdditiveOp], label: "'+'" });
export const Minus = createToken({ name: "Minus", pattern: /-/, categories: [AdditiveOp], label: "'-'" });
export const Star = createToken({ name: "Star", pattern: /\*/, categories: [MultiplicativeOp], label: "'*'" });
export const Slash = createToken({ name: "Slash", pattern: /\//, categories: [MultiplicativeOp], label: "'/'" });
export const Percent = createToken({ name: "Percent", pattern: /%/, categories: [MultiplicativeOp], label: "'%'" });
/** Logical and, or, not (on comparisons: 1 is true, 0 false; any nonzero value counts as true). */
export const AndAnd = createToken({ name: "AndAnd", pattern: /&&/, label: "'&&'" });
export const OrOr = createToken({ name: "OrOr", pattern: /\|\|/, label: "'||'" });
export const Bang = createToken({ name: "Bang", pattern: /!/, label: "'!'" });
export const Caret = createToken({ name: "Caret", pattern: /\^/, label: "'^'" });
export const LessEq = createToken({ name: "LessEq", pattern: /<=/, categories: [ComparisonOp], label: "'<='" });
export const Less = createToken({ name: "Less", pattern: /</, categories: [ComparisonOp], label: "'<'" });
export const GreaterEq = createToken({ name: "GreaterEq", pattern: />=/, categories: [ComparisonOp], label: "'>='" });
export const Greater = createToken({ name: "Greater", pattern: />/, categories: [ComparisonOp], label: "'>'" });
export const EqEq = createToken({ name: "EqEq", pattern: /==/, categories: [ComparisonOp], label: "'=='" });
export const NotEq = createToken({ name: "NotEq", pattern: /!=/, categories: [ComparisonOp], label: "'!='" });
export const Equals = createToken({ name: "Equals", pattern: /=/, label: "'='" });
/** `~` in `input W[m, n] ~ lowrank(8)`: a structured layer. */
export const Tilde = createToken({ name: "Tilde", pattern: /~/, label: "'~'" });

export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /\s+/, group: Lexer.SKIPPED });
export const Comment = createToken({ name: "Comment", pattern: /#[^\n]*/, group: Lexer.SKIPPED });

/**
 * Every token type, in matching order (longer operators before their
 * prefixes, keywords before identifiers). The grammar is built from it.
 *
 * @example
 * ```ts
 * allTokens.includes(Arrow); // true
 * ```
 */
export const allTokens: readonly TokenType[] = [
  WhiteSpace, Comment,
  Size, Input, Weight, Output, Fn, Import, From,
  Sum, Prod, Max, Min, ArgMax, ArgMin, TopK,
  Identifier, NumberLiteral, StringLiteral,
  LBracket, RBracket, LParen, RParen, LBrace, RBrace, Comma, Colon,
  Arrow,
  LessEq, GreaterEq, EqEq, NotEq, Less, Greater, Equals,
  AndAnd, OrOr, Bang,
  Plus, Minus, Star, Slash, Percent, Caret, Tilde,
  AdditiveOp, MultiplicativeOp, ComparisonOp, ReduceKeyword, AlwaysReduce, MaxMin,
];

/**
 * Tokens that appear in source text (no categories, nothing skipped): the
 * vocabulary for generating random programs in tests.
 *
 * @example
 * ```ts
 * sourceTokens.map((t) => t.name).includes("Comma"); // true
 * ```
 */
export const sourceTokens: readonly TokenType[] = allTokens.filter(
  (t) => t.PATTERN !== Lexer.NA && t.GROUP !== Lexer.SKIPPED,
);

/**
 * The lexer's configuration, less `skipValidations`: only "\n" ends a line
 * (a lone "\r" is whitespace), matching how the renderer splits lines. The
 * compiler's lexer skips Chevrotain's checks of the token definitions (half
 * of its construction time, paid by every command); a test runs them.
 */
export const LEXER_CONFIG: ILexerConfig = {
  positionTracking: "full",
  lineTerminatorsPattern: /\n/g,
  lineTerminatorCharacters: ["\n"],
};

const tnsLexer = new Lexer(allTokens as TokenType[], { ...LEXER_CONFIG, skipValidations: true });

/** The span of one token; `end` is exclusive. Tokens never cross a newline. */
export function tokenSpan(file: string, token: IToken): Span {
  const length = token.image.length;
  return {
    file,
    start: { offset: token.startOffset, line: token.startLine ?? 1, column: token.startColumn ?? 1 },
    end: { offset: token.startOffset + length, line: token.startLine ?? 1, column: (token.startColumn ?? 1) + length },
  };
}

/**
 * Why a number token is malformed, or null when it is a valid literal.
 *
 * @example
 * ```ts
 * numberLiteralProblem("2.5E3"); // null
 * numberLiteralProblem("1e");    // "exponent has no digits"
 * ```
 */
export function numberLiteralProblem(image: string): string | null {
  if (/^(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(image)) return null;
  if (/^(?:\d+(?:\.\d*)?|\.\d+)[eE][+-]?$/.test(image)) return "exponent has no digits";
  if (/^\d+\.$/.test(image)) return "a decimal point needs digits after it";
  return "a number cannot run into letters or another '.'";
}

/**
 * Splits source text into tokens. Problems (stray characters, unterminated
 * strings, malformed numbers) are reported to `diags`; the tokens still come
 * back so parsing can go on.
 *
 * @example
 * ```ts
 * const diags = new DiagnosticBag();
 * tokenize("size n = 4", "a.tns", diags).map((t) => t.image); // ["size", "n", "=", "4"]
 * ```
 */
export function tokenize(text: string, file: string, diags: DiagnosticBag): IToken[] {
  const result = tnsLexer.tokenize(text);
  for (const e of result.errors) {
    const bad = text.slice(e.offset, e.offset + e.length);
    const start = { offset: e.offset, line: e.line ?? 1, column: e.column ?? 1 };
    const shown = bad.length === 1 ? `'${printable(bad)}'` : `characters '${printable(bad)}'`;
    diags.error(
      "TNS0002",
      `unexpected ${shown}`,
      { file, start, end: { offset: e.offset + e.length, line: start.line, column: start.column + e.length } },
      { hint: "tns uses letters, digits, _, operators + - * / % ^ < > = ! && ||, brackets, ',', ':' and \"...\"; comments start with '#'" },
    );
  }
  for (const token of result.tokens) {
    if (token.tokenType === StringLiteral && (token.image.length < 2 || !token.image.endsWith('"'))) {
      diags.error("TNS0001", "unterminated string", tokenSpan(file, token), {
        hint: 'close the string with \'"\' on the same line',
      });
    } else if (token.tokenType === NumberLiteral) {
      const problem = numberLiteralProblem(token.image);
      if (problem !== null) {
        diags.error("TNS0003", `invalid number literal '${token.image}': ${problem}`, tokenSpan(file, token), {
          hint: "numbers look like 42, 0.5, 1e-5 or 2.5E3",
        });
      }
    }
  }
  return result.tokens;
}

function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * Splits a token list into statements before parsing, so a syntax error is
 * confined to its statement: the parser never re-synchronizes into the
 * middle of the next one, and every later statement still parses.
 *
 * Before: `A[i = X[i]  B[i] = X[i] + 1  size n = 4`   (one token list)
 * After:  `[A [ i = X [ i ]] [B [ i ] = X [ i ] + 1] [size n = 4]`
 *
 * A statement starts at a statement keyword (`size input weight output fn
 * import`) outside brackets, or outside braces at a definition head
 * `Name =` / `Name[...] =` (or a line that begins like one and has an `=`). Neither can occur inside a valid statement:
 * `=` only appears in statements (comparison is `==`), and `size` inside a
 * function's parameter list follows `(` or `,`. `Name =` after a comma is
 * the next entry of a `size` list, not a new statement.
 */
import { tokenMatcher, type IToken, type TokenType } from "./chevrotain.js";
import {
  Comma, Equals, Fn, Identifier, Import, Input, LBrace, LBracket, LParen, Output, RBrace, RBracket, RParen,
  Size, Weight,
} from "./lexer.js";

/** Keywords that only ever begin a statement at top level. */
const TOP_LEVEL_KEYWORDS: readonly TokenType[] = [Size, Input, Weight, Fn, Import];

/**
 * Groups tokens into statements (a function with its body is one).
 *
 * @example
 * ```ts
 * splitStatements(tokenize("size n = 4 A = 1", "a.tns", diags)).map((s) => s.length); // [4, 3]
 * ```
 */
export function splitStatements(tokens: readonly IToken[]): IToken[][] {
  const statements: IToken[][] = [];
  let current: IToken[] = [];
  let brackets = 0; // ( and [ nesting
  let braces = 0;
  tokens.forEach((token, i) => {
    const type = token.tokenType;
    // `size` is also a parameter kind inside `fn f(..., size s)`; there it follows `(` or `,`.
    const previous = tokens[i - 1]?.tokenType;
    const keyword = TOP_LEVEL_KEYWORDS.includes(type) && (brackets === 0 || type !== Size || (previous !== Comma && previous !== LParen));
    // A top-level keyword inside braces means the function's `}` is missing: end the function there.
    if (keyword) braces = 0;
    const startsHere =
      current.length > 0 &&
      braces === 0 &&
      (keyword || type === Output || (brackets === 0 && startsDefinition(tokens, i)) || startsBrokenDefinition(tokens, i));
    if (startsHere) {
      statements.push(current);
      current = [];
      brackets = 0;
    }
    current.push(token);
    if (type === LParen || type === LBracket) brackets++;
    else if ((type === RParen || type === RBracket) && brackets > 0) brackets--;
    else if (type === LBrace) {
      braces++;
      brackets = 0;
    } else if (type === RBrace && braces > 0) braces--;
  });
  if (current.length > 0) statements.push(current);
  return statements;
}

/**
 * Whether a line begins `Name[` or `Name =` and has an `=` further on: a
 * definition with a broken head (`A[i = X[i]`) still starts a statement.
 */
function startsBrokenDefinition(tokens: readonly IToken[], i: number): boolean {
  const token = tokens[i]!;
  const previous = tokens[i - 1];
  if (token.tokenType !== Identifier || !previous || previous.startLine === token.startLine) return false;
  if (previous.tokenType === Comma || previous.tokenType === Output) return false;
  const next = tokens[i + 1]?.tokenType;
  if (next !== LBracket && next !== Equals) return false;
  for (let j = i + 1; j < tokens.length && tokens[j]!.startLine === token.startLine; j++) {
    if (tokens[j]!.tokenType === Equals) return true;
  }
  return false;
}

/** Whether `tokens[i]` begins `Name =` or `Name[...] =` and is not a `size` list entry. */
function startsDefinition(tokens: readonly IToken[], i: number): boolean {
  if (tokens[i]!.tokenType !== Identifier) return false;
  const previous = tokens[i - 1];
  if (previous && [Comma, Size, Output].some((t) => tokenMatcher(previous, t))) return false;
  let j = i + 1;
  if (tokens[j]?.tokenType === LBracket) {
    let depth = 0;
    for (; j < tokens.length; j++) {
      const type = tokens[j]!.tokenType;
      if (type === LBracket) depth++;
      else if (type === RBracket && --depth === 0) break;
      else if (type === Equals || type === LBrace || type === RBrace) return false;
    }
    j++;
  }
  return tokens[j]?.tokenType === Equals;
}

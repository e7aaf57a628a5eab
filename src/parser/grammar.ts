/**
 * The tns grammar: a pure Chevrotain CstParser. Rules are class fields with
 * no actions; the CST they build is turned into the AST by build-ast.ts.
 * Error recovery is on, so one file can report several syntax errors.
 *
 * Before (tokens): `M[i] = max(j) S[i, j]`
 * After (CST):     module > item > def { Identifier "M", slot "i", Equals,
 *                  expression > ... > atom > reduction { MaxMin, reductionVar "j",
 *                  multiplicative > ... > atom { Identifier "S", bracketList } } }
 *
 * Precedence, loosest first: `||`, `&&`, comparison (these three in one
 * flat rule), additive, multiplicative (where reductions sit: their body is
 * a multiplicative expression), unary minus and `!` with power
 * (right-associative) in one rule, postfix call/index, atoms.
 */
import { CstParser, tokenMatcher, type IParserConfig, type IToken, type TokenType } from "./chevrotain.js";
import {
  AdditiveOp, allTokens, AndAnd, Bang, OrOr, AlwaysReduce, Arrow, Caret, Colon, Comma, ComparisonOp, Equals, Fn, From,
  Identifier, Import, Input, LBrace, LBracket, Less, LParen, MaxMin, Minus, MultiplicativeOp, NumberLiteral,
  Output, RBrace, RBracket, ReduceKeyword, RParen, Size, StringLiteral, Tilde, Weight,
} from "./lexer.js";

/** Tokens that can begin an operand: what must follow `max(i, j)` for it to be a reduction. */
const operandStarts: readonly TokenType[] = [Identifier, NumberLiteral, LParen, ReduceKeyword];
/** Tokens a reduction extent (`dy < k`, `t < 2*n + 1`) can hold besides parentheses. */
const extentTokens: readonly TokenType[] = [Identifier, NumberLiteral, AdditiveOp, MultiplicativeOp, Caret, Comma];

/**
 * The tns parser. Construct it once (self-analysis is expensive), then set
 * `input` and call `module()` per parse.
 *
 * @example
 * ```ts
 * const parser = new TnsGrammar();
 * parser.input = tokenize("size n = 4", "a.tns", new DiagnosticBag());
 * const cst = parser.module(); // parser.errors is empty
 * ```
 */
export class TnsGrammar extends CstParser {
  constructor(config: IParserConfig = {}) {
    super(allTokens as TokenType[], { recoveryEnabled: true, nodeLocationTracking: "full", maxLookahead: 3, ...config });
    this.performSelfAnalysis();
  }

  module = this.RULE("module", () => {
    this.MANY(() => this.SUBRULE(this.item));
  });

  item = this.RULE("item", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.importDecl) },
      { ALT: () => this.SUBRULE(this.sizeDecl) },
      { ALT: () => this.SUBRULE(this.tensorDecl) },
      { ALT: () => this.SUBRULE(this.fnDecl) },
      { ALT: () => this.SUBRULE(this.def) },
    ]);
  });

  /** `import "nn"` or `import a, b from "nn"`. */
  importDecl = this.RULE("importDecl", () => {
    this.CONSUME(Import);
    this.OR([
      { ALT: () => this.CONSUME(StringLiteral) },
      {
        ALT: () => {
          this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.CONSUME(Identifier) });
          this.CONSUME(From);
          this.CONSUME2(StringLiteral);
        },
      },
    ]);
  });

  /** `size n = 256, d = 64, m` */
  sizeDecl = this.RULE("sizeDecl", () => {
    this.CONSUME(Size);
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.sizeEntry) });
  });

  sizeEntry = this.RULE("sizeEntry", () => {
    this.CONSUME(Identifier);
    this.OPTION(() => {
      this.CONSUME(Equals);
      this.SUBRULE(this.expression);
    });
  });

  /** `input Q[n, d], K[n, d]`, `weight W[d, d]: f64` */
  tensorDecl = this.RULE("tensorDecl", () => {
    this.OR([{ ALT: () => this.CONSUME(Input) }, { ALT: () => this.CONSUME(Weight) }]);
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.tensorSig) });
  });

  /** `X[n, m]: f64`; no brackets declares a scalar; `~ lowrank(8)` declares a structured layer. */
  tensorSig = this.RULE("tensorSig", () => {
    this.CONSUME(Identifier);
    this.OPTION(() => this.SUBRULE(this.bracketList));
    this.OPTION2(() => {
      this.CONSUME(Colon);
      this.CONSUME2(Identifier, { LABEL: "dtype" });
    });
    this.OPTION3(() => this.SUBRULE(this.structure));
  });

  /** `~ lowrank(r)`, `~ kron([m1, m2], [n1, n2])`, `~ tt(r1, r2)`, `~ monarch(b)`. */
  structure = this.RULE("structure", () => {
    this.CONSUME(Tilde);
    this.CONSUME(Identifier);
    this.CONSUME(LParen);
    this.MANY_SEP({
      SEP: Comma,
      DEF: () => this.OR([{ ALT: () => this.SUBRULE(this.bracketList) }, { ALT: () => this.SUBRULE(this.expression) }]),
    });
    this.CONSUME(RParen);
  });

  /** `output O[i, (a, b)] = expr`, `Y = f(X)`, or two results `V[i, r], I[i, r] = topk(...)`. */
  def = this.RULE("def", () => {
    this.OPTION(() => this.CONSUME(Output));
    this.CONSUME(Identifier);
    this.OPTION2(() => {
      this.CONSUME(LBracket);
      this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.slot) });
      this.CONSUME(RBracket);
    });
    this.OPTION3(() => {
      this.CONSUME(Comma);
      this.CONSUME2(Identifier);
      this.OPTION4(() => {
        this.CONSUME2(LBracket);
        this.AT_LEAST_ONE_SEP2({ SEP: Comma, DEF: () => this.SUBRULE2(this.slot) });
        this.CONSUME2(RBracket);
      });
    });
    this.CONSUME(Equals);
    this.SUBRULE(this.expression);
  });

  /** A left-side index `i`, `y < H`, or group `(a, b)`, `(h, r < 2)`. */
  slot = this.RULE("slot", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.slotVar) },
      {
        ALT: () => {
          this.CONSUME(LParen);
          this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.SUBRULE2(this.slotVar) });
          this.CONSUME(RParen);
        },
      },
    ]);
  });

  /** One left-side index, optionally with its extent stated: `y < H`. */
  slotVar = this.RULE("slotVar", () => {
    this.CONSUME(Identifier);
    this.OPTION(() => {
      this.CONSUME(Less);
      this.SUBRULE(this.additive);
    });
  });

  /** `fn name(params) -> results { defs }` */
  fnDecl = this.RULE("fnDecl", () => {
    this.CONSUME(Fn);
    this.CONSUME(Identifier);
    this.CONSUME(LParen);
    this.MANY_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.param) });
    this.CONSUME(RParen);
    this.CONSUME(Arrow);
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.result) });
    this.CONSUME(LBrace);
    this.MANY(() => this.SUBRULE(this.def));
    this.CONSUME(RBrace);
  });

  /** A tensor parameter `X[n, m]` or a size parameter `size s = 1`. */
  param = this.RULE("param", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(Size);
          this.CONSUME(Identifier);
          this.OPTION(() => {
            this.CONSUME(Equals);
            this.SUBRULE(this.expression);
          });
        },
      },
      { ALT: () => this.SUBRULE(this.tensorSig) },
    ]);
  });

  /** `Y[n, m]` or `Y` after `->`. */
  result = this.RULE("result", () => {
    this.CONSUME(Identifier);
    this.OPTION(() => this.SUBRULE(this.bracketList));
  });

  /** `[e, e, ...]`: dims of a declaration or the indices of an access. */
  bracketList = this.RULE("bracketList", () => {
    this.CONSUME(LBracket);
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.expression) });
    this.CONSUME(RBracket);
  });

  /**
   * Comparison and logical level, flat: `a < b && c >= d || e == f`.
   * build-ast applies the precedence (`||` loosest, then `&&`, then the
   * comparisons) and rejects chained comparisons with a clearer message.
   */
  expression = this.RULE("expression", () => {
    this.SUBRULE(this.additive);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(ComparisonOp) },
        { ALT: () => this.CONSUME(AndAnd) },
        { ALT: () => this.CONSUME(OrOr) },
      ]);
      this.SUBRULE2(this.additive);
    });
  });

  additive = this.RULE("additive", () => {
    this.SUBRULE(this.multiplicative);
    this.MANY(() => {
      this.CONSUME(AdditiveOp);
      this.SUBRULE2(this.multiplicative);
    });
  });

  multiplicative = this.RULE("multiplicative", () => {
    this.SUBRULE(this.unary);
    this.MANY(() => {
      this.CONSUME(MultiplicativeOp);
      this.SUBRULE2(this.unary);
    });
  });

  /**
   * Leading minus signs, then a power `base ^ exponent`. Unary minus binds
   * looser than `^` (`-a^2` is `-(a^2)`); the exponent is itself a unary, so
   * `^` is right-associative and `2^-1` is allowed. One rule for both levels
   * keeps the CST shallow, which is most of the parsing cost.
   */
  unary = this.RULE("unary", () => {
    this.MANY(() => this.OR([{ ALT: () => this.CONSUME(Minus) }, { ALT: () => this.CONSUME(Bang) }]));
    this.SUBRULE(this.postfix);
    this.OPTION(() => {
      this.CONSUME(Caret);
      this.SUBRULE(this.unary);
    });
  });

  /** An atom, optionally called `f(args)`, optionally indexed `[...]`. */
  postfix = this.RULE("postfix", () => {
    this.SUBRULE(this.atom);
    this.OPTION(() => this.SUBRULE(this.callArgs));
    this.OPTION2(() => this.SUBRULE(this.bracketList));
  });

  callArgs = this.RULE("callArgs", () => {
    this.CONSUME(LParen);
    this.MANY_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.expression) });
    this.CONSUME(RParen);
  });

  atom = this.RULE("atom", () => {
    this.OR({
      IGNORE_AMBIGUITIES: true,
      DEF: [
        { GATE: () => this.startsReduction(), ALT: () => this.SUBRULE(this.reduction) },
        { ALT: () => this.CONSUME(NumberLiteral) },
        { ALT: () => this.CONSUME(Identifier) },
        { ALT: () => this.CONSUME(MaxMin) },
        { ALT: () => this.SUBRULE(this.parenthesized) },
      ],
    });
  });

  /** `(e)`, or a group `(a, b)` (only meaningful inside `[...]`; build-ast checks). */
  parenthesized = this.RULE("parenthesized", () => {
    this.CONSUME(LParen);
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.expression) });
    this.CONSUME(RParen);
  });

  /** `sum(j, k) body`, `max(dy < k, dx < k) body`; the body is a multiplicative expression. */
  reduction = this.RULE("reduction", () => {
    this.CONSUME(ReduceKeyword);
    this.CONSUME(LParen);
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.reductionVar) });
    this.CONSUME(RParen);
    // A body cannot be the next statement: `M = sum(j)` then `N[i] = ...` is a missing body.
    this.OR([{ GATE: () => !this.startsDefinitionAt(1), ALT: () => this.SUBRULE(this.multiplicative) }]);
  });

  /**
   * One reduced index: `j`, or `dy < k` stating its extent. The extent is an
   * additive expression, so `j < n < m` stops at the second `<`.
   */
  reductionVar = this.RULE("reductionVar", () => {
    this.CONSUME(Identifier);
    this.OPTION(() => {
      this.CONSUME(Less);
      this.SUBRULE(this.additive);
    });
  });

  /**
   * Whether the next tokens start a reduction. `sum`/`prod` always do;
   * `max`/`min` only as `max(i, j)` or `max(dy < k, dx)` (each item a name,
   * optionally bounded by a size-like expression) followed by an operand
   * that is not the start of the next statement (`Name =` or `Name[...] =`).
   * So `max(a < b, c) X[i]` is a reduction and `max(a < b, c) + 1` a call.
   */
  private startsReduction(): boolean {
    const first = this.LA(1);
    if (tokenMatcher(first, AlwaysReduce)) return true;
    if (!tokenMatcher(first, MaxMin) || !tokenMatcher(this.LA(2), LParen)) return false;
    let k = 3;
    for (;;) {
      if (!tokenMatcher(this.LA(k), Identifier)) return false;
      k++;
      if (tokenMatcher(this.LA(k), Less)) {
        k = this.skipExtent(k + 1);
        if (k < 0) return false;
      }
      const sep = this.LA(k);
      if (tokenMatcher(sep, RParen)) break;
      if (!tokenMatcher(sep, Comma)) return false;
      k++;
    }
    const next = this.LA(k + 1);
    return operandStarts.some((t) => tokenMatcher(next, t)) && !this.startsDefinitionAt(k + 1);
  }

  /**
   * Past the extent expression starting at `LA(k)`: the position of the `,`
   * or `)` that ends it, or -1 when the tokens cannot be a size expression
   * (then `max(...)` is read as a call).
   */
  private skipExtent(k: number): number {
    let depth = 0;
    for (let i = k; ; i++) {
      const t = this.LA(i);
      if (depth === 0 && (tokenMatcher(t, Comma) || tokenMatcher(t, RParen))) return i > k ? i : -1;
      if (tokenMatcher(t, LParen)) depth++;
      else if (tokenMatcher(t, RParen)) depth--;
      else if (!extentTokens.some((e) => tokenMatcher(t, e))) return -1;
    }
  }

  /** Whether `LA(k)` begins a definition `Name =` or `Name[...] =` (so it is not an operand). */
  private startsDefinitionAt(k: number): boolean {
    if (!tokenMatcher(this.LA(k), Identifier)) return false;
    let i = k + 1;
    if (tokenMatcher(this.LA(i), LBracket)) {
      let depth = 0;
      for (;; i++) {
        const t: IToken = this.LA(i);
        if (t.tokenType.name === "EOF") return false;
        if (tokenMatcher(t, LBracket)) depth++;
        else if (tokenMatcher(t, RBracket) && --depth === 0) break;
      }
      i++;
    }
    return tokenMatcher(this.LA(i), Equals);
  }
}

/**
 * The grammar passes Chevrotain's validations (no ambiguous alternatives, no
 * left recursion, no duplicate rules), and the token definitions its lexer
 * validations: the parser and lexer the compiler builds skip them to start
 * faster (src/parser/index.ts, src/parser/lexer.ts), so they run here.
 */
import { describe, expect, it } from "vitest";
import { Lexer } from "../../src/parser/chevrotain.js";
import { TnsGrammar } from "../../src/parser/grammar.js";
import { allTokens, LEXER_CONFIG } from "../../src/parser/lexer.js";

describe("the grammar", () => {
  it("passes Chevrotain's grammar validations", () => {
    // With validations on (the default), Chevrotain's self-analysis throws on a grammar error, listing them.
    expect(() => new TnsGrammar({ skipValidations: false })).not.toThrow();
  });

  it("has token definitions that pass Chevrotain's lexer validations", () => {
    // The compiler's lexer skips them too (src/parser/lexer.ts); with them on, a bad definition throws, listing the errors.
    const lexer = new Lexer([...allTokens], { ...LEXER_CONFIG, skipValidations: false });
    expect(lexer.lexerDefinitionErrors).toEqual([]);
    expect(lexer.tokenize("output Y[i] = sum(j) A[i, j] * x[j]").errors).toEqual([]);
  });

});

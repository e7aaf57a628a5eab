/**
 * The grammar passes Chevrotain's validations (no ambiguous alternatives, no
 * left recursion, no duplicate rules): the parser the compiler builds skips
 * them to start faster (src/parser/index.ts), so they run here.
 */
import { describe, expect, it } from "vitest";
import { TnsGrammar } from "../../src/parser/grammar.js";

describe("the grammar", () => {
  it("passes Chevrotain's grammar validations", () => {
    // With validations on (the default), Chevrotain's self-analysis throws on a grammar error, listing them.
    expect(() => new TnsGrammar({ skipValidations: false })).not.toThrow();
  });

});

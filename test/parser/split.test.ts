import { describe, expect, it } from "vitest";
import { DiagnosticBag } from "../../src/diagnostics/diagnostic.js";
import { tokenize } from "../../src/parser/lexer.js";
import { splitStatements } from "../../src/parser/split.js";

function split(text: string): string[] {
  return splitStatements(tokenize(text, "s.tns", new DiagnosticBag())).map((s) => s.map((t) => t.image).join(" "));
}

describe("splitStatements", () => {
  it("splits at keywords and definition heads, with no terminators", () => {
    expect(split("size n = 4, m = 2 input X[n] S[i] = X[i] Y = f(S) output Z[i] = S[i] == Y")).toEqual([
      "size n = 4 , m = 2", "input X [ n ]", "S [ i ] = X [ i ]", "Y = f ( S )", "output Z [ i ] = S [ i ] == Y",
    ]);
  });

  it("keeps a function with its body and size parameters together", () => {
    expect(split("fn f(X[n], size s = 1) -> Y {\n Y[i] = X[i]\n T = 1\n}\nZ = 2")).toEqual([
      "fn f ( X [ n ] , size s = 1 ) -> Y { Y [ i ] = X [ i ] T = 1 }", "Z = 2",
    ]);
  });

  it("keeps multi-line expressions and size lists together", () => {
    expect(split("Y[i] = X[i]\n  + W[i]\nsize a = 1,\n  b = 2")).toEqual(["Y [ i ] = X [ i ] + W [ i ]", "size a = 1 , b = 2"]);
  });

  it("starts a statement at a line that looks like a broken definition", () => {
    expect(split("Y = (X[i]\nA[i = 2\nB = 1")).toEqual(["Y = ( X [ i ]", "A [ i = 2", "B = 1"]);
  });

  it("ends an unclosed function at the next top-level keyword", () => {
    expect(split("fn f(X[n]) -> Y {\n Y = X\ninput Z")).toEqual(["fn f ( X [ n ] ) -> Y { Y = X", "input Z"]);
  });
});

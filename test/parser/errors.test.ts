import { describe, expect, it } from "vitest";
import { DiagnosticBag, type Diagnostic } from "../../src/diagnostics/diagnostic.js";
import { parseModule } from "../../src/parser/index.js";
import type { Def, Module } from "../../src/parser/ast.js";

function parse(text: string): { module: Module; diags: readonly Diagnostic[] } {
  const bag = new DiagnosticBag();
  const module = parseModule(text, "bad.tns", bag);
  return { module, diags: bag.items };
}

/** `CODE line:col message` for each diagnostic. */
function summary(text: string): string[] {
  return parse(text).diags.map((d) => `${d.code} ${d.span?.start.line}:${d.span?.start.column} ${d.message}`);
}

function defNames(m: Module): string[] {
  return m.items.filter((i): i is Def => i.kind === "def").map((d) => d.name.name);
}

describe("syntax errors", () => {
  it("names the expected and the found token at the found token", () => {
    expect(summary("size n = 4\nA[i = B[i]")).toEqual(["TNS0001 2:5 expected ']' but found '='"]);
    const [d] = parse("size n = 4\nA[i = B[i]").diags;
    expect(d!.span).toMatchObject({ file: "bad.tns", start: { line: 2, column: 5, offset: 15 }, end: { line: 2, column: 6, offset: 16 } });
  });

  it("asks for an expression where an operand is missing", () => {
    expect(summary("Y[i] = X[i] +* Z[i]")).toEqual(["TNS0001 1:14 expected an expression but found '*'"]);
    expect(summary("size n = , m")).toEqual(["TNS0001 1:10 expected an expression but found ','"]);
  });

  it("points just past the last token when a statement or the file ends early", () => {
    const { diags } = parse("Y[i] = (X[i]\nZ = f(1,");
    expect(diags.map((d) => `${d.span?.start.line}:${d.span?.start.column} ${d.message}`)).toEqual([
      "1:13 expected ')' but found the end of the statement",
      "2:9 expected an expression but found the end of the file",
    ]);
    expect(diags[0]!.span?.start.offset).toBe(12);
  });

  it("blames an operator that ends a statement", () => {
    expect(summary("Y[i] = X[i] *\nZ = 1")).toEqual(["TNS0001 1:13 '*' has no right operand"]);
    expect(summary("Y = 2 ^")).toEqual(["TNS0001 1:7 '^' has no right operand"]);
    // Inside a function body the next definition's name reads as the operand.
    expect(summary("fn f(X[n]) -> Y[n] {\n  T[i] = X[i] +\n  Y[i] = X[i]\n}")).toEqual(["TNS0001 2:15 '+' has no right operand"]);
  });

  it("explains a reduction without a body", () => {
    const { diags } = parse("M[i] = sum(j)\nN[i] = 1");
    expect(diags).toHaveLength(1);
    expect(diags[0]!.message).toBe("'sum(...)' needs a body: expected an expression but found the end of the statement");
    expect(diags[0]!.hint).toContain("sum(j) X[i, j]");
    expect(parse("M = prod(j, k)").diags[0]!.message).toMatch(/^'prod\(\.\.\.\)' needs a body/);
  });

  it("reports a malformed bounded reduction index", () => {
    expect(summary("Y = sum(j <) X[j]")).toEqual(["TNS0001 1:12 expected an expression but found ')'"]);
    // The bound is one additive expression: a second comparison ends it.
    expect(summary("Y = sum(j < k < 2) X[j]")).toEqual(["TNS0001 1:15 expected ')' but found '<'"]);
    expect(summary("Y = sum(j <= 2) X[j]")).toEqual(["TNS0001 1:11 expected ')' but found '<='"]);
  });

  it("reports a token that cannot start a statement", () => {
    const { diags } = parse("Y = 1 )\nZ = 2");
    expect(diags.map((d) => `${d.span?.start.line}:${d.span?.start.column} ${d.message}`)).toEqual(["1:7 expected a statement but found ')'"]);
    expect(diags[0]!.hint).toMatch(/each statement starts with/);
  });

  it("flags reserved words used as names", () => {
    const { diags } = parse('size sum = 3\nimport max from "nn"');
    expect(diags.map((d) => d.message)).toEqual([
      "expected a name but found 'sum'",
      "expected a string or a list of names but found 'max'",
    ]);
    expect(diags.every((d) => d.hint?.includes("reserved word"))).toBe(true);
  });

  it("rejects chained comparisons, stray groups, odd calls and indices", () => {
    expect(summary("Y = a < b < c")).toEqual(["TNS0001 1:11 comparisons do not chain: unexpected '<'"]);
    expect(summary("Y = (a, b) + 1")).toEqual(["TNS0001 1:5 a parenthesized list is only allowed as a whole index inside [...]"]);
    expect(summary("Y[i] = X[(a, b) + 1]")).toEqual(["TNS0001 1:10 a parenthesized list is only allowed as a whole index inside [...]"]);
    expect(summary("Y = (a)(b)")).toEqual(["TNS0001 1:8 only a function name can be called"]);
    expect(summary("Y[i] = (a + b)[i]")).toEqual(["TNS0001 1:15 only a tensor name or a function call can be indexed"]);
    expect(summary("Y = max + 1")).toEqual(["TNS0001 1:5 'max' needs arguments"]);
  });

  it("reports unknown element types", () => {
    const { module, diags } = parse("input X[n]: f16");
    expect(diags.map((d) => [d.code, d.message, d.span?.start.column])).toEqual([["TNS0501", "unknown element type 'f16'", 13]]);
    expect(module.items).toHaveLength(1);
  });
});

describe("lexical errors", () => {
  it("reports stray characters with their position and keeps parsing", () => {
    const { module, diags } = parse("size n = 4\nY[i] = X[i] @ 2\nZ = 1");
    expect(diags.map((d) => `${d.code} ${d.span?.start.line}:${d.span?.start.column} ${d.message}`)[0]).toBe("TNS0002 2:13 unexpected '@'");
    expect(defNames(module)).toContain("Z");
  });

  it("reports malformed numbers and unterminated strings", () => {
    expect(summary("Y = 1e + 2")).toEqual(["TNS0003 1:5 invalid number literal '1e': exponent has no digits"]);
    expect(summary("Y = 12abc")).toEqual(["TNS0003 1:5 invalid number literal '12abc': a number cannot run into letters or another '.'"]);
    expect(summary("Y = 1.5.2")[0]).toMatch(/^TNS0003 1:5 invalid number literal '1\.5\.2'/);
    expect(summary('import "nn\nY = 1')).toEqual(["TNS0001 1:8 unterminated string"]);
  });
});

describe("recovery", () => {
  it("reports every broken statement and still parses the valid ones", () => {
    const text = [
      "size n = 8",
      "A[i = X[i]",         // missing ]
      "B[i] = X[i] * * 2",  // missing operand
      "input W[n, ]",       // missing dim
      "C[i] = X[i] + 1",
      "D[i] = (X[i] + 1",   // missing )
      "output E[i] = C[i] * 2",
    ].join("\n");
    const { module, diags } = parse(text);
    expect(diags.length).toBeGreaterThanOrEqual(4);
    expect(diags.every((d) => d.code === "TNS0001" && d.span !== undefined)).toBe(true);
    expect(diags.map((d) => d.span!.start.line)).toEqual([2, 3, 4, 6]);
    expect(defNames(module)).toEqual(expect.arrayContaining(["C", "E"]));
    expect(module.items[0]!.kind).toBe("size");
  });

  it("does not build statements that had errors inside", () => {
    const { module, diags } = parse("A[i = X[i]\nB[i] = X[i]\nC[i] = X[i] X[i]\nD = 1");
    expect(defNames(module)).toEqual(["B", "D"]);
    expect(diags.map((d) => d.message)).toEqual(["expected ']' but found '='", "expected '=' but found the end of the statement"]);
  });

  it("confines an error in a function to the function", () => {
    const { module, diags } = parse("fn f(X[n]) -> Y[n] {\n  T[i] = X[i] +\n  Y[i] = X[i]\n}\nZ = 1");
    expect(diags).toHaveLength(1);
    expect(module.items.map((i) => i.kind)).toEqual(["def"]);
  });

  it("ends a function whose '}' is missing at the next top-level keyword", () => {
    const { module, diags } = parse("fn f(X[n]) -> Y[n] {\n  Y[i] = X[i]\ninput Z[n]\nsize m = 2");
    expect(diags.map((d) => `${d.span?.start.line}:${d.span?.start.column} ${d.message}`)).toEqual(["2:14 expected '}' but found the end of the statement"]);
    expect(module.items.map((i) => i.kind)).toEqual(["tensor", "size"]);
  });

  it("keeps size parameters inside a function's parameter list", () => {
    const { module, diags } = parse("fn f(X[n],\n     size s = 2, size t) -> Y { Y = X }");
    expect(diags).toEqual([]);
    expect(module.items).toHaveLength(1);
  });

  it("orders diagnostics by position", () => {
    const { diags } = parse("A = 1 @\nB = (\nC = 1e");
    const offsets = diags.map((d) => d.span!.start.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(diags.map((d) => d.code)).toEqual(["TNS0002", "TNS0001", "TNS0003"]);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DiagnosticBag, type Span } from "../../src/diagnostics/diagnostic.js";
import { parseModule, sourceTokens, tokenize } from "../../src/parser/index.js";
import { sexpr } from "./sexpr.js";

/** Example source text for every token type the lexer knows. */
const SAMPLES: Record<string, readonly string[]> = {
  Size: ["size"], Input: ["input"], Weight: ["weight"], Output: ["output"], Fn: ["fn"], Import: ["import"], From: ["from"],
  Sum: ["sum"], Prod: ["prod"], Max: ["max"], Min: ["min"], Argmax: ["argmax"], Argmin: ["argmin"], Topk: ["topk"],
  Identifier: ["x", "S", "i", "j", "summary", "inf", "f32", "exp"],
  NumberLiteral: ["0", "42", "0.5", "1e-5", "2.5E3", "1e", "3abc"],
  StringLiteral: ['"nn"', '"./a.tns"', '"open'],
  LBracket: ["["], RBracket: ["]"], LParen: ["("], RParen: [")"], LBrace: ["{"], RBrace: ["}"],
  Comma: [","], Colon: [":"], Arrow: ["->"],
  LessEq: ["<="], GreaterEq: [">="], EqEq: ["=="], NotEq: ["!="], Less: ["<"], Greater: [">"], Equals: ["="],
  Plus: ["+"], Minus: ["-"], Star: ["*"], Slash: ["/"], Caret: ["^"], Tilde: ["~"],
  Percent: ["%"], AndAnd: ["&&"], OrOr: ["||"], Bang: ["!"],
};

const tokenText = fc.constantFrom(...sourceTokens.flatMap((t) => SAMPLES[t.name] ?? []), "#c\n", "@");
const soup = fc.array(fc.tuple(tokenText, fc.constantFrom(" ", "", "\n", "\t")), { maxLength: 60 })
  .map((parts) => parts.map(([t, sep]) => t + sep).join(""));

/** Line and column of an offset, computed independently of the lexer. */
function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

function checkSpan(span: Span | undefined, text: string): void {
  expect(span).toBeDefined();
  const { start, end } = span!;
  expect(span!.file).toBe("f.tns");
  expect(0 <= start.offset && start.offset <= end.offset && end.offset <= text.length + 1).toBe(true);
  expect({ line: start.line, column: start.column }).toEqual(position(text, start.offset));
  if (end.offset <= text.length) expect({ line: end.line, column: end.column }).toEqual(position(text, end.offset));
}

/** Parses and checks the invariants every input must satisfy. */
function parseChecked(text: string): void {
  const diags = new DiagnosticBag();
  const m = parseModule(text, "f.tns", diags);
  for (const d of diags.items) checkSpan(d.span, text);
  for (const item of m.items) checkSpan(item.span, text);
  if (!diags.hasErrors) {
    // A clean parse accounts for every token: nothing was silently dropped.
    const tokens = tokenize(text, "f.tns", new DiagnosticBag());
    for (const t of tokens) {
      expect(m.items.some((i) => i.span.start.offset <= t.startOffset && t.startOffset < i.span.end.offset)).toBe(true);
    }
  }
}

describe("parseModule on arbitrary input", () => {
  it("never throws on random strings and reports well-placed diagnostics", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 120 }), (text) => parseChecked(text)), { numRuns: 400, seed: 20261207 });
  });

  it("never throws on random token soups", () => {
    fc.assert(fc.property(soup, (text) => parseChecked(text)), { numRuns: 1500, seed: 20261207 });
  });

  it("never throws on mutations of a real program", () => {
    const program = "size n = 4\ninput X[n, n]: f64\nfn f(A[n, m], size s = 1) -> B[n] {\n  B[i] = max(j) A[i, j] * s\n}\noutput Y[i] = f(X)[i] + sum(j) X[i, j] ^ -2\n";
    const mutation = fc.tuple(fc.nat(program.length), fc.nat(6), tokenText).map(([at, cut, insert]) =>
      program.slice(0, at) + insert + program.slice(Math.min(program.length, at + cut)),
    );
    fc.assert(fc.property(mutation, (text) => parseChecked(text)), { numRuns: 600, seed: 20261207 });
  });

  it("has a sample for every token type", () => {
    expect(sourceTokens.filter((t) => !SAMPLES[t.name]).map((t) => t.name)).toEqual([]);
  });
});

/** Random expressions printed fully parenthesized, with their expected S-expression. */
const leaf = fc.oneof(
  fc.constantFrom("a", "b", "x", "n").map((s) => [s, s] as const),
  fc.nat(99).map((n) => [String(n), String(n)] as const),
);
const { tree } = fc.letrec<{ tree: readonly [string, string] }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.tuple(fc.constantFrom("+", "-", "*", "/", "^", "<", "=="), tie("tree"), tie("tree"))
      .map(([op, l, r]) => [`(${l[0]}) ${op} (${r[0]})`, `(${op} ${l[1]} ${r[1]})`] as const),
    tie("tree").map((e) => [`-(${e[0]})`, `(- ${e[1]})`] as const),
    fc.tuple(fc.constantFrom("sum", "max"), tie("tree")).map(([op, e]) => [`${op}(k) (${e[0]})`, `(${op} k: ${e[1]})`] as const),
    fc.tuple(tie("tree"), tie("tree")).map(([a, b]) => [`pow(${a[0]}, ${b[0]})`, `pow(${a[1]}, ${b[1]})`] as const),
    tie("tree").map((e) => [`X[${e[0]}, i]`, `X[${e[1]}, i]`] as const),
  ),
}));

describe("parseModule on generated expressions", () => {
  it("parses fully parenthesized expressions into the tree they print", () => {
    fc.assert(
      fc.property(tree, ([source, expected]) => {
        const diags = new DiagnosticBag();
        const m = parseModule(`Y = ${source}`, "f.tns", diags);
        expect(diags.items).toEqual([]);
        const def = m.items[0];
        expect(def?.kind === "def" ? sexpr(def.rhs) : null).toBe(expected);
      }),
      { numRuns: 300, seed: 20261207 },
    );
  });
});

import { describe, expect, it } from "vitest";
import { DiagnosticBag } from "../../src/diagnostics/diagnostic.js";
import type { Def, Expr, FnDecl, ImportDecl, Module, SizeDecl, TensorDecl } from "../../src/parser/ast.js";
import { parseModule } from "../../src/parser/index.js";
import { sexpr } from "./sexpr.js";

/** Parses text that must be free of diagnostics. */
function parseClean(text: string): Module {
  const diags = new DiagnosticBag();
  const m = parseModule(text, "t.tns", diags);
  expect(diags.items.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  return m;
}

function defs(m: Module): Def[] {
  return m.items.filter((i): i is Def => i.kind === "def");
}

/** The right side of the only definition in `text`, printed. */
function rhs(text: string): string {
  const [d] = defs(parseClean(text));
  return sexpr(d!.rhs);
}

function expr(source: string): string {
  return rhs(`Y = ${source}`);
}

function at(e: { span: { start: { line: number; column: number }; end: { line: number; column: number } } }): string {
  return `${e.span.start.line}:${e.span.start.column}-${e.span.end.line}:${e.span.end.column}`;
}

const attention = `# Scaled dot-product attention.
size n = 256, d = 64

input Q[n, d], K[n, d], V[n, d]

S[i, j] = Q[i, k] * K[j, k] / sqrt(d)   # k only on the right: summed
M[i]    = max(j) S[i, j]
E[i, j] = exp(S[i, j] - M[i])
output O[i, e] = E[i, j] * V[j, e] / sum(j) E[i, j]
`;

describe("parseModule: the attention example", () => {
  const m = parseClean(attention);

  it("has one item per statement and per declared tensor", () => {
    expect(m.items.map((i) => i.kind)).toEqual(["size", "tensor", "tensor", "tensor", "def", "def", "def", "def"]);
  });

  it("reads sizes with defaults", () => {
    const size = m.items[0] as SizeDecl;
    expect(size.entries.map((e) => [e.name.name, e.value && sexpr(e.value)])).toEqual([["n", "256"], ["d", "64"]]);
  });

  it("reads inputs with dims and the default dtype", () => {
    const k = m.items[2] as TensorDecl;
    expect([k.role, k.name.name, k.dims.map(sexpr), k.dtype]).toEqual(["input", "K", ["n", "d"], "f32"]);
    expect(at(k)).toBe("4:16-4:23");
    expect(at(m.items[1]!)).toBe("4:1-4:14");
  });

  it("builds the right expression trees", () => {
    expect(defs(m).map((d) => [d.output, d.name.name, d.indices?.map((s) => (s.kind === "var" ? s.name.name : "?")), sexpr(d.rhs)])).toEqual([
      [false, "S", ["i", "j"], "(/ (* Q[i, k] K[j, k]) sqrt(d))"],
      [false, "M", ["i"], "(max j: S[i, j])"],
      [false, "E", ["i", "j"], "exp((- S[i, j] M[i]))"],
      [true, "O", ["i", "e"], "(/ (* E[i, j] V[j, e]) (sum j: E[i, j]))"],
    ]);
  });

  it("gives accurate spans", () => {
    const [s, , , o] = defs(m);
    expect(at(s!)).toBe("6:1-6:38");
    expect(at(s!.name)).toBe("6:1-6:2");
    expect(at(s!.rhs)).toBe("6:11-6:38");
    const reduce = (o!.rhs as Extract<Expr, { kind: "binary" }>).rhs;
    expect(reduce.kind).toBe("reduce");
    expect(at(reduce)).toBe("9:38-9:52");
    expect(o!.span.start.offset).toBe(attention.indexOf("output O"));
    expect(o!.span.end.offset).toBe(attention.indexOf("E[i, j]\n", attention.indexOf("sum(j)")) + "E[i, j]".length);
    expect(at(m)).toBe("1:1-10:1");
  });
});

describe("parseModule: statements", () => {
  it("parses sizes without defaults and with expressions", () => {
    const size = parseClean("size n = 256, d = 64, h = n / 4, m").items[0] as SizeDecl;
    expect(size.entries.map((e) => [e.name.name, e.value && sexpr(e.value)])).toEqual([
      ["n", "256"], ["d", "64"], ["h", "(/ n 4)"], ["m", null],
    ]);
  });

  it("parses dtypes, scalars and weights", () => {
    const m = parseClean("input ids[n]: i32\ninput x[n]: f64\ninput scale\nweight W[d, 2*d]");
    expect((m.items as TensorDecl[]).map((t) => [t.role, t.name.name, t.dims.map(sexpr), t.dtype])).toEqual([
      ["input", "ids", ["n"], "i32"],
      ["input", "x", ["n"], "f64"],
      ["input", "scale", [], "f32"],
      ["weight", "W", ["d", "(* 2 d)"], "f32"],
    ]);
  });

  it("parses both import forms", () => {
    const m = parseClean('import "nn"\nimport softmax, layernorm from "nn"\nimport "./blocks.tns"');
    const imports = m.items as ImportDecl[];
    expect(imports.map((i) => [i.path, i.names?.map((n) => n.name) ?? null])).toEqual([
      ["nn", null], ["nn", ["softmax", "layernorm"]], ["./blocks.tns", null],
    ]);
    expect(at({ span: imports[1]!.pathSpan })).toBe("2:32-2:36");
  });

  it("parses functions with tensor and size parameters and both result forms", () => {
    const m = parseClean(`
fn softmax(X[n, m]) -> Y[n, m] {
  M[i] = max(j) X[i, j]
  E[i, j] = exp(X[i, j] - M[i])
  Y[i, j] = E[i, j] / sum(j) E[i, j]
}

fn conv2d(X[c, h, w]: f64, K[o, c, kh, kw], size s = 1, size t) -> Y, Z[o] {
  Y[f, y, x] = X[ci, s*y + dy, s*x + dx] * K[f, ci, dy, dx]
}
fn empty() -> R { }`);
    const [softmax, conv, empty] = m.items as FnDecl[];
    expect(softmax!.params).toHaveLength(1);
    expect(softmax!.results.map((r) => [r.name.name, r.dims?.map(sexpr)])).toEqual([["Y", ["n", "m"]]]);
    expect(softmax!.body.map((d) => d.name.name)).toEqual(["M", "E", "Y"]);
    expect(conv!.params.map((p) => [p.kind, p.name.name, p.kind === "tensor" ? p.dtype : p.value && sexpr(p.value)])).toEqual([
      ["tensor", "X", "f64"], ["tensor", "K", "f32"], ["size", "s", "1"], ["size", "t", null],
    ]);
    expect(conv!.results.map((r) => [r.name.name, r.dims?.map(sexpr) ?? null])).toEqual([["Y", null], ["Z", ["o"]]]);
    expect(sexpr(conv!.body[0]!.rhs)).toBe("(* X[ci, (+ (* s y) dy), (+ (* s x) dx)] K[f, ci, dy, dx])");
    expect([empty!.params, empty!.body]).toEqual([[], []]);
    expect(at(softmax!)).toBe("2:1-6:2");
  });

  it("parses tensor-level definitions and indexed calls", () => {
    const m = parseClean("output Y = softmax(S)\nZ[i, j] = softmax(S)[i, j] + 1");
    const [y, z] = defs(m);
    expect([y!.output, y!.indices, sexpr(y!.rhs)]).toEqual([true, null, "softmax(S)"]);
    expect(sexpr(z!.rhs)).toBe("(+ softmax(S)[i, j] 1)");
    const access = (z!.rhs as Extract<Expr, { kind: "binary" }>).lhs;
    expect(at(access)).toBe("2:11-2:27");
  });

  it("parses groups on the left and right", () => {
    const [w, y] = defs(parseClean("output W[(a, b), (c, d)] = A[a, c] * B[b, d]\nY[c, d] = x[(c, d)]"));
    expect(w!.indices!.map((s) => (s.kind === "group" ? s.vars.map((v) => v.name) : s.name.name))).toEqual([["a", "b"], ["c", "d"]]);
    expect(at(w!.indices![0]!)).toBe("1:10-1:16");
    expect(sexpr(y!.rhs)).toBe("x[(group c d)]");
  });

  it("treats a parenthesized single index as the index itself", () => {
    const [d] = defs(parseClean("Y[(i)] = X[(i), (j + 1)]"));
    expect(d!.indices![0]!.kind).toBe("var");
    expect(sexpr(d!.rhs)).toBe("X[i, (+ j 1)]");
  });

  it("skips comments and needs no statement terminators", () => {
    const m = parseClean("# a\nsize n = 4 # b\n\n  input X[n]# c\nY[i]=X[i]Z[i]=Y[i]");
    expect(m.items.map((i) => i.kind)).toEqual(["size", "tensor", "def", "def"]);
  });
});

describe("parseModule: expressions", () => {
  it("follows the precedence table", () => {
    expect(expr("a + b * c ^ d ^ e")).toBe("(+ a (* b (^ c (^ d e))))");
    expect(expr("a - b - c")).toBe("(- (- a b) c)");
    expect(expr("a / b * c")).toBe("(* (/ a b) c)");
    expect(expr("-a ^ 2")).toBe("(- (^ a 2))");
    expect(expr("2 ^ -1")).toBe("(^ 2 (- 1))");
    expect(expr("2^-x^2")).toBe("(^ 2 (- (^ x 2)))");
    expect(expr("- -a * b")).toBe("(* (- (- a)) b)");
    expect(expr("(a + b) * c")).toBe("(* (+ a b) c)");
    expect(expr("a + b < c * d")).toBe("(< (+ a b) (* c d))");
  });

  it("reads every comparison operator", () => {
    for (const op of ["<", "<=", ">", ">=", "==", "!="]) expect(expr(`a ${op} b`)).toBe(`(${op} a b)`);
  });

  it("reads numbers and inf", () => {
    const values = ["42", "0.5", "1e-5", "2.5E3", ".25"].map((n) => {
      const e = defs(parseClean(`Y = ${n}`))[0]!.rhs;
      return e.kind === "number" ? [e.value, e.isInteger] : null;
    });
    expect(values).toEqual([[42, true], [0.5, false], [1e-5, false], [2500, false], [0.25, false]]);
    expect(expr("where(j <= i, S[i, j], -inf)")).toBe("where((<= j i), S[i, j], (- inf))");
  });

  it("binds a reduction over a product", () => {
    expect(expr("sum(j) A[i, j] * B[j] + C[i]")).toBe("(+ (sum j: (* A[i, j] B[j])) C[i])");
    expect(expr("x / sum(j) E[i, j]")).toBe("(/ x (sum j: E[i, j]))");
    expect(expr("sum(i) max(j) X[i, j]")).toBe("(sum i: (max j: X[i, j]))");
    expect(expr("sum(j, k) X[i, j, k]")).toBe("(sum j k: X[i, j, k])");
    expect(expr("prod(j) -X[j] ^ 2")).toBe("(prod j: (- (^ X[j] 2)))");
    expect(expr("max(dy, dx) X[b, c, 2*y + dy, 2*x + dx]")).toBe("(max dy dx: X[b, c, (+ (* 2 y) dy), (+ (* 2 x) dx)])");
  });

  it("tells a max/min reduction from an elementwise call", () => {
    expect(expr("max(a, b)")).toBe("max(a, b)");
    expect(expr("min(a, b) + 1")).toBe("(+ min(a, b) 1)");
    expect(expr("max(j) - S[i, j]")).toBe("(- max(j) S[i, j])");
    expect(expr("max(i, 2)")).toBe("max(i, 2)");
    expect(expr("max(x + 1, y)")).toBe("max((+ x 1), y)");
    expect(expr("min(j) (X[j] + 1)")).toBe("(min j: (+ X[j] 1))");
    expect(expr("max(j) 2 * X[j]")).toBe("(max j: (* 2 X[j]))");
    expect(expr("max(j) exp(X[j])")).toBe("(max j: exp(X[j]))");
    expect(expr("max(j) sum(k) X[j, k]")).toBe("(max j: (sum k: X[j, k]))");
  });

  it("does not swallow the next statement into a max/min reduction", () => {
    const m = parseClean("A = max(a, b)\nB[i] = 1\nC = min(x, y)\nD = 2\nE = max(u, v)\noutput F = g(A)");
    expect(defs(m).map((d) => [d.name.name, sexpr(d.rhs)])).toEqual([
      ["A", "max(a, b)"], ["B", "1"], ["C", "min(x, y)"], ["D", "2"], ["E", "max(u, v)"], ["F", "g(A)"],
    ]);
  });

  it("keeps identifiers that start with a keyword as identifiers", () => {
    expect(expr("summary + sizes * maximum")).toBe("(+ summary (* sizes maximum))");
    expect(expr("fromage - imports + prod_1 + min2 + fnx + outputs")).toBe("(+ (+ (+ (+ (- fromage imports) prod_1) min2) fnx) outputs)");
  });

  it("gives calls and reductions spans from their first to last token", () => {
    const [d] = defs(parseClean("Y[i] = 1 + sum(j) X[i, j]*2"));
    const reduce = (d!.rhs as Extract<Expr, { kind: "binary" }>).rhs as Extract<Expr, { kind: "reduce" }>;
    expect(at(reduce)).toBe("1:12-1:28");
    expect(at(reduce.vars[0]!)).toBe("1:16-1:17");
    expect(at(reduce.body)).toBe("1:19-1:28");
  });
});

describe("parseModule: bounded reductions", () => {
  it("reads `name < size` items, parallel to the unbounded ones", () => {
    expect(expr("max(dy < k, dx < k) X[c, s*y + dy, s*x + dx]")).toBe("(max dy<k dx<k: X[c, (+ (* s y) dy), (+ (* s x) dx)])");
    expect(expr("sum(t < 4) X[t]")).toBe("(sum t<4: X[t])");
    expect(expr("sum(t < 2*n + 1, j) X[t, j]")).toBe("(sum t<(+ (* 2 n) 1) j: X[t, j])");
    expect(expr("prod(a, b < (n - 1) / 2) X[a, b]")).toBe("(prod a b<(/ (- n 1) 2): X[a, b])");
    const [d] = defs(parseClean("Y = sum(j, t < 4) X[j, t]"));
    const r = d!.rhs as Extract<Expr, { kind: "reduce" }>;
    expect(r.vars.map((v) => v.name)).toEqual(["j", "t"]);
    expect(r.extents.map((e) => e && sexpr(e))).toEqual([null, "4"]);
  });

  it("gives the index and its extent their own spans; the reduction spans keyword to body", () => {
    const [d] = defs(parseClean("P[y] = 1 + max(dy < k + 1) X[2*y + dy]"));
    const r = (d!.rhs as Extract<Expr, { kind: "binary" }>).rhs as Extract<Expr, { kind: "reduce" }>;
    expect(at(r)).toBe("1:12-1:39");
    expect(at(r.vars[0]!)).toBe("1:16-1:18");
    expect(at(r.extents[0]!)).toBe("1:21-1:26");
    expect(at(r.body)).toBe("1:28-1:39");
  });

  it("gives unbounded reductions null extents", () => {
    const [d] = defs(parseClean("M[i] = max(j) S[i, j]"));
    expect((d!.rhs as Extract<Expr, { kind: "reduce" }>).extents).toEqual([null]);
  });

  it("tells a bounded max/min reduction from a call of a comparison", () => {
    expect(expr("max(a < b, c)")).toBe("max((< a b), c)");
    expect(expr("max(a < b, c) + 1")).toBe("(+ max((< a b), c) 1)");
    expect(expr("max(a < b, c) X[a, c]")).toBe("(max a<b c: X[a, c])");
    expect(expr("min(t < n) (X[t] + 1)")).toBe("(min t<n: (+ X[t] 1))");
    expect(expr("max(a < (n - 1) * 2) X[a]")).toBe("(max a<(* (- n 1) 2): X[a])");
    // `<=`, a nested comparison or an access in the bound: not an extent, so a call.
    expect(expr("max(a <= b, c)")).toBe("max((<= a b), c)");
    expect(expr("max(a < b[0], c) + 1")).toBe("(+ max((< a b[0]), c) 1)");
    expect(expr("max(a < b, c) * X[a]")).toBe("(* max((< a b), c) X[a])");
  });

  it("does not swallow the next statement after a bounded-looking call", () => {
    const m = parseClean("A = max(a < b, c)\nB[i] = 1\nC = min(t < 2)\nD = 2");
    expect(defs(m).map((d) => [d.name.name, sexpr(d.rhs)])).toEqual([
      ["A", "max((< a b), c)"], ["B", "1"], ["C", "min((< t 2))"], ["D", "2"],
    ]);
  });
});

describe("parseModule: large programs", () => {
  // Speed is measured by bench/frontend.js (npm run bench), never asserted here.
  const program = (statements: number): string => {
    // Statements the size of the attention example's.
    const lines = ["size n = 64, d = 32", "input X[n, d], W[d, d]"];
    for (let s = 0; s < statements; s++) lines.push(`T${s}[i, j] = exp(X[i, k] * W[k, j] - M[i]) / sum(j) X[i, j] + ${s}`);
    return lines.join("\n");
  };

  it("parses every statement of a 2000-statement program", () => {
    const diags = new DiagnosticBag();
    expect(parseModule(program(2000), "big.tns", diags).items).toHaveLength(2003);
    expect(diags.items).toEqual([]);
  });
});

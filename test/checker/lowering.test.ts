/**
 * The examples of docs/language.md lowered to the IR: structure asserted
 * directly and the printed IR compared as golden text.
 */
import { describe, expect, test } from "vitest";
import { printProgram } from "../../src/ir/print.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { access, binary, indexValue, num, reduce, select, unary } from "../../src/ir/types.js";
import { check, defNode, lower, node } from "./helpers.js";

const ATTENTION = `# Scaled dot-product attention.
size n = 256, d = 64

input Q[n, d], K[n, d], V[n, d]

S[i, j] = Q[i, k] * K[j, k] / sqrt(d)   # k only on the right: summed
M[i]    = max(j) S[i, j]
E[i, j] = exp(S[i, j] - M[i])
output O[i, e] = E[i, j] * V[j, e] / sum(j) E[i, j]
`;

describe("the attention example", () => {
  const p = lower(ATTENTION);

  test("lists inputs first, then defs in source order", () => {
    expect(p.tensors.map((t) => `${t.role} ${t.name}`)).toEqual(["input Q", "input K", "input V", "def S", "def M", "def E", "def O"]);
    expect(p.sizes).toEqual({ n: 256, d: 64 });
    expect(p.functions).toEqual({});
  });

  test("the Einstein rule sums k over the whole right side", () => {
    const s = defNode(p, "S");
    expect(s.indices).toEqual(["i", "j"]);
    expect(s.ranges).toEqual({ i: 256, j: 256, k: 64 });
    expect(s.body).toEqual(reduce("sum", ["k"], binary("div", binary("mul", access("Q", ["i", "k"]), access("K", ["j", "k"])), unary("sqrt", num(64)))));
  });

  test("an explicit reduction binds a fresh variable", () => {
    const o = defNode(p, "O");
    expect(o.output).toBe(true);
    expect(o.ranges).toEqual({ i: 256, e: 64, j: 256, j_1: 256 });
    expect(o.body).toEqual(reduce("sum", ["j"], binary("div",
      binary("mul", access("E", ["i", "j"]), access("V", ["j", "e"])),
      reduce("sum", ["j_1"], access("E", ["i", "j_1"])))));
  });

  test("golden IR text", () => {
    expect(printProgram(p)).toBe(`sizes d=64, n=256
input Q: f32[256, 64]
input K: f32[256, 64]
input V: f32[256, 64]
S: f32[256, 256] = [i:256, j:256] sum(k:64) Q[i, k] * K[j, k] / sqrt(64)
M: f32[256] = [i:256] max(j:256) S[i, j]
E: f32[256, 256] = [i:256, j:256] exp(S[i, j] - M[i])
output O: f32[256, 64] = [i:256, e:64] sum(j:256) E[i, j] * V[j, e] / sum(j_1:256) E[i, j_1]
`);
  });
});

describe("sizes, declarations and types", () => {
  const src = `size n = 8, d = 4, h = n / 4, m
input Q[n, d]
input ids[n]: i32
input x[n]: f64
input scale
weight W[d, d]
output Y[i, e] = sum(k) Q[i, k] * W[k, e] * scale + ids[i] * x[i] / m + h
output Z[i] = ids[i] + 1
`;

  test("size defaults, expressions and overrides", () => {
    const p = lower(src, { sizes: { m: 3 } });
    expect(p.sizes).toEqual({ n: 8, d: 4, h: 2, m: 3 });
    expect(lower(src, { sizes: { m: 3, n: 16 } }).sizes).toEqual({ n: 16, d: 4, h: 4, m: 3 });
  });

  test("inputs keep their types; a def reading f64 is f64, else f32", () => {
    const p = lower(src, { sizes: { m: 3 } });
    expect(node(p, "ids").dtype).toBe("i32");
    expect(node(p, "x").dtype).toBe("f64");
    expect(node(p, "scale").shape).toEqual([]);
    expect(node(p, "W")).toEqual({ role: "weight", name: "W", dtype: "f32", shape: [4, 4], output: false, data: null });
    expect(node(p, "Y").dtype).toBe("f64");
    expect(node(p, "Z").dtype).toBe("f32");
  });

  test("sizes become constants and a scalar input an access with no index", () => {
    const y = defNode(lower(src, { sizes: { m: 3 } }), "Y");
    expect(y.body).toEqual(binary("add", binary("add",
      reduce("sum", ["k"], binary("mul", binary("mul", access("Q", ["i", "k"]), access("W", ["k", "e"])), access("scale", []))),
      binary("div", binary("mul", access("ids", ["i"]), access("x", ["i"])), num(3))), num(2)));
  });

  test("weight data is bound as f64", () => {
    const p = lower("weight W[2]\noutput Y[i] = W[i]", { weights: { W: Tensor.fromArray([1.5, 2.5]) } });
    const w = node(p, "W");
    expect(w.role === "weight" && Array.from(w.data!)).toEqual([1.5, 2.5]);
  });
});

describe("expressions", () => {
  test("a causal mask: comparisons, index values, where and -inf", () => {
    const p = lower("size n = 4\ninput S[n, n]\noutput C[i, j] = where(j <= i, S[i, j], -inf)");
    expect(defNode(p, "C").body).toEqual(select(binary("le", indexValue("j"), indexValue("i")), access("S", ["i", "j"]), num(-Infinity)));
  });

  test("builtins, unary minus, power and comparisons", () => {
    const p = lower("input X[3]\noutput Y[i] = -pow(X[i], 2) + X[i] ^ 3 + max(X[i], 0) * (X[i] > 1) + rsqrt(abs(X[i]))");
    const x = access("X", ["i"]);
    expect(defNode(p, "Y").body).toEqual(binary("add", binary("add", binary("add",
      unary("neg", binary("pow", x, num(2))), binary("pow", x, num(3))),
      binary("mul", binary("max", x, num(0)), binary("gt", x, num(1)))), unary("rsqrt", unary("abs", x))));
  });

  test("the Einstein trap warns; the explicit sum does not", () => {
    const warned = check("input B[4, 3], C[4]\noutput A[i] = B[i, j] + C[i]");
    expect(warned.diags.map((d) => d.code)).toEqual(["TNS0211"]);
    expect(defNode(warned.program!, "A").body).toEqual(reduce("sum", ["j"], binary("add", access("B", ["i", "j"]), access("C", ["i"]))));
    const explicit = check("input B[4, 3], C[4]\noutput A[i] = sum(j) B[i, j] + C[i]");
    expect(explicit.diags).toEqual([]);
    expect(defNode(explicit.program!, "A").body).toEqual(binary("add", reduce("sum", ["j"], access("B", ["i", "j"])), access("C", ["i"])));
  });

  test("nested reductions over one name are renamed apart", () => {
    const p = lower("input X[3, 4, 5]\noutput Y[i] = sum(j) (X[i, j, 0] * sum(j) X[i, 0, j]) + max(j, k) X[i, j, k]");
    const y = defNode(p, "Y");
    expect(y.ranges).toEqual({ i: 3, j: 4, j_1: 5, j_2: 4, k: 5 });
    expect(printProgram(p)).toContain("sum(j:4) X[i, j, 0] * sum(j_1:5) X[i, 0, j_1]");
    expect(printProgram(p)).toContain("max(j_2:4, k:5) X[i, j_2, k]");
  });

  test("explicit reductions of the spec: max, several indices", () => {
    const p = lower("input S[4, 6], X[2, 3, 5]\noutput M[i] = max(j) S[i, j]\noutput N[i] = sum(j, k) X[i, j, k]");
    expect(defNode(p, "N").body).toEqual(reduce("sum", ["j", "k"], access("X", ["i", "j", "k"])));
    expect(defNode(p, "N").shape).toEqual([2]);
  });

  test("a scalar definition", () => {
    const p = lower("input X[5]\noutput t = X[i] * X[i]");
    const t = defNode(p, "t");
    expect(t.shape).toEqual([]);
    expect(t.indices).toEqual([]);
    expect(t.body).toEqual(reduce("sum", ["i"], binary("mul", access("X", ["i"]), access("X", ["i"]))));
  });

  test("an index variable's value needs a range from an access", () => {
    const p = lower("input X[5]\noutput Y[i] = X[i] * i");
    expect(defNode(p, "Y").body).toEqual(binary("mul", access("X", ["i"]), indexValue("i")));
  });
});

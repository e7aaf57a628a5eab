import { describe, expect, test } from "vitest";
import type { Expr } from "../../src/ir/types.js";
import { access, affine, binary, indexValue, num, reduce, select, unary } from "../../src/ir/types.js";
import { formatNumber, printAffine, printExpr, printProgram } from "../../src/ir/print.js";
import { parseExprText, parseProgramText, IrTextError } from "../../src/ir/parse-text.js";
import { verifyProgramErrors } from "../../src/ir/verify.js";
import { attention, convAndKron, softmaxCall } from "./fixtures.js";

const A = access("A", ["i"]);
const B = access("B", ["i"]);
const C = access("C", ["i"]);
const Ak = access("A", ["k"]);
const sumK = (body: Expr): Expr => reduce("sum", ["k"], body);
const R = { k: 3 };

describe("printProgram goldens", () => {
  test("attention", () => {
    expect(printProgram(attention())).toBe(
      [
        "sizes d=8, n=4",
        "input Q: f32[4, 8]",
        "input K: f32[4, 8]",
        "input V: f32[4, 8]",
        "S: f32[4, 4] = [i:4, j:4] sum(k:8) Q[i, k] * K[j, k] / 2.8284271247461903",
        "M: f32[4] = [i:4] max(j:4) S[i, j]",
        "E: f32[4, 4] = [i:4, j:4] exp(S[i, j] - M[i])",
        "output O: f32[4, 8] = [i:4, e:8] sum(j:4) E[i, j] * V[j, e] / sum(j_1:4) E[i, j_1]",
        "",
      ].join("\n"),
    );
  });

  test("strided convolution, causal mask, grouped Kronecker product", () => {
    expect(printProgram(convAndKron())).toBe(
      [
        "input X: f32[8]",
        "weight W: f32[3] (data)",
        "input A: f32[2, 2]",
        "input B: f32[3, 3]",
        "Y: f32[3] = [y:3] sum(dy:3) X[dy + 2*y + 1] * W[dy]",
        "output Mask: f32[3, 3] = [i:3, j:3] where(j <= i, Y[j], -inf)",
        "output Kr: f32[6, 6] = [(a:2, b:3), (c:2, d:3)] A[a, c] * B[b, d]",
        "",
      ].join("\n"),
    );
  });

  test("functions print before the tensors", () => {
    expect(printProgram(softmaxCall())).toBe(
      [
        "fn softmax_1(X: f32[2, 3]) -> Y {",
        "  M: f32[2] = [i:2] max(j:3) X[i, j]",
        "  E: f32[2, 3] = [i:2, j:3] exp(X[i, j] - M[i])",
        "  Y: f32[2, 3] = [i:2, j:3] E[i, j] / sum(j_1:3) E[i, j_1]",
        "}",
        "input S: f32[2, 3]",
        "output P: f32[2, 3] = call softmax_1(S)",
        "",
      ].join("\n"),
    );
  });

  test("scalars, unused ranges and unbound weights", () => {
    const p = parseProgramText("input s: f64[]\nweight W: f32[2]\noutput T: f64[] = [; z:4] s[] * 2\n");
    expect(p.tensors[2]).toMatchObject({ indices: [], groups: [], ranges: { z: 4 } });
    expect(printProgram(p)).toBe("input s: f64[]\nweight W: f32[2]\noutput T: f64[] = [; z:4] s[] * 2\n");
  });
});

describe("printExpr precedence", () => {
  const cases: [string, Expr, string][] = [
    ["parenthesized sum under a product", binary("mul", binary("add", A, num(1)), num(2)), "(A[i] + 1) * 2"],
    ["right-nested subtraction", binary("sub", A, binary("sub", B, C)), "A[i] - (B[i] - C[i])"],
    ["left-nested subtraction", binary("sub", binary("sub", A, B), C), "A[i] - B[i] - C[i]"],
    ["right-nested division", binary("div", A, binary("mul", B, C)), "A[i] / (B[i] * C[i])"],
    ["negative constant", binary("mul", num(-2), A), "-2 * A[i]"],
    ["negated constant", unary("neg", num(2)), "-(2)"],
    ["double negation", unary("neg", unary("neg", A)), "-(-A[i])"],
    ["negated product", unary("neg", binary("mul", A, B)), "-(A[i] * B[i])"],
    ["negation as a factor", binary("mul", A, unary("neg", B)), "A[i] * -B[i]"],
    ["subtracting a negative constant", binary("sub", A, num(-1)), "A[i] - -1"],
    ["reduction as the left factor", binary("mul", sumK(Ak), B), "(sum(k:3) A[k]) * B[i]"],
    ["reduction as the last factor", binary("div", binary("mul", A, B), sumK(Ak)), "A[i] * B[i] / sum(k:3) A[k]"],
    ["reduction followed by a factor", binary("mul", binary("div", A, sumK(Ak)), B), "A[i] / (sum(k:3) A[k]) * B[i]"],
    ["reduction over a product, then a sum", binary("add", sumK(binary("mul", Ak, access("B", ["k"]))), C), "sum(k:3) A[k] * B[k] + C[i]"],
    ["reduction over a sum", sumK(binary("add", Ak, B)), "sum(k:3) (A[k] + B[i])"],
    ["reduction as an operand of negation", unary("neg", sumK(Ak)), "-(sum(k:3) A[k])"],
    ["comparisons do not chain", binary("lt", binary("lt", indexValue("i"), indexValue("j")), num(1)), "(i < j) < 1"],
    ["select and min", select(binary("ne", A, num(0)), binary("min", A, B), num(NaN)), "where(A[i] != 0, min(A[i], B[i]), nan)"],
    ["unary functions", unary("exp", unary("rsqrt", binary("pow", A, num(0.5)))), "exp(rsqrt(pow(A[i], 0.5)))"],
  ];
  for (const [name, e, text] of cases) {
    test(name, () => {
      expect(printExpr(e, R)).toBe(text);
      expect(parseExprText(text).expr).toEqual(e);
    });
  }
});

describe("numbers and affine indices", () => {
  test("numbers parse back to the identical double", () => {
    for (const v of [0, -0, 0.1 + 0.2, 1e-7, 1e21, -1.5e300, 5e-324, Infinity, -Infinity, NaN, 2 ** 53 + 2]) {
      const e = parseExprText(formatNumber(v)).expr;
      expect(e.kind).toBe("const");
      expect(Object.is((e as { value: number }).value, v)).toBe(true);
    }
  });

  test("affine forms", () => {
    expect(printAffine(affine([{ var: "y", coef: 2 }, { var: "dy", coef: 1 }], -1))).toBe("dy + 2*y - 1");
    expect(printAffine(affine([{ var: "i", coef: -1 }], 3))).toBe("-i + 3");
    expect(printAffine(affine([{ var: "a", coef: -2 }, { var: "b", coef: -1 }]))).toBe("-2*a - b");
    expect(printAffine(affine([], 0))).toBe("0");
    const e = access("X", [affine([{ var: "a", coef: -2 }, { var: "b", coef: 1 }], 7)]);
    expect(parseExprText(printExpr(e)).expr).toEqual(e);
  });
});

describe("parse errors", () => {
  test("report the line and column", () => {
    expect(() => parseProgramText("input A: f32[2]\nB: f32[2] = [i:2] A[i] +\n")).toThrow(IrTextError);
    expect(() => parseProgramText("input A: f16[2]\n")).toThrow(/1:10: unknown element type 'f16'/);
    expect(() => parseProgramText("B: f32[2] = [i:2] sum(k) A[i]\n")).toThrow(/needs an extent/);
    expect(() => parseProgramText("B: f32[2] = [i:2] foo(i)\n")).toThrow(/unknown operator 'foo'/);
    expect(() => parseProgramText("input A: f32[2] input B: f32[2]\n")).toThrow(/after the statement/);
  });
});

describe("docs/ir.md", () => {
  test("the text-form example parses, verifies and prints back unchanged", async () => {
    const { readFile } = await import("node:fs/promises");
    const doc = await readFile(new URL("../../docs/ir.md", import.meta.url), "utf8");
    const block = /```\n(sizes d=8[\s\S]*?)```/.exec(doc)![1]!;
    const p = parseProgramText(block, { weights: { W: Float64Array.from([1, 2, 3]) } });
    expect(verifyProgramErrors(p)).toEqual([]);
    expect(printProgram(p)).toBe(block);
  });
});

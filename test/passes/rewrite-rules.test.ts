/**
 * One-line theorems, one or more per rule: the text before, the text after
 * one application at the root (or the refusal, naming the condition that
 * failed). Program rules are stated on small programs.
 */
import { describe, expect, it } from "vitest";
import { parseExprText, parseProgramText } from "../../src/ir/parse-text.js";
import { printExpr, printNode } from "../../src/ir/print.js";
import type { DType, Program } from "../../src/ir/types.js";
import { applyAtRoot } from "../../src/passes/rewrite/apply.js";
import { failedCondition, type ExprContext, type ExprRule, type ProgramRule } from "../../src/passes/rewrite/rule.js";
import { ruleNamed } from "../../src/passes/rewrite/registry.js";

function exprRuleNamed(name: string): ExprRule<unknown> {
  const r = ruleNamed(name);
  if (r.kind !== "expr") throw new Error(`${name} is not an expression rule`);
  return r;
}

/** Every free variable ranges over 4 unless the text gives an extent. */
function ctxFor(ranges: Record<string, number>, enclosing: string[][] = [], dtype: DType = "f32"): ExprContext {
  return { ranges: new Proxy(ranges, { get: (t, k: string) => t[k] ?? 4 }), dtype, enclosing };
}

function rewrite(name: string, before: string, enclosing: string[][] = [], dtype: DType = "f32"): string | null {
  const { expr, ranges } = parseExprText(before);
  const out = applyAtRoot(exprRuleNamed(name), expr, ctxFor(ranges, enclosing, dtype));
  return out === null ? null : printExpr(out, new Proxy(ranges, { get: (t, k: string) => t[k] ?? 4 }));
}

function refusal(name: string, before: string, enclosing: string[][] = [], dtype: DType = "f32"): string | null {
  const rule = exprRuleNamed(name);
  const { expr, ranges } = parseExprText(before);
  const ctx = ctxFor(ranges, enclosing, dtype);
  const b = rule.match(expr, ctx);
  return b === null ? "no match" : failedCondition(rule, b, ctx)?.name ?? null;
}

describe("expression rules", () => {
  it.each([
    ["sum-factor-out", "sum(k:4) A[i] * B[i, k]", "A[i] * sum(k:4) B[i, k]"],
    ["sum-factor-out", "sum(k:4) 2 * B[i, k] * C[i]", "2 * C[i] * sum(k:4) B[i, k]"],
    ["sum-split", "sum(j:3, k:5) A[j] * B[k]", "(sum(j:3) A[j]) * sum(k:5) B[k]"],
    ["sum-split", "sum(j:3, k:5, l:2) A[i, j] * B[k, l] * C[j, i]", "(sum(j:3) A[i, j] * C[j, i]) * sum(k:5, l:2) B[k, l]"],
    ["sum-merge", "sum(j:3) sum(k:5) A[j, k]", "sum(j:3, k:5) A[j, k]"],
    ["sum-unmerge", "sum(j:3, k:5) A[j, k]", "sum(j:3) sum(k:5) A[j, k]"],
    ["distribute", "A[i] * (B[i] + C[i])", "A[i] * B[i] + A[i] * C[i]"],
    ["distribute", "(B[i] - C[i]) * A[i]", "B[i] * A[i] - C[i] * A[i]"],
    ["factor", "A[i] * B[i] + A[i] * C[i]", "A[i] * (B[i] + C[i])"],
    ["factor", "B[i] * A[i] - C[i] * A[i]", "A[i] * (B[i] - C[i])"],
    ["factor", "A[i] * B[i] + A[i]", "A[i] * (B[i] + 1)"],
    ["mul-comm", "A[i] * B[i]", "B[i] * A[i]"],
    ["mul-assoc", "A[i] * B[i] * C[i]", "A[i] * (B[i] * C[i])"],
  ])("%s: %s = %s", (name, before, after) => {
    expect(rewrite(name, before)).toBe(after);
  });

  it("div-to-mul-reciprocal: x / s = x·(1 / s) inside a sum s does not vary in", () => {
    expect(rewrite("div-to-mul-reciprocal", "A[i, k] / S[i]", [["k"]])).toBe("A[i, k] * (1 / S[i])");
  });

  it.each([
    ["sum-factor-out", "sum(k:4) B[i, k] * C[k]", [], "has-invariant-factor"],
    ["sum-factor-out", "sum(k:4) A[i] * B[i]", [], "keeps-a-varying-factor"],
    ["sum-split", "sum(j:3, k:5) A[j, k] * B[k]", [], "separable"],
    ["sum-split", "sum(j:3, k:5) A[j] * B[k] * C[i]", [], "every-factor-varies"],
    ["distribute", "(sum(k:4) A[k]) * (B[i] + C[i])", [], "duplicated-factor-has-no-reduction"],
    ["factor", "A[i] * B[i] + C[i] * D[i]", [], "has-common-factor"],
    ["div-to-mul-reciprocal", "A[i, k] / S[k]", [["k"]], "divisor-invariant-in-enclosing-sum"],
    ["div-to-mul-reciprocal", "A[i] / S[i]", [], "divisor-invariant-in-enclosing-sum"],
    ["div-to-mul-reciprocal", "A[i, k] / 3", [["k"]], "divisor-is-not-a-constant"],
    ["mul-assoc", "A[i] * (B[i] * C[i])", [], "no match"],
  ] as const)("%s refuses %s (%s): %s", (name, before, enclosing, why) => {
    expect(refusal(name, before, enclosing.map((e) => [...e]))).toBe(why);
  });

  it("div-to-mul-reciprocal refuses an integer def, where x·(1/s) could truncate differently", () => {
    expect(refusal("div-to-mul-reciprocal", "A[i, k] / S[i]", [["k"]], "i32")).toBe("not-an-integer-def");
  });
});

function applyProgramRule(name: string, before: Program): Program {
  const rule = ruleNamed(name) as ProgramRule<unknown>;
  const site = rule.sites(before).find((s) => failedCondition(rule, s, before) === null);
  if (site === undefined) throw new Error(`${name} does not apply`);
  return rule.rewrite(site, before);
}

function lines(p: Program): string[] {
  return p.tensors.filter((t) => t.role === "def").map(printNode);
}

describe("program rules", () => {
  const KRON = `
input A: f32[2, 3]
input B: f32[4, 5]
input x: f32[15]
W: f32[8, 15] = [(a:2, b:4), (c:3, d:5)] A[a, c] * B[b, d]
output y: f32[8] = [i:8] sum(j:15) W[i, j] * x[j]
`;

  it("split-index: an output index over a grouped dimension becomes its digits", () => {
    expect(lines(applyProgramRule("split-index", parseProgramText(KRON)))[1]).toBe(
      "output y: f32[8] = [(i_a:2, i_b:4)] sum(j:15) W[4*i_a + i_b, j] * x[j]");
  });

  it("split-index: a summed index becomes a sum over its digits", () => {
    const once = applyProgramRule("split-index", parseProgramText(KRON));
    expect(lines(applyProgramRule("split-index", once))[1]).toBe(
      "output y: f32[8] = [(i_a:2, i_b:4)] sum(j_c:3, j_d:5) W[4*i_a + i_b, 5*j_c + j_d] * x[5*j_c + j_d]");
  });

  it("inline-product-producer: W[4a + b, 5c + d] = A[a, c]·B[b, d], and W is dropped", () => {
    const after = applyProgramRule("inline-product-producer", parseProgramText(`
input A: f32[2, 3]
input B: f32[4, 5]
input X: f32[3, 5]
W: f32[8, 15] = [(a:2, b:4), (c:3, d:5)] A[a, c] * B[b, d]
output y: f32[8] = [(i:2, k:4)] sum(j:3, l:5) W[4*i + k, 5*j + l] * X[j, l]
`));
    expect(lines(after)).toEqual(["output y: f32[8] = [(i:2, k:4)] sum(j:3, l:5) A[i, j] * B[k, l] * X[j, l]"]);
  });

  it("inline-product-producer refuses an access that does not flatten distinct variables", () => {
    const p = parseProgramText(`
input A: f32[2, 3]
input B: f32[4, 5]
W: f32[8, 15] = [(a:2, b:4), (c:3, d:5)] A[a, c] * B[b, d]
output y: f32[8] = [i:8] sum(j:15) W[i, j]
`);
    const rule = ruleNamed("inline-product-producer") as ProgramRule<unknown>;
    expect(rule.sites(p).map((s) => failedCondition(rule, s, p)?.name)).toEqual(["every-access-recovers-producer-indices"]);
  });

  it("ungroup-access: x[5c + d] in a sum of products becomes a view x_v[c, d]", () => {
    const after = applyProgramRule("ungroup-access", parseProgramText(`
input A: f32[2, 3]
input B: f32[4, 5]
input x: f32[15]
output y: f32[8] = [(a:2, b:4)] sum(c:3, d:5) A[a, c] * B[b, d] * x[5*c + d]
`));
    expect(lines(after)).toEqual([
      "x_v: f32[3, 5] = [v0_0:3, v0_1:5] x[5*v0_0 + v0_1]",
      "output y: f32[8] = [(a:2, b:4)] sum(c:3, d:5) A[a, c] * B[b, d] * x_v[c, d]",
    ]);
  });

  it("ungroup-access refuses a read outside a sum of products", () => {
    const p = parseProgramText("input x: f32[15]\noutput y: f32[15] = [(c:3, d:5)] exp(x[5*c + d])\n");
    const rule = ruleNamed("ungroup-access") as ProgramRule<unknown>;
    expect(rule.sites(p).map((s) => failedCondition(rule, s, p)?.name)).toEqual(["read-by-a-sum-of-products"]);
  });
});

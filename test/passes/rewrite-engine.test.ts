/**
 * The search engine: each stop reason, the cheapest result with its
 * derivation, determinism, rule construction checks, and the FLOP
 * estimate it minimizes by default.
 */
import { describe, expect, it } from "vitest";
import { parseExprText, parseProgramText } from "../../src/ir/parse-text.js";
import { printExpr } from "../../src/ir/print.js";
import type { DefNode, Expr } from "../../src/ir/types.js";
import { binary } from "../../src/ir/types.js";
import { exprKey, exprSize } from "../../src/ir/walk.js";
import { expressionRewrites, rewriteDefBody } from "../../src/passes/rewrite/apply.js";
import { search, type SearchLimits } from "../../src/passes/rewrite/engine.js";
import { defFlops, exprFlops } from "../../src/passes/rewrite/flops.js";
import { EXPR_RULES, OPTIMIZING_EXPR_RULES } from "../../src/passes/rewrite/registry.js";
import { exprRule, programRule, type ExprContext } from "../../src/passes/rewrite/rule.js";
import { mulAssoc, mulComm } from "../../src/passes/rewrite/rules/arithmetic.js";

const CTX: ExprContext = { ranges: { i: 4 }, dtype: "f32", enclosing: [] };

function reorder(text: string, limits: SearchLimits) {
  const { expr } = parseExprText(text);
  return search(expr, { key: exprKey, cost: exprSize, successors: (e) => expressionRewrites(e, [mulComm, mulAssoc], CTX) }, limits);
}

function def(text: string): DefNode {
  const t = parseProgramText(text).tensors.find((x) => x.role === "def");
  if (t === undefined || t.role !== "def") throw new Error("no def");
  return t;
}

describe("search", () => {
  it("stops saturated when every form was seen", () => {
    const r = reorder("A[i] * B[i]", {});
    expect(r.stopReason).toBe("saturated");
    expect(r.nodes).toBe(2);
    expect(r.fired).toEqual({ "mul-comm": 1 });
  });

  it("stops at the iteration limit", () => {
    const r = reorder("A[i] * B[i] * C[i] * D[i] * E[i]", { maxIterations: 3 });
    expect(r.stopReason).toBe("iteration-limit");
    expect(r.iterations).toBe(3);
  });

  it("stops at the node limit", () => {
    const r = reorder("A[i] * B[i] * C[i] * D[i] * E[i]", { maxNodes: 10 });
    expect(r.stopReason).toBe("node-limit");
    expect(r.nodes).toBe(10);
  });

  it("stops at the time limit (an injected clock that advances 10 ms per reading)", () => {
    let now = 0;
    const r = reorder("A[i] * B[i] * C[i] * D[i] * E[i]", { timeLimitMs: 25, clock: () => (now += 10) });
    expect(r.stopReason).toBe("time-limit");
    expect(r.iterations).toBe(2);
  });

  it("returns the start when nothing is cheaper, with an empty derivation", () => {
    const r = reorder("A[i] * B[i] * C[i]", {});
    expect(r.stopReason).toBe("saturated");
    expect(r.derivation).toEqual([]);
    expect(exprKey(r.best)).toBe(exprKey(parseExprText("A[i] * B[i] * C[i]").expr));
  });

  it("finds the cheapest form and the rules leading to it", () => {
    const d = def("input A: f32[8, 16]\ninput S: f32[8]\noutput y: f32[8] = [i:8] sum(k:16) A[i, k] / S[i]\n");
    const r = rewriteDefBody(d, OPTIMIZING_EXPR_RULES);
    expect(r.derivation).toEqual(["div-to-mul-reciprocal", "sum-factor-out"]);
    expect(printExpr(r.best, d.ranges)).toBe("1 / S[i] * sum(k:16) A[i, k]");
    expect([r.startCost, r.bestCost]).toEqual([256, 144]);
  });

  it("is deterministic", () => {
    const a = reorder("A[i] * B[i] * C[i] * D[i]", { maxNodes: 40 });
    const b = reorder("A[i] * B[i] * C[i] * D[i]", { maxNodes: 40 });
    expect(exprKey(a.best)).toBe(exprKey(b.best));
    expect(a.fired).toEqual(b.fired);
    expect([a.iterations, a.nodes]).toEqual([b.iterations, b.nodes]);
  });

  it("stays bounded with every rule on a bushy body", () => {
    const d = def("input A: f32[4, 4]\ninput B: f32[4]\noutput y: f32[4] = [i:4] sum(j:4, k:4) A[i, j] * (B[j] + B[k]) * A[k, i] * (B[i] - A[j, k])\n");
    const r = rewriteDefBody(d, EXPR_RULES, { maxNodes: 300 });
    expect(["node-limit", "iteration-limit"]).toContain(r.stopReason);
    expect(r.bestCost).toBeLessThanOrEqual(r.startCost);
  });
});

describe("rules as data", () => {
  const match = (e: Expr) => (e.kind === "binary" ? { a: e.lhs, b: e.rhs } : null);

  it("rejects a name that is not kebab-case, a missing statement, and a badly named condition", () => {
    expect(() => exprRule({ name: "MulComm", statement: "a·b = b·a", match, rewrite: ({ a, b }) => binary("mul", b, a) })).toThrow(/kebab-case/);
    expect(() => exprRule({ name: "mul-comm", statement: " ", match, rewrite: ({ a, b }) => binary("mul", b, a) })).toThrow(/no statement/);
    expect(() => programRule({ name: "x-y", statement: "x = y", conditions: [{ name: "Bad Name", holds: () => true }], sites: () => [], rewrite: (_s, p) => p })).toThrow(/kebab-case/);
  });
});

describe("the FLOP estimate", () => {
  it("counts a reduction once per value of its free variables", () => {
    const ranges = { i: 8, k: 16 };
    expect(exprFlops(parseExprText("sum(k:16) A[i] * F[i, k]").expr, ranges, 8)).toBe(256);
    expect(exprFlops(parseExprText("A[i] * sum(k:16) F[i, k]").expr, ranges, 8)).toBe(136);
    // The inner sum does not use i: it is counted 16 times, not 8·16.
    expect(exprFlops(parseExprText("A[i] * sum(k:16) F[0, k]").expr, ranges, 8)).toBe(24);
  });

  it("counts the loop nest of a def's output indices", () => {
    expect(defFlops(def("input A: f32[3, 5]\noutput y: f32[3, 5] = [i:3, j:5] exp(A[i, j]) + 1\n"))).toBe(30);
  });
});

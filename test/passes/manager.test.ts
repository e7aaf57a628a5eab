import { describe, expect, it } from "vitest";
import { InternalCompilerError } from "../../src/diagnostics/diagnostic.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printProgram } from "../../src/ir/print.js";
import {
  canonicalize, defaultPipeline, eliminateCommonSubexpressions, eliminateDeadCode, foldConstants, fuseElementwise, inlineCalls, inlineProducts,
  PASSES, passesByName, runPasses, type PassLogEntry,
} from "../../src/passes/index.js";
import type { Pass } from "../../src/passes/pass.js";
import type { Program } from "../../src/ir/types.js";
import { expectGolden } from "../golden.js";
import { expectSameValues } from "./support.js";

const WITH_CALL = `
fn scale(X: f32[3]) -> Y {
  Y: f32[3] = [i:3] X[i] * 2
}
input A: f32[3]
output B: f32[3] = call scale(A)
`;

const ATTENTION = `
sizes d=4, n=3
input Q: f32[3, 4]
input K: f32[3, 4]
input V: f32[3, 4]
fn softmax(X: f32[3, 3]) -> Y {
  M: f32[3] = [i:3] max(j:3) X[i, j]
  E: f32[3, 3] = [i:3, j:3] exp(X[i, j] - M[i])
  Y: f32[3, 3] = [i:3, j:3] E[i, j] / sum(k:3) E[i, k]
}
S: f32[3, 3] = [i:3, j:3] sum(k:4) Q[i, k] * K[j, k] / sqrt(4)
S2: f32[3, 3] = [a:3, b:3] sum(c:4) K[b, c] * Q[a, c] * 0.5
P: f32[3, 3] = call softmax(S)
P2: f32[3, 3] = call softmax(S2)
unused: f32[3] = [i:3] exp(Q[i, 0])
output O: f32[3, 4] = [i:3, e:4] sum(j:3) (P[i, j] + P2[i, j]) * V[j, e] * 1
`;

describe("runPasses", () => {
  it("runs the default pipeline, logging each pass, and keeps the values", () => {
    const before = parseProgramText(ATTENTION);
    const seen: PassLogEntry[] = [];
    const { program: after, log, properties } = runPasses(before, defaultPipeline(), { verify: true, keepIr: true, log: (e) => seen.push(e) });
    expect(log.map((e) => e.pass)).toEqual(["inline-calls", "differentiate", "inline-factors", "canonicalize", "fold-constants", "hoist-recurrence-invariants", "eliminate-common-subexpressions", "inline-products", "materialize-product-operands", "order-contractions", "eliminate-dead-code", "fuse-online-softmax", "fuse-elementwise", "hoist-last-readers", "split-index-sets"]);
    expect(seen).toEqual(log);
    expect(log.every((e) => e.ms >= 0 && typeof e.ir === "string")).toBe(true);
    // There is no gradient to expand. Attention has no product of three or more tensors: contraction ordering leaves it alone; the
    // normalizer stays inside O's sum (P is read there), so there is nothing to fuse either; O sums two softmaxes, not the one
    // softmax-weighted sum the online softmax computes.
    expect(log.filter((e) => !e.changed).map((e) => e.pass)).toEqual(["differentiate", "inline-factors", "hoist-recurrence-invariants", "materialize-product-operands", "order-contractions", "fuse-online-softmax", "fuse-elementwise", "hoist-last-readers", "split-index-sets"]);
    expect(log.at(-1)!.ir).toBe(printProgram(after));
    // inline-products moves the constant 0.5 out of S's sum, which invalidates `cse`.
    expect([...properties].sort()).toEqual(["no-calls", "no-dead-code"]);
    // The two softmax calls compute the same thing once S2 is seen to equal S.
    expect(after.tensors.map((t) => t.name)).toEqual(["Q", "K", "V", "S", "P_M", "P_E", "P", "O"]);
    expectGolden("pipeline/attention", log.map((e) => `# after ${e.pass}\n${e.ir}`).join("\n"));
    expectSameValues(before, after);
  });

  it("keeps the rules a deriving pass applied, in order, in its log entry", () => {
    const p = parseProgramText(`
input S: f32[8, 8]
input V: f32[8, 4]
E: f32[8, 8] = [i:8, j:8] exp(S[i, j])
output O: f32[8, 4] = [i:8, e:4] sum(j:8) E[i, j] * V[j, e] / sum(l:8) E[i, l] / sqrt(64)
`);
    const { log } = runPasses(p, [inlineProducts, fuseElementwise], { verify: true });
    const rules = log.flatMap((e) => (e.derivations ?? []).map((d) => `${e.pass}: ${d.tensor}: ${d.rule}${d.detail ? ` (${d.detail})` : ""}`));
    // One reciprocal and one factoring per divisor (the row sum, then √64), then the extraction.
    expect(rules).toEqual([
      "inline-products: O: div-to-mul-reciprocal",
      "inline-products: O: sum-factor-out",
      "inline-products: O: div-to-mul-reciprocal",
      "inline-products: O: sum-factor-out",
      "fuse-elementwise: O: extract-invariant-reduction (extracted O_r)",
    ]);
  });

  it("reports an unchanged pass and omits the IR unless asked", () => {
    const p = parseProgramText("input A: f32[2]\noutput B: f32[2] = [i:2] exp(A[i])\n");
    const { log } = runPasses(p, [foldConstants], { verify: true });
    expect(log).toHaveLength(1);
    expect(log[0]!.changed).toBe(false);
    expect(log[0]!.ir).toBeUndefined();
  });

  it("throws on a pass whose requirements are not established", () => {
    const p = parseProgramText(WITH_CALL);
    expect(() => runPasses(p, [canonicalize], { verify: true })).toThrow(InternalCompilerError);
    expect(() => runPasses(p, [canonicalize], { verify: true })).toThrow(/'canonicalize' requires 'no-calls'/);
    expect(() => runPasses(p, [inlineCalls, canonicalize], { verify: true })).not.toThrow();
  });

  it("takes no-calls as established for a program without calls, and honours assume", () => {
    const p = parseProgramText("input A: f32[2]\noutput B: f32[2] = [i:2] A[i] * 1\n");
    expect(() => runPasses(p, [canonicalize])).not.toThrow();
    const needsCanonical: Pass = { name: "need-canonical", description: "", requires: ["canonical"], guarantees: [], run: (x) => x };
    expect(() => runPasses(p, [needsCanonical])).toThrow(/requires 'canonical'/);
    expect(() => runPasses(p, [needsCanonical], { assume: ["canonical"] })).not.toThrow();
    expect(() => runPasses(p, [canonicalize, needsCanonical])).not.toThrow();
  });

  it("drops properties a changing pass does not preserve", () => {
    const p = parseProgramText("input A: f32[2]\nT: f32[2] = [i:2] exp(A[i])\nU: f32[2] = [j:2] exp(A[j])\noutput Y: f32[2] = [i:2] U[i] * pow(2, 2) + T[i]\n");
    const folded = runPasses(p, [canonicalize, foldConstants]).properties;
    expect([...folded].sort()).toEqual(["canonical", "folded", "no-calls"]);
    // CSE renames accesses, which may reorder operands or expose folds: canonical and folded are lost.
    const { properties } = runPasses(p, [canonicalize, foldConstants, eliminateCommonSubexpressions, eliminateDeadCode]);
    expect([...properties].sort()).toEqual(["cse", "no-calls", "no-dead-code"]);
  });

  it("fails with the pass name when a pass breaks an invariant", () => {
    const broken: Pass = {
      name: "break-things",
      description: "reads a tensor that does not exist",
      requires: [],
      guarantees: [],
      run: (x: Program): Program => ({ ...x, tensors: x.tensors.map((t) => (t.role === "def" ? { ...t, body: { kind: "access", tensor: "nowhere", index: [] } } : t)) }),
    };
    const p = parseProgramText("input A: f32[2]\noutput B: f32[2] = [i:2] A[i]\n");
    expect(() => runPasses(p, [broken], { verify: true })).toThrow(/after pass 'break-things'/);
    expect(() => runPasses(p, [broken])).not.toThrow();
  });

  it("does not mutate its input", () => {
    const p = parseProgramText(ATTENTION);
    const text = printProgram(p);
    const copy = structuredClone(p);
    runPasses(p, defaultPipeline(), { verify: true });
    expect(printProgram(p)).toBe(text);
    expect(p).toEqual(copy);
  });

  it("has a registry of the passes by name", () => {
    expect(Object.keys(PASSES)).toEqual(defaultPipeline().map((x) => x.name));
    expect(passesByName(["eliminate-dead-code"])).toEqual([eliminateDeadCode]);
    expect(() => passesByName(["no-such-pass"])).toThrow(/unknown pass 'no-such-pass'/);
  });
});

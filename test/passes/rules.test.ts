/**
 * The rule registry against the reference interpreter: every rule is
 * applied at every site it matches, in random programs and in a few
 * targeted ones per rule, and each result must verify and compute the same
 * outputs. A rule must fire at least MIN_FIRES times over the corpus, so a
 * new rule is checked as soon as it is registered (and fails here until
 * something exercises it).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { arbProgram } from "../../src/ir/random-program.js";
import type { DefNode, Program } from "../../src/ir/types.js";
import { verifyProgramErrors } from "../../src/ir/verify.js";
import { inlineCalls } from "../../src/passes/inline-calls.js";
import { applyAtRoot } from "../../src/passes/rewrite/apply.js";
import type { Expr } from "../../src/ir/types.js";
import { ALL_RULES } from "../../src/passes/rewrite/registry.js";
import { failedCondition, type ExprContext, type Rule } from "../../src/passes/rewrite/rule.js";
import { firstDifference, inputsFor } from "./support.js";

const MIN_FIRES = 5;

/** Programs that make each rule fire (the random ones rarely build Kronecker products). */
const TARGETED = [
  `input A: f32[3, 4]
input B: f32[4]
input S: f32[3]
X: f32[3] = [i:3] sum(k:4) A[i, k] * B[k] / S[i]
Y: f32[3] = [i:3] sum(j:3, k:4) A[i, k] * B[k] * S[j] * 0.5
Z: f32[3] = [i:3] A[i, 1] * (B[2] + S[i]) - (S[i] - B[1]) * A[i, 2]
output O: f32[3] = [i:3] X[i] * Y[i] + X[i] * Z[i] + sum(j:3) sum(k:4) A[j, k] * S[i] / S[j]`,
  `input A: f64[2, 3]
input B: f64[3, 2]
output O: f64[2, 2] = [i:2, l:2] sum(j:3, k:3) A[i, j] * B[k, l] * 2 + A[i, 0] * B[1, l] - A[i, 1] * B[1, l]`,
  `input A: f32[2, 3]
input B: f32[4, 5]
input x: f32[15]
W: f32[8, 15] = [(a:2, b:4), (c:3, d:5)] A[a, c] * B[b, d]
output y: f32[8] = [i:8] sum(j:15) W[i, j] * x[j]`,
  `input A: f32[2, 3]
input B: f32[4, 5]
input x: f32[15]
output W: f32[8, 15] = [(a:2, b:4), (c:3, d:5)] A[a, c] * B[b, d]
output y: f32[8] = [(a:2, b:4)] sum(c:3, d:5) W[4*a + b, 5*c + d] * x[5*c + d]
output z: f32[8] = [(a:2, b:4)] sum(c:3, d:5) A[a, c] * B[b, d] * x[5*c + d] * x[5*c + d]`,
  `input A: f32[2, 3]
input B: f32[2, 2]
input C: f32[3, 2]
input x: f32[24]
W1: f32[4, 6] = [(a:2, b:2), (c:3, d:2)] A[a, c] * B[b, d]
W2: f32[12, 12] = [(i:4, e:3), (j:6, f:2)] W1[i, j] * C[e, f]
output y: f32[12] = [i:12] sum(j:12) W2[i, j] * x[2*j]`,
  `input A: f32[3, 4]
input B: f32[4]
input S: f32[3]
input x: f32[12]
P: f32[3] = [i:3] sum(j:3, k:4) S[j] * B[k] * A[i, k]
Q: f32[3, 3] = [i:3, l:3] sum(j:3, k:4, m:3) S[j] * A[l, k] * S[m] * A[i, k]
R: f32[3] = [i:3] sum(j:3, k:4) A[j, k] * S[i] * B[k] * S[j] + sum(m:4) B[m] * S[i]
T: f32[3] = [i:3] S[i] * B[0] - S[i] * B[1] + A[i, 2] * S[i] * B[3] + A[i, 2] * S[i]
U: f32[3, 4] = [j:3, k:4] sum(c:3, d:4) x[4*c + d] * B[d] * A[c, k]
output O: f32[3] = [i:3] P[i] * Q[i, 0] - P[i] * R[i] + T[i] * U[i, 1]
output U2: f32[3] = [j:3] sum(a:3, b:4) A[a, b] * x[4*a + b] * S[j]
output V1: f32[3] = [i:3] sum(j:3, k:4) S[j] * B[k]
output V2: f32[3] = [i:3] sum(j:3, k:4, m:4) S[j] * B[k] * B[m] * A[i, m]
output V3: f32[4] = [l:4] sum(j:3, k:3) A[j, l] * S[k]
output F1: f32[3] = [i:3] A[i, 0] * S[i] + A[i, 0] * B[1]
output F2: f32[3] = [i:3] B[2] * S[i] - B[2] * A[i, 1]`,
  `input A: f32[3, 4]
input B: f32[4, 5]
input s: f32[3]
T: f32[3, 4] = [i:3, k:4] exp(A[i, k] - s[i])
U: f32[3, 5] = [i:3, j:5] 1 / (sum(l:4) T[i, l]) * sum(k:4) T[i, k] * B[k, j]
U2: f32[3, 5] = [i:3, j:5] relu(sum(k:4) A[i, k] * B[k, j] + s[i] * sum(l:5) B[0, l])
U3: f32[3, 5] = [i:3, j:5] sum(k:4) A[i, k] * B[k, j] * 0.5 - max(l:4) A[i, l]
U4: f32[3, 5] = [i:3, j:5] (sum(k:4) A[i, k] * B[k, j]) / sum(a:3, b:4) A[a, b]
U5: f32[3, 5] = [i:3, j:5] where(j < 2, sum(k:4) B[k, j] * A[i, k], sum(l:5) B[1, l] * s[i])
output O: f32[3, 5] = [i:3, j:5] U[i, j] + U2[i, j] + U3[i, j] + U4[i, j] + U5[i, j]`,
  `input A: f32[3, 4]
input s: f32[3]
P1: f32[3, 4] = [i:3, j:4] A[i, j] * 2
output Y1: f32[4, 3] = [j:4, i:3] exp(P1[i, j])
P2: f32[3] = [i:3] sum(k:4) A[i, k]
output Y2: f32[3] = [i:3] P2[i]
P4: f32[3] = [a:3] sum(k:4) A[a, k] * s[a]
output Y4: f32[3] = [k:3] P4[k]
P5: f32[3, 4] = [i:3, j:4] A[i, j] * s[i]
output Y5: f32[3, 4] = [i:3, j:4] P5[i, j] + sum(l:4) A[i, l]
P6: f32[3] = [i:3] exp(s[i])
output Y6: f32[3, 4] = [i:3, j:4] P6[i] * A[i, j]
P7: f32[3, 4] = [i:3, j:4] A[i, j] - 1
output Y7: f32[3, 4] = [i:3, j:4] P7[i, j] * P7[i, j]
output P8: f32[3] = [i:3] s[i] + 1
output Y8: f32[3] = [i:3] P8[i] * 2
P9: f32[3] = [i:3] max(k:4) A[i, k]
output Y9: f32[3] = [i:3] P9[i] + 1`,
  // Softmax-normalised sums (online-softmax): plain, masked, divided, another scaling, a value expression, and a rowless one.
  `input Q: f32[5, 4]
input K: f32[6, 4]
input V: f32[6, 3]
S: f32[5, 6] = [i:5, j:6] 0.5 * sum(k:4) K[j, k] * Q[i, k]
M: f32[5] = [i:5] max(j:6) S[i, j]
E: f32[5, 6] = [i:5, j:6] exp(S[i, j] - M[i])
output O1: f32[5, 3] = [i:5, e:3] 1 / (sum(l:6) E[i, l]) * sum(j:6) E[i, j] * V[j, e]
Sm: f32[5, 6] = [a:5, b:6] where(b <= a, sum(c:4) K[b, c] * Q[a, c] * 3, -inf)
Mm: f32[5] = [a:5] max(b:6) Sm[a, b]
Em: f32[5, 6] = [a:5, b:6] exp(Sm[a, b] - Mm[a])
output O2: f32[5, 3] = [a:5, f:3] sum(b:6) Em[a, b] * V[b, f] / sum(g:6) Em[a, g]
output O3: f32[3, 5] = [e:3, i:5] sum(j:6) E[i, j] * tanh(V[j, e]) * 2 / sum(l:6) E[i, l]
T: f32[6] = [j:6] K[j, 0] - K[j, 1]
Tm: f32[] = [] max(j:6) T[j]
Te: f32[6] = [j:6] exp(T[j] - Tm[])
output O4: f32[3] = [e:3] sum(j:6) Te[j] * V[j, e] / sum(l:6) Te[l]
output O5: f32[5, 3] = [i:5, e:3] sum(j:6) E[i, j] * V[j, e] * Q[i, 0] / sum(l:6) E[i, l]`,
].map((text) => parseProgramText(text));

/** Every program one application of `rule` makes from `p`, each with the def it changed. */
function applications(rule: Rule, p: Program): Program[] {
  if (rule.kind === "program") {
    return rule.sites(p).filter((s) => failedCondition(rule, s, p) === null).map((s) => rule.rewrite(s, p));
  }
  const out: Program[] = [];
  p.tensors.forEach((t, k) => {
    if (t.role !== "def") return;
    for (const body of rewritesAt(rule, t)) {
      const tensors = [...p.tensors];
      tensors[k] = { ...t, body };
      out.push({ ...p, tensors });
    }
  });
  return out;
}

/** Bodies from applying an expression rule at each node of a def where it applies. */
function rewritesAt(rule: Rule & { kind: "expr" }, def: DefNode): Expr[] {
  const out: Expr[] = [];
  const walk = (e: Expr, enclosing: readonly (readonly string[])[], rebuild: (x: Expr) => Expr): void => {
    const ctx: ExprContext = { ranges: def.ranges, dtype: def.dtype, enclosing };
    const r = applyAtRoot(rule, e, ctx);
    if (r !== null) out.push(rebuild(r));
    switch (e.kind) {
      case "unary":
        walk(e.arg, enclosing, (x) => rebuild({ ...e, arg: x }));
        break;
      case "binary":
        walk(e.lhs, enclosing, (x) => rebuild({ ...e, lhs: x }));
        walk(e.rhs, enclosing, (x) => rebuild({ ...e, rhs: x }));
        break;
      case "select":
        walk(e.cond, enclosing, (x) => rebuild({ ...e, cond: x }));
        walk(e.then, enclosing, (x) => rebuild({ ...e, then: x }));
        walk(e.else, enclosing, (x) => rebuild({ ...e, else: x }));
        break;
      case "reduce":
        walk(e.body, [...enclosing, e.vars], (x) => rebuild({ ...e, body: x }));
        break;
      default:
        break;
    }
  };
  walk(def.body, [], (x) => x);
  return out;
}

/** Checks every application of `rule` to `p`; returns how many there were. */
function checkRule(rule: Rule, p: Program): number {
  const after = applications(rule, p);
  for (const q of after) {
    expect(verifyProgramErrors(q), `${rule.name} broke an invariant`).toEqual([]);
    for (const seed of [1, 2]) expect(firstDifference(p, q, inputsFor(p, seed)), `${rule.name} changed a value`).toBeUndefined();
  }
  return after.length;
}

const RANDOM = fc.sample(arbProgram(), { numRuns: 120, seed: 20261126 }).map((p) => inlineCalls.run(p));

describe("the rule registry", () => {
  it.each(ALL_RULES.map((r) => [r.name, r] as const))("%s keeps every program's values", (_name, rule) => {
    let fires = 0;
    for (const p of [...TARGETED, ...RANDOM]) fires += checkRule(rule, p);
    expect(fires, `${rule.name} fired ${fires} times`).toBeGreaterThanOrEqual(MIN_FIRES);
  });

  it("names every rule in kebab-case and states it", () => {
    for (const r of ALL_RULES) {
      expect(r.name).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
      expect(r.statement.length).toBeGreaterThan(5);
    }
  });
});

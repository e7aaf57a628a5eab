/**
 * fuse-online-softmax: applies the `online-softmax` rule
 * (rewrite/rules/online-softmax.ts) wherever the cost model says it pays:
 * the program's planned peak memory or its bytes moved must drop, and its
 * FLOPs may grow by at most a tenth (the one-pass kernel rescales its
 * running sums, a few operations per score). Each site is judged on the
 * program as the earlier applications left it, in program order.
 *
 * Before (attention after inline-products):
 *
 *     S[i, j] = 0.125 * sum(k) K[j, k] * Q[i, k]
 *     M[i] = max(j) S[i, j]
 *     E[i, j] = exp(S[i, j] - M[i])
 *     output O[i, e] = 1 / (sum(j_1) E[i, j_1]) * sum(j) E[i, j] * V[j, e]
 *
 * After (S, M and E no longer stored; the kernel lowering runs O in one
 * pass over j with a running maximum and sum):
 *
 *     output O[i, e] = 1 / (sum(j_1) exp(0.125 * sum(k) K[j_1, k] * Q[i, k] - max(j_2) 0.125 * sum(k_1) ...))
 *                      * sum(j) exp(0.125 * sum(k_2) K[j, k_2] * Q[i, k_2] - max(j_3) ...) * V[j, e]
 */
import type { Program } from "../ir/types.js";
import { programCost } from "./cost.js";
import type { Derivation, DerivingPass } from "./manager.js";
import { PROPERTIES } from "./pass.js";
import { failedCondition } from "./rewrite/rule.js";
import { onlineSoftmax } from "./rewrite/rules/online-softmax.js";

/** How much the FLOP count may grow for a fusion that saves memory. */
export const ONLINE_SOFTMAX_FLOP_GROWTH = 1.1;

const costs = new WeakMap<Program, ReturnType<typeof programCost>>();

/** The cost of a program, computed once per program (a program without sites is never costed). */
function costOf(p: Program): ReturnType<typeof programCost> {
  let known = costs.get(p);
  if (!known) {
    known = programCost(p);
    costs.set(p, known);
  }
  return known;
}

/** Whether the cost model prefers `after` to `before` (see the module comment). */
function pays(before: Program, after: Program): boolean {
  const [was, is] = [costOf(before), costOf(after)];
  const saves = is.peakMemory.bytes < was.peakMemory.bytes || is.bytesMoved < was.bytesMoved;
  return saves && is.flops <= was.flops * ONLINE_SOFTMAX_FLOP_GROWTH;
}

/**
 * Runs the pass and lists each application.
 *
 * @example
 * ```ts
 * fuseOnlineSoftmaxIn(attention).derivations; // [{ rule: "online-softmax", tensor: "O", detail: "inlined S, M, E" }]
 * ```
 */
export function fuseOnlineSoftmaxIn(program: Program): { program: Program; derivations: Derivation[] } {
  const derivations: Derivation[] = [];
  let current = program;
  for (let k = 0; k < current.tensors.length; k++) {
    for (const site of onlineSoftmax.sites(current, k)) {
      if (failedCondition(onlineSoftmax, site, current) !== null) continue;
      const next = onlineSoftmax.rewrite(site, current);
      if (!pays(current, next)) continue;
      const gone = current.tensors.filter((t) => !next.tensors.some((u) => u.name === t.name)).map((t) => t.name);
      derivations.push({ rule: onlineSoftmax.name, tensor: site.def, detail: gone.length > 0 ? `inlined ${gone.join(", ")}` : "inlined" });
      current = next;
      k = current.tensors.findIndex((t) => t.name === site.def);
    }
  }
  return { program: current, derivations };
}

/**
 * The fuse-online-softmax pass.
 *
 * @example
 * ```ts
 * runPasses(program, [inlineCalls, fuseOnlineSoftmax], { verify: true }).program;
 * ```
 */
export const fuseOnlineSoftmax: DerivingPass = {
  name: "fuse-online-softmax",
  description: "compute a softmax-normalised sum in one pass with a running maximum and sum, never storing its scores",
  requires: [PROPERTIES.noCalls],
  guarantees: [],
  preserves: [PROPERTIES.noCalls],
  run: (program) => fuseOnlineSoftmaxIn(program).program,
  runWithDerivations: (program) => fuseOnlineSoftmaxIn(program),
};

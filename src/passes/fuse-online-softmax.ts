/**
 * fuse-online-softmax: applies the `online-softmax` rule
 * (rewrite/rules/online-softmax.ts) wherever the cost model says it pays:
 * the program's planned peak memory must drop by at least
 * {@link ONLINE_SOFTMAX_MIN_SAVING_BYTES} (the stored scores are what the
 * fusion removes; below that the two tiled products and the row passes run
 * faster than the one-pass kernel, so the scores are worth their memory),
 * and its FLOPs may grow by at most a tenth (the one-pass kernel rescales
 * its running sums, a few operations per score). Each site is judged on the
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

/**
 * The least drop in planned peak memory for which the pipeline fuses an
 * attention (16 MiB: one head's scores and exponentials at n = 2048 in
 * float32). At smaller sizes the unfused products are faster and their
 * scores fit in memory easily.
 */
export const ONLINE_SOFTMAX_MIN_SAVING_BYTES = 16 * 1024 * 1024;

/**
 * The least drop in planned peak memory for which the JavaScript backend's
 * pipeline fuses an attention (256 MiB: one head's scores at n = 8192 in
 * float32). Its one-pass kernel is a plain loop nest, while the unfused
 * attention runs on its register-tiled products: on attention.tns with
 * d = 64, fused against unfused, 1005 against 305 ms at n = 2048 (peaks
 * 2 and 18 MiB) and 4117 against 1199 ms at n = 4096 (4 and 68 MiB). Below
 * this the scores are worth their memory there.
 */
export const JS_ONLINE_SOFTMAX_MIN_SAVING_BYTES = 256 * 1024 * 1024;

/** Options of {@link fuseOnlineSoftmaxIn}. */
export interface FuseOnlineSoftmaxOptions {
  /**
   * The least drop in planned peak memory that makes a site worth fusing
   * (default {@link ONLINE_SOFTMAX_MIN_SAVING_BYTES}); with 0, any drop in
   * peak memory or in bytes moved is enough.
   */
  readonly minSavingBytes?: number;
}

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
function pays(before: Program, after: Program, minSavingBytes: number): boolean {
  const [was, is] = [costOf(before), costOf(after)];
  const saved = was.peakMemory.bytes - is.peakMemory.bytes;
  const saves = minSavingBytes > 0 ? saved >= minSavingBytes : saved > 0 || is.bytesMoved < was.bytesMoved;
  return saves && is.flops <= was.flops * ONLINE_SOFTMAX_FLOP_GROWTH;
}

/**
 * Runs the pass and lists each application.
 *
 * @example
 * ```ts
 * fuseOnlineSoftmaxIn(attention, { minSavingBytes: 0 }).derivations; // [{ rule: "online-softmax", tensor: "O", detail: "inlined S, M, E" }]
 * ```
 */
export function fuseOnlineSoftmaxIn(program: Program, options: FuseOnlineSoftmaxOptions = {}): { program: Program; derivations: Derivation[] } {
  const minSavingBytes = options.minSavingBytes ?? ONLINE_SOFTMAX_MIN_SAVING_BYTES;
  const derivations: Derivation[] = [];
  let current = program;
  for (let k = 0; k < current.tensors.length; k++) {
    for (const site of onlineSoftmax.sites(current, k)) {
      if (failedCondition(onlineSoftmax, site, current) !== null) continue;
      const next = onlineSoftmax.rewrite(site, current);
      if (!pays(current, next, minSavingBytes)) continue;
      const gone = current.tensors.filter((t) => !next.tensors.some((u) => u.name === t.name)).map((t) => t.name);
      derivations.push({ rule: onlineSoftmax.name, tensor: site.def, detail: gone.length > 0 ? `inlined ${gone.join(", ")}` : "inlined" });
      current = next;
      k = current.tensors.findIndex((t) => t.name === site.def);
    }
  }
  return { program: current, derivations };
}

/**
 * The fuse-online-softmax pass with other options (the pipeline's uses the
 * defaults; `{ minSavingBytes: 0 }` fuses wherever any memory is saved).
 *
 * @example
 * ```ts
 * applyPass(fuseOnlineSoftmaxWith({ minSavingBytes: 0 }), attentionAtN16);
 * ```
 */
export function fuseOnlineSoftmaxWith(options: FuseOnlineSoftmaxOptions): DerivingPass {
  return {
    ...fuseOnlineSoftmax,
    run: (program) => fuseOnlineSoftmaxIn(program, options).program,
    runWithDerivations: (program) => fuseOnlineSoftmaxIn(program, options),
  };
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

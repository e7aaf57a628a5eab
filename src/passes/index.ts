/**
 * The registry of the basic passes and the default pipeline.
 *
 * @example
 * ```ts
 * import { defaultPipeline, runPasses } from "./passes/index.js";
 * const { program: optimized } = runPasses(program, defaultPipeline(), { verify: true });
 * ```
 */
import { canonicalize } from "./canonicalize.js";
import { eliminateCommonSubexpressions } from "./eliminate-common-subexpressions.js";
import { eliminateDeadCode } from "./eliminate-dead-code.js";
import { foldConstants } from "./fold-constants.js";
import { fuseElementwise } from "./fuse-elementwise.js";
import { fuseOnlineSoftmax, fuseOnlineSoftmaxWith, JS_ONLINE_SOFTMAX_MIN_SAVING_BYTES } from "./fuse-online-softmax.js";
import { differentiate } from "./differentiate.js";
import { hoistLastReaders } from "./hoist-last-readers.js";
import { materializeProductOperands } from "./materialize-product-operands.js";
import { hoistRecurrenceInvariants } from "./hoist-recurrence-invariants.js";
import { inlineCalls } from "./inline-calls.js";
import { inlineFactors } from "./inline-factors.js";
import { inlineProducts } from "./inline-products.js";
import { orderContractions, orderContractionsWithin, type OrderContractionsOptions } from "./order-contractions.js";
import type { Pass } from "./pass.js";
import { splitIndexSets } from "./split-index-sets.js";

export { runPasses, programsEqual, type PassLogEntry, type RunPassesOptions, type RunPassesResult } from "./manager.js";
export { PROPERTIES, type Pass } from "./pass.js";
export {
  canonicalize, differentiate, eliminateCommonSubexpressions, eliminateDeadCode, foldConstants, fuseElementwise, fuseOnlineSoftmax, hoistLastReaders, hoistRecurrenceInvariants,
  inlineCalls, inlineFactors, inlineProducts, materializeProductOperands, orderContractions, splitIndexSets,
};

/**
 * Every basic pass by name.
 *
 * @example
 * ```ts
 * PASSES["fold-constants"] === foldConstants; // true
 * ```
 */
export const PASSES: Readonly<Record<string, Pass>> = Object.fromEntries(
  defaultPipeline().map((p) => [p.name, p]),
);

/**
 * The default pipeline, in order: inline-calls, differentiate, inline-factors (factored
 * tensors into the sums that read them), canonicalize, fold-constants,
 * hoist-recurrence-invariants, eliminate-common-subexpressions, inline-products,
 * materialize-product-operands (a factor of a sum holding a reduction of its own becomes a def, when the
 * sum is then a matrix product), order-contractions,
 * eliminate-dead-code, fuse-online-softmax, fuse-elementwise, hoist-last-readers, split-index-sets. Contraction ordering runs after CSE so that shared
 * subexpressions are merged before n-ary products are split into pairwise
 * steps, and right after inline-products, whose rewrites (Kronecker
 * products inlined into sums, flattened reads viewed as matrices) exist to
 * give it plain sums of products to split. Fusion runs last, on the
 * pairwise contractions that ordering leaves, after inline-products has
 * moved invariant factors out of their sums and after dead defs are gone
 * (a dead reader would keep a producer from being fused). The online
 * softmax comes just before it: it needs attention's normalizer still
 * inside the def (fuse-elementwise would extract it) and its scores'
 * readers known (dead code gone). hoist-last-readers orders the defs fusion
 * leaves (fusion puts a fused product at its reader's place). For the `wgsl` backend (`backend:
 * "wgsl"`) the pipeline leaves the online softmax out (see the code); for
 * the `js` backend it fuses only where the scores would take 256 MiB or
 * more (`JS_ONLINE_SOFTMAX_MIN_SAVING_BYTES`).
 * Hoisting a recurrence's step-invariant reductions comes before all of
 * these, so the defs it makes (an RNN's input projection) are optimized
 * like any other. Index-set splitting comes last: it annotates the defs
 * the backends will run (padding reads cut into interior and border).
 * `maxIntermediateBytes` and `memoryBudget` go to
 * order-contractions: a limit on the tensors a contraction forms, met by
 * slicing.
 *
 * @example
 * ```ts
 * defaultPipeline().map((p) => p.name); // ["inline-calls", "canonicalize", ...]
 * defaultPipeline({ backend: "wgsl" }).includes(fuseOnlineSoftmax); // false
 * ```
 */
export function defaultPipeline(options: { backend?: string } & OrderContractionsOptions = {}): Pass[] {
  const sliced = options.maxIntermediateBytes !== undefined || options.memoryBudget !== undefined;
  const order = sliced
    ? orderContractionsWithin({
      ...(options.maxIntermediateBytes === undefined ? {} : { maxIntermediateBytes: options.maxIntermediateBytes }),
      ...(options.memoryBudget === undefined ? {} : { memoryBudget: options.memoryBudget }),
    })
    : orderContractions;
  const all = [
    inlineCalls, differentiate, inlineFactors, canonicalize, foldConstants, hoistRecurrenceInvariants, eliminateCommonSubexpressions, inlineProducts,
    materializeProductOperands, order,
    eliminateDeadCode, fuseOnlineSoftmax, fuseElementwise, hoistLastReaders, splitIndexSets,
  ];
  // The wgsl backend gives every nested reduction a def of its own (materialize-reductions), which would store
  // the fused def's scores once per copy: its shaders run attention unfused, its two products tiled. It runs
  // one thread per output element, padded or not, so it has no use for index-set splitting either.
  if (options.backend === "wgsl") return all.filter((p) => p !== fuseOnlineSoftmax && p !== splitIndexSets);
  // The js backend's one-pass kernel is a loop nest, about 3x slower than its tiled products: fused only for far larger scores.
  if (options.backend === "js") return all.map((p) => (p === fuseOnlineSoftmax ? fuseOnlineSoftmaxWith({ minSavingBytes: JS_ONLINE_SOFTMAX_MIN_SAVING_BYTES }) : p));
  return all;
}

/**
 * The passes every compilation runs, optimizing or not: inline-calls and
 * differentiate (which expands `grad` into ordinary defs).
 *
 * @example
 * ```ts
 * loweringPipeline().map((p) => p.name); // ["inline-calls", "differentiate"]
 * ```
 */
export function loweringPipeline(): Pass[] {
  return [inlineCalls, differentiate];
}

/**
 * The passes named in `names`, in that order; an unknown name is reported
 * with the list of known ones.
 *
 * @example
 * ```ts
 * passesByName(["inline-calls", "eliminate-dead-code"]);
 * ```
 */
export function passesByName(names: readonly string[]): Pass[] {
  return names.map((n) => {
    const pass = PASSES[n];
    if (pass === undefined) throw new RangeError(`unknown pass '${n}' (known: ${Object.keys(PASSES).join(", ")})`);
    return pass;
  });
}

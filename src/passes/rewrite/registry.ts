/**
 * Every rewrite rule by topic, and the subsets the optimizer runs. A rule
 * added here is checked against the reference interpreter by the registry
 * test without further work.
 */
import type { AnyExprRule, AnyProgramRule, Rule } from "./rule.js";
import { distribute, divToMulReciprocal, factor, mulAssoc, mulComm } from "./rules/arithmetic.js";
import { extractInvariantReduction, fuseElementwiseProducer } from "./rules/fusion.js";
import { inlineProductProducer, splitIndex } from "./rules/inline-product.js";
import { onlineSoftmax } from "./rules/online-softmax.js";
import { sumFactorOut, sumMerge, sumSplit, sumUnmerge } from "./rules/sums.js";
import { ungroupAccess } from "./rules/views.js";

/**
 * Every expression rule.
 *
 * @example
 * ```ts
 * EXPR_RULES.map((r) => r.name); // ["sum-factor-out", "sum-split", ...]
 * ```
 */
export const EXPR_RULES: readonly AnyExprRule[] = [
  sumFactorOut, sumSplit, sumMerge, sumUnmerge, distribute, factor, mulComm, mulAssoc, divToMulReciprocal,
];

/**
 * Every program rule.
 *
 * @example
 * ```ts
 * PROGRAM_RULES.map((r) => r.name); // ["split-index", "inline-product-producer", "ungroup-access"]
 * ```
 */
export const PROGRAM_RULES: readonly AnyProgramRule[] = [splitIndex, inlineProductProducer, ungroupAccess];

/**
 * The fusion rules, which the fuse-elementwise pass applies (not searched:
 * neither changes the FLOP count, each removes a stored intermediate or
 * shapes a def for the backends' fused kernels).
 *
 * @example
 * ```ts
 * FUSION_PROGRAM_RULES.map((r) => r.name); // ["extract-invariant-reduction", "fuse-elementwise-producer"]
 * ```
 */
export const FUSION_PROGRAM_RULES: readonly AnyProgramRule[] = [extractInvariantReduction, fuseElementwiseProducer];

/**
 * The rule the fuse-online-softmax pass applies where the cost model says
 * it pays (it keeps the FLOP count, a little more, and drops the stored scores).
 *
 * @example
 * ```ts
 * ATTENTION_PROGRAM_RULES.map((r) => r.name); // ["online-softmax"]
 * ```
 */
export const ATTENTION_PROGRAM_RULES: readonly AnyProgramRule[] = [onlineSoftmax];

/**
 * The expression rules the optimizer searches with: those that can lower
 * the FLOP estimate in a few steps. `distribute`, `sum-unmerge` and the
 * product reorderings are left out: the rules above already match products
 * as flat factor lists, and the inverses only widen the search.
 *
 * @example
 * ```ts
 * OPTIMIZING_EXPR_RULES.includes(sumFactorOut); // true
 * ```
 */
export const OPTIMIZING_EXPR_RULES: readonly AnyExprRule[] = [sumFactorOut, sumSplit, sumMerge, factor, divToMulReciprocal];

/**
 * Every rule, expression rules first.
 *
 * @example
 * ```ts
 * ALL_RULES.length; // 15
 * ```
 */
export const ALL_RULES: readonly Rule[] = [...EXPR_RULES, ...PROGRAM_RULES, ...FUSION_PROGRAM_RULES, ...ATTENTION_PROGRAM_RULES];

/**
 * The rule named `name`; an unknown name is reported with the known ones.
 *
 * @example
 * ```ts
 * ruleNamed("sum-split").statement; // "Σ_{j,k} f(j)·g(k) = ..."
 * ```
 */
export function ruleNamed(name: string): Rule {
  const rule = ALL_RULES.find((r) => r.name === name);
  if (rule === undefined) throw new RangeError(`unknown rule '${name}' (known: ${ALL_RULES.map((r) => r.name).join(", ")})`);
  return rule;
}

const names = ALL_RULES.map((r) => r.name);
if (new Set(names).size !== names.length) throw new Error(`duplicate rule names in ${names.join(", ")}`);

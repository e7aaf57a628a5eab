/**
 * inline-products: runs the rewrite engine (`rewrite/`) over the program.
 * First the program rules: a product producer (a Kronecker or outer
 * product) read inside a sum is inlined into the sum and dropped when
 * nothing else reads it, and flattened reads become views with plain
 * indices, so that `order-contractions` can split the sum. Then the
 * expression rules on every def (moving invariant factors out of sums,
 * splitting separable sums, factoring). Each search is bounded; a result
 * is taken only when the cost, priced after contraction ordering, drops.
 *
 * Before (A: [2, 3], B: [4, 5], x: [15]):
 *
 *     W[(a:2, b:4), (c:3, d:5)] = A[a, c] * B[b, d]
 *     output y[i:8] = sum(j:15) W[i, j] * x[j]
 *
 * After (W is never built; order-contractions then computes B·X·Aᵀ):
 *
 *     x_v[v0_0:3, v0_1:5] = x[5*v0_0 + v0_1]
 *     output y[(i_a:2, i_b:4)] = sum(j_c:3, j_d:5) A[i_a, j_c] * B[i_b, j_d] * x_v[j_c, j_d]
 */
import type { DefNode, Expr, Program } from "../ir/types.js";
import { orderProgramContractions } from "./order-contractions.js";
import type { Derivation, DerivingPass } from "./manager.js";
import { PROPERTIES } from "./pass.js";
import type { SearchLimits } from "./rewrite/engine.js";
import { rewriteDefBody } from "./rewrite/apply.js";
import { programFlops } from "./rewrite/flops.js";
import { rewriteProgram } from "./rewrite/program.js";
import { OPTIMIZING_EXPR_RULES, PROGRAM_RULES } from "./rewrite/registry.js";

/**
 * The inline-products pass.
 *
 * @example
 * ```ts
 * runPasses(program, [inlineProducts, orderContractions], { verify: true }).program;
 * ```
 */
export const inlineProducts: DerivingPass = {
  name: "inline-products",
  description: "inline product producers into the sums that read them and simplify sums by the rewrite rules",
  requires: [],
  guarantees: [],
  // Defs are only rewritten, views added and unread producers dropped: no call appears.
  preserves: [PROPERTIES.noCalls],
  run: (program) => inlineProductsIn(program).program,
  runWithDerivations: (program) => {
    const { program: out, applied } = inlineProductsIn(program);
    return { program: out, derivations: applied.map(derivationOf) };
  },
};

/** `"S: sum-factor-out"` (an expression rule on def S) or `"split-index"` (a program rule) as a {@link Derivation}. */
function derivationOf(applied: string): Derivation {
  const at = applied.indexOf(": ");
  return at < 0 ? { rule: applied, tensor: null } : { rule: applied.slice(at + 2), tensor: applied.slice(0, at) };
}

/** Search bounds of the pass: small, since it runs on every compile. */
const PROGRAM_LIMITS: SearchLimits = { maxIterations: 64, maxNodes: 256, timeLimitMs: 2000 };
const DEF_LIMITS: SearchLimits = { maxIterations: 32, maxNodes: 256, timeLimitMs: 500 };

/** What {@link inlineProductsIn} did. */
export interface InlineProductsReport {
  readonly program: Program;
  /** Program rules along the chosen derivation, then `def: rule` for each def rewritten. */
  readonly applied: readonly string[];
}

/** A def's FLOPs after contraction ordering, so a rewrite that spoils a cheap order is not taken. */
function orderedDefCost(def: DefNode, body: Expr): number {
  return programFlops(orderProgramContractions({ sizes: {}, functions: {}, tensors: [{ ...def, body }] }));
}

/**
 * Runs the pass and says which rules it applied.
 *
 * @example
 * ```ts
 * inlineProductsIn(kronMatvec).applied; // ["split-index", "split-index", "inline-product-producer", "ungroup-access"]
 * ```
 */
export function inlineProductsIn(program: Program): InlineProductsReport {
  const applied: string[] = [];
  const searched = rewriteProgram(program, PROGRAM_RULES, PROGRAM_LIMITS);
  let current = program;
  if (searched.bestCost < searched.startCost) {
    current = searched.best;
    applied.push(...searched.derivation);
  }
  let changed = false;
  const tensors = current.tensors.map((t) => {
    if (t.role !== "def") return t;
    const r = rewriteDefBody(t, OPTIMIZING_EXPR_RULES, DEF_LIMITS, (body) => orderedDefCost(t, body));
    if (!(r.bestCost < r.startCost)) return t;
    changed = true;
    applied.push(...r.derivation.map((rule) => `${t.name}: ${rule}`));
    return { ...t, body: r.best };
  });
  return { program: changed ? { ...current, tensors } : current, applied };
}

/**
 * fuse-elementwise: leaves every def either a contraction with an
 * elementwise epilogue, which the JS backend runs as one register-blocked
 * matrix product that applies the epilogue as it stores each element, or
 * plain elementwise work, and stores no intermediate that is read back only
 * once. It applies two program rules (`rewrite/rules/fusion.ts`) until
 * neither applies, first `extract-invariant-reduction` then
 * `fuse-elementwise-producer`, at the first site each time, so the result is
 * deterministic. Neither rule duplicates work (see the rules), so every
 * application is taken; the FLOP count never grows.
 *
 * Before (attention's last line after inline-products moved the row
 * normalizer out of the j-sum; a copy from an inlined call):
 *
 *     output O[i, e] = 1 / (sum(l) E[i, l]) * sum(j) E[i, j] * V[j, e]
 *     _t1[i, j] = relu(b[j] + sum(k) H[i, k] * W[k, j])
 *     output Y[i, j] = _t1[i, j]
 *
 * After:
 *
 *     O_r[i] = 1 / (sum(l) E[i, l])
 *     output O[i, e] = O_r[i] * sum(j) E[i, j] * V[j, e]
 *     output Y[i, j] = relu(b[j] + sum(k) H[i, k] * W[k, j])
 */
import type { Program } from "../ir/types.js";
import type { Derivation, DerivingPass } from "./manager.js";
import { PROPERTIES } from "./pass.js";
import { failedCondition, type AnyProgramRule } from "./rewrite/rule.js";
import { FUSION_PROGRAM_RULES } from "./rewrite/registry.js";
import type { ExtractSite, ProducerSite } from "./rewrite/rules/fusion.js";

/** The rules of the pass, in the order they are tried. */
const FUSION_RULES: readonly AnyProgramRule[] = FUSION_PROGRAM_RULES;

/** What {@link fuseElementwiseIn} did. */
export interface FusionReport {
  readonly program: Program;
  /** Each rule application: the def it rewrote (the reader of a fused producer) and what moved. */
  readonly steps: readonly (Derivation & { readonly tensor: string; readonly detail: string })[];
}

/**
 * A safety bound on applications. Each producer fusion removes a def, and
 * each extraction leaves its def with a single reduction (and the new def
 * with no contraction to extract from), so the rules stop well before it.
 */
const stepLimit = (p: Program): number => 2 * p.tensors.length + 8;

/** The def a site rewrites and what moves, from the site and the programs before and after. */
function describe(site: ProducerSite | ExtractSite, before: Program, after: Program): { tensor: string; detail: string } {
  if ("producer" in site) return { tensor: site.consumer, detail: `inlined ${site.producer}` };
  const added = after.tensors.filter((t) => !before.tensors.some((u) => u.name === t.name)).map((t) => t.name);
  return { tensor: site.def, detail: `extracted ${added.join(", ")}` };
}

/** What may apply where after a rewrite (see {@link fuseElementwiseIn}). */
interface Pending {
  /** Indices of the defs where an extraction may apply. */
  readonly extract: readonly number[];
  /** No producer fusion applies at a def before this index. */
  readonly fuseFrom: number;
}

/** The first applicable site of the first rule that has one, rewritten, with a description and what may apply next. */
function step(program: Program, pending: Pending): { program: Program; step: FusionReport["steps"][number]; pending: Pending } | null {
  const [extract, fuse] = FUSION_RULES as [AnyProgramRule, AnyProgramRule];
  const tensors = program.tensors.length;
  const tries: [AnyProgramRule, Iterable<number>][] = [[extract, pending.extract], [fuse, indicesFrom(pending.fuseFrom, tensors)]];
  for (const [rule, at] of tries) {
    for (const k of at) {
      for (const site of rule.sites(program, k) as (ProducerSite | ExtractSite)[]) {
        if (failedCondition(rule, site, program) !== null) continue;
        const next = rule.rewrite(site, program);
        return { program: next, step: { rule: rule.name, ...describe(site, program, next) }, pending: changed(site, next, pending, k) };
      }
    }
  }
  return null;
}

function* indicesFrom(from: number, to: number): Generator<number> {
  for (let k = from; k < to; k++) yield k;
}

/**
 * Where rules may apply after the rewrite of `site` at def `k`. Extraction:
 * at the defs the rewrite changed or added (its conditions read nothing but
 * the def), and, after an extraction, at the later defs still pending (an
 * extraction is taken only where none applied before it; a fusion only
 * where no extraction applied at all). Producer fusion: from the first
 * changed def on, or where it stood if that is earlier (its conditions read
 * the reader, the producer and who reads the producer, which changed only
 * for tensors the changed def reads, and the program stays in topological
 * order).
 */
function changed(site: ProducerSite | ExtractSite, next: Program, before: Pending, k: number): Pending {
  if ("producer" in site) {
    const at = next.tensors.findIndex((t) => t.name === site.consumer);
    return { extract: [at], fuseFrom: at };
  }
  // The extracted def is inserted at k, the def it came from moves to k + 1.
  const later = before.extract.filter((j) => j > k).map((j) => j + 1);
  return { extract: [k, k + 1, ...later], fuseFrom: Math.min(before.fuseFrom, k) };
}

/**
 * Runs the pass and lists each rule application.
 *
 * @example
 * ```ts
 * fuseElementwiseIn(attention).steps; // [{ rule: "extract-invariant-reduction", tensor: "O", detail: "extracted O_r" }]
 * ```
 */
export function fuseElementwiseIn(program: Program): FusionReport {
  const steps: FusionReport["steps"][number][] = [];
  let current = program;
  // Each rewrite changes one def (and removes the producer before it, or
  // adds an extracted def just before it), so the next search looks only
  // where a site can have started to apply (`changed`): the same steps as
  // scanning every site again, without the quadratic (and, with the
  // conditions' own walks, cubic) cost of doing so.
  let pending: Pending = { extract: program.tensors.map((_, k) => k), fuseFrom: 0 };
  for (let k = stepLimit(program); k > 0; k--) {
    const r = step(current, pending);
    if (r === null) break;
    current = r.program;
    pending = r.pending;
    steps.push(r.step);
  }
  return { program: current, steps };
}

/**
 * The fuse-elementwise pass.
 *
 * @example
 * ```ts
 * runPasses(program, [inlineCalls, fuseElementwise], { verify: true }).program;
 * ```
 */
export const fuseElementwise: DerivingPass = {
  name: "fuse-elementwise",
  description: "inline single-use elementwise producers into their reader and move invariant reductions out of contraction epilogues",
  requires: [PROPERTIES.noCalls],
  guarantees: [],
  // Producers are dropped only when their one reader absorbed them; extracted
  // defs are read by the def they came from.
  preserves: [PROPERTIES.noCalls, PROPERTIES.noDeadCode],
  run: (program) => fuseElementwiseIn(program).program,
  runWithDerivations: (program) => {
    const { program: out, steps } = fuseElementwiseIn(program);
    return { program: out, derivations: steps };
  },
};

/**
 * The shape of a pass: a named, pure function from IR to IR that states what
 * must hold before it runs and what holds after. The manager
 * (`manager.ts`) checks the ordering contract; the passes themselves stay
 * small and assume their `requires`.
 *
 * Properties are plain strings so a later pass can add its own; the basic
 * ones are listed in {@link PROPERTIES}.
 */
import type { Program } from "../ir/types.js";

/**
 * The properties established by the basic passes.
 *
 * - `no-calls`: no `CallNode` remains and the program has no functions.
 * - `no-grads`: no `GradNode` remains (every gradient is a backward program).
 * - `canonical`: every body is in the normal form of `canonicalize`.
 * - `folded`: no constant subexpression or constant identity is left.
 * - `cse`: no two defs compute the same values.
 * - `no-dead-code`: every weight and def feeds an output.
 *
 * @example
 * ```ts
 * PROPERTIES.noCalls; // "no-calls"
 * ```
 */
export const PROPERTIES = {
  noCalls: "no-calls",
  noGrads: "no-grads",
  canonical: "canonical",
  folded: "folded",
  cse: "cse",
  noDeadCode: "no-dead-code",
} as const;

/**
 * One IR-to-IR transformation.
 *
 * A pass that changes the program invalidates every established property it
 * neither `guarantees` nor lists in `preserves`; a pass that leaves the
 * program unchanged invalidates nothing.
 *
 * @example
 * ```ts
 * const identity: Pass = {
 *   name: "do-nothing",
 *   description: "returns its input",
 *   requires: [],
 *   guarantees: [],
 *   run: (p) => p,
 * };
 * ```
 */
export interface Pass {
  /** Kebab-case verb phrase: `inline-calls`, `fold-constants`, ... */
  readonly name: string;
  readonly description: string;
  /** Properties that must hold before the pass runs (e.g. `no-calls`). */
  readonly requires: readonly string[];
  /** Properties that hold after the pass runs. */
  readonly guarantees: readonly string[];
  /** Properties that stay true across the pass when they held before it. */
  readonly preserves?: readonly string[];
  /** Pure: never mutates its input. */
  run(program: Program): Program;
}

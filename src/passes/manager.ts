/**
 * The pass manager: runs passes in order, checks the ordering contract
 * (`requires` against the properties established so far), optionally
 * verifies the IR after every pass, and logs what each pass did.
 *
 * Property bookkeeping, kept deliberately simple:
 * - before the first pass, `no-calls` holds when the program has no call
 *   node and no function (it is a fact of the input, not an assumption);
 *   `options.assume` adds more;
 * - after a pass that changed the program, the established set becomes
 *   (established ∩ pass.preserves) ∪ pass.guarantees;
 * - after a pass that left the program unchanged, it becomes
 *   established ∪ pass.guarantees.
 *
 * A pass that can explain itself (a {@link NotingPass}) is run through
 * `runWithNotes` and its notes kept in its log entry; with `cost`, each entry
 * also carries the cost of the program after the pass (`cost.ts`), which is
 * what `tns explain` prints.
 */
import { InternalCompilerError } from "../diagnostics/diagnostic.js";
import type { Program } from "../ir/types.js";
import { printProgram } from "../ir/print.js";
import { verifyProgram } from "../ir/verify.js";
import type { PathInfo } from "./contraction-path/path-info.js";
import type { ChunkedSlicing } from "./contraction-path/slicing.js";
import { programCost, type ProgramCost } from "./cost.js";
import { PROPERTIES, type Pass } from "./pass.js";

/**
 * Why a pass rewrote a def the way it did, reported beside its output.
 * `contraction-path`: order-contractions split the def `tensor` into the
 * chain `intermediates` then `tensor`, along the path `info` describes.
 *
 * @example
 * ```ts
 * const note: PassNote = { kind: "contraction-path", tensor: "D", intermediates: ["D_p1"], info };
 * ```
 */
export type PassNote = {
  readonly kind: "contraction-path";
  readonly tensor: string;
  readonly intermediates: readonly string[];
  readonly info: PathInfo;
  /** How the path was sliced under `maxIntermediateBytes` (absent when it was not over the limit). */
  readonly slicing?: ProgramSlicing;
};

/**
 * The slicing of one def's contraction under `maxIntermediateBytes`: the
 * chunked slicing (labels, values per slice, slices, FLOPs of the sliced
 * run with what slicing added, the largest tensor of a slice), the limit
 * and element size it was chosen for, and `refused`: why the def was left
 * unsliced (null when it was sliced). The compiler reports a refusal as
 * TNS0720.
 *
 * @example
 * ```ts
 * const s: ProgramSlicing = { labels: ["b"], chunks: [1], slices: 16, flops: 4.3e6, extraFlops: 1.2e5,
 *   largestIntermediate: 4096, limitBytes: 16384, elementBytes: 4, refused: null };
 * ```
 */
export interface ProgramSlicing extends ChunkedSlicing {
  readonly limitBytes: number;
  readonly elementBytes: number;
  readonly refused: string | null;
}

/**
 * A pass that can also say why it did what it did. `run(p)` must equal
 * `runWithNotes(p).program`; the manager calls `runWithNotes` when present.
 *
 * @example
 * ```ts
 * const noted: NotingPass = { ...identity, runWithNotes: (p) => ({ program: p, notes: [] }) };
 * ```
 */
export interface NotingPass extends Pass {
  runWithNotes(program: Program): { readonly program: Program; readonly notes: readonly PassNote[] };
}

function isNotingPass(pass: Pass): pass is NotingPass {
  return typeof (pass as Partial<NotingPass>).runWithNotes === "function";
}

/**
 * One rewrite rule a pass applied, by name, for `tns explain`: the def it
 * rewrote (null for a program rule whose site is not one def) and, when
 * useful, what moved.
 *
 * @example
 * ```ts
 * const d: Derivation = { rule: "extract-invariant-reduction", tensor: "O", detail: "extracted O_r" };
 * ```
 */
export interface Derivation {
  readonly rule: string;
  readonly tensor: string | null;
  readonly detail?: string;
}

/**
 * A pass that applies named rewrite rules and can list them in order.
 * `run(p)` must equal `runWithDerivations(p).program`; the manager calls
 * `runWithDerivations` when present and keeps the list in the log entry.
 *
 * @example
 * ```ts
 * fuseElementwise.runWithDerivations(program).derivations.map((d) => d.rule);
 * ```
 */
export interface DerivingPass extends Pass {
  runWithDerivations(program: Program): { readonly program: Program; readonly derivations: readonly Derivation[] };
}

function isDerivingPass(pass: Pass): pass is DerivingPass {
  return typeof (pass as Partial<DerivingPass>).runWithDerivations === "function";
}

/** Runs a pass the most informative way it offers. */
function runOne(pass: Pass, program: Program): { program: Program; notes: readonly PassNote[]; derivations: readonly Derivation[] } {
  if (isNotingPass(pass)) return { ...pass.runWithNotes(program), derivations: [] };
  if (isDerivingPass(pass)) return { ...pass.runWithDerivations(program), notes: [] };
  return { program: pass.run(program), notes: [], derivations: [] };
}

/** What one pass did. */
export interface PassLogEntry {
  readonly pass: string;
  /** Whether the output differs structurally from the input. */
  readonly changed: boolean;
  /** Wall-clock time of `pass.run`, in milliseconds. */
  readonly ms: number;
  /** The IR text after the pass, when `keepIr` was set. */
  readonly ir?: string;
  /** The cost of the program after the pass, when `cost` was set. */
  readonly cost?: ProgramCost;
  /** What the pass reported about its rewrites (absent when it reported nothing). */
  readonly notes?: readonly PassNote[];
  /** The rules the pass applied, in order (absent when it applied none or does not list them). */
  readonly derivations?: readonly Derivation[];
}

/** Options of {@link runPasses}. */
export interface RunPassesOptions {
  /** Run `verifyProgram` after every pass (tests always do). */
  readonly verify?: boolean;
  /** Called with each entry as soon as its pass has run. */
  readonly log?: (entry: PassLogEntry) => void;
  /** Keep the printed IR after each pass in the log. */
  readonly keepIr?: boolean;
  /** Keep the cost of the program after each pass in the log (see `cost.ts`). */
  readonly cost?: boolean;
  /** Properties to take as established before the first pass. */
  readonly assume?: readonly string[];
}

/** The result of {@link runPasses}. */
export interface RunPassesResult {
  readonly program: Program;
  readonly log: PassLogEntry[];
  /** The properties established after the last pass. */
  readonly properties: ReadonlySet<string>;
}

/**
 * Runs `passes` in order over `program`.
 *
 * Throws an `InternalCompilerError` when a pass's `requires` is not
 * established (an ordering mistake) or, with `verify`, when a pass leaves a
 * program that breaks an IR invariant.
 *
 * @example
 * ```ts
 * const { program: out, log } = runPasses(program, defaultPipeline(), { verify: true });
 * log.map((e) => `${e.pass}: ${e.changed ? "changed" : "unchanged"}`);
 * ```
 */
export function runPasses(program: Program, passes: readonly Pass[], options: RunPassesOptions = {}): RunPassesResult {
  let established = initialProperties(program, options.assume ?? []);
  const log: PassLogEntry[] = [];
  let current = program;
  for (const pass of passes) {
    const missing = pass.requires.filter((p) => !established.has(p));
    if (missing.length > 0) {
      throw new InternalCompilerError(
        `pass '${pass.name}' requires ${missing.map((m) => `'${m}'`).join(", ")}, ` +
          `established so far: ${[...established].join(", ") || "nothing"}`,
      );
    }
    const start = performance.now();
    const { program: next, notes, derivations } = runOne(pass, current);
    const ms = performance.now() - start;
    const changed = !programsEqual(current, next);
    if (options.verify) verifyAfter(pass, next);
    established = nextProperties(established, pass, changed);
    const entry: PassLogEntry = {
      pass: pass.name, changed, ms,
      ...(options.keepIr ? { ir: printProgram(next) } : {}),
      ...(options.cost ? { cost: programCost(next) } : {}),
      ...(notes.length > 0 ? { notes } : {}),
      ...(derivations.length > 0 ? { derivations } : {}),
    };
    log.push(entry);
    options.log?.(entry);
    current = next;
  }
  return { program: current, log, properties: established };
}

function initialProperties(program: Program, assume: readonly string[]): Set<string> {
  const props = new Set(assume);
  const hasCalls = program.tensors.some((t) => t.role === "call") || Object.keys(program.functions).length > 0;
  if (!hasCalls) props.add(PROPERTIES.noCalls);
  if (!program.tensors.some((t) => t.role === "grad")) props.add(PROPERTIES.noGrads);
  return props;
}

function nextProperties(before: ReadonlySet<string>, pass: Pass, changed: boolean): Set<string> {
  const keep = changed ? [...before].filter((p) => pass.preserves?.includes(p) ?? false) : [...before];
  return new Set([...keep, ...pass.guarantees]);
}

function verifyAfter(pass: Pass, program: Program): void {
  try {
    verifyProgram(program);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new InternalCompilerError(`IR invalid after pass '${pass.name}': ${why}`);
  }
}

/**
 * Structural equality of two programs (weights' data compared element by
 * element, `NaN` equal to itself).
 *
 * @example
 * ```ts
 * programsEqual(p, structuredClone(p)); // true
 * ```
 */
export function programsEqual(a: Program, b: Program): boolean {
  return a === b || deepEqual(a, b);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (a instanceof Float64Array || b instanceof Float64Array) {
    if (!(a instanceof Float64Array && b instanceof Float64Array) || a.length !== b.length) return false;
    for (let k = 0; k < a.length; k++) if (!Object.is(a[k], b[k])) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(rb, k) && deepEqual(ra[k], rb[k]));
}

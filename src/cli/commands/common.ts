/**
 * What the commands share: the exit codes, how results reach the terminal,
 * and compiling a source file with the options every command accepts.
 */
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import { renderDiagnostics } from "../../diagnostics/render.js";
import { check, compileAsync, type CompiledProgram } from "../../compiler.js";
import { BACKEND_NAMES, type BackendName } from "../../backends/index.js";
import type { Program } from "../../ir/types.js";
import { verificationLines } from "../../passes/verify-optimization.js";
import { memoryProblem } from "../../runtime/memory.js";
import { randomTensor } from "../../runtime/random.js";
import { gatherIndexExtents } from "../../ir/gather.js";
import type { Tensor } from "../../runtime/tensor.js";
import { UsageError, parseMemoryBudget, parseSizeOptions } from "../args.js";
import { readText, readTensorArchive } from "../io.js";
import { approximationLines } from "./approx-report.js";

export { EXIT } from "../exit.js";

/** Where a command writes; tests capture it. */
export interface Terminal {
  out(line: string): void;
  err(line: string): void;
  readonly color: boolean;
}

/** The options shared by commands that compile a file. */
export const COMPILE_OPTIONS = {
  size: { type: "string", multiple: true },
  weights: { type: "string" },
  "no-optimize": { type: "boolean" },
  O0: { type: "boolean" },
  verify: { type: "boolean" },
  approx: { type: "string", multiple: true },
  help: { type: "boolean", short: "h" },
} as const;

/** The `--memory-budget` option of run, compile and explain. */
export const MEMORY_BUDGET_OPTION = { "memory-budget": { type: "string" } } as const;

/** Help line of `--memory-budget`. */
export const MEMORY_BUDGET_HELP = `  --memory-budget B     the most memory the program may take (64KiB, 10MiB, or bytes): intermediates
                        are computed again rather than held when the planned peak is larger`;

/** The `--max-intermediate` option of run, compile and explain. */
export const MAX_INTERMEDIATE_OPTION = { "max-intermediate": { type: "string" } } as const;

/** Help line of `--max-intermediate`. */
export const MAX_INTERMEDIATE_HELP = `  --max-intermediate B  the most memory one tensor a contraction forms may take (64KiB, 64MiB,
                        or bytes): a contraction with a larger intermediate runs slice by slice`;

/** Parses `--max-intermediate` (bytes, or a size such as 64MiB). */
export function parseMaxIntermediate(value: string | undefined, command: string): number | undefined {
  try {
    return parseMemoryBudget(value, command);
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(e.message.replace("--memory-budget", "--max-intermediate"), command);
    throw e;
  }
}

/** Prints diagnostics (errors and warnings) to stderr. */
export function reportDiagnostics(term: Terminal, diagnostics: readonly Diagnostic[], sources: ReadonlyMap<string, string>): void {
  if (diagnostics.length === 0) return;
  term.err(renderDiagnostics(diagnostics, (f) => sources.get(f), { color: term.color }).trimEnd());
}

/** Parses `--backend`. */
export function backendOption(value: string | undefined, fallback: BackendName, command: string): BackendName {
  if (value === undefined) return fallback;
  if (!(BACKEND_NAMES as readonly string[]).includes(value)) {
    throw new UsageError(`unknown backend '${value}' (choose one of: ${BACKEND_NAMES.join(", ")})`, command);
  }
  return value as BackendName;
}

/** Reads the one positional FILE argument. */
export function sourceFileArg(positionals: string[], command: string): string {
  if (positionals.length === 0) throw new UsageError("missing FILE (a .tns program)", command);
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`, command);
  return positionals[0]!;
}

/** Seeded random data for every weight that has none yet. */
export function randomWeights(program: Program, given: Record<string, Tensor>, seed: number): Record<string, Tensor> {
  const out = { ...given };
  // Weights too large to hold are left to the compiler, which says so (TNS0305), instead of filled here.
  const weights = { ...program, tensors: program.tensors.filter((t) => t.role === "weight") };
  if (memoryProblem(weights, null) !== null) return out;
  const extents = gatherIndexExtents(program);
  program.tensors.forEach((t, k) => {
    if (t.role === "weight" && t.data === null && !(t.name in out)) out[t.name] = randomTensor(t.shape, t.dtype, seed * 7919 + k, extents.get(t.name));
  });
  return out;
}

/**
 * Compiles FILE with `--size`, `--weights`, `-O0` and `--verify` (whose random
 * data uses `extra.seed`); weights without data become random when
 * `randomData` is set.
 */
export async function compileFile(
  file: string,
  values: Record<string, unknown>,
  command: string,
  extra: {
    backend: BackendName; randomData: boolean; seed: number; threads?: number; runOnce?: boolean;
    memoryBudget?: number; maxIntermediateBytes?: number; cache?: boolean; donate?: "all"; optimizeWasm?: boolean;
  },
): Promise<{ result: CompiledProgram; source: string }> {
  const source = readText(file);
  const sizes = parseSizeOptions(values["size"] as string[] | undefined, command);
  let weights = values["weights"] ? readTensorArchive(values["weights"] as string) : {};
  const optimize = !(values["O0"] || values["no-optimize"]);
  if (extra.randomData) {
    const checked = check(source, { file, sizes, weights });
    if (checked.program) weights = randomWeights(checked.program, weights, extra.seed);
  }
  const verifyOutputs = Boolean(values["verify"]);
  const approx = values["approx"] as string[] | undefined;
  const result = await compileAsync(source, { file, sizes, weights, optimize, ...(approx ? { approx } : {}), backend: extra.backend, verifyOutputs, verifySeed: extra.seed, threads: extra.threads, runOnce: extra.runOnce,
    ...(extra.memoryBudget === undefined ? {} : { memoryBudget: extra.memoryBudget }),
    ...(extra.maxIntermediateBytes === undefined ? {} : { maxIntermediateBytes: extra.maxIntermediateBytes }), ...(extra.cache ? { cache: true } : {}),
    ...(extra.donate ? { donate: extra.donate } : {}), ...(extra.optimizeWasm ? { optimizeWasm: true } : {}) });
  return { result, source };
}

/**
 * Prints what `--verify` found, one line per output (nothing without it). A
 * failed check never gets here: it is an internal compiler error.
 */
export function reportVerification(term: Terminal, result: CompiledProgram): void {
  if (result.verification) for (const line of verificationLines(result.verification)) term.out(line);
  if (result.approximations.length > 0) term.err(["approximations:", ...approximationLines(result.approximations)].join("\n"));
}

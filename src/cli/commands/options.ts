/**
 * What the commands share that loads nothing heavy: how results reach the
 * terminal, the options every compiling command accepts, and their parsing.
 * `tns run` on a cached program (program-cache.ts) needs no more than
 * this; compiling a file is in common.ts, which loads the compiler.
 */
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import { renderDiagnostics } from "../../diagnostics/render.js";
import { BACKEND_NAMES, type BackendName } from "../../backends/names.js";
import { UsageError, parseMemoryBudget, parseSizeOptions } from "../args.js";

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

/**
 * The compile options that `--size`, `-O0` and `--no-optimize` give: what
 * compiling a file passes to the compiler and what keys its cached program
 * (run.ts), read one way for both.
 */
export function sourceOptions(values: Record<string, unknown>, command: string): { sizes: Record<string, number>; optimize: boolean } {
  return { sizes: parseSizeOptions(values["size"] as string[] | undefined, command), optimize: !(values["O0"] || values["no-optimize"]) };
}

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

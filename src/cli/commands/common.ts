/**
 * What the commands share: compiling a source file with the options every
 * command accepts, and reporting what compiling found; with the exit codes,
 * the terminal and the options themselves from options.ts.
 */
import { check, compileAsync, type CompiledProgram } from "../../compiler.js";
import type { BackendName } from "../../backends/index.js";
import type { Program } from "../../ir/types.js";
import { verificationLines } from "../../passes/verify-optimization.js";
import { memoryProblem } from "../../runtime/memory.js";
import { randomTensor } from "../../runtime/random.js";
import { gatherIndexExtents } from "../../ir/gather.js";
import type { Tensor } from "../../runtime/tensor.js";
import { readText, readTensorArchive } from "../io.js";
import { approximationLines } from "./approx-report.js";
import { sourceOptions, type Terminal } from "./options.js";

export {
  COMPILE_OPTIONS, EXIT, MAX_INTERMEDIATE_HELP, MAX_INTERMEDIATE_OPTION, MEMORY_BUDGET_HELP, MEMORY_BUDGET_OPTION,
  backendOption, parseMaxIntermediate, reportDiagnostics, sourceFileArg, type Terminal,
} from "./options.js";

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
  const { sizes, optimize } = sourceOptions(values, command);
  let weights = values["weights"] ? readTensorArchive(values["weights"] as string) : {};
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

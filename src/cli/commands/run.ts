/**
 * `tns run FILE`: compile a program, bind its inputs (from .npy/.npz files or
 * seeded random data), run it, print a summary of each output and the time
 * taken, and optionally write the outputs.
 */
import { performance } from "node:perf_hooks";
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import { randomTensor } from "../../runtime/random.js";
import type { Tensor } from "../../runtime/tensor.js";
import type { CompiledProgram, TensorInfo } from "../../compiler.js";
import type { RunOptions } from "../../runtime/executable.js";
import type { BackendName } from "../../backends/names.js";
import { APPROX_HELP } from "./approx-report.js";
import { formatBytes, parseCommandArgs, parseIntOption, parseMemoryBudget, parseNamedPaths, parseThreadsOption, UsageError } from "../args.js";
import { checkOutputPath, readTensorArchive, readTensorFile, readText, summarize, writeOutputs, DataFileError } from "../io.js";
import {
  COMPILE_OPTIONS, EXIT, MAX_INTERMEDIATE_HELP, MAX_INTERMEDIATE_OPTION, MEMORY_BUDGET_HELP, MEMORY_BUDGET_OPTION, backendOption, parseMaxIntermediate, reportDiagnostics, sourceFileArg, sourceOptions, type Terminal,
} from "./options.js";

/** Help text of `tns run`. */
export const RUN_HELP = `Usage: tns run FILE [options]

Compile and run a .tns program; print each output's shape, a summary and the time taken.

Options:
  --backend NAME        wasm (WebAssembly, SIMD128; the default), js, wgsl (WebGPU compute
                        shaders: a GPU, or Mesa's drivers without one; see docs/wgsl.md)
                        or reference (float64 interpreter)
  --size NAME=N         override a size default (repeatable)
  --input NAME=FILE     bind an input to a .npy file (repeatable)
  --inputs FILE         bind inputs from the arrays of a .npz file
  --weights FILE        weight data from a .npz file (bound at compile time)
  --random-inputs       fill inputs and weights that were not given with seeded random data in [-1, 1)
  --seed N              seed for --random-inputs (default 1)
  -o, --output FILE     write outputs: .npy (one output) or .npz (by name)
  -O0, --no-optimize    skip the optimizing passes
  --threads N           threads for large matrix products on the wasm backend (1: none;
                        default: the available cores, at most 4). One run uses them only
                        for products of 2^32 operations and more: below that, starting
                        the workers costs more than they save
${MEMORY_BUDGET_HELP};
                        prints the peak the run measured
${MAX_INTERMEDIATE_HELP}
${APPROX_HELP}
  --verify              check the optimized program against the unoptimized one, and the
                        backend against the reference interpreter, on random data (--seed)
  --no-cache            do not read or write the cache of compiled programs and WebAssembly
                        modules (the user's cache folder, or TNS_CACHE_DIR; see docs/wasm.md).
                        A program run before with the same options is read back from it
                        without compiling ("loaded from the cache")
  --no-donate           keep every input's storage for the whole run. By default the run
                        donates its inputs (it reads them from files or makes them, and
                        needs them no more after the run): on the js and wasm backends an
                        input's memory is reused after its last reader, and an output that
                        updates it elementwise (an SGD step) is written over it
  --optimize-wasm       also run binaryen's optimizer over the WebAssembly module (loads
                        binaryen, about 0.3 s; the engine's own optimizer makes it pay
                        rarely: see docs/benchmarks.md)
  -h, --help            show this help`;

/** Runs `tns run`. */
export async function runCommand(argv: string[], term: Terminal): Promise<number> {
  const { values, positionals } = parseCommandArgs("run", argv, {
    ...COMPILE_OPTIONS,
    backend: { type: "string" },
    input: { type: "string", multiple: true },
    inputs: { type: "string" },
    "random-inputs": { type: "boolean" },
    seed: { type: "string" },
    output: { type: "string", short: "o" },
    threads: { type: "string" },
    ...MEMORY_BUDGET_OPTION,
    ...MAX_INTERMEDIATE_OPTION,
    "no-cache": { type: "boolean" },
    "no-donate": { type: "boolean" },
    "optimize-wasm": { type: "boolean" },
  });
  if (values["help"]) {
    term.out(RUN_HELP);
    return EXIT.ok;
  }
  const file = sourceFileArg(positionals, "run");
  const backend = backendOption(values["backend"] as string | undefined, "wasm", "run");
  const seed = parseIntOption(values["seed"] as string | undefined, "--seed", 1, "run");
  const randomData = Boolean(values["random-inputs"]);
  const inputPaths = parseNamedPaths(values["input"] as string[] | undefined, "--input", "run");
  const output = values["output"] as string | undefined;
  const threads = parseThreadsOption(values["threads"] as string | undefined, backend, "run");
  const memoryBudget = parseMemoryBudget(values["memory-budget"] as string | undefined, "run");
  const maxIntermediateBytes = parseMaxIntermediate(values["max-intermediate"] as string | undefined, "run");
  if (output && !/\.(npy|npz)$/i.test(output)) throw new UsageError(`-o expects a .npy or .npz file name, got '${output}'`, "run");
  if (output) checkOutputPath(output, "file");

  const t0 = performance.now();
  // tns's encoder builds the wasm module; binaryen is loaded only for --optimize-wasm, and then only for a module not cached before (compileAsync).
  const cache = backend === "wasm" && !values["no-cache"];
  const optimizeWasm = backend === "wasm" && values["optimize-wasm"] === true;
  const donate = values["no-donate"] ? undefined : ("all" as const);
  // A program run before with these options is read back whole, without loading the compiler (program-cache.ts).
  const cachable = cache && !values["verify"] && !values["weights"] && !values["approx"] && memoryBudget === undefined;
  const cached = cachable ? await fromProgramCache(file, values, { threads, optimizeWasm, maxIntermediateBytes, donate }) : null;
  if (cached) reportDiagnostics(term, cached.diagnostics, cached.sources);
  const result = cached ?? await compileForRun(file, values, term, { backend, randomData, seed, threads, memoryBudget, maxIntermediateBytes, cache, optimizeWasm, donate });
  if (result === null) return EXIT.diagnostics;
  const t1 = performance.now();

  const inputs: Record<string, Tensor> = values["inputs"] ? readTensorArchive(values["inputs"] as string) : {};
  for (const [name, path] of inputPaths) inputs[name] = readTensorFile(path);
  const known = new Set(result.inputs.map((i) => i.name));
  for (const name of Object.keys(inputs)) {
    if (!known.has(name)) {
      throw new DataFileError(`the program has no input named '${name}' (its inputs: ${[...known].join(", ") || "none"})`);
    }
  }
  if (randomData) {
    const extents = result.gatherExtents();
    result.inputs.forEach((info, k) => {
      if (info.role === "input" && !(info.name in inputs)) inputs[info.name] = randomTensor(info.shape, info.dtype, seed * 7919 + 1000 + k, extents.get(info.name));
    });
  }
  const t2 = performance.now();
  const runOptions = { measureMemory: memoryBudget !== undefined };
  // GPU work is asynchronous; on the other backends runAsync runs synchronously and resolves.
  const outputs = backend === "wgsl" ? await result.runAsync(inputs, runOptions) : result.run(inputs, runOptions);
  const t3 = performance.now();
  const gpu = result.lastRunGpuNanoseconds();
  result.dispose();
  for (const info of result.outputs) term.out(summarize(info.name, outputs[info.name]!));
  if (output) writeOutputs(output, outputs, "run");
  if (memoryBudget !== undefined && result.compiled) term.out(memoryLine(result.compiled, memoryBudget));
  const compiled = result.compiled?.verification ? "compiled and verified" : result.compiled ? "compiled" : "loaded from the cache";
  const kernels = gpu === null ? "" : ` (kernels ${(gpu / 1e6).toFixed(3)} ms on the GPU)`;
  term.out(`${compiled} in ${(t1 - t0).toFixed(1)} ms (${backend}), ran in ${(t3 - t2).toFixed(1)} ms${kernels}`);
  return EXIT.ok;
}

/**
 * What a run needs of a program, compiled now or read from the program
 * cache; `compiled` is the compiler's result when it was compiled.
 */
interface RunnableProgram {
  readonly diagnostics: readonly Diagnostic[];
  readonly sources: ReadonlyMap<string, string>;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly compiled: CompiledProgram | null;
  gatherExtents(): ReadonlyMap<string, number>;
  run(inputs: Record<string, Tensor>, options: RunOptions): Record<string, Tensor>;
  runAsync(inputs: Record<string, Tensor>, options: RunOptions): Promise<Record<string, Tensor>>;
  dispose(): void;
  lastRunGpuNanoseconds(): number | null;
}

/**
 * Compiles FILE for one run (loading the compiler), printing its
 * diagnostics and what `--verify` found; null when it does not compile.
 */
async function compileForRun(
  file: string, values: Record<string, unknown>, term: Terminal,
  options: {
    backend: BackendName; randomData: boolean; seed: number; threads: number | undefined; memoryBudget: number | undefined;
    maxIntermediateBytes: number | undefined; cache: boolean; optimizeWasm: boolean; donate: "all" | undefined;
  },
): Promise<RunnableProgram | null> {
  const { compileFile, reportVerification } = await import("./common.js");
  const { backend, donate, memoryBudget } = options;
  if (!options.cache) await (await import("../../backends/index.js")).loadBackend(backend);
  if (memoryBudget !== undefined) await (await import("../../passes/rematerialize.js")).loadMilpSolver();
  // One run: no threaded module unless that run would start the workers (wasm/index.ts, runOnce).
  const { randomData, seed, threads, maxIntermediateBytes, cache, optimizeWasm } = options;
  const compiled = (await compileFile(file, values, "run", {
    backend, randomData, seed, threads, runOnce: true, memoryBudget, maxIntermediateBytes, cache, optimizeWasm, ...(donate ? { donate } : {}),
  })).result;
  reportDiagnostics(term, compiled.diagnostics, compiled.sources);
  if (!compiled.ok) return null;
  reportVerification(term, compiled);
  const { gatherIndexExtents } = await import("../../ir/gather.js");
  const lowered = compiled.loweredIr;
  // Not a spread: `code` is a getter that prints the module's text.
  return {
    diagnostics: compiled.diagnostics, sources: compiled.sources, inputs: compiled.inputs, outputs: compiled.outputs, compiled,
    gatherExtents: () => (lowered ? gatherIndexExtents(lowered) : new Map<string, number>()),
    run: (inputs, runOptions) => compiled.run(inputs, runOptions),
    runAsync: (inputs, runOptions) => compiled.runAsync(inputs, runOptions),
    dispose: () => compiled.dispose(),
    lastRunGpuNanoseconds: () => compiled.lastRunGpuNanoseconds(),
  };
}

/**
 * The program of FILE as compiled by an earlier `tns run` with the same
 * options, from the disk cache, or null (then it is compiled). The key's
 * options are those {@link compileFile} passes for a run on wasm.
 */
async function fromProgramCache(
  file: string, values: Record<string, unknown>,
  options: { threads: number | undefined; optimizeWasm: boolean; maxIntermediateBytes: number | undefined; donate: "all" | undefined },
): Promise<RunnableProgram | null> {
  const { DiskCache } = await import("../../backends/wasm/disk-cache.js");
  const { cachedProgram } = await import("../../backends/wasm/program-cache.js");
  const disk = DiskCache.open();
  if (disk === null) return null;
  let source: string;
  try {
    source = readText(file);
  } catch {
    return null; // Compiling reads it again and reports why it cannot.
  }
  const hit = await cachedProgram(disk, source, {
    file, ...sourceOptions(values, "run"),
    threads: options.threads, runOnce: true, optimizeWasm: options.optimizeWasm || undefined,
    maxIntermediateBytes: options.maxIntermediateBytes, donate: options.donate,
  });
  if (hit === null) return null;
  const exe = hit.executable;
  return {
    diagnostics: hit.diagnostics, sources: hit.sources, inputs: hit.inputs, outputs: hit.outputs, compiled: null,
    gatherExtents: () => hit.gatherExtents,
    run: (inputs, runOptions) => exe.run(inputs, runOptions),
    runAsync: async (inputs, runOptions) => (exe.runAsync ? exe.runAsync(inputs, runOptions) : exe.run(inputs, runOptions)),
    dispose: () => exe.dispose?.(),
    lastRunGpuNanoseconds: () => null,
  };
}

/** `memory: peak 112.0 KiB measured (planned 112.0 KiB, budget 120.0 KiB; 1 tensor recomputed, 786,432 FLOPs)`. */
function memoryLine(result: CompiledProgram, budget: number): string {
  const measured = result.measuredPeakBytes();
  const m = result.memory!;
  const what = measured === null ? "not measured on this backend" : `${formatBytes(measured)} measured`;
  const copies = m.recomputed.length;
  return `memory: peak ${what} (planned ${formatBytes(m.peakBytes)}, budget ${formatBytes(budget)}; ` +
    `${copies} recomputation${copies === 1 ? "" : "s"}, ${m.recomputedFlops.toLocaleString("en-US")} FLOPs; solver ${m.solver.name} ${m.solver.status})`;
}

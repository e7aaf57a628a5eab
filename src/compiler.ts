/**
 * The spine: source text through every stage to a runnable program, one line
 * per stage. Each stage reports user mistakes into one DiagnosticBag; the
 * pipeline stops at the first stage that reported an error.
 */
import { DiagnosticBag, CompileError, type Diagnostic } from "./diagnostics/diagnostic.js";
import { renderDiagnostics } from "./diagnostics/render.js";
import { parseModule } from "./parser/index.js";
import type { Module } from "./parser/ast.js";
import { checkProgram, defaultStdlibDir, diskPath, type SourceLoader } from "./checker/index.js";
import { addGradients } from "./checker/grad.js";
import type { Program } from "./ir/types.js";
import { gatherIndexExtents } from "./ir/gather.js";
import { printProgram } from "./ir/print.js";
import { runPasses, defaultPipeline, loweringPipeline, type PassLogEntry } from "./passes/index.js";
import type { OrderContractionsOptions } from "./passes/order-contractions.js";
import type { Pass } from "./passes/pass.js";
import { VerificationError, verifyOptimization, verifyOptimizationAsync, type Verification } from "./passes/verify-optimization.js";
import { backendNamed, loadBackend, type Backend, type BackendName } from "./backends/index.js";
import { lowerToKernels } from "./backends/kernel/lower.js";
import { type MemoryPlan, planMemory } from "./backends/kernel/memory-plan.js";
import { runningSums } from "./backends/kernel/running-sum.js";
import { verifyProgram } from "./ir/verify.js";
import { donatedField, loadMilpSolver, type MemoryReport, rematerialize } from "./passes/rematerialize.js";
import { type Executable, keptInputBuffers, type RunOptions, type TensorInfo } from "./runtime/executable.js";
import type { Tensor } from "./runtime/tensor.js";
import { memoryProblem } from "./runtime/memory.js";
import { expectCompileOptions, expectRunOptions, expectSource, expectTensorRecord } from "./api-arguments.js";
import { BACKEND_NAMES } from "./backends/index.js";
import { type ApproxRequest, type Approximation, approximateWeights, approximationErrors, parseApproxRequests } from "./passes/approximate/index.js";
import type { Span } from "./diagnostics/diagnostic.js";

/** Options of {@link compile}. */
export interface CompileOptions {
  /** File name used in diagnostics and to resolve relative imports. Default `"<input>"`. */
  file?: string;
  /** Overrides of size defaults, e.g. `{ n: 1024 }`. */
  sizes?: Record<string, number>;
  /** Data of `weight` tensors, by name. */
  weights?: Record<string, Tensor>;
  /**
   * Code generator: `"js"` (default), `"wasm"` (WebAssembly with SIMD128; with
   * {@link compile} only after `await loadBackend("wasm")`, or use
   * {@link compileAsync}), `"wgsl"` (WebGPU compute shaders, run with
   * {@link CompiledProgram.runAsync}; with {@link compile} only given a
   * `device` or after `await loadBackend("wgsl")`), or `"reference"` (the
   * float64 interpreter).
   */
  backend?: BackendName;
  /**
   * The `GPUDevice` the `wgsl` backend runs on (default: this host's, which
   * {@link compileAsync} requests: Dawn in Node through the package
   * `webgpu`, `navigator.gpu` in a browser). Other backends ignore it.
   */
  device?: GPUDevice;
  /**
   * Threads of the `wasm` backend for large matrix products: a positive
   * integer, 1 for none. Default: the host's parallelism (at most 4) where
   * `SharedArrayBuffer`, `Atomics` and `worker_threads` are available (Node),
   * else 1. Other backends ignore it. Call {@link CompiledProgram.dispose} to
   * stop the workers early; they never keep a process alive.
   */
  threads?: number;
  /**
   * The program will run once, as `tns run` runs it: the `wasm` backend then
   * builds a module for threads only when that first run would use them
   * (very large products; see `WasmBackendOptions.runOnce`).
   */
  runOnce?: boolean;
  /**
   * Run binaryen's optimizer over the `wasm` backend's module (loads
   * binaryen; default false: see `WasmBackendOptions.optimize`).
   */
  optimizeWasm?: boolean;
  /** Run the optimizing passes (default true). Function inlining always runs. */
  optimize?: boolean;
  /** Check every IR invariant after every pass (slower; tests turn it on). */
  verify?: boolean;
  /**
   * `verify`, and then check the optimized program against the unoptimized
   * one on the reference interpreter, and the backend against the
   * interpreter, with seeded random data (see `passes/verify-optimization.ts`).
   * It runs the program three times at its full size, so it is separate from
   * `verify`, which is cheap enough for every test. A mismatch throws a
   * `VerificationError` (an `InternalCompilerError`): it is a bug in tns, not
   * in the program. The report is {@link CompiledProgram.verification}.
   */
  verifyOutputs?: boolean;
  /** Seed of the random inputs and weights of `verifyOutputs` (default 1). */
  verifySeed?: number;
  /**
   * The passes to run instead of the default pipeline (and instead of what
   * `optimize` picks). For tools and tests, e.g. to check that `verifyOutputs`
   * catches an unsound pass; must inline calls when the program has any.
   */
  passes?: readonly Pass[];
  /** How `import` paths are found and read. Default: the file system and the bundled stdlib. */
  loader?: SourceLoader;
  /**
   * Gradients to add as outputs: `{ loss: "L", wrt: ["W1", "W2"] }` adds an
   * output `grad_W1` for `grad(L, W1)`, and so on (see {@link grad}).
   */
  grad?: { readonly loss: string; readonly wrt: readonly string[] };
  /**
   * The most bytes the program's memory (its arena: inputs, weights, outputs
   * and intermediates) may take on the chosen backend. When the planned peak
   * is larger, the `rematerialize` pass computes some intermediates again
   * instead of holding them; a budget below the smallest peak it can find is
   * an error (TNS0701). With {@link compile}, the MILP solver must have been
   * loaded (`await loadMilpSolver()`, or use {@link compileAsync}); without
   * it the pass uses its heuristic and says so in {@link CompiledProgram.memory}.
   */
  memoryBudget?: number;
  /**
   * The most bytes any tensor a contraction forms may take (`tns run
   * --max-intermediate`). A contraction whose cheapest order forms a larger
   * intermediate runs slice by slice: the order-contractions pass picks the
   * indices to slice at the least extra FLOPs and writes the loop over the
   * slices into the program, so every backend runs it (see
   * docs/optimizer.md, "Slicing inside a program"). Under `memoryBudget`
   * the limit is also at most the budget less the inputs' and weights'
   * bytes. A limit that needs more than 256 slices is an error
   * (TNS0720).
   */
  maxIntermediateBytes?: number;
  /**
   * Inputs whose storage the caller gives up for each run, as JAX's
   * `donate_argnums`: `"all"` or a list of input names. On the `js` and
   * `wasm` backends the memory planner may then reuse a donated input's
   * bytes once its last reader has run, and write an output that updates
   * it elementwise over it in place (an SGD step `W_next = W - lr * dW`),
   * which lowers the planned peak and what a {@link memoryBudget} can
   * reach. Every run still takes the input's data (it is copied into the
   * arena), results are bitwise those without donation, and `inputBuffer`
   * refuses a donated input (TNS0702). Other backends keep every input.
   * Default: none (the caller's inputs are never written). A name that is
   * not a run-time input is an error (TNS0703).
   */
  donate?: readonly string[] | "all";
  /** Time limit of each call of the rematerialization solver, in milliseconds (default 2000). */
  memoryTimeLimitMs?: number;
  /**
   * With {@link compileAsync} and the `wasm` backend: keep compiled modules
   * in an on-disk cache, so a program compiled in an earlier process does
   * not load binaryen at all (`tns run` does this unless given `--no-cache`).
   * `true` uses the user's cache folder (`TNS_CACHE_DIR`, else
   * `$XDG_CACHE_HOME/tns` or `~/.cache/tns`; see docs/wasm.md) with a 64 MiB
   * cap; an object names the folder and the cap. Default: no disk cache.
   * Unusable entries are ignored and rebuilt. Where there is no file system
   * (browsers) it is ignored.
   */
  cache?: boolean | { readonly directory?: string; readonly maxBytes?: number };
  /**
   * Approximate weights bound at compile time (opt-in: it changes results):
   * requests such as `"lowrank:tol=1e-4"`, `"lowrank:W1:rank=8"`,
   * `"kron:tol=1e-5"` or `"kron:W:shape=32x32,32x32"`, several separated by
   * `;` or given as an array. Each weight is replaced by its factors (`W.U`,
   * `W.V`; `W.A`, `W.B`) only where the error stays within the tolerance and
   * the cost model says the program gets cheaper;
   * {@link CompiledProgram.approximations} says what was done and why
   * (docs/optimizer.md, "Approximations").
   */
  approx?: string | readonly string[];
}

export type { TensorInfo } from "./runtime/executable.js";

/**
 * The result of {@link compile}. When `ok` is false, `diagnostics` says why and
 * `run` throws a {@link CompileError}.
 */
export interface CompiledProgram {
  readonly ok: boolean;
  /** Errors and warnings, in the order found. */
  readonly diagnostics: readonly Diagnostic[];
  /** Source texts by file name (the main file and every import), for rendering diagnostics. */
  readonly sources: ReadonlyMap<string, string>;
  /** The IR right after checking (before any pass), or null if checking failed. */
  readonly loweredIr: Program | null;
  /** The IR the backend compiled, or null. */
  readonly ir: Program | null;
  /** One entry per pass that ran. */
  readonly passLog: readonly PassLogEntry[];
  /** What the `approx` option did to each weight it covers (empty without it). */
  readonly approximations: readonly Approximation[];
  /** What `verifyOutputs` found (every difference within tolerance, or it would have thrown); null without it. */
  readonly verification: Verification | null;
  /** The memory plan's peak and what rematerialization did (see `memoryBudget`); null when compilation failed. */
  readonly memory: MemoryReport | null;
  /**
   * The arena's high-water mark measured by the last run made with
   * `{ measureMemory: true }` (null before one, or on the reference backend).
   */
  measuredPeakBytes(): number | null;
  /** The emitted code ("" for the reference backend or on failure). */
  readonly code: string;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /**
   * Runs the program. Inputs (and weights not bound at compile time) by
   * name; `{ outputs: "view" }` returns outputs without copying them, valid
   * until the next run ({@link RunOptions}). The `wgsl` backend runs
   * asynchronously only: there `run` throws, use {@link runAsync}.
   */
  run(inputs?: Record<string, Tensor>, options?: RunOptions): Record<string, Tensor>;
  /**
   * `run` without blocking the calling thread: what a browser page's main
   * thread uses, where a threaded wasm program can only use its workers
   * this way ({@link Executable.runAsync}), and the only way the `wgsl`
   * backend runs (GPU work is asynchronous). On other backends it runs
   * synchronously and resolves.
   */
  runAsync(inputs?: Record<string, Tensor>, options?: RunOptions): Promise<Record<string, Tensor>>;
  /**
   * Where input `name` lives in the compiled program, as a tensor to fill
   * in place and pass to `run`, which then copies nothing for it (see
   * {@link Executable.inputBuffer}; the reference backend gets a tensor of
   * its own).
   *
   * @throws CompileError (TNS0606) for a name that is not an input, or when compilation failed
   */
  inputBuffer(name: string): Tensor;
  /**
   * Releases what runs acquired: the worker threads of the wasm backend,
   * the GPU buffers and pipelines of the wgsl backend; a later run
   * acquires them again.
   */
  dispose(): void;
  /**
   * Nanoseconds the last run's kernels took on the GPU, measured with
   * timestamp queries (wgsl backend, where the adapter offers them); null
   * otherwise.
   */
  lastRunGpuNanoseconds(): number | null;
  /** The diagnostics rendered with code frames. */
  formatDiagnostics(options?: { color?: boolean }): string;
}

/**
 * Compiles tns source text.
 *
 * @example
 * ```ts
 * import { compile, Tensor } from "tns";
 * const prog = compile("size n = 2\ninput A[n, n], B[n, n]\noutput C[i, j] = A[i, k] * B[k, j]");
 * const { C } = prog.run({ A: Tensor.fromArray([[1, 2], [3, 4]]), B: Tensor.fromArray([[1, 0], [0, 1]]) });
 * C.toArray(); // [[1, 2], [3, 4]]
 * ```
 */
export function compile(source: string, options: CompileOptions = {}): CompiledProgram {
  expectSource(source, "compile");
  expectCompileOptions(options, "compile", BACKEND_NAMES);
  const front = frontEnd(source, options);
  return front.program === null ? failed(front.diags, front.sources) : compileProgram(front.program, options, front.diags, front.sources);
}

/** Parses and checks a source: the lowered IR (null after errors), the diagnostics and the source texts read. */
function frontEnd(source: string, options: CompileOptions): { program: Program | null; diags: DiagnosticBag; sources: Map<string, string> } {
  const file = options.file ?? "<input>";
  const diags = new DiagnosticBag();
  const sources = new Map<string, string>([[file, source]]);
  const module = parseModule(source, file, diags);
  if (diags.hasErrors) return { program: null, diags, sources };
  let checked = checkProgram(module, { sizes: options.sizes, weights: options.weights, loader: options.loader }, diags, sources);
  if (checked && options.grad) checked = addGradients(checked, options.grad.loss, options.grad.wrt, diags);
  if (checked && !diags.hasErrors && options.approx !== undefined) {
    const spans = new Map(module.items.flatMap((it) => (it.kind === "tensor" ? [[it.name.name, it.name.span] as const] : [])));
    approxRequests(checked, options.approx, diags, (name) => spans.get(name));
  }
  return { program: checked && !diags.hasErrors ? checked : null, diags, sources };
}

/** The result of {@link approximate}. */
export interface ApproximateOutcome {
  /** The program with the factorings that pay applied, or null after an error. */
  readonly program: Program | null;
  readonly approximations: readonly Approximation[];
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Applies approximation requests (the `approx` option's text) to a checked
 * program: what {@link compile} does before its passes, for callers that
 * want the program and the report themselves (`tns explain --approx`).
 * `locate` gives a weight's declaration, where errors about it point.
 *
 * @example
 * ```ts
 * const { program } = check(source, { weights });
 * approximate(program!, "lowrank:tol=1e-4").approximations[0]!.rank; // 8
 * ```
 */
export function approximate(
  program: Program, approx: string | readonly string[], locate?: (weight: string) => Span | undefined,
): ApproximateOutcome {
  const diags = new DiagnosticBag();
  const requests = approxRequests(program, approx, diags, locate);
  if (requests === null) return { program: null, approximations: [], diagnostics: diags.items };
  const result = approximateWeights(program, requests);
  return { program: result.program, approximations: result.approximations, diagnostics: diags.items };
}

/**
 * The requests of the `approx` option, or null after reporting the ones
 * that cannot be satisfied (TNS1001–TNS1005, at the weight's declaration
 * when `locate` finds it).
 */
function approxRequests(
  program: Program, approx: string | readonly string[], diags: DiagnosticBag, locate: (weight: string) => Span | undefined = () => undefined,
): ApproxRequest[] | null {
  const texts = typeof approx === "string" ? [approx] : approx;
  const requests: ApproxRequest[] = [];
  let ok = true;
  for (const text of texts) {
    const parsed = parseApproxRequests(text);
    for (const e of parsed.errors) {
      diags.error("TNS1001", `invalid approximation request '${e.text}': ${e.message}`, undefined, {
        hint: "write KIND[:WEIGHT]:KEY=VALUE, e.g. lowrank:tol=1e-4, lowrank:W:rank=8, kron:W:shape=32x32,32x32",
      });
      ok = false;
    }
    requests.push(...parsed.requests);
  }
  for (const e of approximationErrors(program, requests)) {
    diags.error(e.code, `approximation '${e.request}': ${e.message}`, e.weight === null ? undefined : locate(e.weight), e.hint ? { hint: e.hint } : {});
    ok = false;
  }
  return ok ? requests : null;
}

/**
 * {@link compile}, first loading the backend's code generator when it needs
 * loading (the `wasm` backend loads binaryen once per process).
 *
 * @example
 * ```ts
 * const prog = await compileAsync("input x[4]\noutput y[i] = x[i] * x[i]", { backend: "wasm" });
 * prog.run({ x: Tensor.fromArray([1, 2, 3, 4]) }).y.toArray(); // [1, 4, 9, 16]
 * ```
 */
export async function compileAsync(source: string, options: CompileOptions = {}): Promise<CompiledProgram> {
  expectSource(source, "compileAsync");
  expectCompileOptions(options, "compileAsync", BACKEND_NAMES);
  const backend = options.backend ?? "js";
  if (options.memoryBudget !== undefined) await loadMilpSolver();
  if (backend === "wasm" && options.cache && !options.verifyOutputs && options.approx === undefined) {
    const cached = await compileWasmWithDiskCache(source, options);
    if (cached !== null) return cached;
  }
  if (!(backend === "wgsl" && options.device)) await loadBackend(backend);
  if (backend === "wasm" && options.optimizeWasm) await (await import("./backends/wasm/binaryen.js")).loadBinaryen();
  if (!(options.verifyOutputs && backend === "wgsl")) return compile(source, options);
  // The WebGPU backend runs asynchronously, so its outputs are verified here.
  const result = compile(source, { ...options, verifyOutputs: false, verify: true });
  if (!result.ok || !result.loweredIr || !result.ir) return result;
  const { program: unoptimized } = runPasses(result.loweredIr, loweringPipeline(), { verify: true });
  const optimized = result.ir;
  const exe = backendNamed(backend, { device: options.device });
  const verification = await verifyOptimizationAsync(unoptimized, optimized, {
    seed: options.verifySeed ?? 1,
    backend: {
      name: "wgsl",
      run: (p, inputs) => (p === optimized ? result.runAsync(inputs) : runOnceAsync(exe.compile(p).executable, inputs)),
    },
  });
  if (!verification.ok) throw new VerificationError(verification);
  return { ...result, verification };
}

/**
 * compileAsync for the `wasm` backend with a disk cache (`options.cache`):
 * tns's encoder builds a module neither this process nor the disk holds.
 * With `optimizeWasm`, binaryen is loaded only for such a module, and then
 * starts loading before the front end runs, unless an earlier process left
 * a hint that this source has a cached module. Null where there is no file
 * system (the caller then compiles as usual).
 *
 *     cached:  parse, check, optimize, lower; read the module
 *     first:   parse, check, optimize, lower; encode; write
 *     first, optimizeWasm: start loading binaryen; parse, ..., lower; encode; optimize; write
 */
async function compileWasmWithDiskCache(source: string, options: CompileOptions): Promise<CompiledProgram | null> {
  const { DiskCache, loadBinaryen, wasmBackendOnDisk } = await import("./backends/wasm/index.js");
  const { programEntry, programKey } = await import("./backends/wasm/program-cache.js");
  const where = typeof options.cache === "object" ? options.cache : {};
  const disk = DiskCache.open(where.directory, where.maxBytes);
  if (disk === null) return null;
  const weights = Object.entries(options.weights ?? {}).map(([name, t]) => [name, t.dtype, t.shape]);
  const sourceKey = JSON.stringify([source, options.file, options.sizes, weights, options.optimize, options.threads, options.runOnce, options.optimizeWasm, options.passes?.map((p) => p.name), options.grad, options.memoryBudget, options.approx, options.maxIntermediateBytes, options.donate]);
  const binaryen = options.optimizeWasm !== true || disk.hasHint(sourceKey) ? null : loadBinaryen();
  // A failed load surfaces where binaryen is awaited; until then it must not count as unhandled.
  binaryen?.catch(() => undefined);
  const wasm = await wasmBackendOnDisk(disk, { threads: options.threads, runOnce: options.runOnce, optimize: options.optimizeWasm });
  const { program: checked, diags, sources } = frontEnd(source, options);
  if (checked === null) return failed(diags, sources);
  const prepared = prepareProgram(checked, options, diags, wasm);
  if (prepared === null) return failed(diags, sources);
  const planned = wasm.plan(prepared.optimized);
  if (planned.needsBinaryen) await (binaryen ?? loadBinaryen());
  const compiled = finishProgram(prepared, options, diags, sources);
  disk.putHint(sourceKey);
  // The whole program's entry (program-cache.ts), which `tns run` reads before loading the compiler; not for weights or options outside its key.
  const keyed = Object.keys(options.weights ?? {}).length === 0 && !options.loader && !options.passes && !options.grad && options.memoryBudget === undefined;
  if (keyed && compiled.ok) {
    const stdlib = defaultStdlibDir();
    const entry = programEntry(disk.moduleHash(planned.key), planned.kernels, sources, options.file ?? "<input>", {
      inputs: compiled.inputs, outputs: compiled.outputs, gatherExtents: gatherIndexExtents(prepared.lowered), diagnostics: compiled.diagnostics,
    }, (file) => diskPath(file, stdlib), (text) => disk.sha256(text));
    if (entry !== null) disk.putProgram(programKey(source, options), entry);
  }
  return compiled;
}

async function runOnceAsync(executable: Executable, inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  try {
    return executable.runAsync ? await executable.runAsync(inputs) : executable.run(inputs);
  } finally {
    executable.dispose?.();
  }
}

/**
 * Compiles an IR program that another front end produced (einsum specs,
 * tools that build IR directly). Diagnostics already reported can be passed in.
 */
export function compileProgram(
  program: Program,
  options: CompileOptions = {},
  diags: DiagnosticBag = new DiagnosticBag(),
  sources: Map<string, string> = new Map(),
): CompiledProgram {
  const backend = backendNamed(options.backend ?? "js", { threads: options.threads, runOnce: options.runOnce, optimizeWasm: options.optimizeWasm, device: options.device });
  if (options.verifyOutputs && backend.name === "wgsl") {
    throw new Error("verifyOutputs on the wgsl backend runs the program asynchronously: use compileAsync()");
  }
  let approximations: readonly Approximation[] = [];
  if (options.approx !== undefined) {
    const requests = approxRequests(program, options.approx, diags);
    if (requests === null) return failed(diags, sources);
    const result = approximateWeights(program, requests);
    program = result.program;
    approximations = result.approximations;
  }
  const prepared = prepareProgram(program, options, diags, backend);
  return prepared === null ? failed(diags, sources) : finishProgram(prepared, options, diags, sources, approximations);
}

/** A program through the passes and the memory plan, ready for its backend. */
interface PreparedProgram {
  readonly lowered: Program;
  readonly optimized: Program;
  readonly log: readonly PassLogEntry[];
  readonly backend: Backend;
  readonly memory: MemoryReport;
}

/** The passes, the memory check and the memory plan (rematerializing under a budget); null after a diagnostic. */
function prepareProgram(program: Program, options: CompileOptions, diags: DiagnosticBag, backend: Backend): PreparedProgram | null {
  const passes = options.passes ?? (options.optimize === false ? loweringPipeline() : defaultPipeline({ backend: backend.name, ...slicingOptions(options) }));
  const verify = options.verify === true || options.verifyOutputs === true;
  let passed: ReturnType<typeof runPasses>;
  try {
    passed = runPasses(program, passes, { verify });
  } catch (error) {
    // A pass that refuses a program it cannot transform (a gradient it cannot form) reports it as a diagnostic.
    if (!(error instanceof CompileError)) throw error;
    for (const d of error.diagnostics) diags.push(d);
    return null;
  }
  const { program: pipedOut, log } = passed;
  let piped = pipedOut;
  const refused = slicingRefused(log);
  if (refused) {
    diags.push(refused);
    return null;
  }
  const donation = donatedInputs(program, options.donate, backend.name);
  if (!donation.ok) {
    diags.push(donation.diagnostic);
    return null;
  }
  if (donation.names.length > 0) piped = { ...piped, donated: donation.names };
  const tooLarge = memoryProblem(piped, options.backend === "reference" ? 8 : null);
  if (tooLarge) {
    diags.push(tooLarge);
    return null;
  }
  const planned = planMemoryWithin(piped, backend, options, verify);
  if (!planned.ok) {
    diags.push(planned.diagnostic);
    return null;
  }
  return { lowered: program, optimized: planned.program, log: [...log, ...planned.log], backend, memory: planned.report };
}

/**
 * The inputs a `donate` option gives up, on a backend that reuses them (js
 * and wasm, whose arena the memory planner lays out), or TNS0703 for a name
 * that is not a run-time input.
 *
 * @example
 * ```ts
 * donatedInputs(program, "all", "wasm"); // { ok: true, names: ["X", "W1", ...] }
 * ```
 */
export function donatedInputs(
  program: Program, donate: readonly string[] | "all" | undefined, backend: string,
): { ok: true; names: string[] } | { ok: false; diagnostic: Diagnostic } {
  const inputs = program.tensors.filter((t) => t.role === "input").map((t) => t.name);
  if (donate === undefined) return { ok: true, names: [] };
  const asked = donate === "all" ? inputs : [...new Set(donate)];
  const unknown = asked.filter((d) => !inputs.includes(d));
  if (unknown.length > 0) {
    return {
      ok: false,
      diagnostic: {
        code: "TNS0703", severity: "error", notes: [],
        message: `cannot donate ${unknown.map((u) => `'${u}'`).join(", ")}: only run-time inputs can be donated`,
        hint: `the program's inputs are: ${inputs.join(", ") || "none"}`,
      },
    };
  }
  return { ok: true, names: backend === "js" || backend === "wasm" ? inputs.filter((i) => asked.includes(i)) : [] };
}

/** What order-contractions needs to know of the compile options to slice contractions. */
function slicingOptions(options: CompileOptions): OrderContractionsOptions {
  return {
    ...(options.maxIntermediateBytes === undefined ? {} : { maxIntermediateBytes: options.maxIntermediateBytes }),
    ...(options.memoryBudget === undefined ? {} : { memoryBudget: options.memoryBudget }),
  };
}

/**
 * TNS0720 when order-contractions left a contraction unsliced although its
 * intermediates exceed the limit (too many slices, or no pairwise path).
 */
export function slicingRefused(log: readonly PassLogEntry[]): Diagnostic | null {
  for (const entry of log) {
    for (const note of entry.notes ?? []) {
      const s = note.slicing;
      if (s === undefined || s.refused === null) continue;
      const largest = Math.max(0, ...note.info.steps.slice(0, -1).map((x) => x.resultSize)) * s.elementBytes;
      return {
        code: "TNS0720", severity: "error", notes: [],
        message: `the contraction of '${note.tensor}' (${note.info.equation}) forms an intermediate of ${largest} bytes, over the limit of ${s.limitBytes} bytes, and cannot be sliced to fit: ${s.refused}`,
        hint: "raise --max-intermediate (maxIntermediateBytes) or the memory budget, or use smaller sizes",
      };
    }
  }
  return null;
}

/** The backend's code and executable for a prepared program, verified when asked. */
function finishProgram(
  p: PreparedProgram, options: CompileOptions, diags: DiagnosticBag, sources: Map<string, string>, approximations: readonly Approximation[] = [],
): CompiledProgram {
  // `compiled.code` may be computed when read (the wasm backend prints its text lazily): it is passed on unread.
  const compiled = p.backend.compile(p.optimized);
  const verification = options.verifyOutputs ? verified(p.lowered, p.optimized, compiled.executable, options) : null;
  return succeeded(p.lowered, p.optimized, p.log, compiled, verification, diags, sources, p.memory, approximations);
}

/**
 * The memory report of a program on a backend and, under `memoryBudget`,
 * the program after the rematerialize pass (logged as a pass).
 */
function planMemoryWithin(
  program: Program, backend: Backend, options: CompileOptions, verify: boolean,
): { ok: true; program: Program; report: MemoryReport; log: PassLogEntry[] } | { ok: false; diagnostic: Diagnostic } {
  const plan = (p: Program): MemoryPlan => backend.memoryPlan?.(p) ?? planMemory(lowerToKernels(p));
  if (options.memoryBudget === undefined) {
    const p = plan(program);
    const report: MemoryReport = {
      peakBytes: p.bytes, budgetBytes: null, unplannedPeakBytes: p.unplannedBytes, plannedPeakBeforeBytes: p.bytes,
      recomputedFlops: 0, solver: { name: "none", status: "no-budget", ms: 0 }, recomputed: [], ...donatedField(program),
    };
    return { ok: true, program, report, log: [] };
  }
  const start = performance.now();
  // Slicing by rows of the batch resumes each reduction's sum in the type the backend's kernel keeps it in.
  const result = rematerialize(program, {
    budgetBytes: options.memoryBudget, plan, timeLimitMs: options.memoryTimeLimitMs, runningSums: (p) => runningSums(p, backend.name),
  });
  if (!result.ok) return { ok: false, diagnostic: result.diagnostic };
  const ms = performance.now() - start;
  if (verify) verifyProgram(result.program);
  const entry: PassLogEntry = { pass: "rematerialize", changed: result.program !== program, ms };
  return { ok: true, program: result.program, report: result.report, log: [entry] };
}

/**
 * Runs the inlined but otherwise unoptimized program and the optimized one on
 * the interpreter, and the backend on the optimized one; throws a
 * {@link VerificationError} past the tolerances.
 */
function verified(lowered: Program, optimized: Program, executable: Executable, options: CompileOptions): Verification {
  const { program: unoptimized } = runPasses(lowered, loweringPipeline(), { verify: true });
  const backend = backendNamed(options.backend ?? "js", { threads: options.threads, runOnce: options.runOnce, optimizeWasm: options.optimizeWasm });
  const verification = verifyOptimization(unoptimized, optimized, {
    seed: options.verifySeed ?? 1,
    backend: {
      name: backend.name,
      // Weights without data get random data, which needs a build of its own.
      run: (p, inputs) => (p === optimized ? executable : backend.compile(p).executable).run(inputs),
    },
  });
  if (!verification.ok) throw new VerificationError(verification);
  return verification;
}

/**
 * Adds the gradients of the scalar `loss` by each input or weight in `wrt`
 * to a checked program, as outputs `grad_<W>` (grad nodes, which the
 * `differentiate` pass expands into one backward program); compile the
 * result with {@link compileProgram}. The API's form of
 * `output grad_W = grad(L, W)`; mistakes are diagnostics and give a null
 * program.
 *
 * @example
 * ```ts
 * const { program } = check("input W[3]\nL = sum(i) W[i] * W[i]\noutput Y[i] = 2 * W[i]");
 * const withGrads = grad(program!, "L", ["W"]).program!;
 * compileProgram(withGrads).run({ W: Tensor.fromArray([1, 2, 3]) }).grad_W.toArray(); // [2, 4, 6]
 * ```
 */
export function grad(program: Program, loss: string, wrt: readonly string[]): { program: Program | null; diagnostics: readonly Diagnostic[] } {
  const diags = new DiagnosticBag();
  const out = addGradients(program, loss, wrt, diags);
  return { program: diags.hasErrors ? null : out, diagnostics: diags.items };
}

/**
 * Parses source text into an AST without checking it.
 *
 * @example
 * ```ts
 * const { module, diagnostics } = parse("input x[4]\noutput y[i] = 2 * x[i]");
 * module.items.length; // 2
 * ```
 */
export function parse(source: string, file = "<input>"): { module: Module; diagnostics: readonly Diagnostic[] } {
  expectSource(source, "parse");
  if (typeof file !== "string") throw new TypeError("parse: the file name must be a string");
  const diags = new DiagnosticBag();
  const module = parseModule(source, file, diags);
  return { module, diagnostics: diags.items };
}

/**
 * Parses and checks source text; returns the lowered IR (null on errors) and the diagnostics.
 *
 * @example
 * ```ts
 * const { program, diagnostics } = check("input x[4]\noutput y[i] = x[j]");
 * program; // null: index 'i' on the left is not bound on the right
 * ```
 */
export function check(
  source: string,
  options: Pick<CompileOptions, "file" | "sizes" | "weights" | "loader"> = {},
): { program: Program | null; diagnostics: readonly Diagnostic[]; sources: ReadonlyMap<string, string> } {
  expectSource(source, "check");
  expectCompileOptions(options, "check", BACKEND_NAMES);
  const file = options.file ?? "<input>";
  const diags = new DiagnosticBag();
  const sources = new Map<string, string>([[file, source]]);
  const module = parseModule(source, file, diags);
  const program = diags.hasErrors
    ? null
    : checkProgram(module, { sizes: options.sizes, weights: options.weights, loader: options.loader }, diags, sources);
  return { program: diags.hasErrors ? null : program, diagnostics: diags.items, sources };
}

function infos(program: Program): { inputs: TensorInfo[]; outputs: TensorInfo[] } {
  const inputs: TensorInfo[] = [];
  const outputs: TensorInfo[] = [];
  for (const t of program.tensors) {
    if (t.role === "input" || t.role === "weight") inputs.push({ name: t.name, shape: t.shape, dtype: t.dtype, role: t.role });
    if (t.output) outputs.push({ name: t.name, shape: t.shape, dtype: t.dtype, role: "output" });
  }
  return { inputs, outputs };
}

function renderer(diagnostics: readonly Diagnostic[], sources: ReadonlyMap<string, string>) {
  return (options: { color?: boolean } = {}) => renderDiagnostics(diagnostics, (f) => sources.get(f), options);
}

function failed(diags: DiagnosticBag, sources: Map<string, string>): CompiledProgram {
  const diagnostics = diags.items;
  const format = renderer(diagnostics, sources);
  return {
    ok: false, diagnostics, sources, loweredIr: null, ir: null, passLog: [], approximations: [], verification: null, memory: null, code: "", inputs: [], outputs: [],
    measuredPeakBytes: () => null,
    run: () => { throw new CompileError(diagnostics, format()); },
    runAsync: () => Promise.reject(new CompileError(diagnostics, format())),
    inputBuffer: () => { throw new CompileError(diagnostics, format()); },
    dispose: () => undefined,
    lastRunGpuNanoseconds: () => null,
    formatDiagnostics: format,
  };
}

function succeeded(
  lowered: Program, optimized: Program, log: readonly PassLogEntry[], compiled: { readonly code: string; readonly executable: Executable },
  verification: Verification | null, diags: DiagnosticBag, sources: Map<string, string>, memory: MemoryReport, approximations: readonly Approximation[],
): CompiledProgram {
  const { executable } = compiled;
  const diagnostics = diags.items;
  const { inputs, outputs } = infos(optimized);
  const buffers = executable.inputBuffer?.bind(executable) ?? keptInputBuffers(inputs.filter((t) => t.role === "input"));
  return {
    ok: true, diagnostics, sources, loweredIr: lowered, ir: optimized, passLog: log, approximations, verification, memory, inputs, outputs,
    get code() { return compiled.code; },
    measuredPeakBytes: () => executable.measuredPeakBytes?.() ?? null,
    run: (given = {}, options = {}) => {
      expectTensorRecord(given, "run: inputs");
      expectRunOptions(options, "run");
      return executable.run(given, options);
    },
    runAsync: async (given = {}, options = {}) => {
      expectTensorRecord(given, "runAsync: inputs");
      expectRunOptions(options, "runAsync");
      return executable.runAsync ? executable.runAsync(given, options) : executable.run(given, options);
    },
    inputBuffer: (name: string) => {
      if (typeof name !== "string") throw new TypeError(`inputBuffer: the name must be a string, got ${typeof name}`);
      return buffers(name);
    },
    dispose: () => executable.dispose?.(),
    lastRunGpuNanoseconds: () => executable.lastGpuNanoseconds?.() ?? null,
    formatDiagnostics: renderer(diagnostics, sources),
  };
}

/** The IR of a compiled program as text (empty when compilation failed). */
export function irText(program: CompiledProgram): string {
  return program.ir ? printProgram(program.ir) : "";
}

/**
 * tns: a declarative tensor language in index notation and its optimizing
 * compiler. This module is the public API.
 *
 * @example
 * ```ts
 * import { compile, einsum, Tensor } from "tns";
 * const prog = compile(`
 *   size n = 2
 *   input A[n, n], x[n]
 *   output y[i] = A[i, j] * x[j]
 * `);
 * prog.run({ A: Tensor.fromArray([[1, 2], [3, 4]]), x: Tensor.fromArray([1, 1]) }).y.toArray(); // [3, 7]
 * einsum("ij,j->i", Tensor.fromArray([[1, 2], [3, 4]]), Tensor.fromArray([1, 1])).toArray(); // [3, 7]
 * ```
 *
 * @packageDocumentation
 */
export { compile, compileAsync, compileProgram, parse, check, grad, irText, approximate } from "./compiler.js";
export type { CompileOptions, CompiledProgram, TensorInfo, ApproximateOutcome } from "./compiler.js";
export { approximateWeights, parseApproxRequests } from "./passes/approximate/index.js";
export type { Approximation, ApproxError, ApproxKind, ApproxRequest, ApproximateResult, RequestError } from "./passes/approximate/index.js";
export { outputErrors, calibrationInputs } from "./passes/approximate/output-error.js";
export { einsum, einsumWith, einsumAsync, parseEinsumSpec, lowerEinsum } from "./einsum/index.js";
export type { EinsumOptions, EinsumSpec, EinsumTerm, EinsumOperand, EinsumLowering } from "./einsum/index.js";
export { Tensor, arrayTypeOf } from "./runtime/tensor.js";
export type { TensorData, NestedNumbers } from "./runtime/tensor.js";
export type { Executable, RunOptions } from "./runtime/executable.js";
export { readNpy, writeNpy } from "./runtime/npy.js";
export { readNpz, writeNpz } from "./runtime/npz.js";
export type { WriteNpzOptions } from "./runtime/npz.js";
export { randomTensor } from "./runtime/random.js";
export { DiagnosticBag, CompileError, InternalCompilerError } from "./diagnostics/diagnostic.js";
export type { Diagnostic, DiagnosticNote, DiagnosticExtras, Span, SourcePos, Severity } from "./diagnostics/diagnostic.js";
export { CATALOG } from "./diagnostics/catalog.js";
export type { DiagnosticCode } from "./diagnostics/catalog.js";
export { renderDiagnostic, renderDiagnostics, formatLocation } from "./diagnostics/render.js";
export type { SourceLookup, RenderOptions } from "./diagnostics/render.js";
export { printProgram } from "./ir/print.js";
export { parseProgramText, IrTextError } from "./ir/parse-text.js";
export type { ParseTextOptions } from "./ir/parse-text.js";
export type { GatherSite } from "./ir/gather.js";
export { verifyProgram } from "./ir/verify.js";
export { interpret } from "./interpret.js";
export type { InterpretOptions } from "./interpret.js";
export type * from "./ir/types.js";
/** The AST that {@link parse} returns: plain immutable data with a source span on every node. */
export type * as ast from "./parser/ast.js";
export type { Module, Item } from "./parser/ast.js";
export type { PassLogEntry } from "./passes/manager.js";
export { VerificationError, verifyOptimization, verifyOptimizationAsync, OPTIMIZATION_TOLERANCE } from "./passes/verify-optimization.js";
export type { Verification, OutputDifference, BackendVerification, AsyncBackendRunner } from "./passes/verify-optimization.js";
export { checkProgram } from "./checker/index.js";
export type { SourceLoader, CheckOptions } from "./checker/index.js";
export { loadBackend, BACKEND_NAMES } from "./backends/index.js";
export type { BackendName, Backend, BackendOptions } from "./backends/index.js";
export {
  wgslBackend, wgslBackendOn, defaultWgslDevice, requestWgslDevice, deviceLimits, emitWgsl, wgslTypeProblems, createWgslRunner, COMPATIBILITY_LIMITS,
} from "./backends/wgsl/index.js";
export type {
  WgslBackendOptions, WgslExecutable, WgslDevice, WgslRunner, WgslData, WgslProgram, WgslDispatch, WgslBuffer, WgslBinding, WgslKernelForm,
  WgslLimits, EmitWgslOptions,
} from "./backends/wgsl/index.js";
export { emitWgslModule } from "./backends/wgsl/module.js";
export type { WgslModuleFiles, WgslModuleManifest } from "./backends/wgsl/module.js";
export { VERSION } from "./version.js";
export { contractPath, contractionPath, contractionPathInfo, printPathInfo, PATH_FINDERS } from "./passes/contraction-path/index.js";
export type { Slicing } from "./passes/contraction-path/index.js";
export type { ChunkedSlicing } from "./passes/contraction-path/slicing.js";
export { einsumSliced } from "./einsum/sliced.js";
export type { SlicedEinsumOptions } from "./einsum/sliced.js";
export type { ContractPathOptions, ContractPathResult, OptimizeName, PathInfo, PathStepInfo, TensorNetwork, ContractionPath, PathOptions } from "./passes/contraction-path/index.js";
export { rematerialize, rematerializePass, donateInputsPass, loadMilpSolver, milpSolverLoaded, heldAtEndBytes } from "./passes/rematerialize.js";
export type { MemoryReport, SolverReport, Recomputation, RematerializeOptions, RematResult } from "./passes/rematerialize.js";
export { planMemory, bufferLifetimes } from "./backends/kernel/memory-plan.js";
export type { MemoryPlan, BufferLifetime, InPlaceUpdate, PeakKernel } from "./backends/kernel/memory-plan.js";
/**
 * What `tns explain` reports, as data and text, and its drawing (`--svg`): what
 * each pass did and what it cost, the contraction paths, the memory plan.
 * Importable without Node (the playground runs them in the page).
 */
export { explainProgram, explainWithin } from "./explain.js";
export { printExplainReport } from "./cli/commands/explain.js";
export type { ExplainOptions } from "./explain.js";
export { explainSvg } from "./cli/commands/explain-svg.js";
export type { ExplainReport, ExplainedPass, ExplainedContraction, CostSummary, DiffLine, IrMode } from "./explain-report.js";

// What the signatures above mention, so that the API reference documents
// every type and constant it links to.
export type { Pass } from "./passes/pass.js";
export type { ProgramCost, TensorCost, IntermediateSize, PeakMemory, TensorKernel, WasmKernel } from "./passes/cost.js";
export { WASM_RATES } from "./passes/cost.js";
export type { PathFinder } from "./passes/contraction-path/finder.js";
export type { InternedNetwork, LabelSet } from "./passes/contraction-path/network.js";
export type { Derivation, PassNote, ProgramSlicing } from "./passes/manager.js";
/** The kernel IR that {@link bufferLifetimes} reads: each def as a loop nest. */
export type * as kernel from "./backends/kernel/types.js";
export type { OnlineSoftmaxForm, BlockedAttention } from "./backends/kernel/types.js";
export type { ContractionStep } from "./passes/contraction-path/network.js";
export type { MemoryPlanOptions } from "./backends/kernel/memory-plan.js";
export { ARENA_ALIGNMENT } from "./backends/kernel/memory-plan.js";
export type { VerifyOptimizationOptions, BackendRunner } from "./passes/verify-optimization.js";
export { verificationInputs } from "./passes/verify-optimization.js";
export { REMAT_TIME_LIMIT_MS } from "./passes/rematerialize.js";
export { solveMilp } from "./passes/remat/solver.js";
export type { MilpResult, MilpStatus, MilpProblem, MilpColumn, MilpRow } from "./passes/remat/solver.js";

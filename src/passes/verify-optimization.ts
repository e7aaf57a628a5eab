/**
 * Translation validation of the optimizer: the unoptimized program and the
 * optimized one run on the reference interpreter with the same seeded random
 * inputs (and random weights where weight data is missing), and every output
 * is compared. The interpreter computes in float64, so a sound rewrite
 * (reassociating a sum, splitting a contraction) moves an output by a few
 * float64 roundings; anything past {@link OPTIMIZATION_TOLERANCE} means a
 * rewrite changed what the program computes.
 *
 * The backend's output for the optimized program is compared with the
 * interpreter's too, within {@link backendTolerance} (a backend stores f32
 * and i32 values in their type; the interpreter does not round).
 *
 * A failed check is a bug in tns, not in the user's program, so it is a
 * {@link VerificationError} (an `InternalCompilerError`), never a diagnostic.
 *
 * ```text
 * before (unoptimized)            after (optimized)
 * y[i] = sum(j) A[i, j] * x[j]    y[i] = sum(j) x[j] * A[i, j]
 * interpret(before) vs interpret(after): y max |Δ| 0 (rel 0)
 * ```
 */
import { InternalCompilerError } from "../diagnostics/diagnostic.js";
import { interpret } from "../ir/interpret.js";
import type { Program, TensorNode } from "../ir/types.js";
import { randomTensor } from "../runtime/random.js";
import { gatherIndexExtents } from "../ir/gather.js";
import type { Tensor } from "../runtime/tensor.js";

/** Largest allowed relative difference between the unoptimized and the optimized program (both in float64). */
export const OPTIMIZATION_TOLERANCE = 1e-6;

/** How far one output of a program is from the same output of the program it is checked against. */
export interface OutputDifference {
  readonly name: string;
  /** Largest `|got - want|` over the elements (Infinity when a non-finite value differs). */
  readonly maxAbsDiff: number;
  /** `maxAbsDiff` over the largest finite `|want|` (or absolute when `want` is all zeros). */
  readonly maxRelDiff: number;
}

/** The backend's outputs against the reference interpreter, both on the optimized program. */
export interface BackendVerification {
  readonly backend: string;
  readonly outputs: readonly OutputDifference[];
  readonly maxRelDiff: number;
  readonly tolerance: number;
  readonly ok: boolean;
}

/**
 * The result of {@link verifyOptimization}: the optimized program against the
 * unoptimized one on the interpreter, and (when a backend was given) the
 * backend against the interpreter.
 */
export interface Verification {
  readonly outputs: readonly OutputDifference[];
  readonly maxRelDiff: number;
  readonly tolerance: number;
  /** Whether both comparisons are within their tolerances. */
  readonly ok: boolean;
  /** Seed of the random inputs and weights. */
  readonly seed: number;
  readonly backend: BackendVerification | null;
}

/** How to run the compiled program: a backend's name and a runner for a program with every weight bound. */
export interface BackendRunner {
  readonly name: string;
  /** Runs `program` (every weight bound) on `inputs`; returns its outputs by name. */
  run(program: Program, inputs: Record<string, Tensor>): Record<string, Tensor>;
}

/** Options of {@link verifyOptimization}. */
export interface VerifyOptimizationOptions {
  /** Seed of the random inputs and weights (default 1). */
  readonly seed?: number;
  /** Also compare this backend's outputs for the optimized program with the interpreter's. */
  readonly backend?: BackendRunner;
}

/**
 * A verification that failed: thrown by `compile` with `verify` on. Carries
 * the whole report.
 *
 * @example
 * ```ts
 * try { compile(source, { verify: true }); } catch (e) { if (e instanceof VerificationError) e.verification.outputs; }
 * ```
 */
export class VerificationError extends InternalCompilerError {
  constructor(readonly verification: Verification) {
    super(failureText(verification));
    this.name = "VerificationError";
  }
}

/**
 * Seeded random data for every input, and for every weight without data, of
 * `program` (by name, so a program derived from it gets the same values).
 * Uniform in [-1, 1) for floats, integers in [-8, 8) for i32.
 *
 * @example
 * ```ts
 * const data = verificationInputs(program, 1);
 * interpret(program, data);
 * ```
 */
export function verificationInputs(program: Program, seed: number): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  // An i32 tensor that indexes a gather gets valid indices.
  const extents = gatherIndexExtents(program);
  program.tensors.forEach((t, k) => {
    if (t.role === "input") out[t.name] = randomTensor(t.shape, t.dtype, seed * 7919 + 1000 + k, extents.get(t.name));
    if (t.role === "weight" && t.data === null) out[t.name] = randomTensor(t.shape, t.dtype, seed * 7919 + k, extents.get(t.name));
  });
  return out;
}

/**
 * The largest absolute and relative difference of `got` from `want`. Values
 * where `want` is not finite must match exactly (NaN matches NaN).
 *
 * @example
 * ```ts
 * outputDifference("y", [1, 2.5], [1, 2]); // { name: "y", maxAbsDiff: 0.5, maxRelDiff: 0.25 }
 * ```
 */
export function outputDifference(name: string, got: ArrayLike<number>, want: ArrayLike<number>): OutputDifference {
  if (got.length !== want.length) return { name, maxAbsDiff: Infinity, maxRelDiff: Infinity };
  let scale = 0;
  let abs = 0;
  for (let k = 0; k < want.length; k++) {
    const w = want[k]!;
    const g = got[k]!;
    if (Number.isFinite(w)) {
      scale = Math.max(scale, Math.abs(w));
      // `|g - w| > abs` is false for NaN, so an unexpected NaN is caught here.
      abs = Number.isNaN(g) ? Infinity : Math.max(abs, Math.abs(g - w));
    } else if (!Object.is(g, w) && !(Number.isNaN(g) && Number.isNaN(w))) {
      abs = Infinity;
    }
  }
  return { name, maxAbsDiff: abs, maxRelDiff: scale === 0 ? abs : abs / scale };
}

/**
 * Runs `unoptimized` and `optimized` on the reference interpreter with the
 * same seeded random data ({@link verificationInputs}) and compares every
 * output of `unoptimized`; with `options.backend`, also runs the optimized
 * program on it and compares with the interpreter. Returns the report; never
 * throws on a mismatch (see {@link VerificationError}).
 *
 * @example
 * ```ts
 * const v = verifyOptimization(inlineAllCalls(lowered), optimized, { seed: 1 });
 * v.ok; // true unless a pass changed what the program computes
 * ```
 */
export function verifyOptimization(unoptimized: Program, optimized: Program, options: VerifyOptimizationOptions = {}): Verification {
  const run = referenceRuns(unoptimized, optimized, options.seed ?? 1);
  const got = options.backend ? options.backend.run(run.bound, run.inputs) : null;
  return finishVerification(run, options.backend?.name ?? null, got);
}

/** {@link BackendRunner} for a backend that runs asynchronously (WebGPU). */
export interface AsyncBackendRunner {
  readonly name: string;
  /** Runs `program` (every weight bound) on `inputs`; resolves with its outputs by name. */
  run(program: Program, inputs: Record<string, Tensor>): Promise<Record<string, Tensor>>;
}

/**
 * {@link verifyOptimization} with a backend that runs asynchronously.
 *
 * @example
 * ```ts
 * const v = await verifyOptimizationAsync(unoptimized, optimized, { backend: { name: "wgsl", run: (p, x) => exe.runAsync!(x) } });
 * ```
 */
export async function verifyOptimizationAsync(
  unoptimized: Program, optimized: Program, options: { readonly seed?: number; readonly backend?: AsyncBackendRunner } = {},
): Promise<Verification> {
  const run = referenceRuns(unoptimized, optimized, options.seed ?? 1);
  const got = options.backend ? await options.backend.run(run.bound, run.inputs) : null;
  return finishVerification(run, options.backend?.name ?? null, got);
}

/** The interpreter's runs both comparisons need, and the data they ran on. */
interface ReferenceRuns {
  readonly seed: number;
  readonly bound: Program;
  /** The run-time inputs of `bound`. */
  readonly inputs: Record<string, Tensor>;
  readonly reference: Record<string, Tensor>;
  readonly names: readonly string[];
  readonly outputs: readonly OutputDifference[];
}

function referenceRuns(unoptimized: Program, optimized: Program, seed: number): ReferenceRuns {
  const data = verificationInputs(unoptimized, seed);
  const want = interpret(unoptimized, data);
  const names = unoptimized.tensors.filter((t) => t.output).map((t) => t.name);
  const bound = bindWeights(optimized, data);
  const reference = interpret(bound, data);
  const outputs = names.map((n) => differenceOf(n, reference[n], want[n]!));
  const inputs: Record<string, Tensor> = {};
  for (const t of bound.tensors) if (t.role === "input") inputs[t.name] = data[t.name]!;
  return { seed, bound, inputs, reference, names, outputs };
}

function finishVerification(run: ReferenceRuns, backendName: string | null, got: Record<string, Tensor> | null): Verification {
  const maxRelDiff = largest(run.outputs);
  const backend = backendName !== null && got ? verifyBackend(backendName, run.bound, got, run.reference, run.names) : null;
  const ok = maxRelDiff <= OPTIMIZATION_TOLERANCE && (backend?.ok ?? true);
  return { outputs: run.outputs, maxRelDiff, tolerance: OPTIMIZATION_TOLERANCE, ok, seed: run.seed, backend };
}

/**
 * The tolerance of a backend against the interpreter: 1e-4 relative when the
 * program stores anything as f32 or i32 (one f32 rounding per stored value
 * compounds through a chain of defs), 1e-9 when everything is f64.
 *
 * @example
 * ```ts
 * backendTolerance(program); // 1e-4 for a program with an f32 tensor
 * ```
 */
export function backendTolerance(program: Program): number {
  return program.tensors.some((t) => t.dtype !== "f64") ? 1e-4 : 1e-9;
}

/**
 * One line per output, as the CLI prints them.
 *
 * @example
 * ```ts
 * verificationLines(v); // ["verify: y max |Δ| 3.1e-8 (rel 2.0e-9) vs -O0 (reference); backend js vs reference rel 4.0e-7"]
 * ```
 */
export function verificationLines(v: Verification): string[] {
  return v.outputs.map((o) => {
    const b = v.backend?.outputs.find((x) => x.name === o.name);
    const tail = b && v.backend ? `; backend ${v.backend.backend} vs reference rel ${sci(b.maxRelDiff)}` : "";
    return `verify: ${o.name} max |Δ| ${sci(o.maxAbsDiff)} (rel ${sci(o.maxRelDiff)}) vs -O0 (reference)${tail}`;
  });
}

function verifyBackend(
  name: string, program: Program, got: Record<string, Tensor>, reference: Record<string, Tensor>, names: readonly string[],
): BackendVerification {
  // A backend stores each output in its element type; the interpreter does not round.
  const dtypes = new Map(program.tensors.map((t) => [t.name, t.dtype]));
  const outputs = names.map((n) => differenceOf(n, got[n], reference[n]!.astype(dtypes.get(n) ?? "f64")));
  const maxRelDiff = largest(outputs);
  const tolerance = backendTolerance(program);
  return { backend: name, outputs, maxRelDiff, tolerance, ok: maxRelDiff <= tolerance };
}

/** The program with the random data bound to every weight that had none. */
function bindWeights(program: Program, data: Record<string, Tensor>): Program {
  if (!program.tensors.some((t) => t.role === "weight" && t.data === null)) return program;
  const tensors = program.tensors.map((t): TensorNode => {
    if (t.role !== "weight" || t.data !== null || data[t.name] === undefined) return t;
    return { ...t, data: Float64Array.from(data[t.name]!.data) };
  });
  return { ...program, tensors };
}

function differenceOf(name: string, got: Tensor | undefined, want: Tensor): OutputDifference {
  return got === undefined ? { name, maxAbsDiff: Infinity, maxRelDiff: Infinity } : outputDifference(name, got.data, want.data);
}

function largest(outputs: readonly OutputDifference[]): number {
  return outputs.reduce((m, o) => (Number.isNaN(o.maxRelDiff) ? Infinity : Math.max(m, o.maxRelDiff)), 0);
}

function sci(x: number): string {
  return Number.isFinite(x) ? x.toExponential(1) : String(x);
}

function failureText(v: Verification): string {
  const bad = v.outputs.filter((o) => !(o.maxRelDiff <= v.tolerance));
  const parts = bad.map((o) => `${o.name} max |Δ| ${sci(o.maxAbsDiff)} (rel ${sci(o.maxRelDiff)} > ${sci(v.tolerance)})`);
  const lines: string[] = [];
  if (parts.length > 0) {
    lines.push(`the optimized program computes something else than the unoptimized one on the reference interpreter (seed ${v.seed}): ${parts.join(", ")}`);
  }
  const b = v.backend;
  if (b && !b.ok) {
    const off = b.outputs.filter((o) => !(o.maxRelDiff <= b.tolerance)).map((o) => `${o.name} rel ${sci(o.maxRelDiff)} > ${sci(b.tolerance)}`);
    lines.push(`the ${b.backend} backend disagrees with the reference interpreter on the optimized program (seed ${v.seed}): ${off.join(", ")}`);
  }
  return lines.join("; ");
}

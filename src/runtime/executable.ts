/**
 * What every backend's compiled program shares: the {@link Executable}
 * interface, the checks of the inputs a caller passes, and the arena's
 * high-water mark. Mistakes in the inputs are reported as diagnostics
 * (TNS0601 missing input, TNS0602 shape mismatch, TNS0606 unknown name,
 * TNS0603 weight without data, TNS0607 a run while an asynchronous one is
 * in flight) inside a thrown {@link CompileError}. Each backend builds its
 * executables (backends/js/executable.ts, backends/wasm/load.ts, ...).
 */
import type { DiagnosticCode } from "../diagnostics/catalog.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { CompileError } from "../diagnostics/diagnostic.js";
import { type DType, numel, type Program } from "../ir/types.js";
import { Tensor, arrayTypeOf } from "./tensor.js";

/**
 * A compiled program, ready to run.
 *
 * @example
 * ```ts
 * const out = executable.run({ A: Tensor.fromArray([[1, 2], [3, 4]]) });
 * out["S"].toArray(); // [3, 7]
 * ```
 */
export interface Executable {
  /** Runs the program on inputs by name; see {@link RunOptions} for how outputs come back. */
  run(inputs?: Record<string, Tensor>, options?: RunOptions): Record<string, Tensor>;
  /**
   * The storage of input `name` inside the executable, as a tensor of the
   * input's type and shape: fill its data and pass it to `run` under that
   * name, and `run` copies nothing for it. The same tensor every time; its
   * contents stay as written across runs. Absent on backends without
   * storage of their own (the reference interpreter).
   *
   * @throws CompileError (TNS0606) for a name that is not an input
   */
  inputBuffer?(name: string): Tensor;
  /**
   * `run` for a thread that may not block, such as a browser page's main
   * thread: a threaded WebAssembly module runs its split kernels on its
   * workers and awaits them rather than blocking (where `run` would keep
   * to the calling thread). One run at a time: another `run` or `runAsync`
   * before this one settles throws TNS0607. Absent where `run` never
   * waits for other threads.
   */
  runAsync?(inputs?: Record<string, Tensor>, options?: RunOptions): Promise<Record<string, Tensor>>;
  /**
   * Releases what the executable holds beyond memory (the worker threads of
   * a threaded WebAssembly module); a later `run` acquires it again. During
   * a `runAsync` it takes effect when that run settles. Absent where there
   * is nothing to release.
   */
  dispose?(): void;
  /**
   * Nanoseconds the last run's kernels took on the GPU (the wgsl backend,
   * where the adapter offers timestamp queries), else null. Absent on
   * backends that run on the CPU.
   */
  lastGpuNanoseconds?(): number | null;
  /**
   * The arena's high-water mark in bytes, measured by the last run made with
   * `measureMemory` (null before one): inputs and weights, and the highest
   * byte of the arena that run wrote. Absent on backends without an arena.
   */
  measuredPeakBytes?(): number | null;
}

/** How {@link Executable.run} hands back its outputs. */
export interface RunOptions {
  /**
   * `"copy"` (the default): every output is a fresh array that the caller
   * owns. `"view"`: outputs share the executable's own storage (on the wasm
   * backend, views into the module's memory), so nothing is allocated or
   * copied; their values hold until the next run, which overwrites them.
   *
   * @example
   * ```ts
   * const A = exe.inputBuffer!("A");
   * A.data.set(rowsOfA);                      // written in place, once
   * const { C } = exe.run({ A, B }, { outputs: "view" });
   * C.data[0];                                // read before the next run
   * ```
   */
  readonly outputs?: "copy" | "view";
  /**
   * Measure how much of the arena this run uses: the executable fills the
   * arena's free part with a marker byte first and, after the run, finds
   * the highest byte that changed; {@link Executable.measuredPeakBytes}
   * then reports it (plus the inputs and weights below it). Costs a pass
   * over the arena before and after the run.
   */
  readonly measureMemory?: boolean;
}

/** The byte the arena is filled with before a measured run (see {@link RunOptions.measureMemory}). */
export const ARENA_MARKER = 0xa5;

/**
 * The arena's high-water mark after a measured run: `base` plus one past the
 * highest byte of `bytes` that no longer holds {@link ARENA_MARKER} (`base`
 * when none changed).
 *
 * @example
 * ```ts
 * const b = new Uint8Array(64).fill(ARENA_MARKER); b[20] = 1;
 * arenaHighWater(b, 100); // 121
 * ```
 */
export function arenaHighWater(bytes: Uint8Array, base: number): number {
  for (let k = bytes.length - 1; k >= 0; k--) if (bytes[k] !== ARENA_MARKER) return base + k + 1;
  return base;
}

/** The name, element type and shape a run-time input must have. */
export interface InputSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

const diag = (code: DiagnosticCode, message: string, hint?: string): Diagnostic =>
  hint === undefined ? { code, severity: "error", message, notes: [] } : { code, severity: "error", message, notes: [], hint };

const showShape = (s: readonly number[]): string => `[${s.join(", ")}]`;

/**
 * Checks given inputs against the expected ones, throwing a {@link CompileError}
 * that lists every problem.
 *
 * @example
 * ```ts
 * checkInputs([{ name: "A", dtype: "f32", shape: [2] }], {}); // throws: TNS0601 missing input 'A'
 * ```
 */
export function checkInputs(specs: readonly InputSpec[], inputs: Readonly<Record<string, Tensor>>): void {
  const problems: Diagnostic[] = [];
  const known = new Set(specs.map((s) => s.name));
  const names = specs.map((s) => s.name).join(", ") || "none";
  for (const name of Object.keys(inputs)) {
    if (!known.has(name)) problems.push(diag("TNS0606", `unknown input '${name}'`, `the program's inputs are: ${names}`));
  }
  for (const s of specs) {
    const t = inputs[s.name];
    if (t === undefined) {
      problems.push(diag("TNS0601", `missing input '${s.name}' of shape ${showShape(s.shape)}`, `the program's inputs are: ${names}`));
    } else if (t.shape.length !== s.shape.length || t.shape.some((d, k) => d !== s.shape[k])) {
      problems.push(diag("TNS0602", `input '${s.name}' has shape ${showShape(t.shape)}, expected ${showShape(s.shape)}`));
    }
  }
  if (problems.length > 0) throw new CompileError(problems);
}

/**
 * {@link checkInputs} for the input nodes of a program.
 *
 * @example
 * ```ts
 * checkRunInputs(program, { Q, K, V }); // returns, or throws a CompileError
 * ```
 */
export function checkRunInputs(program: Program, inputs: Readonly<Record<string, Tensor>>): void {
  const specs = program.tensors.filter((t) => t.role === "input").map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape }));
  checkInputs(specs, inputs);
}

/**
 * The spec of input `name`, or a {@link CompileError} (TNS0606) naming the
 * inputs there are.
 *
 * @example
 * ```ts
 * inputSpec([{ name: "A", dtype: "f32", shape: [2] }], "A").shape; // [2]
 * ```
 */
export function inputSpec<S extends InputSpec>(specs: readonly S[], name: string): S {
  const spec = specs.find((s) => s.name === name);
  if (spec === undefined) {
    const names = specs.map((s) => s.name).join(", ") || "none";
    throw new CompileError([diag("TNS0606", `unknown input '${name}'`, `the program's inputs are: ${names}`)]);
  }
  return spec;
}

/**
 * `inputBuffer` for an executable that reads its inputs where the caller
 * keeps them: one zeroed tensor per input, made on first use and then the
 * same every time.
 *
 * @example
 * ```ts
 * const inputBuffer = keptInputBuffers([{ name: "x", dtype: "f32", shape: [4] }]);
 * inputBuffer("x") === inputBuffer("x"); // true
 * ```
 */
export function keptInputBuffers(specs: readonly InputSpec[]): (name: string) => Tensor {
  const made = new Map<string, Tensor>();
  return (name) => {
    const spec = inputSpec(specs, name);
    let t = made.get(name);
    if (t === undefined) {
      t = new Tensor(spec.dtype, spec.shape, new (arrayTypeOf(spec.dtype))(numel(spec.shape)));
      made.set(name, t);
    }
    return t;
  };
}


/** Name, shape and element type of a program input or output. */
export interface TensorInfo {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly role: "input" | "weight" | "output";
}

/**
 * TNS0702: `inputBuffer` of a donated input. The executable writes over a
 * donated input's storage during a run, so it cannot hand it out as a
 * buffer whose contents stay as written.
 *
 * @example
 * ```ts
 * throw new CompileError([donatedInputBuffer("W1")]);
 * ```
 */
export function donatedInputBuffer(name: string): Diagnostic {
  return diag("TNS0702", `input '${name}' is donated: its storage is reused during a run, so it has no input buffer of its own`,
    "pass the input's data to run() each time, or compile without donating it (the `donate` option)");
}

/**
 * Runs a compiled WebAssembly module: the memory is created at the arena's
 * size, weights are copied in once (those the module keeps in column panels
 * rearranged so, panels.ts), and every run copies the inputs in,
 * calls `run` and copies the outputs out into fresh typed arrays:
 *
 *     const exe = loadWasm(emitWasm(binaryen, kp), kp);
 *     exe.run({ A, B }).C;   // a Tensor
 *
 * Without copies: `exe.inputBuffer("A")` is a tensor over A's place in the
 * memory (a run copies nothing for it), and `run(inputs, { outputs: "view"
 * })` returns tensors over the outputs' places, valid until the next run.
 * The memory never grows, so these views stay attached.
 *
 * A module built for threads (`art.threads` > 1) gets a shared memory and,
 * given a thread host, runs kernel by kernel: the split ones on a
 * {@link WorkerPool}, the others on the calling thread. Starting workers
 * blocks the calling thread for milliseconds, more than a one-off run of a
 * mid-sized product gains, so the pool starts on the second run, or on the
 * first when its split kernels do at least {@link START_AT_ONCE_FLOPS}
 * operations; until then split kernels run whole on the calling thread.
 * `dispose()` stops the workers (a later run starts them again); they are
 * also stopped when the executable is collected.
 */
import { CompileError, InternalCompilerError } from "../../diagnostics/diagnostic.js";
import { gatherRangeError } from "../../ir/gather.js";
import { ARENA_MARKER, arenaHighWater, checkInputs, donatedInputBuffer, type Executable, inputSpec, type RunOptions } from "../../runtime/executable.js";
import { Tensor, arrayTypeOf } from "../../runtime/tensor.js";
import type { KernelProgram } from "../kernel/types.js";
import type { WasmArtifact } from "./emit.js";
import { packPanels } from "./panels.js";
import { type ThreadHost, WorkerPool } from "./threads.js";
import { otherThreadsRun } from "./v8-tiering.js";

/** The few parts of the WebAssembly JavaScript API used here (the Node typings omit them). */
interface WasmMemory { readonly buffer: ArrayBuffer }
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum: number; shared?: boolean }) => WasmMemory;
}

const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Host implementations of the functions a module imports from `env`. */
const HOST_MATH: Readonly<Record<string, (...xs: number[]) => number>> = {
  exp: Math.exp, log: Math.log, tanh: Math.tanh, pow: Math.pow,
  sin: Math.sin, cos: Math.cos, tan: Math.tan, atan: Math.atan, log1p: Math.log1p, expm1: Math.expm1, atan2: Math.atan2,
};

/** Compiled modules by artifact, so an artifact from the module cache compiles once. */
const compiled = new WeakMap<WasmArtifact, object>();

function compiledModule(art: WasmArtifact): object {
  let mod = compiled.get(art);
  if (!mod) {
    mod = new WA.Module(art.binary);
    compiled.set(art, mod);
  }
  return mod;
}

/** The memory of a module: shared (and never grown, so its maximum is its size) for a module built for threads. */
function createMemory(pages: number, shared: boolean): WasmMemory {
  try {
    return new WA.Memory(shared ? { initial: pages, maximum: pages, shared } : { initial: pages, maximum: 65536 });
  } catch (e) {
    throw new CompileError([{
      code: "TNS0901", severity: "error", notes: [],
      message: `cannot allocate ${(pages / 16384).toFixed(2)} GiB of WebAssembly memory: ${(e as Error).message}`,
      hint: "use the js backend, or smaller sizes",
    }]);
  }
}

/** What loading a module needs of its kernel program: the buffers (with the weights' data), the outputs and the donated inputs. */
export type LoadedProgram = Pick<KernelProgram, "buffers" | "outputs" | "donated">;

/**
 * An {@link Executable} for a compiled module; `host` runs the split kernels
 * of a module built for threads (without one, it runs on the calling thread),
 * starting its workers on the first run when the split kernels do at least
 * `startAtOnceFlops` operations, else on the second.
 *
 * @throws InternalCompilerError when the module does not instantiate
 * @example
 * ```ts
 * const kp = lowerToKernels(program);
 * const exe = loadWasm(emitWasm(await loadBinaryen(), kp), kp);
 * exe.run({ A: Tensor.fromArray([[1, 2, 3], [4, 5, 6]]) });
 * ```
 */
export function loadWasm(
  art: WasmArtifact, kp: LoadedProgram, host: ThreadHost | null = null, startAtOnceFlops: number = START_AT_ONCE_FLOPS,
): Executable {
  const memory = createMemory(art.pages, art.threads > 1);
  let run: () => void;
  let threaded: ThreadedRun | null = null;
  try {
    const env: Record<string, unknown> = { memory };
    for (const f of art.imports) env[f] = HOST_MATH[f];
    const instance = new WA.Instance(compiledModule(art), { env });
    run = instance.exports["run"] as () => void;
    if (art.threads > 1 && host !== null) threaded = new ThreadedRun(art, instance.exports, memory, host, startAtOnceFlops);
  } catch (e) {
    throw new InternalCompilerError(`emitted WebAssembly does not instantiate: ${(e as Error).message}`);
  }
  // The memory never grows (it is created at the arena's size), so views into it stay valid: made once, here.
  const views = new Map(kp.buffers.map((b) => [b.name, new (arrayTypeOf(b.dtype))(memory.buffer, art.layout.offsets.get(b.name)!, b.size)]));
  const specs = kp.buffers.filter((b) => b.role === "input");
  const donated = new Set(kp.donated ?? []);
  const outputs = kp.outputs.map((name) => ({ buffer: kp.buffers.find((x) => x.name === name)!, view: views.get(name)! }));
  const inputBuffers = new Map(specs.map((b) => [b.name, new Tensor(b.dtype, b.shape, views.get(b.name)!)]));
  const outputViews = Object.fromEntries(outputs.map(({ buffer: b, view }) => [b.name, new Tensor(b.dtype, b.shape, view)]));
  const missingWeights: string[] = [];
  const panels = new Map(art.panels.map((w) => [w.name, w]));
  for (const b of kp.buffers) {
    if (b.role !== "weight") continue;
    const inPanels = panels.get(b.name);
    if (!b.data) missingWeights.push(b.name);
    else if (inPanels) packPanels(b.data, inPanels.k, inPanels.l, views.get(b.name)!);
    else views.get(b.name)!.set(b.data);
  }
  /** Set while an asynchronous run is in flight: the memory and the control block are in use. */
  let inFlight = false;
  /** A `dispose()` that came while a run was in flight, carried out when it settles (stopping workers mid-job would strand their units). */
  let disposeAfterRun = false;
  const refuseWhileInFlight = (): void => {
    if (!inFlight) return;
    throw new CompileError([{
      code: "TNS0607", severity: "error", notes: [],
      message: "this executable is still running (an asynchronous run has not finished)",
      hint: "await the promise that runAsync returned before running it again",
    }]);
  };
  /** Checks the weights and inputs, then writes the inputs into the memory (nothing for an input passed as its `inputBuffer`). */
  const prepare = (inputs: Record<string, Tensor>): void => {
    refuseWhileInFlight();
    if (missingWeights.length > 0) {
      throw new CompileError(missingWeights.map((w) => ({
        code: "TNS0603" as const, severity: "error" as const, notes: [],
        message: `weight '${w}' has no data`, hint: "pass it with --weights FILE.npz or the `weights` option",
      })));
    }
    checkInputs(specs, inputs);
    for (const s of specs) {
      const view = views.get(s.name)!;
      const data = inputs[s.name]!.data;
      if (data === view) continue;
      // The input's place is also a buffer handed out by `inputBuffer`: its contents stay as the caller wrote them.
      if (handedOut.has(s.name)) {
        const saved = savedInputs.get(s.name) ?? new (arrayTypeOf(s.dtype))(s.size);
        saved.set(view);
        savedInputs.set(s.name, saved);
        toRestore.push(s.name);
      }
      view.set(data);
    }
  };
  /** Puts back the contents of the handed-out input buffers that a run's other inputs displaced. */
  const restoreInputs = (): void => {
    for (const name of toRestore) views.get(name)!.set(savedInputs.get(name)!);
    toRestore.length = 0;
  };
  /** Inputs whose `inputBuffer` was handed out, with a copy of a buffer's contents while another tensor takes its place. */
  const handedOut = new Set<string>();
  const savedInputs = new Map<string, Float32Array | Float64Array | Int32Array>();
  const toRestore: string[] = [];
  const results = (options: RunOptions): Record<string, Tensor> => {
    if (options.outputs === "view") return { ...outputViews };
    const out: Record<string, Tensor> = {};
    for (const { buffer: b, view } of outputs) {
      // A typed array built from the view copies it: 0.4 ms for 4 MB where `slice()` took 0.6 to 0.7 (Node 20).
      out[b.name] = new Tensor(b.dtype, b.shape, new (arrayTypeOf(b.dtype))(view));
    }
    return out;
  };
  let measured: number | null = null;
  /** The memory above the inputs and weights, filled with the marker before a measured run (see RunOptions.measureMemory). */
  const markFree = (options: RunOptions): Uint8Array | null => {
    if (!options.measureMemory) return null;
    const base = art.layout.persistentBytes;
    // The gather status past the arena is not arena (and must stay zero).
    return new Uint8Array(memory.buffer, base, (art.gather?.status ?? memory.buffer.byteLength) - base).fill(ARENA_MARKER);
  };
  const measure = (free: Uint8Array | null): void => {
    if (free) measured = arenaHighWater(free, art.layout.persistentBytes);
    checkGathers();
  };
  /** Raises the out-of-range gather index a run recorded (emit-expr.ts), and clears the record. */
  const gatherStatus = art.gather ? new Int32Array(memory.buffer, art.gather.status, 2) : null;
  const checkGathers = (): void => {
    if (gatherStatus === null || gatherStatus[0] === 0) return;
    const [site, index] = [gatherStatus[0]!, gatherStatus[1]!];
    gatherStatus.fill(0);
    throw gatherRangeError(art.gather!.sites[site - 1]!, index);
  };
  const executable: Executable = {
    run(inputs: Record<string, Tensor> = {}, options: RunOptions = {}): Record<string, Tensor> {
      // Marked before the inputs are written: a donated input lies above the inputs that are kept.
      const free = markFree(options);
      prepare(inputs);
      try {
        if (threaded) threaded.run();
        else run();
        measure(free);
        return results(options);
      } finally {
        restoreInputs();
      }
    },
    async runAsync(inputs: Record<string, Tensor> = {}, options: RunOptions = {}): Promise<Record<string, Tensor>> {
      refuseWhileInFlight();
      const free = markFree(options);
      prepare(inputs);
      if (!threaded) {
        try {
          run();
          measure(free);
          return results(options);
        } finally {
          restoreInputs();
        }
      }
      inFlight = true;
      const done = otherThreadsRun();
      try {
        await threaded.runAsync();
      } finally {
        done();
        restoreInputs();
        inFlight = false;
        if (disposeAfterRun) {
          disposeAfterRun = false;
          threaded.dispose();
        }
      }
      measure(free);
      return results(options);
    },
    measuredPeakBytes: () => measured,
    inputBuffer(name: string): Tensor {
      const spec = inputSpec(specs, name);
      if (donated.has(spec.name)) throw new CompileError([donatedInputBuffer(spec.name)]);
      handedOut.add(spec.name);
      return inputBuffers.get(spec.name)!;
    },
    dispose(): void {
      if (inFlight) disposeAfterRun = true;
      else threaded?.dispose();
    },
  };
  if (threaded) stopWhenCollected.register(executable, threaded);
  return executable;
}

/**
 * Split-kernel operations per run from which the first run already starts
 * the workers (a 1290³ product). On an idle Xeon, two cores (docs/wasm.md),
 * a first run with workers started in it was no faster at 1024³ and 1.9x
 * faster at 2048³: a new worker boots and then runs unoptimized code for a
 * while.
 */
export const START_AT_ONCE_FLOPS = 2 ** 32;

/** Stops the workers of an executable that was dropped without `dispose()`. */
const stopWhenCollected = new FinalizationRegistry<ThreadedRun>((t) => t.dispose());

/**
 * Runs a module built for threads kernel by kernel: the split kernels as
 * jobs of a worker pool (started on first use), the others by a call on
 * this thread.
 */
/** One kernel of a module built for threads: its whole function, and for a split kernel its job on the pool. */
interface KernelStep {
  readonly whole: () => void;
  readonly job: {
    readonly spec: { readonly entry: number; readonly units: number };
    readonly unit: (u: number, thread: number) => void;
    /** The fills of a split loop kernel, run on this thread before its units. */
    readonly prologue: (() => void) | null;
  } | null;
}

class ThreadedRun {
  private readonly kernels: readonly KernelStep[];
  private pool: WorkerPool | null = null;
  /** Whether split kernels run on the pool (else whole, on this thread). */
  private useWorkers: boolean;

  constructor(
    private readonly art: WasmArtifact,
    exports: Readonly<Record<string, unknown>>,
    private readonly memory: WasmMemory,
    private readonly host: ThreadHost,
    startAtOnceFlops: number,
  ) {
    this.useWorkers = art.parallel.reduce((sum, p) => sum + p.flops, 0) >= startAtOnceFlops;
    const split = new Map(art.parallel.map((p, job) => [p.kernel, { p, job }]));
    this.kernels = art.kernelFunctions.map((name, n) => {
      const whole = exports[name] as () => void;
      const parallel = split.get(n);
      if (!parallel) return { whole, job: null };
      const unit = exports[parallel.p.entry] as (u: number, thread: number) => void;
      const prologue = parallel.p.prologue === undefined ? null : (exports[parallel.p.prologue] as () => void);
      return { whole, job: { spec: { entry: parallel.job, units: parallel.p.units }, unit, prologue } };
    });
  }

  private workers(): WorkerPool {
    this.pool ??= new WorkerPool(this.host, {
      module: compiledModule(this.art),
      memory: this.memory,
      imports: this.art.imports,
      entries: this.art.parallel.map((p) => p.entry),
    }, this.art.threads);
    return this.pool;
  }

  /**
   * Runs every kernel: a split one as its prologue here and its units on the
   * pool, once the workers are in use and the host lets this thread block;
   * whole, here, otherwise.
   */
  run(): void {
    const pooled = this.useWorkers && this.host.blocking;
    for (const { whole, job } of this.kernels) {
      if (job === null || !pooled) whole();
      else {
        job.prologue?.();
        this.workers().run(job.spec, job.unit);
      }
    }
    if (this.host.blocking) this.useWorkers = true;
  }

  /** {@link run}, awaiting the workers on the split kernels instead of blocking. */
  async runAsync(): Promise<void> {
    const pooled = this.useWorkers;
    for (const { whole, job } of this.kernels) {
      if (job === null || !pooled) whole();
      else {
        job.prologue?.();
        await this.workers().runAsync(job.spec, job.unit);
      }
    }
    this.useWorkers = true;
  }

  dispose(): void {
    this.pool?.dispose();
    this.pool = null;
  }
}

/**
 * The executable of the JavaScript backend: the emitted kernels run over
 * typed arrays placed in one arena by the memory plan.
 */
import { CompileError } from "../../diagnostics/diagnostic.js";
import type { DType } from "../../ir/types.js";
import { gatherRangeError, type GatherSite } from "../../ir/gather.js";
import {
  ARENA_MARKER, arenaHighWater, checkInputs, donatedInputBuffer, type Executable, keptInputBuffers, type RunOptions,
} from "../../runtime/executable.js";
import { Tensor, arrayTypeOf, type TensorData } from "../../runtime/tensor.js";
import { planMemory } from "../kernel/memory-plan.js";
import type { KernelProgram } from "../kernel/types.js";

/** The data of a tensor in a given element type, without copying when it already matches. */
function dataAs(t: Tensor, dtype: DType): TensorData {
  return t.dtype === dtype ? t.data : arrayTypeOf(dtype).from(t.data);
}

/**
 * An {@link Executable} over a kernel program, given a function that runs
 * every kernel on a name → typed array map. Temporaries and outputs live in
 * one ArrayBuffer, the arena, at the offsets of the memory plan
 * (kernel/memory-plan.ts), allocated on the first run and reused; inputs
 * and weights, which the plan keeps at the bottom of the arena for the
 * whole run, stay where they are: weights converted to their element type
 * once, here, inputs of the right element type read where the caller keeps
 * them, never copied. Outputs come back as fresh copies, or (`outputs:
 * "view"`) as views into the arena valid until the next run.
 *
 * @example
 * ```ts
 * const exe = createExecutable(kp, new Function(emitJs(kp))());
 * ```
 */
export function createExecutable(kp: KernelProgram, runKernels: (buffers: Record<string, TensorData>) => void): Executable {
  const specs = kp.buffers.filter((b) => b.role === "input");
  const fixed: Record<string, TensorData> = {};
  const missingWeights: string[] = [];
  for (const b of kp.buffers) {
    if (b.role === "weight") {
      if (b.data) fixed[b.name] = arrayTypeOf(b.dtype).from(b.data);
      else missingWeights.push(b.name);
    }
  }
  const plan = planMemory(kp);
  const base = plan.persistentBytes;
  const keptInputBuffers0 = keptInputBuffers(specs);
  /** Views of the temporaries and outputs into the arena, made on the first run. */
  let placed: Record<string, TensorData> | null = null;
  let arena: ArrayBuffer | null = null;
  let measured: number | null = null;
  const donated = new Set(kp.donated ?? []);
  const place = (): Record<string, TensorData> => {
    arena = new ArrayBuffer(plan.bytes - base);
    const views: Record<string, TensorData> = {};
    for (const b of kp.buffers) {
      if ((b.role === "input" && !donated.has(b.name)) || b.role === "weight") continue;
      views[b.name] = new (arrayTypeOf(b.dtype))(arena, plan.offsets.get(b.name)! - base, b.size);
    }
    return views;
  };
  return {
    run(inputs: Record<string, Tensor> = {}, options: RunOptions = {}): Record<string, Tensor> {
      if (missingWeights.length > 0) {
        throw new CompileError(missingWeights.map((w) => ({
          code: "TNS0603" as const, severity: "error" as const, notes: [],
          message: `weight '${w}' has no data`, hint: "pass it with --weights FILE.npz or the `weights` option",
        })));
      }
      checkInputs(specs, inputs);
      placed ??= place();
      const buffers: Record<string, TensorData> = { ...fixed, ...placed };
      const free = options.measureMemory ? new Uint8Array(arena!) : null;
      free?.fill(ARENA_MARKER);
      for (const s of specs) {
        // A donated input is copied into its place in the arena, where later buffers may take its bytes.
        if (donated.has(s.name)) buffers[s.name]!.set(inputs[s.name]!.data);
        else buffers[s.name] = dataAs(inputs[s.name]!, s.dtype);
      }
      try {
        runKernels(buffers);
      } catch (e) {
        // The emitted code's gather check (backends/js/emit.ts) stops the run with the site and the index.
        const gather = (e as { tnsGather?: { site: GatherSite; index: number } } | null)?.tnsGather;
        if (gather !== undefined) throw gatherRangeError(gather.site, gather.index);
        throw e;
      }
      if (free) measured = arenaHighWater(free, base);
      const view = options.outputs === "view";
      const out: Record<string, Tensor> = {};
      for (const name of kp.outputs) {
        const b = kp.buffers.find((x) => x.name === name)!;
        const data = view ? buffers[name]! : buffers[name]!.slice();
        out[name] = new Tensor(b.dtype, b.shape, data);
      }
      return out;
    },
    inputBuffer: (name) => {
      if (donated.has(name)) throw new CompileError([donatedInputBuffer(name)]);
      return keptInputBuffers0(name);
    },
    measuredPeakBytes: () => measured,
  };
}

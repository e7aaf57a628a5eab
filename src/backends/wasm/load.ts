/**
 * Runs a compiled WebAssembly module: the memory is created at the arena's
 * size, weights are copied in once, and every run copies the inputs in,
 * calls `run` and copies the outputs out into fresh typed arrays:
 *
 *     const exe = loadWasm(emitWasm(binaryen, kp), kp);
 *     exe.run({ A, B }).C;   // a Tensor
 */
import { CompileError, InternalCompilerError } from "../../diagnostics/diagnostic.js";
import { checkInputs, type Executable } from "../../runtime/executable.js";
import { Tensor, arrayTypeOf } from "../../runtime/tensor.js";
import type { KernelProgram } from "../kernel/types.js";
import type { WasmArtifact } from "./emit.js";

/** The few parts of the WebAssembly JavaScript API used here (the Node typings omit them). */
interface WasmMemory { readonly buffer: ArrayBuffer }
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
}

const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Host implementations of the functions a module imports from `env`. */
const HOST_MATH: Readonly<Record<string, (...xs: number[]) => number>> = {
  exp: Math.exp, log: Math.log, tanh: Math.tanh, pow: Math.pow,
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

function createMemory(pages: number): WasmMemory {
  try {
    return new WA.Memory({ initial: pages, maximum: 65536 });
  } catch (e) {
    throw new CompileError([{
      code: "TNS0901", severity: "error", notes: [],
      message: `cannot allocate ${(pages / 16384).toFixed(2)} GiB of WebAssembly memory: ${(e as Error).message}`,
      hint: "use the js backend, or smaller sizes",
    }]);
  }
}

/**
 * An {@link Executable} for a compiled module.
 *
 * @throws InternalCompilerError when the module does not instantiate
 * @example
 * ```ts
 * const kp = lowerToKernels(program);
 * const exe = loadWasm(emitWasm(await loadBinaryen(), kp), kp);
 * exe.run({ A: Tensor.fromArray([[1, 2, 3], [4, 5, 6]]) });
 * ```
 */
export function loadWasm(art: WasmArtifact, kp: KernelProgram): Executable {
  const memory = createMemory(art.pages);
  let run: () => void;
  try {
    const env: Record<string, unknown> = { memory };
    for (const f of art.imports) env[f] = HOST_MATH[f];
    const instance = new WA.Instance(compiledModule(art), { env });
    run = instance.exports["run"] as () => void;
  } catch (e) {
    throw new InternalCompilerError(`emitted WebAssembly does not instantiate: ${(e as Error).message}`);
  }
  const view = (name: string) => {
    const b = kp.buffers.find((x) => x.name === name)!;
    return new (arrayTypeOf(b.dtype))(memory.buffer, art.layout.offsets.get(name)!, b.size);
  };
  const specs = kp.buffers.filter((b) => b.role === "input");
  const missingWeights: string[] = [];
  for (const b of kp.buffers) {
    if (b.role !== "weight") continue;
    if (b.data) view(b.name).set(b.data);
    else missingWeights.push(b.name);
  }
  return {
    run(inputs: Record<string, Tensor> = {}): Record<string, Tensor> {
      if (missingWeights.length > 0) {
        throw new CompileError(missingWeights.map((w) => ({
          code: "TNS0603" as const, severity: "error" as const, notes: [],
          message: `weight '${w}' has no data`, hint: "pass it with --weights FILE.npz or the `weights` option",
        })));
      }
      checkInputs(specs, inputs);
      for (const s of specs) view(s.name).set(inputs[s.name]!.data);
      run();
      const out: Record<string, Tensor> = {};
      for (const name of kp.outputs) {
        const b = kp.buffers.find((x) => x.name === name)!;
        out[name] = new Tensor(b.dtype, b.shape, view(name).slice());
      }
      return out;
    },
  };
}

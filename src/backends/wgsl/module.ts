/**
 * The files of `tns compile --target wgsl`: one `.wgsl` file per dispatch,
 * a manifest (buffers with sizes and roles, every dispatch's bindings,
 * workgroup size and grid, in the order they run) and a standalone ES
 * module that runs the program on a `GPUDevice` the caller gives, with
 * nothing of the compiler installed. The module embeds the shaders, the
 * weights bound at compile time (base64 of little-endian float64) and the
 * same runner the compiler uses in process (runner.ts, as source text).
 *
 *     import { load } from "./attention.mjs";
 *     const program = await load(device);            // navigator.gpu's, or Dawn's in Node
 *     const { O } = await program.run({ Q: q, K: k, V: v });
 *     O.shape; // [256, 64]
 *     program.destroy();
 *
 * The plan is made for WebGPU's compatibility limits, so the files run on
 * any WebGPU device.
 */
import type { Program } from "../../ir/types.js";
import { boundWeights, loaderPrelude } from "../standalone.js";
import { emitWgsl } from "./emit.js";
import { createWgslRunner } from "./runner.js";
import type { WgslProgram } from "./types.js";

/** The manifest of a compiled WGSL program: the plan, each dispatch naming its `.wgsl` file instead of holding its code. */
export interface WgslModuleManifest extends Omit<WgslProgram, "dispatches" | "format"> {
  readonly format: "tns-wgsl-module";
  readonly name: string;
  readonly sizes: Readonly<Record<string, number>>;
  /** Buffers whose data the module embeds (weights bound at compile time). */
  readonly embedded: readonly string[];
  readonly dispatches: readonly (Omit<WgslProgram["dispatches"][number], "code"> & { readonly file: string })[];
}

/** What {@link emitWgslModule} writes, by file name. */
export interface WgslModuleFiles {
  readonly manifest: WgslModuleManifest;
  /** `NAME.mjs`: the standalone loader. */
  readonly loader: string;
  /** One `.wgsl` file per dispatch: [file name, text]. */
  readonly shaders: readonly (readonly [string, string])[];
}

/**
 * Emits the files of a program compiled for WebGPU.
 *
 * @throws CompileError (TNS0902) for an f64 tensor; (TNS0611) beyond WebGPU's limits
 * @example
 * ```ts
 * const { manifest, shaders } = emitWgslModule(program, "matmul");
 * shaders[0][0]; // "matmul.k0_C.wgsl"
 * ```
 */
export function emitWgslModule(program: Program, name: string): WgslModuleFiles {
  const plan = emitWgsl(program);
  const weights = boundWeights(program.tensors.map((t) => ({ name: t.name, role: t.role, data: t.role === "weight" ? t.data : null })));
  const shaders = plan.dispatches.map((d) => [`${name}.${d.name}.wgsl`, d.code] as const);
  const manifest: WgslModuleManifest = {
    format: "tns-wgsl-module", version: 1, name, sizes: program.sizes,
    buffers: plan.buffers, inputs: plan.inputs, outputs: plan.outputs, limits: plan.limits, storage: plan.storage, home: plan.home,
    embedded: [...weights.keys()],
    dispatches: plan.dispatches.map(({ code: _code, ...d }, k) => ({ ...d, file: shaders[k]![0] })),
  };
  const dtypes = Object.fromEntries(plan.buffers.map((b) => [b.name, b.dtype]));
  const loader = `// ${name}: compiled by tns for WebGPU. Standalone: needs no compiler at run time.
// Usage: const program = await load(device); const outputs = await program.run({ NAME: typedArray | { data, shape } });
export const plan = ${JSON.stringify({ ...plan, format: "tns-wgsl" }, null, 2)};

const KNOWN_INPUTS = new Set(plan.inputs.map((name) => name));
${loaderPrelude(weights, dtypes)}
${createWgslRunner.toString()}

const bufferNamed = (name) => plan.buffers.find((b) => b.name === name);
const missingWeights = plan.buffers.filter((b) => b.role === "weight" && !(b.name in WEIGHTS)).map((b) => b.name);

/**
 * Creates the program's buffers and pipelines on \`device\` (a GPUDevice).
 * \`weights\` gives weights that were not bound at compile time, by name.
 * Resolves to { run(inputs), destroy() }; run resolves to every output as
 * { shape, dtype, data }.
 */
export async function load(device, weights = {}) {
  if (!device || typeof device.createBuffer !== "function") {
    throw new Error("load(device) needs a GPUDevice: in a browser from navigator.gpu, in Node from the npm package webgpu");
  }
  const all = { ...WEIGHTS };
  for (const name of missingWeights) all[name] = inputData(name, weights[name], bufferNamed(name).shape, bufferNamed(name).size);
  const runner = await createWgslRunner(device, plan, all);
  return {
    async run(inputs) {
      checkInputNames(inputs);
      const data = {};
      for (const name of plan.inputs) {
        const b = bufferNamed(name);
        const given = inputData(name, inputs?.[name], b.shape, b.size);
        data[name] = given instanceof ARRAY[b.dtype] ? given : ARRAY[b.dtype].from(given);
      }
      const { outputs, gatherError } = await runner.run(data);
      if (gatherError) {
        const s = plan.gather.sites[gatherError.site];
        throw new Error(\`TNS0620: index \${gatherError.index} is out of range 0..\${s.extent - 1} in dimension \${s.dim} of '\${s.tensor}' (gathered by '\${s.reader}')\`);
      }
      const out = {};
      for (const name of plan.outputs) {
        const b = bufferNamed(name);
        out[name] = { shape: b.shape, dtype: b.dtype, data: outputs[name] };
      }
      return out;
    },
    destroy: () => runner.destroy(),
  };
}

export const manifest = ${JSON.stringify(manifest, null, 2)};
`;
  return { manifest, loader, shaders };
}

/**
 * A standalone ES module for a compiled program: the emitted kernels, a
 * manifest (inputs, outputs, buffers) and a small `run(inputs)` loader that
 * needs nothing from the compiler. Weight data bound at compile time is
 * embedded (base64 of little-endian float64, decoded once when the module
 * loads), so the module is self-contained.
 *
 *     import { run, manifest } from "./attention.mjs";
 *     const { O } = run({ Q: { data: q }, K: { data: k }, V: { data: v } });
 *     O.shape; // [256, 64]
 */
import type { DType, Program } from "../../ir/types.js";
import { lowerToKernels, withoutDonation } from "../kernel/lower.js";
import { planMemory } from "../kernel/memory-plan.js";
import { emitJs } from "./emit.js";
import { boundWeights, loaderPrelude } from "../standalone.js";

/** What a compiled module declares about itself; also written as manifest.json. */
export interface JsModuleManifest {
  readonly format: "tns-js-module";
  readonly version: 1;
  readonly name: string;
  readonly sizes: Readonly<Record<string, number>>;
  readonly inputs: readonly { name: string; dtype: DType; shape: readonly number[] }[];
  readonly outputs: readonly { name: string; dtype: DType; shape: readonly number[] }[];
  /** Every buffer; temporaries and outputs with their byte offset in the arena (kernel/memory-plan.ts; inputs and weights sit below `memory.base`). */
  readonly buffers: readonly { name: string; dtype: DType; shape: readonly number[]; size: number; role: string; embedded: boolean; offset: number }[];
  /** The memory plan: the planned peak in bytes, and where the arena's own part starts (after inputs and weights). */
  readonly memory: { readonly bytes: number; readonly base: number };
  readonly kernels: number;
}

/**
 * Emits the standalone module text and its manifest.
 *
 * @example
 * ```ts
 * const { module, manifest } = emitJsModule(program, "matmul");
 * manifest.inputs.map((i) => i.name); // ["A", "B"]
 * ```
 */
export function emitJsModule(program: Program, name: string): { module: string; manifest: JsModuleManifest } {
  const kernels = lowerToKernels(withoutDonation(program));
  const source = emitJs(kernels);
  const weights = boundWeights(kernels.buffers);
  const plan = planMemory(kernels);
  const manifest: JsModuleManifest = {
    format: "tns-js-module",
    version: 1,
    name,
    sizes: program.sizes,
    inputs: kernels.buffers
      .filter((b) => b.role === "input" || (b.role === "weight" && !weights.has(b.name)))
      .map((b) => ({ name: b.name, dtype: b.dtype, shape: b.shape })),
    outputs: kernels.outputs.map((o) => {
      const b = kernels.buffers.find((x) => x.name === o)!;
      return { name: o, dtype: b.dtype, shape: b.shape };
    }),
    buffers: kernels.buffers.map((b) => ({
      name: b.name, dtype: b.dtype, shape: b.shape, size: b.size, role: b.role, embedded: weights.has(b.name), offset: plan.offsets.get(b.name)!,
    })),
    memory: { bytes: plan.bytes, base: plan.persistentBytes },
    kernels: kernels.kernels.length,
  };
  const module = `// ${name}: compiled by tns. Standalone: needs no compiler at run time.
export const manifest = ${JSON.stringify(manifest, null, 2)};

const KNOWN_INPUTS = new Set(manifest.inputs.map((i) => i.name));
${loaderPrelude(weights, Object.fromEntries(kernels.buffers.map((b) => [b.name, b.dtype])))}
const kernels = (function () {
${source}})();

/**
 * Runs the program. \`inputs\` maps each input name to a typed array (row-major)
 * or to an object with \`data\` and optionally \`shape\` (checked when given).
 * Returns every output as { shape, dtype, data }.
 */
export function run(inputs) {
  checkInputNames(inputs);
  // One arena per run for temporaries and outputs, at the offsets of the memory plan.
  const arena = new ArrayBuffer(manifest.memory.bytes - manifest.memory.base);
  const b = {};
  for (const buf of manifest.buffers) {
    const Array_ = ARRAY[buf.dtype];
    if (buf.embedded) {
      b[buf.name] = WEIGHTS[buf.name];
    } else if (KNOWN_INPUTS.has(buf.name)) {
      const data = inputData(buf.name, inputs?.[buf.name], buf.shape, buf.size);
      b[buf.name] = data instanceof Array_ ? data : Array_.from(data);
    } else {
      b[buf.name] = new Array_(arena, buf.offset - manifest.memory.base, buf.size);
    }
  }
  kernels(b);
  const out = {};
  for (const o of manifest.outputs) out[o.name] = { shape: o.shape, dtype: o.dtype, data: b[o.name].slice() };
  return out;
}
`;
  return { module, manifest };
}

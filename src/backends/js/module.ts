/**
 * A standalone ES module for a compiled program: the emitted kernels, a
 * manifest (inputs, outputs, buffers) and a small `run(inputs)` loader that
 * needs nothing from the compiler. Weight data bound at compile time is
 * embedded (base64 of little-endian float64), so the module is self-contained.
 *
 *     import { run, manifest } from "./attention.mjs";
 *     const { O } = run({ Q: { data: q }, K: { data: k }, V: { data: v } });
 *     O.shape; // [256, 64]
 */
import type { DType, Program } from "../../ir/types.js";
import { lowerToKernels } from "../kernel/lower.js";
import { emitJs } from "./emit.js";

/** What a compiled module declares about itself; also written as manifest.json. */
export interface JsModuleManifest {
  readonly format: "tns-js-module";
  readonly version: 1;
  readonly name: string;
  readonly sizes: Readonly<Record<string, number>>;
  readonly inputs: readonly { name: string; dtype: DType; shape: readonly number[] }[];
  readonly outputs: readonly { name: string; dtype: DType; shape: readonly number[] }[];
  readonly buffers: readonly { name: string; dtype: DType; shape: readonly number[]; size: number; role: string; embedded: boolean }[];
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
  const kernels = lowerToKernels(program);
  const source = emitJs(kernels);
  const weights = new Map<string, Float64Array>();
  for (const t of program.tensors) if (t.role === "weight" && t.data) weights.set(t.name, t.data);
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
      name: b.name, dtype: b.dtype, shape: b.shape, size: b.size, role: b.role, embedded: weights.has(b.name),
    })),
    kernels: kernels.kernels.length,
  };
  const embedded = [...weights].map(([n, data]) => `  ${JSON.stringify(n)}: ${JSON.stringify(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64"))},`);
  const module = `// ${name}: compiled by tns. Standalone: needs no compiler at run time.
export const manifest = ${JSON.stringify(manifest, null, 2)};

const ARRAY = { f32: Float32Array, f64: Float64Array, i32: Int32Array };
const EMBEDDED = {
${embedded.join("\n")}
};

const kernels = (function () {
${source}})();

function decode(base64) {
  const bytes = typeof Buffer !== "undefined" ? Buffer.from(base64, "base64") : Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Float64Array(copy.buffer);
}

function sameShape(a, b) {
  return a.length === b.length && a.every((d, k) => d === b[k]);
}

/**
 * Runs the program. \`inputs\` maps each input name to a typed array (row-major)
 * or to an object with \`data\` and optionally \`shape\` (checked when given).
 * Returns every output as { shape, dtype, data }.
 */
export function run(inputs) {
  const b = {};
  const known = new Set(manifest.inputs.map((i) => i.name));
  for (const name of Object.keys(inputs ?? {})) {
    if (!known.has(name)) throw new Error(\`unknown input '\${name}' (inputs: \${[...known].join(", ")})\`);
  }
  for (const buf of manifest.buffers) {
    const Array_ = ARRAY[buf.dtype];
    if (buf.embedded) {
      b[buf.name] = Array_.from(decode(EMBEDDED[buf.name]));
    } else if (known.has(buf.name)) {
      const given = inputs?.[buf.name];
      if (given === undefined) throw new Error(\`missing input '\${buf.name}' of shape [\${buf.shape.join(", ")}]\`);
      const data = ArrayBuffer.isView(given) ? given : given.data;
      if (!ArrayBuffer.isView(given) && given.shape && !sameShape(given.shape, buf.shape)) {
        throw new Error(\`input '\${buf.name}' has shape [\${given.shape.join(", ")}], expected [\${buf.shape.join(", ")}]\`);
      }
      if (!data || data.length !== buf.size) throw new Error(\`input '\${buf.name}' needs \${buf.size} elements\`);
      b[buf.name] = data instanceof Array_ ? data : Array_.from(data);
    } else {
      b[buf.name] = new Array_(buf.size);
    }
  }
  kernels(b);
  const out = {};
  for (const o of manifest.outputs) out[o.name] = { shape: o.shape, dtype: o.dtype, data: b[o.name] };
  return out;
}
`;
  return { module, manifest };
}

/**
 * A standalone WebAssembly build of a program, as `tns compile --target wasm`
 * writes it: the module's bytes, optionally its text, a manifest (buffers with
 * their arena offsets, inputs, outputs, memory pages, imports) and a small ES
 * module loader that needs nothing from the compiler. The loader reads the
 * `.wasm` file next to it (`fetch` in browsers, `fs` in Node), compiles it
 * asynchronously (browsers refuse synchronous compiles of all but tiny
 * modules on the main thread) and copies tensors in and out of the arena:
 *
 *     import { load } from "./matmul.mjs";
 *     const prog = await load();
 *     const { C } = prog.run({ A: a, B: b });   // C: { shape, dtype, data }
 *
 * Weight data bound at compile time is embedded in the loader (base64 of
 * little-endian float64, already in column panels for a weight the module
 * keeps so, panels.ts) and copied into memory once per `load()`.
 */
import type { DType, Program } from "../../ir/types.js";
import { lowerToKernels, withoutDonation } from "../kernel/lower.js";
import { boundWeights, loaderPrelude } from "../standalone.js";
import type { Binaryen } from "./binaryen.js";
import { emitWasm, type WasmArtifact } from "./emit.js";
import { packPanels } from "./panels.js";

/** What a compiled module declares about itself; also written as manifest.json. */
export interface WasmModuleManifest {
  readonly format: "tns-wasm-module";
  readonly version: 1;
  readonly name: string;
  /** The module file, relative to the loader. */
  readonly wasm: string;
  readonly sizes: Readonly<Record<string, number>>;
  /** The imported memory: 64 KiB pages, and the arena's bytes. */
  readonly memory: { readonly pages: number; readonly bytes: number };
  /** Functions the module imports from `env` (besides `memory`): host `Math` functions. */
  readonly imports: readonly string[];
  readonly inputs: readonly { name: string; dtype: DType; shape: readonly number[] }[];
  readonly outputs: readonly { name: string; dtype: DType; shape: readonly number[] }[];
  /** Every buffer with its byte offset in the arena (temporaries may share bytes). */
  readonly buffers: readonly {
    name: string; dtype: DType; shape: readonly number[]; size: number; role: string; offset: number; embedded: boolean;
    /** Set on an embedded weight stored in column panels (its embedded data is already so arranged). */
    panels?: true;
  }[];
  readonly kernels: number;
  /** Where checked gathers record an out-of-range index, and their sites (see WasmArtifact.gather); absent without gathers. */
  readonly gather?: WasmArtifact["gather"];
}

/** The files of a standalone build, in memory. */
export interface WasmModuleFiles {
  readonly binary: Uint8Array;
  /** The text format before optimization, when asked for. */
  readonly wat: string | null;
  readonly manifest: WasmModuleManifest;
  /** The loader's ES module source. */
  readonly loader: string;
}

/**
 * Emits a standalone build of a program named `name` (files `name.wasm`,
 * `name.mjs`).
 *
 * @example
 * ```ts
 * const files = emitWasmModule(await loadBinaryen(), program, "matmul", { wat: false });
 * files.manifest.buffers.find((b) => b.name === "A")!.offset; // 0
 * ```
 */
export function emitWasmModule(binaryen: Binaryen, program: Program, name: string, options: { wat: boolean; optimize?: boolean }): WasmModuleFiles {
  const kp = lowerToKernels(withoutDonation(program));
  // Standalone builds use plain SIMD128 (never relaxed SIMD): the module must
  // run on every SIMD128 engine, whatever the compiling host supports. They
  // are shipped, so binaryen's optimizer runs by default (a smaller binary;
  // docs/benchmarks.md, "WebAssembly optimizer"): `binaryen` must then come
  // from loadBinaryen().
  const bound = boundWeights(kp.buffers);
  // Only embedded weights may be kept in column panels: the others are run-time inputs, copied in as given.
  const art = emitWasm(binaryen, kp, { optimize: options.optimize ?? true, panelWeights: [...bound.keys()] });
  const weights = new Map([...bound].map(([name, data]) => [name, inPanels(art, name, data)]));
  const manifest: WasmModuleManifest = {
    format: "tns-wasm-module",
    version: 1,
    name,
    wasm: `${name}.wasm`,
    sizes: program.sizes,
    memory: { pages: art.pages, bytes: art.layout.bytes },
    imports: art.imports,
    inputs: kp.buffers
      .filter((b) => b.role === "input" || (b.role === "weight" && !weights.has(b.name)))
      .map((b) => ({ name: b.name, dtype: b.dtype, shape: b.shape })),
    outputs: kp.outputs.map((o) => {
      const b = kp.buffers.find((x) => x.name === o)!;
      return { name: o, dtype: b.dtype, shape: b.shape };
    }),
    buffers: kp.buffers.map((b) => ({
      name: b.name, dtype: b.dtype, shape: b.shape, size: b.size, role: b.role,
      offset: art.layout.offsets.get(b.name)!, embedded: weights.has(b.name),
      ...(art.panels.some((w) => w.name === b.name) ? { panels: true } : {}),
    })),
    kernels: kp.kernels.length,
    ...(art.gather ? { gather: art.gather } : {}),
  };
  const prelude = loaderPrelude(weights, Object.fromEntries(kp.buffers.map((b) => [b.name, b.dtype])));
  return { binary: art.binary, wat: options.wat ? art.text : null, manifest, loader: loaderSource(manifest, prelude) };
}

/** A weight's data as the module's memory holds it: rearranged into column panels when the module keeps it so (panels.ts). */
function inPanels(art: WasmArtifact, name: string, data: Float64Array): Float64Array {
  const w = art.panels.find((p) => p.name === name);
  if (!w) return data;
  const packed = new Float64Array(data.length);
  packPanels(data, w.k, w.l, packed);
  return packed;
}

function loaderSource(manifest: WasmModuleManifest, prelude: string): string {
  return `// ${manifest.name}: compiled by tns to WebAssembly. Standalone: needs no compiler at run time.
export const manifest = ${JSON.stringify(manifest, null, 2)};

const HOST_MATH = { exp: Math.exp, log: Math.log, tanh: Math.tanh, pow: Math.pow, sin: Math.sin, cos: Math.cos, tan: Math.tan, atan: Math.atan, log1p: Math.log1p, expm1: Math.expm1, atan2: Math.atan2 };
const KNOWN_INPUTS = new Set(manifest.inputs.map((i) => i.name));
${prelude}
/** The bytes of the module file next to this one: the file system under Node, fetch elsewhere. */
async function moduleBytes() {
  const url = new URL(manifest.wasm, import.meta.url);
  if (url.protocol === "file:") {
    const { readFile } = await import("node:fs/promises");
    return readFile(url);
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(\`cannot fetch \${url}: \${response.status}\`);
  return response.arrayBuffer();
}

/**
 * Instantiates the module (optionally from \`bytes\` already at hand). Returns
 * \`{ manifest, run(inputs) }\`: \`inputs\` maps each input name to a typed array
 * (row-major) or to an object with \`data\` and optionally \`shape\` (checked
 * when given); \`run\` returns every output as { shape, dtype, data }.
 */
export async function load(bytes) {
  const memory = new WebAssembly.Memory({ initial: manifest.memory.pages, maximum: 65536 });
  const env = { memory };
  for (const f of manifest.imports) env[f] = HOST_MATH[f];
  const { instance } = await WebAssembly.instantiate(bytes ?? (await moduleBytes()), { env });
  const entry = instance.exports.run;
  const view = (buf) => new ARRAY[buf.dtype](memory.buffer, buf.offset, buf.size);
  for (const buf of manifest.buffers) if (buf.embedded) view(buf).set(WEIGHTS[buf.name]);
  const byName = new Map(manifest.buffers.map((b) => [b.name, b]));
  function run(inputs) {
    checkInputNames(inputs);
    for (const name of KNOWN_INPUTS) {
      const buf = byName.get(name);
      view(buf).set(inputData(name, inputs?.[name], buf.shape, buf.size));
    }
    entry();
    if (manifest.gather) {
      // A checked gather met an index out of range (its site and the index, written by the module).
      const status = new Int32Array(memory.buffer, manifest.gather.status, 2);
      if (status[0] !== 0) {
        const [s, index] = [manifest.gather.sites[status[0] - 1], status[1]];
        status.fill(0);
        throw new Error(\`TNS0620: index \${index} is out of range 0..\${s.extent - 1} in dimension \${s.dim} of '\${s.tensor}' (gathered by '\${s.reader}')\`);
      }
    }
    const out = {};
    for (const o of manifest.outputs) out[o.name] = { shape: o.shape, dtype: o.dtype, data: view(byName.get(o.name)).slice() };
    return out;
  }
  return { manifest, run };
}
`;
}

/**
 * What the standalone modules of `tns compile` (js and wasm targets) share:
 * which weights are bound at compile time, and the loader prelude emitted
 * into each module: element-type arrays, the embedded weights (base64 of
 * little-endian float64, decoded once when the module loads) and the
 * checking of user inputs.
 */

/** Weights whose data was bound at compile time, by name. */
export function boundWeights(buffers: readonly { name: string; role: string; data?: Float64Array | null }[]): Map<string, Float64Array> {
  const weights = new Map<string, Float64Array>();
  for (const b of buffers) if (b.role === "weight" && b.data) weights.set(b.name, b.data);
  return weights;
}

/**
 * JavaScript source defining `ARRAY` (typed-array constructor per dtype),
 * `WEIGHTS` (each embedded weight decoded once, in its buffer's dtype: pass
 * the dtypes by name), `checkInputNames(inputs)` and
 * `inputData(name, given, shape, size)`; `KNOWN_INPUTS` must be defined by
 * the including module (the set of input names).
 *
 * @example
 * ```ts
 * loaderPrelude(new Map([["W", new Float64Array([1, 2])]]), { W: "f32" }).includes("WEIGHTS"); // true
 * ```
 */
export function loaderPrelude(weights: ReadonlyMap<string, Float64Array>, dtypes: Readonly<Record<string, string>>): string {
  const embedded = [...weights].map(([n, data]) =>
    `  ${JSON.stringify(n)}: [${JSON.stringify(dtypes[n] ?? "f64")}, ${JSON.stringify(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64"))}],`);
  return `const ARRAY = { f32: Float32Array, f64: Float64Array, i32: Int32Array };

function decode(base64) {
  const bytes = typeof Buffer !== "undefined" ? Buffer.from(base64, "base64") : Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Float64Array(copy.buffer);
}

const WEIGHTS = Object.fromEntries(Object.entries({
${embedded.join("\n")}
}).map(([name, [dtype, base64]]) => [name, ARRAY[dtype].from(decode(base64))]));

function checkInputNames(inputs) {
  for (const name of Object.keys(inputs ?? {})) {
    if (!KNOWN_INPUTS.has(name)) throw new Error(\`unknown input '\${name}' (inputs: \${[...KNOWN_INPUTS].join(", ")})\`);
  }
}

function inputData(name, given, shape, size) {
  if (given === undefined) throw new Error(\`missing input '\${name}' of shape [\${shape.join(", ")}]\`);
  const data = ArrayBuffer.isView(given) ? given : given.data;
  if (!ArrayBuffer.isView(given) && given.shape && !(given.shape.length === shape.length && given.shape.every((d, k) => d === shape[k]))) {
    throw new Error(\`input '\${name}' has shape [\${given.shape.join(", ")}], expected [\${shape.join(", ")}]\`);
  }
  if (!data || data.length !== size) throw new Error(\`input '\${name}' needs \${size} elements\`);
  return data;
}
`;
}

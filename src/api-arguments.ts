/**
 * Checks of what plain JavaScript passes to the public API, at the
 * boundary: a wrong type is a `TypeError` that names the argument and what
 * was expected, before anything inside the compiler or the runtime trips
 * over it (`compile(null)`, `run({ x: 5 })`, `weights: { w: "x" }`).
 * TypeScript callers never see these; values of the right type but wrong
 * content (a size of -1, a tensor of the wrong shape) stay diagnostics.
 */
import type { DType } from "./ir/types.js";
import { numel } from "./ir/types.js";
import { arrayTypeOf, type Tensor } from "./runtime/tensor.js";

const DTYPES: readonly DType[] = ["f32", "f64", "i32"];

/** A short description of a value for a message: `null`, `a number (5)`, `a string`, `an array`. */
export function describeValue(x: unknown): string {
  if (x === null) return "null";
  if (x === undefined) return "undefined";
  if (Array.isArray(x)) return "an array";
  if (typeof x === "number") return `a number (${x})`;
  if (typeof x === "object") return x.constructor && x.constructor !== Object ? `a ${x.constructor.name}` : "an object";
  return `a ${typeof x}`;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x) && !ArrayBuffer.isView(x);
}

/**
 * Why `x` is not a usable tensor (element type, shape and data that agree),
 * or null when it is one.
 *
 * @example
 * ```ts
 * tensorProblem(Tensor.fromArray([1, 2])); // null
 * tensorProblem(5);                        // "a number (5), not a Tensor"
 * ```
 */
export function tensorProblem(x: unknown): string | null {
  if (!isPlainObject(x)) return `${describeValue(x)}, not a Tensor`;
  const { dtype, shape, data } = x as { dtype?: unknown; shape?: unknown; data?: unknown };
  if (typeof dtype !== "string" || !(DTYPES as readonly string[]).includes(dtype)) return `${describeValue(x)} without a dtype of f32, f64 or i32`;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return "a tensor whose shape is not a list of non-negative integers";
  if (!(data instanceof arrayTypeOf(dtype as DType))) return `a ${dtype} tensor whose data is not a ${arrayTypeOf(dtype as DType).name}`;
  if (data.length !== numel(shape)) return `a tensor of shape [${shape.join(", ")}] with ${data.length} elements`;
  return null;
}

/**
 * Throws a TypeError unless `x` is a tensor.
 *
 * @example
 * ```ts
 * expectTensor(null, "run: input 'x'"); // TypeError: run: input 'x' must be a Tensor, got null
 * ```
 */
export function expectTensor(x: unknown, what: string): asserts x is Tensor {
  const problem = tensorProblem(x);
  if (problem !== null) throw new TypeError(`${what} must be a Tensor, got ${problem}`);
}

/** Throws a TypeError unless `x` is undefined or an object of tensors by name. */
export function expectTensorRecord(x: unknown, what: string): void {
  if (x === undefined) return;
  if (!isPlainObject(x)) throw new TypeError(`${what} must be an object of tensors by name, got ${describeValue(x)}`);
  for (const [name, t] of Object.entries(x)) expectTensor(t, `${what}['${name}']`);
}

/** Throws a TypeError unless `source` is a string. */
export function expectSource(source: unknown, fn: string): asserts source is string {
  if (typeof source !== "string") throw new TypeError(`${fn}: the source must be a string of tns code, got ${describeValue(source)}`);
}

/** Throws a TypeError for options of the wrong shape: `sizes` of numbers, `weights` of tensors, a known backend, ... */
export function expectCompileOptions(options: unknown, fn: string, backends: readonly string[]): void {
  if (options === undefined) return;
  if (!isPlainObject(options)) throw new TypeError(`${fn}: options must be an object, got ${describeValue(options)}`);
  const o = options as Record<string, unknown>;
  if (o["file"] !== undefined && typeof o["file"] !== "string") throw new TypeError(`${fn}: options.file must be a string, got ${describeValue(o["file"])}`);
  if (o["sizes"] !== undefined) {
    if (!isPlainObject(o["sizes"])) throw new TypeError(`${fn}: options.sizes must be an object of numbers by name, got ${describeValue(o["sizes"])}`);
    for (const [name, v] of Object.entries(o["sizes"])) {
      if (typeof v !== "number") throw new TypeError(`${fn}: options.sizes.${name} must be a number, got ${describeValue(v)}`);
    }
  }
  expectTensorRecord(o["weights"], `${fn}: options.weights`);
  if (o["backend"] !== undefined && !backends.includes(o["backend"] as string)) {
    throw new TypeError(`${fn}: options.backend must be one of ${backends.map((b) => `"${b}"`).join(", ")}, got ${describeValue(o["backend"])}`);
  }
  if (o["threads"] !== undefined && !(Number.isSafeInteger(o["threads"]) && (o["threads"] as number) >= 1)) {
    throw new TypeError(`${fn}: options.threads must be a positive integer, got ${describeValue(o["threads"])}`);
  }
  for (const flag of ["optimize", "verify", "verifyOutputs", "runOnce"]) {
    if (o[flag] !== undefined && typeof o[flag] !== "boolean") throw new TypeError(`${fn}: options.${flag} must be true or false, got ${describeValue(o[flag])}`);
  }
  if (o["verifySeed"] !== undefined && !Number.isSafeInteger(o["verifySeed"])) {
    throw new TypeError(`${fn}: options.verifySeed must be an integer, got ${describeValue(o["verifySeed"])}`);
  }
  const maxBytes = o["maxIntermediateBytes"];
  if (maxBytes !== undefined && !(typeof maxBytes === "number" && Number.isFinite(maxBytes) && maxBytes > 0)) {
    throw new TypeError(`${fn}: options.maxIntermediateBytes must be a positive number of bytes, got ${describeValue(maxBytes)}`);
  }
  if (o["passes"] !== undefined && !Array.isArray(o["passes"])) throw new TypeError(`${fn}: options.passes must be an array of passes, got ${describeValue(o["passes"])}`);
  if (o["loader"] !== undefined && !isPlainObject(o["loader"])) throw new TypeError(`${fn}: options.loader must be an object, got ${describeValue(o["loader"])}`);
  const approx = o["approx"];
  if (approx !== undefined && typeof approx !== "string" && !(Array.isArray(approx) && approx.every((a) => typeof a === "string"))) {
    throw new TypeError(`${fn}: options.approx must be a string or an array of strings, got ${describeValue(approx)}`);
  }
  const donate = o["donate"];
  if (donate !== undefined && donate !== "all" && !(Array.isArray(donate) && donate.every((d) => typeof d === "string"))) {
    throw new TypeError(`${fn}: options.donate must be "all" or an array of input names, got ${describeValue(donate)}`);
  }
  const device = o["device"] as { createBuffer?: unknown } | undefined;
  if (device !== undefined && (device === null || typeof device !== "object" || typeof device.createBuffer !== "function")) {
    throw new TypeError(`${fn}: options.device must be a GPUDevice, got ${describeValue(device)}`);
  }
}

/** Throws a TypeError for run options other than `{ outputs: "copy" | "view" }`. */
export function expectRunOptions(options: unknown, fn: string): void {
  if (options === undefined) return;
  if (!isPlainObject(options)) throw new TypeError(`${fn}: options must be an object, got ${describeValue(options)}`);
  const outputs = (options as Record<string, unknown>)["outputs"];
  if (outputs !== undefined && outputs !== "copy" && outputs !== "view") {
    throw new TypeError(`${fn}: options.outputs must be "copy" or "view", got ${describeValue(outputs)}`);
  }
}

/**
 * NumPy `.npy` files (format versions 1.0, 2.0 and 3.0). A file is the magic
 * `\x93NUMPY`, a version, a header length, a Python dict literal such as
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` padded to a
 * multiple of 64 bytes, then the raw elements.
 *
 * Reading accepts little- and big-endian floats (`f2 f4 f8`) and integers
 * (`i1 i2 i4 i8 u1 u2 u4 u8`, booleans `b1`), in C or Fortran order, and
 * converts them to a tns element type: `f8` to f64, other floats to f32,
 * integers to i32 (64-bit values must fit). Writing uses `<f4`, `<f8` or
 * `<i4`, C order, version 1.0 (2.0 for headers over 64 KiB).
 */
import type { DiagnosticCode } from "../diagnostics/catalog.js";
import { CompileError } from "../diagnostics/diagnostic.js";
import type { DType } from "../ir/types.js";
import { numel } from "../ir/types.js";
import { Tensor, arrayTypeOf } from "./tensor.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const CODE: DiagnosticCode = "TNS0605";
const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Element types whose bytes are a typed array as they are (on a little-endian host). */
const DIRECT = new Set(["f4", "f8", "i4"]);

/** A malformed or unsupported data file, as a diagnostic TNS0605. */
export function dataFileError(message: string, hint?: string): CompileError {
  const d = hint === undefined
    ? { code: CODE, severity: "error" as const, message, notes: [] }
    : { code: CODE, severity: "error" as const, message, notes: [], hint };
  return new CompileError([d]);
}

/** How to read one element type of a file. */
interface ElementReader {
  readonly bytes: number;
  readonly dtype: DType;
  read(view: DataView, offset: number, little: boolean): number;
}

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function bigToInt(v: bigint): number {
  if (v < -2147483648n || v > 2147483647n) throw dataFileError(`integer ${v} does not fit in i32`, "convert the array to float64 before saving");
  return Number(v);
}

const READERS: Readonly<Record<string, ElementReader>> = {
  f2: { bytes: 2, dtype: "f32", read: (v, o, le) => halfToNumber(v.getUint16(o, le)) },
  f4: { bytes: 4, dtype: "f32", read: (v, o, le) => v.getFloat32(o, le) },
  f8: { bytes: 8, dtype: "f64", read: (v, o, le) => v.getFloat64(o, le) },
  i1: { bytes: 1, dtype: "i32", read: (v, o) => v.getInt8(o) },
  u1: { bytes: 1, dtype: "i32", read: (v, o) => v.getUint8(o) },
  b1: { bytes: 1, dtype: "i32", read: (v, o) => (v.getUint8(o) ? 1 : 0) },
  i2: { bytes: 2, dtype: "i32", read: (v, o, le) => v.getInt16(o, le) },
  u2: { bytes: 2, dtype: "i32", read: (v, o, le) => v.getUint16(o, le) },
  i4: { bytes: 4, dtype: "i32", read: (v, o, le) => v.getInt32(o, le) },
  u4: { bytes: 4, dtype: "i32", read: (v, o, le) => bigToInt(BigInt(v.getUint32(o, le))) },
  i8: { bytes: 8, dtype: "i32", read: (v, o, le) => bigToInt(v.getBigInt64(o, le)) },
  u8: { bytes: 8, dtype: "i32", read: (v, o, le) => bigToInt(v.getBigUint64(o, le)) },
};

/** The parsed header dict. */
interface Header {
  readonly descr: string;
  readonly fortran: boolean;
  readonly shape: number[];
}

function parseHeader(text: string): Header {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined) throw dataFileError("npy header has no simple 'descr' (structured arrays are not supported)");
  if (fortran === undefined) throw dataFileError("npy header has no 'fortran_order'");
  if (shapeText === undefined) throw dataFileError("npy header has no 'shape'");
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map((s) => {
    const n = Number(s.replace(/L$/, ""));
    if (!Number.isInteger(n) || n < 0) throw dataFileError(`npy header has a bad dimension '${s}'`);
    return n;
  });
  return { descr, fortran: fortran === "True", shape };
}

/** C-order element `k` of a Fortran-order array of `shape`: its offset in the file. */
function fortranOffsets(shape: readonly number[]): Int32Array {
  const n = numel(shape);
  const out = new Int32Array(n);
  const fstride: number[] = [];
  let acc = 1;
  for (const d of shape) { fstride.push(acc); acc *= d; }
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let d = 0; d < shape.length; d++) off += idx[d]! * fstride[d]!;
    out[k] = off;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * Reads a `.npy` file.
 *
 * @throws CompileError with diagnostic TNS0605 on a malformed or unsupported file
 * @example
 * ```ts
 * const t = readNpy(writeNpy(Tensor.fromArray([[1, 2], [3, 4]])));
 * t.shape; // [2, 2]
 * ```
 */
export function readNpy(bytes: Uint8Array): Tensor {
  if (bytes.length < 10 || MAGIC.some((b, k) => bytes[k] !== b)) throw dataFileError("not a .npy file (bad magic bytes)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw dataFileError(`unsupported .npy format version ${major}.${bytes[7]}`);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw dataFileError("truncated .npy header");
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes;
  if (start + headerLen > bytes.length) throw dataFileError("truncated .npy header");
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(start, start + headerLen));
  const header = parseHeader(text);
  const m = /^([<>|=])?([a-z])(\d+)$/.exec(header.descr);
  const reader = m ? READERS[`${m[2]}${m[3]}`] : undefined;
  if (!m || !reader) throw dataFileError(`unsupported element type '${header.descr}'`, "save the array as float32, float64 or int32");
  const little = m[1] !== ">";
  const n = numel(header.shape);
  const dataStart = start + headerLen;
  if (dataStart + n * reader.bytes > bytes.length) {
    throw dataFileError(`.npy data is truncated: shape (${header.shape.join(", ")}) needs ${n * reader.bytes} bytes, the file has ${bytes.length - dataStart}`);
  }
  const order = header.fortran && header.shape.length > 1 ? fortranOffsets(header.shape) : null;
  const Ctor = arrayTypeOf(reader.dtype);
  if (HOST_LITTLE && little && !order && DIRECT.has(`${m[2]}${m[3]}`)) {
    // Copy into a fresh, aligned buffer (a Node Buffer's `slice` would share its pool).
    const copy = new Uint8Array(bytes.subarray(dataStart, dataStart + n * reader.bytes));
    return new Tensor(reader.dtype, header.shape, new Ctor(copy.buffer));
  }
  const data = new Ctor(n);
  for (let k = 0; k < n; k++) data[k] = reader.read(view, dataStart + (order ? order[k]! : k) * reader.bytes, little);
  return new Tensor(reader.dtype, header.shape, data);
}

const DESCR: Readonly<Record<DType, string>> = { f32: "<f4", f64: "<f8", i32: "<i4" };

/**
 * Writes a tensor as a `.npy` file (C order, little-endian).
 *
 * @example
 * ```ts
 * const bytes = writeNpy(Tensor.fromArray([1, 2, 3]));
 * new TextDecoder().decode(bytes.subarray(1, 6)); // "NUMPY"
 * ```
 */
export function writeNpy(t: Tensor): Uint8Array {
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(", ")})`;
  let dict = `{'descr': '${DESCR[t.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const version = dict.length + 12 > 65535 ? 2 : 1;
  const prefix = version === 1 ? 10 : 12;
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - prefix - 1, " ") + "\n";
  const elementBytes = t.data.BYTES_PER_ELEMENT;
  const out = new Uint8Array(total + t.data.length * elementBytes);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, dict.length, true);
  else view.setUint32(8, dict.length, true);
  for (let k = 0; k < dict.length; k++) out[prefix + k] = dict.charCodeAt(k);
  if (HOST_LITTLE) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), total);
  } else {
    for (let k = 0; k < t.data.length; k++) {
      const o = total + k * elementBytes;
      if (t.dtype === "f32") view.setFloat32(o, t.data[k]!, true);
      else if (t.dtype === "f64") view.setFloat64(o, t.data[k]!, true);
      else view.setInt32(o, t.data[k]!, true);
    }
  }
  return out;
}

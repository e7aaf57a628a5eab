/**
 * File input and output for the CLI: tensors from .npy/.npz, atomic writes
 * (a temporary file renamed into place, so a failed run never leaves a
 * partial output), and the short tensor summaries `tns run` prints.
 */
import { readFileSync, writeFileSync, renameSync, rmSync, mkdirSync, existsSync } from "node:fs";
import { dirname, basename, join, extname } from "node:path";
import { readNpy, writeNpy } from "../runtime/npy.js";
import { readNpz, writeNpz } from "../runtime/npz.js";
import type { Tensor } from "../runtime/tensor.js";
import { UsageError } from "./args.js";

/** A data file could not be read or parsed (exit code 1, like a diagnostic). */
export class DataFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DataFileError";
  }
}

/** Reads a whole file, turning file-system errors into a readable message. */
export function readBytes(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new DataFileError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Reads a text file (a .tns source). */
export function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new DataFileError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Reads one tensor from a .npy file. */
export function readTensorFile(path: string): Tensor {
  try {
    return readNpy(readBytes(path));
  } catch (e) {
    if (e instanceof DataFileError) throw e;
    throw new DataFileError(`${path}: ${(e as Error).message}`);
  }
}

/** Reads every array of a .npz file. */
export function readTensorArchive(path: string): Record<string, Tensor> {
  try {
    return readNpz(readBytes(path));
  } catch (e) {
    if (e instanceof DataFileError) throw e;
    throw new DataFileError(`${path}: ${(e as Error).message}`);
  }
}

/**
 * Writes outputs to `path`: one tensor to `.npy`, several (or any) to `.npz`
 * keyed by name. The bytes are written to a temporary file first and renamed.
 */
export function writeOutputs(path: string, outputs: Record<string, Tensor>, command: string): void {
  const ext = extname(path).toLowerCase();
  const names = Object.keys(outputs);
  let bytes: Uint8Array;
  if (ext === ".npy") {
    if (names.length !== 1) {
      throw new UsageError(`-o ${basename(path)}: the program has ${names.length} outputs; write them to an .npz file`, command);
    }
    bytes = writeNpy(outputs[names[0]!]!);
  } else if (ext === ".npz") {
    bytes = writeNpz(outputs);
  } else {
    throw new UsageError(`-o expects a .npy or .npz file name, got '${path}'`, command);
  }
  writeFileAtomic(path, bytes);
}

/** Writes a file through a temporary sibling and a rename. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new DataFileError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** A one-line summary of a tensor: shape, dtype, min/max/mean and the first values. */
export function summarize(name: string, t: Tensor): string {
  const n = t.data.length;
  let min = Infinity, max = -Infinity, sum = 0, nonFinite = 0;
  for (let k = 0; k < n; k++) {
    const v = t.data[k]!;
    if (!Number.isFinite(v)) { nonFinite++; continue; }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const finite = n - nonFinite;
  const head = Array.from(t.data.slice(0, 4), (v) => fmt(v)).join(", ") + (n > 4 ? ", ..." : "");
  const stats = finite > 0 ? `min ${fmt(min)}  max ${fmt(max)}  mean ${fmt(sum / finite)}` : "no finite values";
  const extra = nonFinite > 0 ? `  (${nonFinite} non-finite)` : "";
  return `${name}: ${t.dtype}[${t.shape.join(", ")}]  ${stats}${extra}  [${head}]`;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e5 ? Number(v.toPrecision(5)).toString() : v.toExponential(3);
}

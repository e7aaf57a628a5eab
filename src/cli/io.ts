/**
 * File input and output for the CLI: tensors from .npy/.npz, atomic writes
 * (a temporary file renamed into place, so a failed run never leaves a
 * partial output), and the short tensor summaries `tns run` prints.
 */
import {
  closeSync, fstatSync, lstatSync, mkdirSync, openSync, readSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync,
} from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import type { DiagnosticCode } from "../diagnostics/catalog.js";
import type { Span } from "../diagnostics/diagnostic.js";
import { MAX_SOURCE_BYTES } from "../parser/source-size.js";
import { readNpy, writeNpy } from "../runtime/npy.js";
import { readNpz, writeNpz } from "../runtime/npz.js";
import type { Tensor } from "../runtime/tensor.js";
import { UsageError } from "./args.js";

/** A file could not be read, parsed or written (exit code 1, like a diagnostic). */
export class DataFileError extends Error {
  constructor(message: string, readonly code: DiagnosticCode = "TNS0605", readonly hint?: string, readonly span?: Span) {
    super(message);
    this.name = "DataFileError";
  }
}

/** The span of one character at `offset` of `text` in `file` (the start of the file for offset 0). */
function spanAt(file: string, text: string, offset: number): Span {
  const before = text.slice(0, offset).split("\n");
  const start = { offset, line: before.length, column: before[before.length - 1]!.length + 1 };
  return { file, start, end: { offset: offset + 1, line: start.line, column: start.column + 1 } };
}

/** The largest .npy/.npz file read (what one Node buffer holds). */
const MAX_DATA_BYTES = 2 ** 31 - 1;

const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or folder", EACCES: "permission denied", EPERM: "operation not permitted",
  ENOTDIR: "a part of the path is not a folder", EISDIR: "it is a folder", ENOSPC: "no space left on the device",
  EROFS: "read-only file system", EEXIST: "it already exists", ENAMETOOLONG: "the name is too long",
};

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === undefined ? (e as Error).message : ERRNO_WORDS[code] ? `${ERRNO_WORDS[code]} (${code})` : code;
}

/**
 * Reads a whole regular file of at most `limit` bytes. Devices, pipes and
 * folders are refused before reading (`/dev/zero` never ends), and so is a
 * file past the limit, from its size, before it is read.
 */
function readRegularFile(path: string, limit: number, code: DiagnosticCode, what: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new DataFileError(`cannot read ${path}: ${reason(e)}`, code);
  }
  try {
    const stat = fstatSync(fd);
    const where = code === "TNS0007" ? spanAt(path, "", 0) : undefined;
    if (!stat.isFile()) {
      const kind = stat.isDirectory() ? "a folder" : "not a regular file";
      throw new DataFileError(`cannot read ${path}: ${kind}`, code, `give the path of ${what}`, where);
    }
    if (stat.size > limit) {
      throw new DataFileError(`cannot read ${path}: ${stat.size} bytes, more than the limit of ${limit}`, code === "TNS0007" ? "TNS0005" : code,
        `tns reads ${what} of at most ${limit} bytes (docs/limits.md)`, where);
    }
    const bytes = new Uint8Array(stat.size);
    let at = 0;
    while (at < bytes.length) {
      const n = readSync(fd, bytes, at, bytes.length - at, at);
      if (n === 0) break;
      at += n;
    }
    return at === bytes.length ? bytes : bytes.subarray(0, at);
  } catch (e) {
    if (e instanceof DataFileError) throw e;
    throw new DataFileError(`cannot read ${path}: ${reason(e)}`, code);
  } finally {
    closeSync(fd);
  }
}

/** Reads a whole data file (.npy, .npz), turning file-system errors into a readable message. */
export function readBytes(path: string): Uint8Array {
  return readRegularFile(path, MAX_DATA_BYTES, "TNS0605", "a .npy or .npz file");
}

/**
 * Reads a .tns source: a regular file of at most {@link MAX_SOURCE_BYTES}
 * that is UTF-8 text (a binary file is refused at once, not parsed into
 * thousands of diagnostics).
 */
export function readText(path: string): string {
  const bytes = readRegularFile(path, MAX_SOURCE_BYTES, "TNS0007", "a .tns program");
  const nul = bytes.indexOf(0);
  try {
    if (nul >= 0) throw new Error("NUL");
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    // Where the first bad byte is, as a line and column of the text decoded with replacements.
    const text = new TextDecoder("utf-8").decode(bytes);
    const at = text.search(/[\u0000\uFFFD]/);
    throw new DataFileError(`${path} is not a text file (${nul >= 0 ? `a NUL byte at offset ${nul}` : "not valid UTF-8"})`, "TNS0006",
      "give the path of a .tns program, which is UTF-8 text", spanAt(path, text, Math.max(0, at)));
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

/** Writes a file through a temporary sibling and a rename; on failure nothing is left, not even the folders it made. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  writeFilesAtomic(dirname(path), [[basename(path), bytes]]);
}

/**
 * Writes a set of files into `dir` all or nothing: every file goes to a
 * temporary name first, and only when all are written are they renamed
 * into place. On any failure the temporary files, the files already
 * renamed that did not exist before and the folders made for them are
 * removed, and a {@link DataFileError} (TNS0608) says what failed.
 */
export function writeFilesAtomic(dir: string, files: readonly (readonly [name: string, content: Uint8Array | string])[]): void {
  const made: string[] = [];
  const temporary: string[] = [];
  const placed: string[] = [];
  let current = "";
  try {
    current = dir;
    made.push(...makeFolders(dir));
    const targets = files.map(([name]) => join(dir, name));
    for (const target of targets) {
      current = target;
      if (existingKind(target) === "folder") throw new Error("a folder is in the way");
    }
    files.forEach(([name, content], k) => {
      current = targets[k]!;
      const tmp = join(dir, `.${name}.${process.pid}.tmp`);
      temporary.push(tmp);
      writeFileSync(tmp, content);
    });
    files.forEach((_, k) => {
      current = targets[k]!;
      const existed = existingKind(targets[k]!) !== null;
      renameSync(temporary[k]!, targets[k]!);
      temporary[k] = "";
      if (!existed) placed.push(targets[k]!);
    });
  } catch (e) {
    for (const path of [...temporary, ...placed]) if (path) removeQuietly(() => rmSync(path, { force: true }));
    for (const folder of made.reverse()) removeQuietly(() => rmdirSync(folder));
    throw new DataFileError(`cannot write ${current}: ${reason(e)}`, "TNS0608", "choose an output path in a folder you can write to");
  }
}

/**
 * Fails early, before any work, when `target` cannot be written: something
 * that is not a folder stands where a folder of its path must be, or a
 * folder stands where the file must go (`kind` "file"). The write itself
 * still reports anything this does not foresee.
 *
 * @example
 * ```ts
 * checkOutputPath("prog.tns/out.npz", "file"); // DataFileError (TNS0608): prog.tns is not a folder
 * ```
 */
export function checkOutputPath(target: string, kind: "file" | "folder"): void {
  const fail = (why: string): never => {
    throw new DataFileError(`cannot write ${target}: ${why}`, "TNS0608", "choose an output path in a folder you can write to");
  };
  const here = existingKind(target);
  if (here === "folder" && kind === "file") fail("it is a folder");
  if (here === "other" && kind === "folder") fail("it is a file, not a folder");
  if (here !== null) return;
  for (let at = dirname(resolve(target)); ; at = dirname(at)) {
    const found = existingKind(at);
    if (found === "other") fail(`${at} is not a folder`);
    if (found === "folder" || dirname(at) === at) return;
  }
}

/** What is at `path`: a folder, something else, or nothing. */
function existingKind(path: string): "folder" | "other" | null {
  try {
    return lstatSync(path).isDirectory() ? "folder" : "other";
  } catch {
    return null;
  }
}

/**
 * Makes `dir` and its missing parents one level at a time (Node's
 * recursive mkdir never returns under /proc), returning the folders made,
 * outermost first. A file in the way is an error, not something to replace.
 */
function makeFolders(dir: string): string[] {
  const missing: string[] = [];
  for (let at = resolve(dir); ; at = dirname(at)) {
    let isFolder: boolean;
    try {
      isFolder = statSync(at).isDirectory();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      missing.unshift(at);
      if (dirname(at) === at) break;
      continue;
    }
    if (!isFolder) throw new Error(`${at} is not a folder`);
    break;
  }
  const made: string[] = [];
  try {
    for (const folder of missing) {
      mkdirSync(folder);
      made.push(folder);
    }
  } catch (e) {
    for (const folder of made.reverse()) removeQuietly(() => rmdirSync(folder));
    throw e;
  }
  return made;
}

function removeQuietly(remove: () => void): void {
  try {
    remove();
  } catch {
    // Cleanup after a failure: the failure is what gets reported.
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

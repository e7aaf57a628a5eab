/**
 * Whole programs in the disk cache (disk-cache.ts): what a run of a program
 * needs besides its module (the buffers, inputs and outputs, the warnings
 * its compilation gave), stored beside the module under a key made of the
 * source text and the compile options. A later process that finds the entry
 * runs the program without parsing, checking, optimizing or lowering it, and
 * without loading the modules that do those (the parser and its Chevrotain,
 * the passes, the code generators): `tns run` on a cached program loads
 * about 30 of tns's modules instead of about 180.
 *
 *     before: read source; parse, check, optimize, lower; read module; run
 *     after:  read source; read entry, check its imports' hashes; read module; run
 *
 * The key holds what decides the compiled program: the main file's name and
 * text, the compile options, the host's relaxed-SIMD support and its cores
 * (which choose the module's instructions and threads) and the tns version.
 * Files the program imports are not in the key: the entry lists them with a
 * SHA-256 of their text, and an entry whose imports changed is a miss. Only
 * programs without weight data get an entry (weights are bound per run, or
 * from a file, and are not stored). An entry that does not parse, does not
 * match, or names a module the disk no longer holds is a miss, never an
 * error; the caller then compiles as usual and writes a new one.
 */
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import type { DType } from "../../ir/types.js";
import type { Executable, TensorInfo } from "../../runtime/executable.js";
import type { KernelProgram } from "../kernel/types.js";
import type { DiskCache } from "./disk-cache.js";
import { loadWasm } from "./load.js";
import { hostRunsRelaxedSimd } from "./relaxed-simd.js";
import { loadThreadHost } from "./threads.js";

/** The version of the entry format: an entry of another is a miss. */
const FORMAT = "tns-program-entry-1";

/** The compile options that decide a program (a subset of the compiler's `CompileOptions`). */
export interface ProgramKeyOptions {
  readonly file?: string;
  readonly sizes?: Readonly<Record<string, number>>;
  readonly optimize?: boolean;
  readonly threads?: number;
  readonly runOnce?: boolean;
  readonly optimizeWasm?: boolean;
  readonly memoryBudget?: number;
  readonly maxIntermediateBytes?: number;
  readonly donate?: readonly string[] | "all";
}

/** What is stored of a compiled program. */
export interface ProgramEntry {
  readonly format: typeof FORMAT;
  /** The module's entry in the same cache (its key's hash). */
  readonly module: string;
  /** Every file the program imports: its file key, where it was read on disk and the SHA-256 of its text. */
  readonly imports: readonly (readonly [string, string, string])[];
  /** The kernel program's buffers (weight data never stored), outputs and donated inputs: what loading the module needs. */
  readonly buffers: readonly { readonly name: string; readonly dtype: DType; readonly shape: readonly number[]; readonly size: number; readonly role: KernelProgram["buffers"][number]["role"] }[];
  readonly outputs: readonly string[];
  readonly donated: readonly string[];
  readonly inputInfos: readonly TensorInfo[];
  readonly outputInfos: readonly TensorInfo[];
  /** Extents of the inputs read by a gather as indices (random data stays in range). */
  readonly gatherExtents: readonly (readonly [string, number])[];
  /** The warnings of the compilation (an entry is written only for a program that compiled). */
  readonly diagnostics: readonly Diagnostic[];
}

/** A program read back from the cache, ready to run. */
export interface CachedProgram {
  readonly diagnostics: readonly Diagnostic[];
  /** Source texts by file name (the main file and every import), for rendering diagnostics. */
  readonly sources: ReadonlyMap<string, string>;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly gatherExtents: ReadonlyMap<string, number>;
  readonly executable: Executable;
}

/**
 * The key of a program's entry: its source, file name, options and the
 * host's facts that choose the module (see the header).
 *
 * @example
 * ```ts
 * programKey("input x[4]\noutput y[i] = x[i]", { file: "a.tns", runOnce: true });
 * ```
 */
export function programKey(source: string, options: ProgramKeyOptions): string {
  const os = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.("node:os") as typeof import("node:os") | undefined;
  const cores = os?.availableParallelism?.() ?? 1;
  return JSON.stringify([
    FORMAT, source, options.file, options.sizes, options.optimize, options.threads, options.runOnce, options.optimizeWasm,
    options.memoryBudget, options.maxIntermediateBytes, options.donate, hostRunsRelaxedSimd(), cores,
  ]);
}

/**
 * The entry of a compiled program, or null when it cannot have one (weight
 * data bound at compile time). `sources` are the texts the compilation read,
 * by file key; `main` is the main file's key; `pathOf` maps an imported
 * file's key to the file on disk it was read from.
 */
export function programEntry(
  moduleHash: string, kernels: KernelProgram, sources: ReadonlyMap<string, string>, main: string,
  info: { inputs: readonly TensorInfo[]; outputs: readonly TensorInfo[]; gatherExtents: ReadonlyMap<string, number>; diagnostics: readonly Diagnostic[] },
  pathOf: (file: string) => string, sha256: (text: string) => string,
): ProgramEntry | null {
  if (kernels.buffers.some((b) => b.role === "weight")) return null;
  return {
    format: FORMAT, module: moduleHash,
    imports: [...sources].filter(([file]) => file !== main).map(([file, text]) => [file, pathOf(file), sha256(text)] as const),
    buffers: kernels.buffers.map(({ name, dtype, shape, size, role }) => ({ name, dtype, shape, size, role })),
    outputs: kernels.outputs, donated: kernels.donated ?? [],
    inputInfos: info.inputs, outputInfos: info.outputs, gatherExtents: [...info.gatherExtents], diagnostics: info.diagnostics,
  };
}

/**
 * The program compiled earlier from `source` with these options, loaded and
 * ready to run, or null (no entry, an import changed, the module is gone or
 * unusable). Never throws for a bad entry.
 *
 * @example
 * ```ts
 * const hit = await cachedProgram(DiskCache.open()!, source, { file, runOnce: true });
 * if (hit) hit.executable.run(inputs);
 * ```
 */
export async function cachedProgram(disk: DiskCache, source: string, options: ProgramKeyOptions): Promise<CachedProgram | null> {
  const entry = disk.getProgram(programKey(source, options));
  if (!wellFormed(entry)) return null;
  const sources = new Map<string, string>([[options.file ?? "<input>", source]]);
  const fs = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.("node:fs") as typeof import("node:fs") | undefined;
  if (fs === undefined) return null;
  for (const [file, path, hash] of entry.imports) {
    let text: string;
    try {
      text = fs.readFileSync(path, "utf8");
    } catch {
      return null;
    }
    if (disk.sha256(text) !== hash) return null;
    sources.set(file, text);
  }
  // The text is printed only for `code`, which a cached run never reads.
  const art = disk.getByHash(entry.module, () => "");
  if (art === null) return null;
  // The entry's buffers must lie in the module's memory where its layout puts them.
  const memoryBytes = art.pages * 65536;
  const placed = entry.buffers.every((b) => {
    const at = art.layout.offsets.get(b.name);
    return at !== undefined && Number.isSafeInteger(b.size) && b.size >= 0 && at + b.size * (b.dtype === "f64" ? 8 : 4) <= memoryBytes;
  });
  if (!placed || !entry.outputs.every((o) => entry.buffers.some((b) => b.name === o))) return null;
  const host = art.threads > 1 ? await loadThreadHost() : null;
  if (art.threads > 1 && host === null) return null;
  let executable: Executable;
  try {
    executable = loadWasm(art, { buffers: entry.buffers, outputs: entry.outputs, donated: entry.donated }, host);
  } catch {
    return null;
  }
  return {
    diagnostics: entry.diagnostics, sources, inputs: entry.inputInfos, outputs: entry.outputInfos,
    gatherExtents: new Map(entry.gatherExtents), executable,
  };
}

/** The shape checks an entry read from disk must pass before it is used (a foreign or damaged file is a miss). */
function wellFormed(x: unknown): x is ProgramEntry {
  if (typeof x !== "object" || x === null) return false;
  const e = x as ProgramEntry;
  const list = (v: unknown): boolean => Array.isArray(v);
  return e.format === FORMAT && typeof e.module === "string" && list(e.imports) && list(e.buffers) && list(e.outputs) && list(e.donated) &&
    list(e.inputInfos) && list(e.outputInfos) && list(e.gatherExtents) && list(e.diagnostics) &&
    e.imports.every((i) => list(i) && i.length === 3 && i.every((part) => typeof part === "string")) &&
    e.buffers.every((b) => typeof b.name === "string" && typeof b.size === "number" && list(b.shape) && typeof b.dtype === "string" && typeof b.role === "string");
}

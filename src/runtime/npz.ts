/**
 * NumPy `.npz` archives: a zip file holding one `.npy` file per array
 * (`np.savez` stores them, `np.savez_compressed` deflates them). The zip
 * container is read and written by fflate.
 */
import { unzipSync, zipSync, type Zippable } from "fflate";
import { CompileError } from "../diagnostics/diagnostic.js";
import { dataFileError, readNpy, writeNpy } from "./npy.js";
import type { Tensor } from "./tensor.js";

/** The largest array read from an archive (what one Node buffer holds). */
const MAX_ARRAY_BYTES = 2 ** 31 - 1;

/**
 * Reads every array of a `.npz` archive, by name (the file name without `.npy`).
 *
 * @throws CompileError with diagnostic TNS0605 when the archive or an array in it is malformed
 * @example
 * ```ts
 * const arrays = readNpz(writeNpz({ W: Tensor.fromArray([1, 2]) }));
 * arrays["W"].shape; // [2]
 * ```
 */
export function readNpz(bytes: Uint8Array): Record<string, Tensor> {
  let files: Record<string, Uint8Array>;
  const oversized: string[] = [];
  try {
    // The sizes an archive declares are checked before anything is inflated: a few bytes can claim gigabytes.
    files = unzipSync(bytes, {
      filter: (f) => {
        if (f.originalSize <= MAX_ARRAY_BYTES) return true;
        oversized.push(`${f.name} (${f.originalSize} bytes)`);
        return false;
      },
    });
  } catch (e) {
    throw dataFileError(`not a valid .npz (zip) archive: ${(e as Error).message}`);
  }
  if (oversized.length > 0) throw dataFileError(`arrays larger than ${MAX_ARRAY_BYTES} bytes in the archive: ${oversized.join(", ")}`);
  const out: Record<string, Tensor> = {};
  for (const name of Object.keys(files).sort()) {
    if (name.endsWith("/")) continue;
    const key = name.endsWith(".npy") ? name.slice(0, -4) : name;
    try {
      out[key] = readNpy(files[name]!);
    } catch (e) {
      const why = e instanceof CompileError ? e.diagnostics.map((d) => d.message).join("; ") : (e as Error).message;
      throw dataFileError(`array '${key}' in the archive: ${why}`);
    }
  }
  return out;
}

/** Options of {@link writeNpz}. */
export interface WriteNpzOptions {
  /** Deflate the arrays, like `np.savez_compressed` (default false: stored, like `np.savez`). */
  readonly compress?: boolean;
}

/**
 * Writes arrays as a `.npz` archive (`name.npy` per array, in the record's order).
 *
 * @example
 * ```ts
 * const bytes = writeNpz({ Q: Tensor.zeros([2, 3]), K: Tensor.zeros([2, 3]) }, { compress: true });
 * ```
 */
export function writeNpz(arrays: Readonly<Record<string, Tensor>>, options: WriteNpzOptions = {}): Uint8Array {
  const files: Zippable = {};
  for (const [name, t] of Object.entries(arrays)) files[`${name}.npy`] = writeNpy(t);
  // A fixed timestamp keeps archives byte-for-byte reproducible.
  return zipSync(files, { level: options.compress ? 6 : 0, mtime: new Date(1980, 0, 1) });
}

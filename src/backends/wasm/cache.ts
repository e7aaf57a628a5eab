/**
 * A per-process cache of compiled modules. Emitting a module (binaryen's
 * validation and optimizer) is most of the wasm backend's compile time, so
 * compiling the same kernel program again (same program text, same sizes)
 * returns the module built the first time:
 *
 *     before: compile(p) 110 ms, compile(p) 110 ms
 *     after:  compile(p) 110 ms, compile(p) < 1 ms (same WasmArtifact)
 *
 * The key is the kernel program without weight data (weights are copied into
 * memory when a module is loaded, never baked into the binary) plus the emit
 * options, among them whether the host runs relaxed SIMD (the module differs).
 * Least recently used entries are dropped beyond a fixed count.
 */
import type { KernelProgram } from "../kernel/types.js";

/** Entries kept; each is a few KiB of binary and text. */
const CAPACITY = 64;

/**
 * The cache key of a kernel program and emit options: its JSON without
 * weight data.
 *
 * @example
 * ```ts
 * moduleCacheKey(kp, { optimize: true }) === moduleCacheKey(kp, { optimize: true }); // true
 * ```
 */
export function moduleCacheKey(kp: KernelProgram, options: object): string {
  const withoutData = (key: string, value: unknown): unknown =>
    key === "data" || ArrayBuffer.isView(value) ? undefined : value;
  return JSON.stringify([kp, options], withoutData);
}

/**
 * A bounded map from keys to compiled artifacts, least recently used out first.
 *
 * @example
 * ```ts
 * const cache = new ModuleCache<string>();
 * cache.getOrCreate("k", () => "built"); // "built" (built once)
 * cache.getOrCreate("k", () => "again"); // "built"
 * ```
 */
export class ModuleCache<T> {
  private readonly entries = new Map<string, T>();
  /** Lookups answered from the cache. */
  hits = 0;

  constructor(private readonly capacity = CAPACITY) {}

  /** The entry for `key`, built by `create` when absent. */
  getOrCreate(key: string, create: () => T): T {
    const known = this.entries.get(key);
    if (known !== undefined) {
      // Re-insert so Map order stays least-recently-used first.
      this.entries.delete(key);
      this.entries.set(key, known);
      this.hits++;
      return known;
    }
    const made = create();
    this.entries.set(key, made);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return made;
  }

  /** Whether `key` has an entry. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Number of cached entries. */
  get size(): number {
    return this.entries.size;
  }
}

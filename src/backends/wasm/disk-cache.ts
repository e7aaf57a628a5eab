/**
 * An on-disk cache of compiled WebAssembly modules, so a program compiled
 * once skips code generation (and, for modules built with binaryen's
 * optimizer, loading binaryen) in every later process:
 *
 *     before: tns run attention.tns   lower, emit, encode, validate
 *     after:  tns run attention.tns   (second time) read one file
 *
 * An entry's key is the in-process cache key (the kernel program, lowered
 * from the optimized IR, without weight data, plus the emit options, among
 * them relaxed SIMD, threads and which encoder and optimizer produced the
 * bytes: cache.ts, index.ts) and the tns version; its file name is the
 * SHA-256 of that. A file holds a magic line, a JSON header (format,
 * version, the key's hash, a hash of the binary and the artifact's fields)
 * and the binary. The module's text is not stored: the reader passes a
 * function that prints it again (from the encoder, which builds the same
 * text), called only if the text is read. An entry that does not parse,
 * whose hashes or version do not match, or whose binary the engine does not
 * validate is ignored (and overwritten by the rebuilt module): never an
 * error.
 *
 * Beside the modules, `programs/` holds one small JSON entry per program
 * that `tns run` compiled (program-cache.ts: what a run needs besides the
 * module), and `hints/` one empty file per program text whose module is
 * cached.
 *
 * Entries are written to a temporary file and renamed, so a reader never
 * sees half an entry. When the folder holds more than its size cap, the
 * least recently used entries (by modification time, touched on each hit)
 * are removed after a write.
 *
 * Where: `TNS_CACHE_DIR` when set, else the user's cache folder:
 * `$XDG_CACHE_HOME/tns` or `~/.cache/tns` (Linux and others),
 * `~/Library/Caches/tns` (macOS), `%LOCALAPPDATA%\tns\cache` (Windows).
 * Hosts without a file system (browsers) have no disk cache.
 */
import { VERSION } from "../../version.js";
import type { ArenaLayout } from "./layout.js";
import type { WasmArtifact } from "./emit.js";

/** Default size cap of the cache folder: 64 MiB. */
export const DEFAULT_CACHE_BYTES = 64 * 2 ** 20;

const MAGIC = "tns-wasm-module-cache 3\n";
const FORMAT = "tns-wasm-module-cache-4";

/** Hint files kept (see {@link DiskCache.hasHint}), and program entries (see {@link DiskCache.getProgram}). */
const MAX_HINTS = 4096;

/** The Node built-ins the cache uses, reached without importing them (so the compiler loads in browsers). */
interface NodeApis {
  readonly fs: typeof import("node:fs");
  readonly path: typeof import("node:path");
  readonly os: typeof import("node:os");
  readonly crypto: typeof import("node:crypto");
}

function nodeApis(): NodeApis | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process;
  const get = proc?.getBuiltinModule;
  if (typeof get !== "function") return null;
  const fs = get("node:fs") as NodeApis["fs"] | undefined;
  const path = get("node:path") as NodeApis["path"] | undefined;
  const os = get("node:os") as NodeApis["os"] | undefined;
  const crypto = get("node:crypto") as NodeApis["crypto"] | undefined;
  return fs && path && os && crypto ? { fs, path, os, crypto } : null;
}

/**
 * The folder the cache uses by default (see the header), or null where there is no file system.
 *
 * @example
 * ```ts
 * defaultCacheDirectory(); // "/home/me/.cache/tns"
 * ```
 */
export function defaultCacheDirectory(): string | null {
  const node = nodeApis();
  if (node === null) return null;
  const env = (globalThis as unknown as { process: { env: Record<string, string | undefined>; platform: string } }).process;
  const explicit = env.env["TNS_CACHE_DIR"];
  if (explicit) return explicit;
  const home = node.os.homedir();
  if (env.platform === "darwin") return node.path.join(home, "Library", "Caches", "tns");
  if (env.platform === "win32") return node.path.join(env.env["LOCALAPPDATA"] ?? node.path.join(home, "AppData", "Local"), "tns", "cache");
  return node.path.join(env.env["XDG_CACHE_HOME"] || node.path.join(home, ".cache"), "tns");
}

/** What is stored of an artifact besides its binary. */
interface Header {
  readonly format: typeof FORMAT;
  readonly version: string;
  readonly key: string;
  /** SHA-256 of everything after the header: the binary. */
  readonly body: string;
  readonly binaryBytes: number;
  /** The arena's memory plan, its maps as entry lists. */
  readonly layout: Omit<ArenaLayout, "offsets" | "scratch" | "scratchBytes"> & {
    readonly offsets: [string, number][];
    readonly scratch: [number, number][];
    readonly scratchBytes: [number, number][];
  };
  readonly pages: number;
  readonly imports: readonly string[];
  readonly threads: number;
  readonly kernelFunctions: readonly string[];
  readonly parallel: WasmArtifact["parallel"];
  readonly panels: WasmArtifact["panels"];
  readonly gather?: WasmArtifact["gather"];
}

/** The host's WebAssembly `validate` (the Node typings omit the WebAssembly namespace). */
const validate = (bytes: Uint8Array): boolean =>
  (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate(bytes);

/**
 * Compiled modules on disk, by key.
 *
 * @example
 * ```ts
 * const disk = DiskCache.open();          // null without a file system
 * disk?.get(key, () => emitWasm(wasmEncoder(), kernels).text) ?? disk?.put(key, emitWasm(wasmEncoder(), kernels, options));
 * ```
 */
export class DiskCache {
  /** Lookups answered from disk, and entries found unusable (and so rebuilt), in this process. */
  hits = 0;
  rejected = 0;

  private constructor(private readonly node: NodeApis, readonly directory: string, readonly maxBytes: number) {}

  /** The cache in `directory` (default {@link defaultCacheDirectory}), or null where there is no file system. */
  static open(directory: string | null = defaultCacheDirectory(), maxBytes = DEFAULT_CACHE_BYTES): DiskCache | null {
    const node = nodeApis();
    return node === null || directory === null ? null : new DiskCache(node, directory, maxBytes);
  }

  private hash(text: string): string {
    return this.node.crypto.createHash("sha256").update(text).digest("hex");
  }

  /** The SHA-256 of a text, in hex. */
  sha256(text: string): string {
    return this.hash(text);
  }

  /** The hash that names the entry of `key` (what {@link getByHash} takes). */
  moduleHash(key: string): string {
    return this.fileOf(key).keyHash;
  }

  /** The file that holds (or would hold) the entry of `key`. */
  entryPath(key: string): string {
    return this.fileOf(key).name;
  }

  /** Whether an entry file exists for `key` (usable or not). */
  has(key: string): boolean {
    return this.node.fs.existsSync(this.fileOf(key).name);
  }

  private fileOf(key: string): { name: string; keyHash: string } {
    const keyHash = this.hash(`${VERSION}\n${key}`);
    return { name: this.node.path.join(this.directory, `${keyHash}.wasmc`), keyHash };
  }

  /**
   * The artifact stored under `key`, or null when there is none or it is
   * unusable; its `text` is `text()`, called when first read.
   */
  get(key: string, text: () => string): WasmArtifact | null {
    const { keyHash } = this.fileOf(key);
    return this.getByHash(keyHash, text);
  }

  /** {@link get} by the hash of the key ({@link moduleHash}), as a program entry names its module. */
  getByHash(keyHash: string, text: () => string): WasmArtifact | null {
    if (!/^[0-9a-f]{64}$/.test(keyHash)) return null;
    const name = this.node.path.join(this.directory, `${keyHash}.wasmc`);
    let bytes: Uint8Array;
    try {
      bytes = this.node.fs.readFileSync(name);
    } catch {
      return null;
    }
    const art = this.decode(bytes, keyHash, text);
    if (art === null) {
      this.rejected++;
      return null;
    }
    this.hits++;
    try {
      const now = new Date();
      this.node.fs.utimesSync(name, now, now);
    } catch {
      // A read-only cache still serves hits.
    }
    return art;
  }

  private decode(bytes: Uint8Array, keyHash: string, text: () => string): WasmArtifact | null {
    try {
      const magic = new TextEncoder().encode(MAGIC);
      if (bytes.length < magic.length || magic.some((b, k) => bytes[k] !== b)) return null;
      const end = bytes.indexOf(0x0a, magic.length);
      if (end < 0) return null;
      const header = JSON.parse(new TextDecoder().decode(bytes.subarray(magic.length, end))) as Header;
      if (header.format !== FORMAT || header.version !== VERSION || header.key !== keyHash) return null;
      const panels = header.panels;
      const isCount = (x: unknown): boolean => Number.isInteger(x) && (x as number) > 0;
      if (!Array.isArray(panels) || !panels.every((w) => typeof w?.name === "string" && isCount(w.k) && isCount(w.l))) return null;
      const body = end + 1;
      if (bytes.length !== body + header.binaryBytes) return null;
      if (this.node.crypto.createHash("sha256").update(bytes.subarray(body)).digest("hex") !== header.body) return null;
      const binary = bytes.slice(body, body + header.binaryBytes);
      if (!validate(binary)) return null;
      const layout: ArenaLayout = {
        ...header.layout,
        offsets: new Map(header.layout.offsets), scratch: new Map(header.layout.scratch), scratchBytes: new Map(header.layout.scratchBytes),
      };
      let printed: string | null = null;
      return {
        binary, get text() { return (printed ??= text()); }, layout, pages: header.pages, imports: header.imports, threads: header.threads,
        kernelFunctions: header.kernelFunctions, parallel: header.parallel, panels, ...(header.gather ? { gather: header.gather } : {}),
      };
    } catch {
      return null;
    }
  }

  /** Stores `art` under `key` (best effort: a cache that cannot be written is skipped) and returns it. */
  put(key: string, art: WasmArtifact): WasmArtifact {
    const { name, keyHash } = this.fileOf(key);
    const header: Header = {
      format: FORMAT, version: VERSION, key: keyHash,
      body: this.node.crypto.createHash("sha256").update(art.binary).digest("hex"), binaryBytes: art.binary.length,
      layout: { ...art.layout, offsets: [...art.layout.offsets], scratch: [...art.layout.scratch], scratchBytes: [...art.layout.scratchBytes] },
      pages: art.pages, imports: art.imports, threads: art.threads, kernelFunctions: art.kernelFunctions, parallel: art.parallel,
      panels: art.panels, ...(art.gather ? { gather: art.gather } : {}),
    };
    const head = new TextEncoder().encode(`${MAGIC}${JSON.stringify(header)}\n`);
    const file = new Uint8Array(head.length + art.binary.length);
    file.set(head, 0);
    file.set(art.binary, head.length);
    const { fs } = this.node;
    const temporary = `${name}.${(globalThis as unknown as { process: { pid: number } }).process.pid}.tmp`;
    try {
      fs.mkdirSync(this.directory, { recursive: true });
      fs.writeFileSync(temporary, file);
      fs.renameSync(temporary, name);
      this.trim();
    } catch {
      try { fs.rmSync(temporary, { force: true }); } catch { /* nothing to clean */ }
    }
    return art;
  }

  /** Removes the least recently used entries while the folder holds more than {@link maxBytes}. */
  trim(): void {
    const { fs, path } = this.node;
    const entries = fs.readdirSync(this.directory)
      .filter((f) => f.endsWith(".wasmc"))
      .map((f) => {
        const full = path.join(this.directory, f);
        const stat = fs.statSync(full);
        return { full, bytes: stat.size, used: stat.mtimeMs };
      })
      .sort((a, b) => a.used - b.used);
    let total = entries.reduce((a, e) => a + e.bytes, 0);
    for (const e of entries) {
      if (total <= this.maxBytes) break;
      fs.rmSync(e.full, { force: true });
      total -= e.bytes;
    }
    // Hints are empty files, one per program text: keep the newest MAX_HINTS.
    this.trimFolder(path.join(this.directory, "hints"));
  }

  /** Keeps the newest {@link MAX_HINTS} files of a folder of hints or program entries. */
  private trimFolder(folder: string): void {
    const { fs, path } = this.node;
    if (!fs.existsSync(folder)) return;
    const names = fs.readdirSync(folder);
    if (names.length <= MAX_HINTS) return;
    const aged = names.map((f) => ({ full: path.join(folder, f), used: fs.statSync(path.join(folder, f)).mtimeMs })).sort((a, b) => a.used - b.used);
    for (const h of aged.slice(0, aged.length - MAX_HINTS)) fs.rmSync(h.full, { force: true });
  }

  /** Whether a module was cached for a program with this source key (a hint: compileAsync then does not start loading binaryen). */
  hasHint(sourceKey: string): boolean {
    return this.node.fs.existsSync(this.hintFile(sourceKey));
  }

  /** Records that the program with this source key has a cached module. */
  putHint(sourceKey: string): void {
    try {
      this.node.fs.mkdirSync(this.node.path.join(this.directory, "hints"), { recursive: true });
      this.node.fs.writeFileSync(this.hintFile(sourceKey), "");
    } catch {
      // Only a hint.
    }
  }

  private hintFile(sourceKey: string): string {
    return this.node.path.join(this.directory, "hints", this.hash(`${VERSION}\n${sourceKey}`));
  }

  /**
   * The program entry stored under `sourceKey` (program-cache.ts), parsed
   * JSON that its reader checks, or null; a hit touches the file.
   */
  getProgram(sourceKey: string): unknown {
    const file = this.programFile(sourceKey);
    try {
      const entry = JSON.parse(this.node.fs.readFileSync(file, "utf8")) as { version?: unknown; entry?: unknown };
      if (entry.version !== VERSION || typeof entry.entry !== "object" || entry.entry === null) return null;
      const now = new Date();
      this.node.fs.utimesSync(file, now, now);
      return entry.entry;
    } catch {
      return null;
    }
  }

  /** Stores a program entry (best effort, written whole or not at all), keeping the newest of them. */
  putProgram(sourceKey: string, entry: object): void {
    const { fs, path } = this.node;
    const file = this.programFile(sourceKey);
    const temporary = `${file}.${(globalThis as unknown as { process: { pid: number } }).process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(temporary, JSON.stringify({ version: VERSION, entry }));
      fs.renameSync(temporary, file);
      this.trimFolder(path.dirname(file));
    } catch {
      try { fs.rmSync(temporary, { force: true }); } catch { /* nothing to clean */ }
    }
  }

  private programFile(sourceKey: string): string {
    return this.node.path.join(this.directory, "programs", `${this.hash(`${VERSION}\n${sourceKey}`)}.json`);
  }
}

/**
 * Import resolution: where `import "nn"` and `import "./blocks.tns"` point,
 * and how their text is read. The checker only talks to a
 * {@link SourceLoader}, so tests and embedders can serve files from memory;
 * {@link nodeLoader} is the file-system implementation.
 *
 * A resolved import is named by a file key, which spans and the sources map
 * use: stdlib modules are `<stdlib>/nn.tns` whatever the install location
 * (so diagnostics read the same on every machine), relative imports join
 * onto the importing file's name as the user gave it.
 *
 *     import "nn"              (from p/main.tns)  ->  <stdlib>/nn.tns
 *     import "./lib/a.tns"     (from p/main.tns)  ->  p/lib/a.tns
 */

/**
 * Node's `fs`, `path` and `url`, taken with `process.getBuiltinModule`
 * (Node 20.16 and later) rather than imported, so that this module, and the
 * compiler with it, also loads where there is no file system (a browser
 * page). There `nodeLoader` resolves nothing and paths are POSIX.
 */
interface NodeModules {
  readonly fs: typeof import("node:fs");
  readonly path: typeof import("node:path");
  readonly url: typeof import("node:url");
}

function loadNodeModules(): NodeModules | null {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  if (typeof get !== "function") return null;
  return { fs: get("node:fs") as NodeModules["fs"], path: get("node:path") as NodeModules["path"], url: get("node:url") as NodeModules["url"] };
}

const NODE = loadNodeModules();

/** POSIX path arithmetic where `node:path` is missing (a browser); the same results as `node:path/posix` (tested). */
export const POSIX_PATH = {
  isAbsolute: (p: string): boolean => p.startsWith("/"),
  dirname: (p: string): string => {
    const trimmed = p.replace(/\/+$/, "");
    if (trimmed === "") return p.startsWith("/") ? "/" : ".";
    const i = trimmed.lastIndexOf("/");
    if (i < 0) return ".";
    return trimmed.slice(0, i).replace(/\/+$/, "") || "/";
  },
  basename: (p: string): string => p.replace(/\/+$/, "").split("/").pop() ?? "",
  join: (...parts: string[]): string => {
    const out: string[] = [];
    const absolute = parts[0]?.startsWith("/") ?? false;
    for (const part of parts.join("/").split("/")) {
      if (part === "" || part === ".") continue;
      if (part === ".." && out.length > 0 && out.at(-1) !== "..") out.pop();
      else if (part !== ".." || !absolute) out.push(part);
    }
    return (absolute ? "/" : "") + (out.join("/") || (absolute ? "" : "."));
  },
};

const { basename, dirname, isAbsolute, join } = NODE?.path ?? POSIX_PATH;

/**
 * Finds and reads imported source files.
 *
 * @example
 * ```ts
 * const files = new Map([["/lib/nn.tns", "fn id(X[n]) -> Y { Y[i] = X[i] }"]]);
 * const loader: SourceLoader = {
 *   resolve: (_from, path) => (files.has(`/lib/${path}.tns`) ? `/lib/${path}.tns` : null),
 *   read: (file) => files.get(file) ?? null,
 * };
 * ```
 */
export interface SourceLoader {
  /** The file key an import path names, seen from `fromFile`; null when there is none. */
  resolve(fromFile: string, path: string): string | null;
  /** The text of a resolved file; null when it cannot be read. */
  read(file: string): string | null;
  /**
   * Import paths that would resolve from `fromFile`, written like `path`
   * (same folder, same extension style), for "did you mean" hints on a
   * missing import. Optional: without it no module is suggested.
   */
  candidates?(fromFile: string, path: string): string[];
}

/** The folder part of every stdlib file key. */
export const STDLIB_KEY = "<stdlib>";

/** Appends `.tns` to a path that has no extension of its own. */
function withExtension(path: string): string {
  return /\.[A-Za-z0-9]+$/.test(path) ? path : `${path}.tns`;
}

/**
 * The file key an import path names: relative paths (starting with `.`)
 * join onto the importing file's folder as written (nothing is made
 * absolute), absolute paths stay, any other path names a stdlib module
 * under {@link STDLIB_KEY}. Pure path arithmetic; nothing is read.
 *
 * @example
 * ```ts
 * importKey("p/main.tns", "./lib/a"); // "p/lib/a.tns"
 * importKey("p/main.tns", "nn");      // "<stdlib>/nn.tns"
 * ```
 */
export function importKey(fromFile: string, path: string): string {
  if (path.startsWith(".")) return join(dirname(fromFile), withExtension(path));
  if (isAbsolute(path)) return withExtension(path);
  return `${STDLIB_KEY}/${withExtension(path)}`;
}

/**
 * Where a file key lives on disk: stdlib keys map into `stdlibDir`, every
 * other key is already a path.
 *
 * @example
 * ```ts
 * diskPath("<stdlib>/nn.tns", "/opt/tns/stdlib"); // "/opt/tns/stdlib/nn.tns"
 * diskPath("p/main.tns", "/opt/tns/stdlib");      // "p/main.tns"
 * ```
 */
export function diskPath(key: string, stdlibDir: string): string {
  if (key === STDLIB_KEY) return stdlibDir;
  return key.startsWith(`${STDLIB_KEY}/`) ? join(stdlibDir, key.slice(STDLIB_KEY.length + 1)) : key;
}

/**
 * The file on disk an import path names (its {@link importKey} mapped by
 * {@link diskPath}).
 *
 * @example
 * ```ts
 * importTarget("/p/main.tns", "./lib/a", "/std"); // "/p/lib/a.tns"
 * importTarget("/p/main.tns", "nn", "/std");      // "/std/nn.tns"
 * ```
 */
export function importTarget(fromFile: string, path: string, stdlibDir: string): string {
  return diskPath(importKey(fromFile, path), stdlibDir);
}

/**
 * The package's `stdlib/` folder, found by walking up from this file: that
 * works from `src/checker/` (tests) and from `dist/checker/` (installed).
 *
 * @example
 * ```ts
 * defaultStdlibDir(); // "/path/to/tns/stdlib"
 * ```
 */
export function defaultStdlibDir(): string {
  if (NODE === null || !import.meta.url.startsWith("file:")) return STDLIB_KEY;
  const { existsSync } = NODE.fs;
  const here = dirname(NODE.url.fileURLToPath(import.meta.url));
  let dir = here;
  for (;;) {
    const candidate = join(dir, "stdlib");
    if (existsSync(join(dir, "package.json")) && existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return join(here, "..", "..", "stdlib");
    dir = parent;
  }
}

/**
 * A loader over the file system, rooted at a stdlib folder. It resolves to
 * file keys ({@link importKey}) and reads them from disk ({@link diskPath}).
 * Without a file system (a browser) it resolves nothing: give `check` and
 * `compile` a {@link SourceLoader} of your own there.
 *
 * @example
 * ```ts
 * const loader = nodeLoader();
 * const file = loader.resolve("p/main.tns", "nn"); // "<stdlib>/nn.tns" when it exists
 * const text = file === null ? null : loader.read(file);
 * ```
 */
export function nodeLoader(stdlibDir: string = defaultStdlibDir()): SourceLoader {
  if (NODE === null) return { resolve: () => null, read: () => null, candidates: () => [] };
  const { readdirSync, readFileSync, statSync } = NODE.fs;
  return {
    resolve(fromFile, path) {
      const key = importKey(fromFile, path);
      try {
        return statSync(diskPath(key, stdlibDir)).isFile() ? key : null;
      } catch {
        return null;
      }
    },
    read(file) {
      try {
        return readFileSync(diskPath(file, stdlibDir), "utf8");
      } catch {
        return null;
      }
    },
    candidates(fromFile, path) {
      const key = importKey(fromFile, path);
      const folder = dirname(key);
      let names: string[];
      try {
        names = readdirSync(diskPath(folder, stdlibDir)).filter((f) => f.endsWith(".tns"));
      } catch {
        return [];
      }
      // Written as the user wrote theirs: same folder prefix, extension only if they gave one.
      const prefix = path.slice(0, path.length - basename(path).length);
      const bare = withExtension(path) !== path;
      return names.map((f) => prefix + (bare ? f.slice(0, -4) : f));
    },
  };
}

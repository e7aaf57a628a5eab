/**
 * Import resolution: where `import "nn"` and `import "./blocks.tns"` point,
 * and how their text is read. The checker only talks to a
 * {@link SourceLoader}, so tests and embedders can serve files from memory;
 * {@link nodeLoader} is the file-system implementation.
 *
 *     import "nn"              (from /p/main.tns)  ->  <stdlib>/nn.tns
 *     import "./lib/a.tns"     (from /p/main.tns)  ->  /p/lib/a.tns
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";

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
  /** The file an import path names, seen from `fromFile`; null when there is none. */
  resolve(fromFile: string, path: string): string | null;
  /** The text of a resolved file; null when it cannot be read. */
  read(file: string): string | null;
}

/** Appends `.tns` to a path that has no extension of its own. */
function withExtension(path: string): string {
  return /\.[A-Za-z0-9]+$/.test(path) ? path : `${path}.tns`;
}

/**
 * The file an import path names: relative paths (starting with `.`) are
 * resolved against the importing file's folder, any other path names a
 * module of the stdlib folder. Pure path arithmetic; nothing is read.
 *
 * @example
 * ```ts
 * importTarget("/p/main.tns", "./lib/a", "/std"); // "/p/lib/a.tns"
 * importTarget("/p/main.tns", "nn", "/std");      // "/std/nn.tns"
 * ```
 */
export function importTarget(fromFile: string, path: string, stdlibDir: string): string {
  if (path.startsWith(".")) return resolvePath(dirname(fromFile), withExtension(path));
  if (isAbsolute(path)) return withExtension(path);
  return join(stdlibDir, withExtension(path));
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
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "stdlib");
    if (existsSync(join(dir, "package.json")) && existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return join(dirname(fileURLToPath(import.meta.url)), "..", "..", "stdlib");
    dir = parent;
  }
}

/**
 * A loader over the file system, rooted at a stdlib folder.
 *
 * @example
 * ```ts
 * const loader = nodeLoader();
 * const file = loader.resolve("/p/main.tns", "nn"); // ".../stdlib/nn.tns" when it exists
 * const text = file === null ? null : loader.read(file);
 * ```
 */
export function nodeLoader(stdlibDir: string = defaultStdlibDir()): SourceLoader {
  return {
    resolve(fromFile, path) {
      const target = importTarget(fromFile, path, stdlibDir);
      try {
        return statSync(target).isFile() ? target : null;
      } catch {
        return null;
      }
    },
    read(file) {
      try {
        return readFileSync(file, "utf8");
      } catch {
        return null;
      }
    },
  };
}

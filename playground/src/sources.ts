/// <reference types="vite/client" />
/**
 * The texts the playground ships: the examples (examples/*.tns, for the
 * menu) and the standard library (stdlib/*.tns, for `import "nn"`), read
 * at build time, and a {@link SourceLoader} that serves the stdlib to the
 * compiler in the page (which has no file system).
 */
import type { SourceLoader } from "../../src/index.js";

const strip = (path: string): string => path.replace(/^.*\//, "").replace(/\.tns$/, "");

function byName(files: Record<string, string>): ReadonlyMap<string, string> {
  return new Map(Object.entries(files).map(([path, text]) => [strip(path), text] as const).sort(([a], [b]) => a.localeCompare(b)));
}

/** Example programs by name (`attention`, `matmul`, ...). */
export const EXAMPLES: ReadonlyMap<string, string> = byName(
  import.meta.glob("../../examples/*.tns", { query: "?raw", import: "default", eager: true }) as Record<string, string>,
);

/** Stdlib modules by name (`nn`, `linalg`). */
export const STDLIB: ReadonlyMap<string, string> = byName(
  import.meta.glob("../../stdlib/*.tns", { query: "?raw", import: "default", eager: true }) as Record<string, string>,
);

/** The key the compiler gives a stdlib file (as its file-system loader does: `<stdlib>/nn.tns`). */
const stdlibKey = (name: string): string => `<stdlib>/${name}.tns`;

/**
 * Resolves `import "nn"` to the bundled stdlib; relative imports name files
 * a page does not have, so they resolve to nothing (a diagnostic).
 */
export const stdlibLoader: SourceLoader = {
  resolve: (_from, path) => {
    const name = path.replace(/\.tns$/, "");
    return !path.startsWith(".") && !path.startsWith("/") && STDLIB.has(name) ? stdlibKey(name) : null;
  },
  read: (file) => {
    const m = /^<stdlib>\/(.+)\.tns$/.exec(file);
    return m ? STDLIB.get(m[1]!) ?? null : null;
  },
  candidates: (_from, path) => (path.startsWith(".") ? [] : [...STDLIB.keys()]),
};

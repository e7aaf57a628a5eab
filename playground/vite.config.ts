/**
 * The playground's build: a static site in playground/dist.
 *
 *     npm run playground          # serve it with live reload (http://localhost:5173)
 *     npm run build:playground    # write playground/dist
 *
 * The compiler is bundled from its sources (src/index.ts, the public API).
 * It loads in a page as it is: it reaches Node's modules only through
 * `process.getBuiltinModule` or dynamic imports behind checks for Node. Two
 * of those dynamic imports name packages no page can use, so they resolve
 * to a module that fails to load, which the compiler already handles:
 * `webgpu` (Dawn's native bindings; a page has `navigator.gpu`) and Node's
 * built-in modules.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const unavailable = here("./src/unavailable.ts");

/**
 * Node's modules stay out of the bundle (Vite replaces them with an empty
 * module). The compiler reaches them only behind checks for Node, as
 * binaryen and HiGHS do, and the CLI helpers that import them statically
 * load only in `tns explain`'s command: no need to say so on every build.
 * Other warnings pass.
 */
function quietAboutNode<Level, Log extends { message: string }>(level: Level, log: Log, handle: (level: Level, log: Log) => void): void {
  const known = /Module "node:[a-z_/]+" has been externalized for browser compatibility, imported by ".*\/(src|node_modules\/(binaryen|highs))\//;
  if (!known.test(log.message)) handle(level, log);
}

export default defineConfig({
  root: here("."),
  base: "./",
  resolve: {
    alias: [
      { find: /^webgpu$/, replacement: unavailable },
    ],
  },
  server: {
    // The compiler's sources and the examples live above the playground's folder.
    fs: { allow: [here("..")] },
  },
  // The compiler's worker is a module: it uses top-level await and loads the wasm backend on demand.
  worker: { format: "es", rolldownOptions: { onLog: quietAboutNode } },
  build: {
    outDir: here("./dist"),
    emptyOutDir: true,
    // The compiler uses top-level await (it loads Chevrotain once).
    target: "es2022",
    chunkSizeWarningLimit: 16_000,
    reportCompressedSize: false,
    rolldownOptions: { onLog: quietAboutNode },
  },
});

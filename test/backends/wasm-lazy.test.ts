/**
 * Binaryen (a 15 MB module) is loaded only where its optimizer is asked
 * for: not by importing the backends, not by compiling and running on the
 * js or wasm backend (tns's own encoder builds the modules), not by
 * `tns run`; and, when asked for, by `compileAsync(..., { optimizeWasm })`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { backendNamed, loadBackend } from "../../src/backends/index.js";
import { binaryenLoaded } from "../../src/backends/wasm/binaryen.js";
import { compileAsync } from "../../src/compiler.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { CORPUS } from "./corpus.js";
import { expectMatchesInterpreter, inputsFor } from "./support.js";

const ROOT = resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "tns-lazy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("lazy loading of binaryen", () => {
  it("is not loaded by importing the backends or compiling and running with the js or wasm backend", async () => {
    const p = parseProgramText(CORPUS["matmul"]!);
    backendNamed("js").compile(p).executable;
    (await loadBackend("js")).compile(p);
    (await loadBackend("reference")).compile(p);
    const wasm = await loadBackend("wasm");
    expect(wasm.name).toBe("wasm");
    for (const text of Object.values(CORPUS)) {
      const program = parseProgramText(text);
      const { executable } = wasm.compile(program);
      expectMatchesInterpreter(program, (x) => executable.run(x), inputsFor(program, 5));
    }
    const cached = await compileAsync("size n = 8\ninput X[n, n]\noutput Y[i, j] = exp(X[i, j])\n", { backend: "wasm", cache: { directory: dir } });
    expect(cached.ok).toBe(true);
    expect(binaryenLoaded()).toBe(false);
    await expect(loadBackend("webgl")).rejects.toThrow(/unknown backend 'webgl'/);
  });

  it("is loaded for its optimizer when asked, and the optimized module computes the same", async () => {
    const source = "size n = 12\ninput A[n, n], B[n, n]\noutput C[i, j] = A[i, k] * B[k, j]\n";
    const optimized = await compileAsync(source, { backend: "wasm", optimizeWasm: true });
    expect(binaryenLoaded()).toBe(true);
    const plain = await compileAsync(source, { backend: "wasm" });
    const inputs = inputsFor(optimized.ir!, 2);
    expect(Array.from(optimized.run(inputs)["C"]!.data)).toEqual(Array.from(plain.run(inputs)["C"]!.data));
  });

  it("is not loaded by `tns run` on the wasm backend, first run or cached", () => {
    // A module hook that fails the process if anything under node_modules/binaryen is loaded.
    const hooks = join(dir, "hooks.mjs");
    writeFileSync(hooks, `export async function load(url, context, next) {
  if (url.includes("/node_modules/binaryen/")) throw new Error("binaryen was loaded: " + url);
  return next(url, context);
}\n`);
    const register = join(dir, "register.mjs");
    writeFileSync(register, `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const cache = join(dir, "cli-cache");
    const tns = (...args: string[]) => spawnSync(process.execPath, ["--import", pathToFileURL(register).href, join(ROOT, "bin/tns.js"), "run", "examples/attention.tns", "--random-inputs", ...args], {
      cwd: ROOT, encoding: "utf8", timeout: 120_000, env: { ...process.env, TNS_CACHE_DIR: cache },
    });
    for (const args of [["--no-cache"], [], []]) {
      const r = tns(...args);
      expect(r.stderr).not.toContain("binaryen was loaded");
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain("O: f32[256, 64]");
    }
    // The hook does catch a load of binaryen (so the checks above can fail).
    const probe = join(dir, "probe.mjs");
    writeFileSync(probe, `await import(${JSON.stringify(pathToFileURL(join(ROOT, "dist/backends/wasm/binaryen.js")).href)}).then((m) => m.loadBinaryen());\n`);
    const caught = spawnSync(process.execPath, ["--import", pathToFileURL(register).href, probe], { encoding: "utf8", timeout: 120_000 });
    expect(caught.status).not.toBe(0);
    expect(caught.stderr).toContain("binaryen was loaded");
  }, 240_000);
});

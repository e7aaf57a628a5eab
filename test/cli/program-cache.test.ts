/**
 * Whole programs in the disk cache (src/backends/wasm/program-cache.ts): a
 * second `tns run` of a program reads it back without loading the compiler
 * (no parser, no Chevrotain) and prints the same outputs, bit for bit, and
 * the same warnings; an edited import, other sizes, a damaged or foreign
 * entry, a removed module or weights bound at compile time all fall back to
 * compiling, with no error.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { arbProgram } from "../../src/ir/random-program.js";
import { inlineAllCalls } from "../../src/passes/inline-calls.js";
import { readNpz } from "../../src/runtime/npz.js";
import { programToSource, unrepresentable } from "../support/to-source.js";

const ROOT = resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "tns-programs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A module hook that fails the process when the parser's Chevrotain is loaded: a cached run must not load the compiler.
const hooks = join(dir, "hooks.mjs");
writeFileSync(hooks, `export async function load(url, context, next) {
  if (process.env.TNS_NO_PARSER && url.includes("/node_modules/chevrotain/")) throw new Error("the parser was loaded: " + url);
  return next(url, context);
}\n`);
const register = join(dir, "register.mjs");
writeFileSync(register, `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);

/** `tns run FILE ...` with a cache folder of its own; `noParser` fails the process if Chevrotain loads. */
function tns(cache: string, args: string[], noParser = false) {
  return spawnSync(process.execPath, ["--import", pathToFileURL(register).href, join(ROOT, "bin/tns.js"), "run", ...args], {
    cwd: dir, encoding: "utf8", timeout: 120_000,
    env: { ...process.env, TNS_CACHE_DIR: cache, ...(noParser ? { TNS_NO_PARSER: "1" } : {}) },
  });
}

/** The output summaries (every line but the last, which times the run). */
const summary = (out: string): string => out.trim().split("\n").slice(0, -1).join("\n");
const programs = (cache: string): string[] => (existsSync(join(cache, "programs")) ? readdirSync(join(cache, "programs")) : []);

writeFileSync(join(dir, "lib.tns"), "fn double(X[n, m]) -> Y[n, m] {\n  Y[i, j] = 2 * X[i, j]\n}\n");
// Z is never used (warning TNS0111), so the run has a warning to print again.
const MAIN = "import double from \"./lib\"\nsize n = 40\ninput X[n, n], Z[3]\nD = double(X)\noutput Y[i, j] = D[i, k] * X[k, j]\noutput s = sum(i, j) Y[i, j]\n";
writeFileSync(join(dir, "main.tns"), MAIN);

describe("the program cache of tns run", () => {
  it("runs a cached program without loading the compiler: the same outputs bit for bit, the same warnings", () => {
    const cache = join(dir, "cache-a");
    const first = tns(cache, ["main.tns", "--random-inputs", "-o", "first.npz"]);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/compiled in [\d.]+ ms \(wasm\)/);
    expect(first.stderr).toContain("TNS0111");
    expect(programs(cache)).toHaveLength(1);
    const second = tns(cache, ["main.tns", "--random-inputs", "-o", "second.npz"], true);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/loaded from the cache in [\d.]+ ms \(wasm\)/);
    expect(second.stderr).toBe(first.stderr);
    expect(summary(second.stdout)).toBe(summary(first.stdout));
    const a = readNpz(readFileSync(join(dir, "first.npz")));
    const b = readNpz(readFileSync(join(dir, "second.npz")));
    for (const name of ["Y", "s"]) expect(Array.from(b[name]!.data)).toEqual(Array.from(a[name]!.data));
    // The hook does stop a run that loads the parser (so the check above can fail).
    const compiles = tns(join(dir, "cache-empty"), ["main.tns", "--random-inputs"], true);
    expect(compiles.status).not.toBe(0);
    expect(compiles.stderr).toContain("the parser was loaded");
  }, 240_000);

  it("compiles again when an import changed, with other sizes, or with --no-cache", () => {
    const cache = join(dir, "cache-b");
    const base = summary(tns(cache, ["main.tns", "--random-inputs"]).stdout);
    expect(tns(cache, ["main.tns", "--random-inputs", "--no-cache"]).stdout).toMatch(/compiled in/);
    const resized = tns(cache, ["main.tns", "--random-inputs", "--size", "n=24"]);
    expect(resized.stdout).toMatch(/compiled in/);
    expect(resized.stdout).toContain("Y: f32[24, 24]");
    expect(tns(cache, ["main.tns", "--random-inputs", "--size", "n=24"]).stdout).toMatch(/loaded from the cache/);
    const lib = readFileSync(join(dir, "lib.tns"), "utf8");
    try {
      writeFileSync(join(dir, "lib.tns"), lib.replace("2 * X", "3 * X"));
      const edited = tns(cache, ["main.tns", "--random-inputs"]);
      expect(edited.status, edited.stderr).toBe(0);
      expect(edited.stdout).toMatch(/compiled in/);
      expect(summary(edited.stdout)).not.toBe(base);
    } finally {
      writeFileSync(join(dir, "lib.tns"), lib);
    }
    expect(summary(tns(cache, ["main.tns", "--random-inputs"]).stdout)).toBe(base);
  }, 240_000);

  it("ignores damaged and foreign entries and entries whose module is gone, and compiles with no error", () => {
    const cache = join(dir, "cache-c");
    const base = tns(cache, ["main.tns", "--random-inputs"]);
    const [name] = programs(cache);
    const file = join(cache, "programs", name!);
    const good = readFileSync(file, "utf8");
    const parsed = JSON.parse(good) as { version: string; entry: Record<string, unknown> };
    const damaged = [
      good.slice(0, good.length / 2),
      "null",
      JSON.stringify({ ...parsed, version: "0.0.0-other" }),
      JSON.stringify({ ...parsed, entry: { ...parsed.entry, format: "tns-program-entry-0" } }),
      JSON.stringify({ ...parsed, entry: { ...parsed.entry, buffers: "none" } }),
      JSON.stringify({ ...parsed, entry: { ...parsed.entry, module: "../../etc/passwd" } }),
      JSON.stringify({ ...parsed, entry: { ...parsed.entry, module: "0".repeat(64) } }),
      // Buffers the module does not place, or places with less room than they claim.
      JSON.stringify({ ...parsed, entry: { ...parsed.entry, buffers: [{ name: "nope", dtype: "f32", shape: [1], size: 1, role: "input" }] } }),
      JSON.stringify({ ...parsed, entry: { ...parsed.entry, buffers: (parsed.entry["buffers"] as { size: number }[]).map((b) => ({ ...b, size: 2 ** 40 })) } }),
    ];
    for (const text of damaged) {
      writeFileSync(file, text);
      const r = tns(cache, ["main.tns", "--random-inputs"]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/compiled in/);
      expect(summary(r.stdout)).toBe(summary(base.stdout));
      // Compiling wrote the entry again.
      expect(tns(cache, ["main.tns", "--random-inputs"]).stdout).toMatch(/loaded from the cache/);
    }
  }, 240_000);

  it("on random programs, a cached run prints and writes what the compiling run did, bit for bit", () => {
    const cache = join(dir, "cache-random");
    const programs = fc.sample(arbProgram(), { seed: 20261207, numRuns: 60 })
      .map((p) => inlineAllCalls(p))
      .filter((p) => unrepresentable(p) === null && !p.tensors.some((t) => t.role === "weight"))
      .slice(0, 8);
    expect(programs).toHaveLength(8);
    programs.forEach((p, n) => {
      const file = `random-${n}.tns`;
      writeFileSync(join(dir, file), programToSource(p));
      const first = tns(cache, [file, "--random-inputs", "-o", `random-${n}-a.npz`]);
      expect(first.status, first.stderr).toBe(0);
      const second = tns(cache, [file, "--random-inputs", "-o", `random-${n}-b.npz`], true);
      expect(second.status, second.stderr).toBe(0);
      expect(second.stdout).toMatch(/loaded from the cache/);
      expect(second.stderr).toBe(first.stderr);
      expect(summary(second.stdout)).toBe(summary(first.stdout));
      const a = readNpz(readFileSync(join(dir, `random-${n}-a.npz`)));
      const b = readNpz(readFileSync(join(dir, `random-${n}-b.npz`)));
      expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
      for (const name of Object.keys(a)) expect(Array.from(b[name]!.data)).toEqual(Array.from(a[name]!.data));
    });
  }, 240_000);

  it("keeps no entry for a program with weights bound at compile time, nor under --verify or a memory budget", () => {
    writeFileSync(join(dir, "weights.tns"), "size n = 16\ninput X[n, n]\nweight W[n, n]\noutput Y[i, j] = X[i, k] * W[k, j]\n");
    const cache = join(dir, "cache-d");
    for (let k = 0; k < 2; k++) {
      const r = tns(cache, ["weights.tns", "--random-inputs"]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/compiled in/);
    }
    expect(programs(cache)).toHaveLength(0);
    tns(cache, ["main.tns", "--random-inputs"]);
    expect(tns(cache, ["main.tns", "--random-inputs", "--verify"]).stdout).toMatch(/compiled and verified in/);
    const budget = tns(cache, ["main.tns", "--random-inputs", "--memory-budget", "1MiB"]);
    expect(budget.stdout).toMatch(/compiled in/);
    expect(budget.stdout).toMatch(/memory: peak/);
  }, 240_000);
});

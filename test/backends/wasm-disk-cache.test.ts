/**
 * The on-disk cache of compiled modules (disk-cache.ts): entries round-trip
 * and run; corrupt, truncated, foreign and stale entries are ignored and
 * rebuilt with no error; the folder is trimmed to its cap, least recently
 * used first; no process loads binaryen unless it asks for its optimizer,
 * and a cached optimized module needs no binaryen; `tns run --no-cache`
 * writes nothing.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import {
  DiskCache, emitWasm, hostRunsRelaxedSimd, loadBinaryen, loadThreadHost, loadWasm, moduleCacheKey, moduleProducer,
} from "../../src/backends/wasm/index.js";
import { compileAsync } from "../../src/compiler.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { expectMatchesInterpreter, inputsFor } from "./support.js";

const binaryen = await loadBinaryen();
const host = await loadThreadHost();
const ROOT = resolve(import.meta.dirname, "../..");
const folders: string[] = [];
const freshFolder = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "tns-cache-"));
  folders.push(dir);
  return dir;
};
afterAll(() => { for (const d of folders) rmSync(d, { recursive: true, force: true }); });

const MATMUL = "input A: f32[9, 20]\ninput B: f32[20, 30]\noutput C: f32[9, 30] = [i:9, j:30] sum(k:20) A[i, k] * B[k, j]\n";
const SOURCE = "size n = 24\ninput X[n, n], W[n, n]\noutput Y[i, j] = relu(X[i, k] * W[k, j])\n";

const entries = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith(".wasmc")).map((f) => join(dir, f));

describe("the disk cache of compiled wasm modules", () => {
  it("stores an artifact and gives it back whole; the module runs", () => {
    const disk = DiskCache.open(freshFolder())!;
    const p = parseProgramText(MATMUL);
    const kp = lowerToKernels(p);
    const key = moduleCacheKey(kp, { optimize: true });
    const retext = (): string => emitWasm(binaryen, kp).text;
    expect(disk.get(key, retext)).toBeNull();
    const art = disk.put(key, emitWasm(binaryen, kp, { optimize: true }));
    let printed = 0;
    const back = disk.get(key, () => { printed++; return retext(); })!;
    expect(Array.from(back.binary)).toEqual(Array.from(art.binary));
    // The text is printed again, when read, once.
    expect(printed).toBe(0);
    expect(back.text).toBe(art.text);
    expect(back.text).toBe(art.text);
    expect(printed).toBe(1);
    expect(back.layout).toEqual(art.layout);
    expect({ ...back, binary: null, text: null }).toEqual({ ...art, binary: null, text: null });
    expect(disk.hits).toBe(1);
    expect(disk.get(moduleCacheKey(kp, { optimize: false }), retext)).toBeNull();
    const exe = loadWasm(back, kp, host);
    expectMatchesInterpreter(p, (x) => exe.run(x), inputsFor(p, 2));
  });

  const damage: readonly (readonly [string, (bytes: Buffer) => Buffer])[] = [
    ["a flipped byte in the binary", (b) => { const c = Buffer.from(b); c[c.length - 40] ^= 0xff; return c; }],
    ["a truncated file", (b) => b.subarray(0, b.length - 7)],
    ["an empty file", () => Buffer.alloc(0)],
    ["garbage", () => Buffer.from("not a cache entry at all\n{}\n")],
    ["another version's header", (b) => Buffer.from(b.toString("latin1").replace(/"version":"[^"]*"/, '"version":"0.0.0-other"'), "latin1")],
    ["a header that is not JSON", (b) => Buffer.from(b.toString("latin1").replace('{"format"', '{"format'), "latin1")],
  ];
  for (const [what, hurt] of damage) {
    it(`ignores ${what} and rebuilds the entry with no error`, async () => {
      const dir = freshFolder();
      const first = await compileAsync(SOURCE, { backend: "wasm", threads: 1, cache: { directory: dir } });
      const [file] = entries(dir);
      writeFileSync(file!, hurt(readFileSync(file!)));
      const disk = DiskCache.open(dir)!;
      const p = first.ir!;
      const options = { optimize: false, relaxedSimd: hostRunsRelaxedSimd() };
      const key = moduleCacheKey(lowerToKernels(p), { ...options, producer: moduleProducer(false) });
      const retext = (): string => emitWasm(binaryen, lowerToKernels(p), options).text;
      // Read through a fresh cache object: unusable, counted, no throw.
      expect(disk.get(key, retext)).toBeNull();
      expect(disk.rejected).toBe(1);
      // A new process would rebuild it (tested below); here the process's own cache holds the module, so rebuild through the disk alone.
      disk.put(key, emitWasm(binaryen, lowerToKernels(p), options));
      expect(disk.get(key, retext)).not.toBeNull();
      const again = await compileAsync(SOURCE, { backend: "wasm", threads: 1, cache: { directory: dir } });
      const inputs = inputsFor(p, 3);
      expect(Array.from(again.run(inputs)["Y"]!.data)).toEqual(Array.from(first.run(inputs)["Y"]!.data));
    });
  }

  it("keeps the folder under its cap, dropping the least recently used entries first", () => {
    const dir = freshFolder();
    const big = DiskCache.open(dir)!;
    const keys = [3, 5, 7, 9].map((n) => {
      const kp = lowerToKernels(parseProgramText(`input A: f32[${n}, 40]\ninput B: f32[40, ${n}]\noutput C: f32[${n}, ${n}] = [i:${n}, j:${n}] sum(k:40) A[i, k] * B[k, j]\n`));
      const key = moduleCacheKey(kp, { optimize: true });
      big.put(key, emitWasm(binaryen, kp));
      return key;
    });
    expect(entries(dir)).toHaveLength(4);
    const files = keys.map((k) => big.entryPath(k));
    // Ages in key order, oldest first; then a hit makes the first the most recently used.
    const t = Date.now() / 1000;
    files.forEach((f, k) => utimesSync(f, t - 100 + k, t - 100 + k));
    expect(DiskCache.open(dir)!.get(keys[0]!, () => "")).not.toBeNull();
    const total = files.reduce((a, f) => a + statSync(f).size, 0);
    DiskCache.open(dir, total - 1)!.trim();
    expect(files.map((f) => existsSync(f))).toEqual([true, false, true, true]);
    DiskCache.open(dir, statSync(files[0]!).size)!.trim();
    expect(files.map((f) => existsSync(f))).toEqual([true, false, false, false]);
  });

  it("compiles without binaryen, and with its optimizer caches a module that a new process runs without binaryen", () => {
    const dir = freshFolder();
    const dist = pathToFileURL(join(ROOT, "dist/")).href;
    const scriptFor = (optimizeWasm: boolean): string => {
      const script = join(dir, `compile-${optimizeWasm}.mjs`);
      writeFileSync(script, `
import { compileAsync } from "${dist}index.js";
import { binaryenLoaded } from "${dist}backends/wasm/index.js";
const r = await compileAsync(${JSON.stringify(SOURCE)}, { backend: "wasm", threads: 1, optimizeWasm: ${optimizeWasm}, cache: { directory: ${JSON.stringify(dir)} } });
const y = r.run({ X: { shape: [24, 24], dtype: "f32", data: new Float32Array(576).fill(0.5) }, W: { shape: [24, 24], dtype: "f32", data: new Float32Array(576).fill(0.25) } }).Y;
console.log(JSON.stringify({ binaryen: binaryenLoaded(), y: y.data[0] }));
`);
      return script;
    };
    const run = (script: string): { binaryen: boolean; y: number } => {
      const r = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { binaryen: boolean; y: number };
    };
    const y = 24 * 0.5 * 0.25;
    const plain = scriptFor(false);
    expect(run(plain)).toEqual({ binaryen: false, y });
    expect(entries(dir)).toHaveLength(1);
    expect(run(plain)).toEqual({ binaryen: false, y });
    // Built by binaryen's optimizer: another entry (the key names the producer), binaryen loaded only to build it.
    const optimized = scriptFor(true);
    expect(run(optimized)).toEqual({ binaryen: true, y });
    expect(entries(dir)).toHaveLength(2);
    expect(run(optimized)).toEqual({ binaryen: false, y });
    // Corrupted entries: the next process rebuilds them (loading binaryen only for the optimized one), the one after reads them again.
    for (const f of entries(dir)) writeFileSync(f, "broken");
    expect(run(optimized)).toEqual({ binaryen: true, y });
    expect(run(optimized)).toEqual({ binaryen: false, y });
    expect(run(plain)).toEqual({ binaryen: false, y });
  }, 240_000);

  it("tns run uses the cache folder of TNS_CACHE_DIR, and --no-cache leaves it alone", () => {
    const dir = freshFolder();
    const tns = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, "bin/tns.js"), "run", "examples/mlp.tns", "--random-inputs", ...args], {
      cwd: ROOT, encoding: "utf8", timeout: 120_000, env: { ...process.env, TNS_CACHE_DIR: dir },
    });
    const plain = tns("--no-cache");
    expect(plain.status, plain.stderr).toBe(0);
    expect(existsSync(dir) ? entries(dir) : []).toHaveLength(0);
    const cached = tns();
    expect(cached.status, cached.stderr).toBe(0);
    expect(entries(dir)).toHaveLength(1);
    // The same outputs either way (the summary lines before the timing line).
    const summary = (out: string) => out.trim().split("\n").slice(0, -1).join("\n");
    expect(summary(tns().stdout)).toBe(summary(plain.stdout));
  }, 240_000);
});

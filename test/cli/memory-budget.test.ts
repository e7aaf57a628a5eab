/**
 * `--memory-budget` on explain, run and compile, as users run them (a child
 * process on the built dist/).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseMemoryBudget, UsageError } from "../../src/cli/args.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/tns.js");

function tns(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), "tns-budget-"));
const FILE = join(dir, "train.tns");
writeFileSync(FILE, `
size n = 64
input X[n, n], W1[n, n], W2[n, n], W3[n, n]
A1[i, j] = tanh(X[i, k] * W1[k, j])
A2[i, j] = tanh(A1[i, k] * W2[k, j])
A3[i, j] = tanh(A2[i, k] * W3[k, j])
G3[i, j] = A3[i, j] * (1 - A3[i, j])
G2[i, j] = G3[i, k] * W3[j, k] * (1 - A2[i, j] * A2[i, j])
G1[i, j] = G2[i, k] * W2[j, k] * (1 - A1[i, j] * A1[i, j])
output D[i, j] = G1[i, k] * W1[j, k]
`);

describe("--memory-budget", () => {
  it("parses bytes and binary and decimal units, and refuses anything else", () => {
    expect(parseMemoryBudget("4096", "run")).toBe(4096);
    expect(parseMemoryBudget("64KiB", "run")).toBe(65536);
    expect(parseMemoryBudget("10MiB", "run")).toBe(10 * 2 ** 20);
    expect(parseMemoryBudget("1.5kb", "run")).toBe(1500);
    expect(parseMemoryBudget(undefined, "run")).toBeUndefined();
    for (const bad of ["", "64 parsecs", "-1", "0", "KiB"]) expect(() => parseMemoryBudget(bad, "run")).toThrow(UsageError);
  });

  it("explain reports the memory plan in JSON, with and without a budget", () => {
    const plain = JSON.parse(tns(["explain", FILE, "--json", "--ir", "none"]).stdout);
    expect(plain.memory).toMatchObject({ budgetBytes: null, recomputedFlops: 0, recomputed: [], solver: { name: "none" } });
    expect(plain.memory.peakBytes).toBe(plain.costAfter.peakMemory.bytes);
    expect(plain.memory.peakBytes).toBeLessThan(plain.memory.unplannedPeakBytes);
    const budget = plain.memory.peakBytes - 1;
    const r = tns(["explain", FILE, "--json", "--ir", "none", "--memory-budget", String(budget)]);
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout).memory;
    expect(m.budgetBytes).toBe(budget);
    expect(m.peakBytes).toBeLessThanOrEqual(budget);
    expect(m.unplannedPeakBytes).toBe(plain.memory.unplannedPeakBytes);
    expect(m.recomputedFlops).toBeGreaterThan(0);
    expect(m.solver).toMatchObject({ name: "highs" });
    expect(typeof m.solver.status).toBe("string");
    expect(typeof m.solver.ms).toBe("number");
    expect(m.recomputed[0]).toMatchObject({ tensor: expect.any(String), copy: expect.any(String), before: expect.any(Array) });
    const text = tns(["explain", FILE, "--ir", "none", "--memory-budget", String(budget)]).stdout;
    expect(text).toMatch(/^memory:\n {4}planned peak {10}[\d.]+ KiB \(budget [\d.]+ KiB\)$/m);
    expect(text).toMatch(/^ {4}recompute \S+ as \S+ before \S+/m);
    expect(text).toMatch(/^rematerialize +changed/m);
  });

  it("explain, run and compile exit 1 with TNS0701 below the smallest feasible peak", () => {
    for (const args of [["explain", FILE], ["run", FILE, "--random-inputs", "--backend", "js"], ["compile", FILE, "-o", join(dir, "out")]]) {
      const r = tns([...args, "--memory-budget", "1KiB"]);
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr).toMatch(/error\[TNS0701\]: memory budget 1\.0 KiB is below the smallest peak found for this program, [\d.]+ KiB \(\d+ bytes\)/);
    }
  });

  it("run prints the peak the run measured, under the budget, on js and wasm", () => {
    for (const backend of ["js", "wasm"]) {
      const r = tns(["run", FILE, "--random-inputs", "--backend", backend, "--memory-budget", "120KiB"]);
      expect(r.code, r.stderr).toBe(0);
      const m = /^memory: peak ([\d.]+) KiB measured \(planned ([\d.]+) KiB, budget 120\.0 KiB; \d+ recomputations?/m.exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      expect(Number(m![1])).toBeLessThanOrEqual(120);
      expect(Number(m![1])).toBeGreaterThan(64);
    }
  });

  it("compile writes a js module that runs in an arena of the budgeted plan, with the unbudgeted module's results", async () => {
    const plain = join(dir, "js-plain");
    const fitted = join(dir, "js-fitted");
    expect(tns(["compile", FILE, "-o", plain]).code).toBe(0);
    const r = tns(["compile", FILE, "-o", fitted, "--memory-budget", "120KiB"]);
    expect(r.code, r.stderr).toBe(0);
    const a = await import(join(plain, "train.mjs"));
    const b = await import(join(fitted, "train.mjs"));
    expect(b.manifest.memory.bytes).toBeLessThanOrEqual(120 * 1024);
    expect(b.manifest.memory.bytes).toBeLessThan(a.manifest.memory.bytes);
    const inputs = Object.fromEntries(a.manifest.inputs.map((t: { name: string; shape: number[] }, k: number) =>
      [t.name, Float32Array.from({ length: t.shape[0]! * t.shape[1]! }, (_, j) => Math.sin(j * 0.37 + k))]));
    const want = a.run(inputs).D.data as Float32Array;
    const got = b.run(inputs).D.data as Float32Array;
    expect(got.every((v, k) => Object.is(v, want[k]))).toBe(true);
  });

  it("compile writes a wasm module whose memory is sized by the budgeted plan", () => {
    const out = join(dir, "wasm");
    const r = tns(["compile", FILE, "--target", "wasm", "-o", out, "--memory-budget", "120KiB"]);
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(manifest.memory.bytes).toBeLessThanOrEqual(120 * 1024);
    expect(readFileSync(join(out, "train.ir.txt"), "utf8")).toMatch(/_r1:/);
  });
});

/**
 * Donated inputs from the command line: `tns run` donates its inputs unless
 * given `--no-donate`, `tns explain --donate` shows the plan it runs, and a
 * training step under a budget that only donation reaches runs with the
 * measured peak under the budget and the outputs of the unbudgeted run (a
 * child process on the built dist/).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { readNpz } from "../../src/runtime/npz.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/tns.js");
const FILE = join(ROOT, "examples/train_mlp.tns");
const dir = mkdtempSync(join(tmpdir(), "tns-donate-"));

function tns(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const peakOf = (args: string[]): number => {
  const r = tns(["explain", FILE, "--json", "--ir", "none", ...args]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { memory: { peakBytes: number } }).memory.peakBytes;
};

describe("donated inputs on the command line", () => {
  it("explain --donate plans a smaller peak than explain's default", () => {
    const kept = peakOf([]);
    const donated = peakOf(["--donate"]);
    expect(donated).toBeLessThan(kept);
    expect(tns(["explain", "--help"]).stdout).toContain("--donate");
    expect(tns(["run", "--help"]).stdout).toContain("--no-donate");
  });

  it("explain --donate under half of the plan says how: the batch sliced, the sums resumed (text and --json)", () => {
    const budget = String(Math.floor(peakOf([]) / 2));
    const json = tns(["explain", FILE, "--donate", "--memory-budget", budget, "--json"]);
    expect(json.code, json.stderr).toBe(0);
    const memory = JSON.parse(json.stdout).memory;
    expect(memory.peakBytes).toBeLessThanOrEqual(Number(budget));
    expect(memory.solver.name).toBe("batch-slicing");
    expect(memory.slicedBatch).toMatchObject({ input: "X", dim: 0, whole: ["Z", "LSE"] });
    expect(memory.slicedBatch.slices).toBeGreaterThanOrEqual(2);
    const text = tns(["explain", FILE, "--donate", "--memory-budget", budget]);
    expect(text.stdout).toMatch(/sliced batch {10}\d+ slices of \d+ rows of X \(dimension 1\); sums resumed slice by slice: dW2, W1_next/);
  });

  it("run meets half of the plan tns explain reports, measured under the budget, outputs bitwise (js, wasm): the issue's check", { timeout: 300_000 }, () => {
    // Half of the unbudgeted plan (nothing donated): no schedule of whole tensors fits it, the step runs a slice of
    // the batch's rows at a time (docs/optimizer.md, "Half the peak of a training step").
    const budget = Math.floor(peakOf([]) / 2);
    for (const backend of ["js", "wasm"]) {
      const plain = join(dir, `plain-${backend}.npz`);
      const fitted = join(dir, `fitted-${backend}.npz`);
      const a = tns(["run", FILE, "--random-inputs", "--backend", backend, "--no-donate", "-o", plain]);
      expect(a.code, a.stderr).toBe(0);
      const b = tns(["run", FILE, "--random-inputs", "--backend", backend, "--memory-budget", String(budget), "-o", fitted]);
      expect(b.code, b.stderr).toBe(0);
      const m = /^memory: peak ([\d.]+) KiB measured \(planned ([\d.]+) KiB, budget ([\d.]+) KiB.*solver batch-slicing sliced-\d+\)/m.exec(b.stdout);
      expect(m, b.stdout).not.toBeNull();
      expect(Number(m![1]) * 1024).toBeLessThanOrEqual(budget);
      const want = readNpz(readFileSync(plain));
      const got = readNpz(readFileSync(fitted));
      for (const [name, t] of Object.entries(want)) expect(got[name]!.data, `${backend} ${name}`).toEqual(t.data);
      // A third of it is out of reach, inputs kept or not, and the error says how far.
      const third = tns(["run", FILE, "--random-inputs", "--backend", backend, "--memory-budget", String(Math.floor(budget / 1.5))]);
      expect(third.code).toBe(1);
      expect(third.stderr).toContain("TNS0701");
    }
  });
});

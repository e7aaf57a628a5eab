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

  it("run meets 70% of the default plan with its inputs donated, measured under the budget, outputs bitwise (js, wasm)", { timeout: 300_000 }, () => {
    // 70% of the wasm plan (73,875 bytes): above the wasm plan with donated inputs (71,488 bytes, the masked hidden
    // gradient written over H); keeping the inputs, no schedule fits it.
    const budget = Math.floor(0.7 * peakOf([]));
    for (const backend of ["js", "wasm"]) {
      const plain = join(dir, `plain-${backend}.npz`);
      const fitted = join(dir, `fitted-${backend}.npz`);
      const a = tns(["run", FILE, "--random-inputs", "--backend", backend, "--no-donate", "-o", plain]);
      expect(a.code, a.stderr).toBe(0);
      const b = tns(["run", FILE, "--random-inputs", "--backend", backend, "--memory-budget", String(budget), "-o", fitted]);
      expect(b.code, b.stderr).toBe(0);
      const m = /^memory: peak ([\d.]+) KiB measured \(planned ([\d.]+) KiB, budget ([\d.]+) KiB/m.exec(b.stdout);
      expect(m, b.stdout).not.toBeNull();
      expect(Number(m![1]) * 1024).toBeLessThanOrEqual(budget);
      const want = readNpz(readFileSync(plain));
      const got = readNpz(readFileSync(fitted));
      for (const [name, t] of Object.entries(want)) expect(got[name]!.data, `${backend} ${name}`).toEqual(t.data);
      // Keeping the inputs, the same budget is out of reach: inputs and outputs alone are 89.4 KiB, and the smallest peak is above.
      const kept = tns(["run", FILE, "--random-inputs", "--backend", backend, "--no-donate", "--memory-budget", String(budget)]);
      expect(kept.code).toBe(1);
      expect(kept.stderr).toContain("TNS0701");
    }
  });
});

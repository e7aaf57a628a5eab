/**
 * `--max-intermediate` on run, compile and explain, as users run them (a
 * child process on the built dist/).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/tns.js");

function tns(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), "tns-slice-"));
const FILE = join(dir, "tetra.tns");
writeFileSync(FILE, `
size n = 16
input A[n, n, n], B[n, n, n], C[n, n, n], D[n, n, n]
output O[f] = A[a, b, c] * B[a, d, e] * C[b, d, f] * D[c, e, f]
`);

describe("--max-intermediate", () => {
  it("run slices the contraction and gives the unsliced values", () => {
    const plain = tns(["run", FILE, "--backend", "js", "--random-inputs", "-o", join(dir, "plain.npy")]);
    expect(plain.code, plain.stderr).toBe(0);
    const sliced = tns(["run", FILE, "--backend", "js", "--random-inputs", "--max-intermediate", "16KiB", "-o", join(dir, "sliced.npy")]);
    expect(sliced.code, sliced.stderr).toBe(0);
    const a = new Float32Array(readFileSync(join(dir, "plain.npy")).buffer.slice(-64));
    const b = new Float32Array(readFileSync(join(dir, "sliced.npy")).buffer.slice(-64));
    for (let k = 0; k < 16; k++) expect(Math.abs(a[k]! - b[k]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(a[k]!)));
  });

  it("explain shows the slices and the FLOPs added, in text and JSON", () => {
    const r = tns(["explain", FILE, "--ir", "none", "--max-intermediate", "16KiB"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Sliced labels:\s+\S.*: \d+ slices/);
    expect(r.stdout).toMatch(/FLOPs when sliced:.*added/);
    const json = JSON.parse(tns(["explain", FILE, "--ir", "none", "--json", "--max-intermediate", "16384"]).stdout);
    expect(json.contractions[0].slicing).toMatchObject({ limitBytes: 16384, refused: null });
    expect(json.contractions[0].slicing.extraFlops).toBeGreaterThan(0);
  });

  it("compile writes the sliced program", () => {
    const out = join(dir, "build");
    const r = tns(["compile", FILE, "--target", "js", "-o", out, "--max-intermediate", "16KiB"]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, "tetra.ir.txt"), "utf8")).toMatch(/O_s1_p1/);
  });

  it("a limit that needs too many slices is TNS0720; a bad size is a usage error", () => {
    const r = tns(["run", FILE, "--backend", "js", "--random-inputs", "--max-intermediate", "256"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/TNS0720/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const bad = tns(["run", FILE, "--max-intermediate", "lots"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-intermediate expects bytes/);
    for (const cmd of ["run", "compile", "explain"]) expect(tns([cmd, "--help"]).stdout).toMatch(/--max-intermediate B/);
  });
});

/**
 * `--approx` on `tns explain`, `run` and `compile` as users run them (a
 * child process on the built dist/), and the located errors of bad weight
 * files and impossible requests.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { Tensor, writeNpy, writeNpz } from "../../src/index.js";
import { gaussianMatrix, matmul, type Matrix } from "../../src/numerics/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/tns.js");
const STACK = /\n\s+at .+:\d+:\d+/;

function tns(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), "tns-approx-"));
const file = (name: string, data: string | Uint8Array): string => {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
};
const f32 = (m: Matrix): Tensor => new Tensor("f32", [m.rows, m.cols], Float32Array.from(m.data));

const SRC = file("mlp.tns", `size b = 8
weight W1[256, 192]
weight W2[192, 64]
input x[b, 256]
h[n, j] = relu(sum(i) x[n, i] * W1[i, j])
output y[n, k] = sum(j) h[n, j] * W2[j, k]
`);
const WEIGHTS = file("w.npz", writeNpz({ W1: f32(matmul(gaussianMatrix(256, 4, 1), gaussianMatrix(4, 192, 2))), W2: f32(gaussianMatrix(192, 64, 3)) }));

describe("tns explain --approx", () => {
  it("--json has the approximations array and each output's error", () => {
    const r = tns(["explain", SRC, "--weights", WEIGHTS, "--approx", "lowrank:tol=1e-4", "--json", "--ir", "none"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { approximations: Record<string, unknown>[]; outputError: Record<string, number>; calibration: string };
    expect(report.approximations.map((a) => [a["weight"], a["kind"], a["applied"], a["rank"]])).toEqual([["W1", "lowrank", true, 4], ["W2", "lowrank", false, 64]]);
    for (const key of ["relativeError", "flopsBefore", "flopsAfter", "bytesBefore", "bytesAfter", "factorShapes"]) expect(report.approximations[0]).toHaveProperty(key);
    expect(report.approximations[1]!["reason"]).toMatch(/meets tol=0.0001/);
    expect(report.outputError["y"]).toBeLessThan(1e-5);
    expect(report.calibration).toBe("random");
  });

  it("prints the section as text, measured on calibration inputs when given", () => {
    const x = gaussianMatrix(8, 256, 9);
    const cal = file("cal.npz", writeNpz({ x: f32(x) }));
    const r = tns(["explain", SRC, "--weights", WEIGHTS, "--approx", "lowrank:W1:rank=4", "--calibration", cal, "--ir", "none"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^approximations:\n {2}W1 {2}lowrank rank 4 {2}error [\d.e+-]+ {2}FLOPs [\d,]+ -> [\d,]+ {2}bytes 192\.0 KiB -> 7\.0 KiB {2}applied/m);
    expect(r.stdout).toContain(`on ${cal}):`);
  });
});

describe("tns run and compile --approx", () => {
  it("run prints what was approximated and the outputs", () => {
    const r = tns(["run", SRC, "--weights", WEIGHTS, "--approx", "lowrank:tol=1e-4", "--random-inputs", "--backend", "js"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/approximations:\n {2}W1 {2}lowrank rank 4/);
    expect(r.stdout).toMatch(/^y: f32\[8, 64\]/m);
  });

  it("compile names the factors as inputs of the module", () => {
    const out = mkdtempSync(join(tmpdir(), "tns-approx-out-"));
    const r = tns(["compile", SRC, "--weights", WEIGHTS, "--approx", "lowrank:tol=1e-4", "-o", out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("applied");
  });
});

describe("bad weight files and impossible requests", () => {
  const npz = (members: Record<string, Uint8Array>): string => file(`bad${Math.random().toString(36).slice(2)}.npz`, zipSync(members));
  const good = writeNpy(f32(gaussianMatrix(256, 192, 1)));
  const w2 = writeNpy(f32(gaussianMatrix(192, 64, 2)));

  it.each([
    ["wrong shape", () => npz({ "W1.npy": writeNpy(f32(gaussianMatrix(192, 256, 1))), "W2.npy": w2 }), "TNS0602", "mlp.tns:2:8"],
    ["wrong dtype", () => {
      const header = "{'descr': '<c16', 'fortran_order': False, 'shape': (256, 192), }";
      const pad = " ".repeat(64 - ((10 + header.length + 1) % 64));
      const head = Uint8Array.from(`\x93NUMPY\x01\x00${String.fromCharCode((header.length + pad.length + 1) & 255, (header.length + pad.length + 1) >> 8)}${header}${pad}\n`, (c) => c.charCodeAt(0));
      return npz({ "W1.npy": new Uint8Array([...head, ...new Uint8Array(16 * 256 * 192)]), "W2.npy": w2 });
    }, "TNS0605", "unsupported element type '<c16'"],
    ["truncated .npy", () => npz({ "W1.npy": good.slice(0, good.length - 100), "W2.npy": w2 }), "TNS0605", "W1"],
  ])("%s", (_what, make, code, where) => {
    const r = tns(["explain", SRC, "--weights", make(), "--approx", "lowrank:tol=1e-4", "--ir", "none"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(code);
    expect(r.stderr).toContain(where);
    expect(r.stderr).not.toMatch(STACK);
  });

  it.each([
    ["lowrank:W1:rank=300", "TNS1003", "rank 300 is above min(m, n) = 192", "mlp.tns:2:8"],
    ["kron:W2:shape=5x8,40x8", "TNS1004", "give a 200x64 matrix, but weight 'W2' is 192x64", "mlp.tns:3:8"],
    ["lowrank:W9:tol=1e-3", "TNS1002", "'W9' is not a weight", "weights: W1, W2"],
    ["lowrank:tol=-1", "TNS1001", "tol must be a number in (0, 1)", "lowrank:tol=1e-4"],
  ])("%s", (approx, code, message, where) => {
    for (const command of ["explain", "run"]) {
      const r = tns([command, SRC, "--weights", WEIGHTS, "--approx", approx, ...(command === "run" ? ["--random-inputs", "--backend", "js"] : [])]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(code);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain(where);
      expect(r.stderr).not.toMatch(STACK);
    }
  });
});

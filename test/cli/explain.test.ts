/**
 * `tns explain` as users run it (a child process on the built dist/, like
 * cli.test.ts), plus its line diff.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { diffLines } from "../../src/cli/commands/explain.js";
import { defaultPipeline } from "../../src/passes/index.js";

const PIPELINE = defaultPipeline().map((p) => p.name);

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/tns.js");
const STACK = /\n\s+at .+:\d+:\d+/;

function tns(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function programFile(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "tns-explain-")), name);
  writeFileSync(file, text);
  return file;
}

// n⁴·3 FLOPs as one loop nest; two matrix products (2·n²·m each) in the right order.
const CHAIN = "size n = 64, m = 8\ninput A[n, n], B[n, n], C[n, m]\noutput D[i, l] = A[i, j] * B[j, k] * C[k, l]\n";

describe("tns explain", () => {
  it("names the wasm kernel of each def, chosen by shape, with its estimate and what bounds it", () => {
    const file = programFile("gemv.tns", "size M = 1, K = 4096, N = 4096\ninput x[M, K], W[K, N]\noutput y[i, j] = x[i, k] * W[k, j]\n");
    const gemv = tns(["explain", file, "--ir", "none"]);
    expect(gemv.code).toBe(0);
    expect(gemv.stdout).toMatch(/^wasm kernels \(one thread, estimated; total [\d.]+ ms\):$/m);
    expect(gemv.stdout).toMatch(/^ {2}y {2}skinny-axpy {2}33,554,432 FLOPs {2}64\.0 MiB {2}0\.50 FLOP\/B {2}[\d.]+ ms {2}memory-bound$/m);
    const wx = tns(["explain", file, "--ir", "none", "--size", "M=4096", "--size", "N=1"]);
    expect(wx.stdout).toMatch(/^ {2}y {2}skinny-dot .* memory-bound$/m);
    const square = tns(["explain", file, "--ir", "none", "--size", "M=512", "--size", "N=512", "--size", "K=512"]);
    expect(square.stdout).toMatch(/^ {2}y {2}gemm .* compute-bound$/m);
  });

  it("has help, and is listed in the tool's help", () => {
    const r = tns(["explain", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: tns explain FILE");
    expect(tns(["--help"]).stdout).toMatch(/^ {2}explain /m);
  });

  it("shows each pass, the IR lines order-contractions changed, its path and the FLOP reduction", () => {
    const r = tns(["explain", programFile("chain.tns", CHAIN)]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const pass of PIPELINE) expect(r.stdout).toMatch(new RegExp(`^${pass} +(changed|unchanged) +[\\d.]+ ms$`, "m"));
    expect(r.stdout).toMatch(/^order-contractions +changed +[\d.]+ ms$/m);
    expect(r.stdout).toContain("FLOPs                 6,291,456 -> 131,072");
    expect(r.stdout).toContain("largest intermediate  none -> D_p1 (512 elements, 2.0 KiB)");
    expect(r.stdout).toContain("  - output D: f32[64, 8] = [i:64, l:8] sum(j:64, k:64) A[i, j] * B[j, k] * C[k, l]");
    expect(r.stdout).toContain("  + D_p1: f32[8, 64] = [l:8, j:64] sum(k:64) B[j, k] * C[k, l]");
    expect(r.stdout).toContain("Complete contraction:  ij,jk,kl->il");
    expect(r.stdout).toContain("Theoretical speedup:  48.000");
    expect(r.stdout).toMatch(/kl,jk->lj/);
    expect(r.stdout).toContain("summary (48.00x fewer FLOPs):");
  });

  it("prints the same report as one JSON document", () => {
    const r = tns(["explain", programFile("chain.tns", CHAIN), "--json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.passes.map((p: { pass: string }) => p.pass)).toEqual(PIPELINE);
    const order = report.passes.find((p: { pass: string }) => p.pass === "order-contractions");
    expect(order).toMatchObject({ changed: true, before: { flops: 6291456 }, after: { flops: 131072, largestIntermediate: { name: "D_p1", elements: 512 } } });
    expect(order.diff.filter((d: { op: string }) => d.op === "+")).toHaveLength(2);
    expect(order.ir).toBeUndefined();
    expect(report.contractions).toHaveLength(1);
    expect(report.contractions[0]).toMatchObject({ tensor: "D", intermediates: ["D_p1"], info: { equation: "ij,jk,kl->il", naiveFlops: 6291456, optimizedFlops: 131072, path: [[1, 2], [0, 1]] } });
    expect(report.costBefore.flops).toBe(6291456);
    expect(report.costAfter.flops).toBe(131072);
    expect(report.costAfter.peakMemory.bytes).toBe(report.passes.at(-1).after.peakMemoryBytes);
    expect(report.speedup).toBe(48);
  });

  it("prints the whole IR with --ir full, none with --ir none, and only inlining with -O0", () => {
    const file = programFile("chain.tns", CHAIN);
    const full = tns(["explain", file, "--ir", "full"]);
    expect(full.stdout).toMatch(/^ {4}D_p1: f32\[8, 64\] = /m);
    expect(full.stdout).toMatch(/^ {4}input A: f32\[64, 64\]$/m);
    const none = tns(["explain", file, "--ir", "none"]);
    expect(none.stdout).not.toMatch(/^ {2}[-+] /m);
    expect(none.stdout).toContain("6,291,456 -> 131,072");
    const o0 = tns(["explain", file, "-O0", "--json"]);
    const report = JSON.parse(o0.stdout);
    expect(report.passes.map((p: { pass: string }) => p.pass)).toEqual(["inline-calls", "differentiate"]);
    expect(report.contractions).toEqual([]);
    expect(report.speedup).toBe(1);
  });

  it("explains the bundled examples", () => {
    for (const example of ["examples/tensor_train.tns", "examples/attention.tns"]) {
      const r = tns(["explain", example, "--json"]);
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(report.costAfter.flops).toBeLessThanOrEqual(report.costBefore.flops);
    }
  });

  it("names the rules that fired: attention's scale and normalizer hoisted, then (at n = 2048) its online softmax; MLP's activation fused", () => {
    const rulesOf = (stdout: string): string[] => stdout.split("\n").filter((l) => l.startsWith("  rule "));
    const hoisted = ["  rule sum-factor-out on S", "  rule div-to-mul-reciprocal on O", "  rule sum-factor-out on O"];
    const attention = tns(["explain", "examples/attention.tns"]);
    expect(attention.code).toBe(0);
    expect(rulesOf(attention.stdout)).toEqual([...hoisted, "  rule extract-invariant-reduction on O (extracted O_r)"]);
    const large = tns(["explain", "examples/attention.tns", "--size", "n=2048", "--ir", "none"]);
    expect(large.code).toBe(0);
    expect(rulesOf(large.stdout)).toEqual([...hoisted, "  rule online-softmax on O (inlined S, M, E)"]);
    const mlp = JSON.parse(tns(["explain", "examples/mlp.tns", "--json"]).stdout);
    const fused = mlp.passes.find((p: { pass: string }) => p.pass === "fuse-elementwise");
    expect(fused.derivations.map((d: { rule: string }) => d.rule)).toContain("fuse-elementwise-producer");
  });

  it("reports a broken program with diagnostics and exit 1, a bad option with exit 2, never a stack trace", () => {
    const bad = tns(["explain", programFile("bad.tns", "input A[4, 4]\noutput D[i] = A[i, j] * C[j]\n")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.tns:\d+:\d+/);
    expect(bad.stderr).toContain("error[TNS");
    expect(bad.stderr).not.toMatch(STACK);
    expect(bad.stdout).toBe("");
    const missing = tns(["explain", "no/such/file.tns"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).not.toMatch(STACK);
    const usage = tns(["explain", programFile("chain.tns", CHAIN), "--ir", "some"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--ir expects full, diff or none");
  });
});

describe("diffLines", () => {
  it("keeps common lines out and the changed ones in order", () => {
    expect(diffLines("a\nb\nc\n", "a\nB\nc\n")).toEqual([{ op: "-", line: "b" }, { op: "+", line: "B" }]);
    expect(diffLines("a\nc\n", "a\nb1\nb2\nc\n")).toEqual([{ op: "+", line: "b1" }, { op: "+", line: "b2" }]);
    expect(diffLines("x\ny\n", "y\n")).toEqual([{ op: "-", line: "x" }]);
    expect(diffLines("same\n", "same\n")).toEqual([]);
  });
});

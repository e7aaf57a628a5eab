/**
 * The WebGPU backend from the command line, as users run it (child
 * processes on the built package): run with verification, bad inputs,
 * float64, and `compile --target wgsl`, whose files run in a Node process
 * that imports nothing of tns.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { check } from "../../src/compiler.js";
import { interpret } from "../../src/interpret.js";
import { writeNpy } from "../../src/runtime/npy.js";
import { readNpz } from "../../src/runtime/npz.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { relativeError } from "../backends/support.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/tns.js");
const STACK = /\n\s+at .+:\d+:\d+/;

function tns(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const scratch = () => mkdtempSync(join(tmpdir(), "tns-wgsl-"));

describe("tns with the wgsl backend", () => {
  it("runs and verifies an example", () => {
    const r = tns(["run", "examples/attention.tns", "--backend", "wgsl", "--random-inputs", "--verify", "--size", "n=40"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/backend wgsl vs reference rel [\d.e+-]+/);
    expect(r.stdout).toMatch(/^O: f32\[40, 64\]/m);
    expect(r.stdout).toMatch(/compiled and verified in [\d.]+ ms \(wgsl\), ran in [\d.]+ ms/);
  });

  it("writes outputs to .npz, equal to the js backend's within float32 tolerance", () => {
    const dir = scratch();
    for (const backend of ["wgsl", "js"]) {
      expect(tns(["run", "examples/softmax_stdlib.tns", "--backend", backend, "--random-inputs", "-o", join(dir, `${backend}.npz`)]).code).toBe(0);
    }
    const a = readNpz(readFileSync(join(dir, "wgsl.npz")));
    const b = readNpz(readFileSync(join(dir, "js.npz")));
    expect(Object.keys(a).sort()).toEqual(["L", "P"]);
    for (const name of Object.keys(b)) {
      expect(a[name]!.shape).toEqual(b[name]!.shape);
      expect(relativeError(a[name]!.data, b[name]!.data), name).toBeLessThanOrEqual(1e-5);
    }
  });

  it("keeps the clear errors for a wrong input shape and for float64", () => {
    const dir = scratch();
    writeFileSync(join(dir, "A.npy"), writeNpy(Tensor.zeros([3, 3], "f32")));
    const shape = tns(["run", "examples/matmul.tns", "--backend", "wgsl", "--random-inputs", "--input", `A=${join(dir, "A.npy")}`]);
    expect(shape.code).toBe(1);
    expect(shape.stderr).toMatch(/TNS0602.*input 'A' has shape \[3, 3\]/);
    expect(shape.stderr).not.toMatch(STACK);
    const f64 = join(dir, "f64.tns");
    writeFileSync(f64, "input x[4]: f64\noutput y[i] = x[i] * 2\n");
    const r = tns(["run", f64, "--backend", "wgsl", "--random-inputs"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/TNS0902.*'x' is f64/);
    expect(r.stderr).not.toMatch(STACK);
  });

  it("compiles to .wgsl files, a manifest and a loader that runs without the compiler", () => {
    const dir = scratch();
    const r = tns(["compile", "examples/attention.tns", "--target", "wgsl", "-o", dir, "--size", "n=24"]);
    expect(r.code, r.stderr).toBe(0);
    const files = readdirSync(dir).sort();
    expect(files).toEqual(expect.arrayContaining(["attention.mjs", "manifest.json", "attention.ir.txt"]));
    expect(files.filter((f) => f.endsWith(".wgsl")).length).toBeGreaterThanOrEqual(3);
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    expect(manifest.format).toBe("tns-wgsl-module");
    for (const d of manifest.dispatches) {
      expect(files).toContain(d.file);
      expect(d.workgroups).toHaveLength(3);
      expect(d.bindings.length).toBeGreaterThan(0);
    }
    // A process that imports only the emitted loader and Dawn's package.
    const { program } = check(readFileSync(join(ROOT, "examples/attention.tns"), "utf8"), { sizes: { n: 24 } });
    const inputs: Record<string, Tensor> = {};
    for (const t of program!.tensors) {
      if (t.role === "input") inputs[t.name] = new Tensor("f32", t.shape, Float32Array.from({ length: t.shape.reduce((a, b) => a * b, 1) }, (_, k) => Math.sin(k * 0.37 + t.name.length)));
    }
    const script = join(dir, "run.mjs");
    writeFileSync(script, `
import { create } from ${JSON.stringify(pathToFileURL(join(ROOT, "node_modules/webgpu/index.js")).href)};
import { load } from "./attention.mjs";
process.env.EGL_PLATFORM ??= "surfaceless";
const gpu = create(["backend=opengles"]);
const adapter = await gpu.requestAdapter({ featureLevel: "compatibility" });
const device = await adapter.requestDevice();
const inputs = ${JSON.stringify(Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, Array.from(t.data)])))};
const program = await load(device);
const out = await program.run(Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, Float32Array.from(v)])));
console.log(JSON.stringify({ shape: out.O.shape, data: Array.from(out.O.data) }));
program.destroy();
device.destroy();
`);
    const run = spawnSync(process.execPath, [script], { cwd: dir, encoding: "utf8", timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const got = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
    const want = interpret(program!, inputs)["O"]!;
    expect(got.shape).toEqual(want.shape);
    expect(relativeError(got.data, want.data)).toBeLessThanOrEqual(1e-4);
  });

  it("explains the WebGPU kernels' launch shapes, as text and as JSON", () => {
    const text = tns(["explain", "examples/attention.tns", "--backend", "wgsl", "--ir", "none"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/wgsl kernels \(\d+ dispatches, in order\):/);
    expect(text.stdout).toMatch(/tiled-matmul +workgroup 128×1×1 +grid \d+ × 1 × 1/);
    expect(text.stdout).toMatch(/workgroup-reduce +workgroup 64×1×1 +grid 256 × 1 × 1/);
    expect(text.stdout).toMatch(/GPU memory: [\d.]+ KiB in \d+ buffers, intermediates pooled \(one buffer per tensor: [\d.]+ KiB\)/);
    const json = JSON.parse(tns(["explain", "examples/attention.tns", "--backend", "wgsl", "--json", "--ir", "none"]).stdout);
    expect(json.wgsl.dispatches.map((d: { form: string }) => d.form)).toContain("elementwise");
    for (const d of json.wgsl.dispatches) expect(d.invocations).toBe(d.workgroups.reduce((a: number, b: number) => a * b, 1) * d.workgroupSize[0]);
    expect(json.wgsl.memory.bytes).toBeLessThanOrEqual(json.wgsl.memory.unpooledBytes);
    expect(tns(["explain", "examples/attention.tns", "--backend", "js"]).code).toBe(2);
  });

  it("documents the backend in run --help and the target in compile --help", () => {
    expect(tns(["run", "--help"]).stdout).toMatch(/wgsl \(WebGPU/);
    expect(tns(["compile", "--help"]).stdout).toMatch(/--target wgsl/);
  });
});

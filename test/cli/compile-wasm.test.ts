/**
 * `tns compile --target wasm`: the written loader runs in a separate Node
 * process from a folder outside the project (so nothing of the compiler can
 * be imported there) and agrees with the reference interpreter.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/compiler.js";
import { randomTensor } from "../../src/runtime/random.js";
import type { Tensor } from "../../src/runtime/tensor.js";
import { relativeError } from "../support/numpy.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/tns.js");
const scratch = () => mkdtempSync(join(tmpdir(), "tns-wasm-"));

function tns(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Imports `loader` in a fresh process (cwd: its folder), runs it on `inputs`, returns its outputs. */
function runLoader(loader: string, inputs: Record<string, Tensor>): Record<string, { shape: number[]; dtype: string; data: number[] }> {
  const dir = resolve(loader, "..");
  const json = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, { shape: t.shape, data: [...t.data] }]));
  writeFileSync(join(dir, "inputs.json"), JSON.stringify(json));
  const script = `
    import { readFileSync } from "node:fs";
    const { load } = await import(${JSON.stringify(new URL(`file://${loader}`).href)});
    const given = JSON.parse(readFileSync("inputs.json", "utf8"));
    const inputs = Object.fromEntries(Object.entries(given).map(([k, v]) => [k, { shape: v.shape, data: Float32Array.from(v.data) }]));
    const out = (await load()).run(inputs);
    console.log(JSON.stringify(Object.fromEntries(Object.entries(out).map(([k, o]) => [k, { ...o, data: [...o.data] }]))));
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: dir, encoding: "utf8", timeout: 60_000 });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

/** Compiles `example` to a wasm build in a temp folder; checks the files written. */
function build(example: string, sizes: string[], extra: string[] = []): string {
  const out = join(scratch(), "build");
  const r = tns(["compile", `examples/${example}.tns`, "--target", "wasm", "-o", out, ...sizes.flatMap((s) => ["--size", s]), ...extra]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return out;
}

function reference(example: string, sizes: Record<string, number>, inputs: Record<string, Tensor>): Record<string, Tensor> {
  const source = readFileSync(join(ROOT, `examples/${example}.tns`), "utf8");
  return compile(source, { sizes, backend: "reference" }).run(inputs);
}

describe("tns compile --target wasm", () => {
  it("writes a standalone build of attention that agrees with the reference interpreter", () => {
    const out = build("attention", ["n=24", "d=12"], ["--emit", "wat"]);
    expect(readdirSync(out).sort()).toEqual(["attention.ir.txt", "attention.mjs", "attention.wasm", "attention.wat", "manifest.json"]);
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(manifest.format).toBe("tns-wasm-module");
    expect(manifest.inputs.map((i: { name: string }) => i.name)).toEqual(["Q", "K", "V"]);
    expect(manifest.imports).toEqual([]); // f32 exp is computed inline
    expect(manifest.memory.pages * 65536).toBeGreaterThanOrEqual(manifest.memory.bytes);
    for (const b of manifest.buffers) expect(b.offset % 16).toBe(0);
    expect(readFileSync(join(out, "attention.wat"), "utf8")).toMatch(/^\(module/);
    // The loader imports nothing but Node's file system (for reading the .wasm).
    const loader = readFileSync(join(out, "attention.mjs"), "utf8");
    expect([...loader.matchAll(/import\(([^)]*)\)|^import .*$/gm)].map((m) => m[0])).toEqual(['import("node:fs/promises")']);
    const inputs = { Q: randomTensor([24, 12], "f32", 1), K: randomTensor([24, 12], "f32", 2), V: randomTensor([24, 12], "f32", 3) };
    const got = runLoader(join(out, "attention.mjs"), inputs);
    const want = reference("attention", { n: 24, d: 12 }, inputs)["O"]!;
    expect(got["O"]!.shape).toEqual([24, 12]);
    expect(relativeError(Float64Array.from(got["O"]!.data), want.data)).toBeLessThan(1e-5);
  });

  it("writes a matrix product with edge tiles and runs it", () => {
    const out = build("matmul", ["n=37", "k=29", "m=45"]);
    expect(existsSync(join(out, "matmul.wat"))).toBe(false);
    const inputs = { A: randomTensor([37, 29], "f32", 4), B: randomTensor([29, 45], "f32", 5) };
    const got = runLoader(join(out, "matmul.mjs"), inputs);
    const want = reference("matmul", { n: 37, k: 29, m: 45 }, inputs)["C"]!;
    expect(got["C"]!.dtype).toBe("f32");
    expect(relativeError(Float64Array.from(got["C"]!.data), want.data)).toBeLessThan(1e-5);
  });

  it("rejects --emit without --target wasm and never leaves partial output", () => {
    const dir = scratch();
    const bad = tns(["compile", "examples/matmul.tns", "--emit", "wat", "-o", join(dir, "a")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--emit wat");
    const file = join(dir, "bad.tns");
    writeFileSync(file, "input A[4]\noutput B[i] = A[i] * \n");
    const r = tns(["compile", file, "--target", "wasm", "-o", join(dir, "out")]);
    expect(r.code).toBe(1);
    expect(existsSync(join(dir, "out"))).toBe(false);
    expect(existsSync(join(dir, "a"))).toBe(false);
    expect(tns(["compile", "--help"]).stdout).toContain("--target wasm");
  });
});

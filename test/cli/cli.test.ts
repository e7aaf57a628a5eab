/**
 * The `tns` command as users run it: a child process on the built package
 * (`npm test` builds dist/ first). Checks output, exit codes, that user
 * errors never print a stack trace, and that failures write no files.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { readNpy, writeNpy } from "../../src/runtime/npy.js";
import { writeNpz } from "../../src/runtime/npz.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { compile } from "../../src/compiler.js";
import { randomTensor } from "../../src/runtime/random.js";
import { numpyPython, relativeError } from "../support/numpy.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/tns.js");

function tns(args: string[], cwd = ROOT): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const STACK = /\n\s+at .+:\d+:\d+/;
const scratch = () => mkdtempSync(join(tmpdir(), "tns-cli-"));

describe("tns CLI", () => {
  it("prints help for the tool and every command", () => {
    const top = tns(["--help"]);
    expect(top.code).toBe(0);
    for (const cmd of ["run", "check", "compile", "einsum"]) {
      expect(top.stdout).toContain(cmd);
      const r = tns([cmd, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: tns ${cmd}`);
      expect(tns(["help", cmd]).stdout).toBe(r.stdout);
    }
  });

  it("runs the attention example with random inputs", () => {
    const r = tns(["run", "examples/attention.tns", "--random-inputs", "--size", "n=32"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^O: f32\[32, 64\] {2}min -?[\d.e-]+ {2}max/m);
    expect(r.stdout).toMatch(/compiled in [\d.]+ ms \(wasm\), ran in [\d.]+ ms/);
  });

  it("writes outputs to .npy and .npz, same values as the API", () => {
    const dir = scratch();
    const a = randomTensor([3, 4], "f32", 5);
    const b = randomTensor([4, 2], "f32", 6);
    writeFileSync(join(dir, "a.npy"), writeNpy(a));
    writeFileSync(join(dir, "b.npy"), writeNpy(b));
    writeFileSync(join(dir, "mm.tns"), "input A[3, 4], B[4, 2]\noutput C[i, j] = A[i, k] * B[k, j]\n");
    const r = tns(["run", join(dir, "mm.tns"), "--input", `A=${join(dir, "a.npy")}`, "--input", `B=${join(dir, "b.npy")}`, "-o", join(dir, "c.npy")]);
    expect(r.code).toBe(0);
    const got = readNpy(new Uint8Array(readFileSync(join(dir, "c.npy"))));
    const want = compile(readFileSync(join(dir, "mm.tns"), "utf8"), { backend: "reference" }).run({ A: a, B: b })["C"]!;
    expect(got.shape).toEqual([3, 2]);
    expect(relativeError(got.data, want.data)).toBeLessThan(1e-6);
  });

  it("reports a broken program with file:line:col, exit 1, no stack trace", () => {
    const dir = scratch();
    const file = join(dir, "bad.tns");
    writeFileSync(file, "input A[4, 4]\nB[i, j] = A[i, k] * C[k, j]\noutput D[i] = B[i, j] +\n");
    const r = tns(["run", file, "--random-inputs", "-o", join(dir, "out.npz")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.tns:\d+:\d+/);
    expect(r.stderr).toContain("error[TNS");
    expect(r.stderr).not.toMatch(STACK);
    expect(existsSync(join(dir, "out.npz"))).toBe(false);
    const c = tns(["check", file]);
    expect(c.code).toBe(1);
    expect(c.stderr).not.toMatch(STACK);
  });

  it("reports an unknown tensor at its position", () => {
    const dir = scratch();
    const file = join(dir, "unknown.tns");
    writeFileSync(file, "input A[4, 4]\noutput B[i, j] = A[i, k] * Q[k, j]\n");
    const r = tns(["check", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:2:28`);
    expect(r.stderr).toContain("TNS0101");
  });

  it("uses exit code 2 for usage errors", () => {
    expect(tns([]).code).toBe(2);
    expect(tns(["frobnicate"]).code).toBe(2);
    const r = tns(["run", "examples/matmul.tns", "--bogus"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("tns run --help");
    expect(tns(["run", "examples/matmul.tns", "--size", "n=abc"]).code).toBe(2);
    expect(tns(["run"]).code).toBe(2);
  });

  it("reports missing inputs and missing files as diagnostics", () => {
    const r = tns(["run", "examples/matmul.tns"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("TNS0601");
    expect(r.stderr).not.toMatch(STACK);
    const m = tns(["run", "no/such/file.tns"]);
    expect(m.code).toBe(1);
    expect(m.stderr).toContain("cannot read no/such/file.tns");
    const d = tns(["run", "examples/matmul.tns", "--input", "A=/no/such.npy"]);
    expect(d.code).toBe(1);
    expect(d.stderr).not.toMatch(STACK);
  });

  it("accepts -O0 (no optimization) and gives the same outputs", () => {
    const args = ["run", "examples/attention.tns", "--random-inputs", "--size", "n=16", "--backend", "reference"];
    const optimized = tns(args);
    const plain = tns([...args, "-O0"]);
    expect(plain.code).toBe(0);
    expect(plain.stdout.split("\n")[0]).toBe(optimized.stdout.split("\n")[0]);
  });

  it("checks a good program", () => {
    const r = tns(["check", "examples/attention.tns"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("ok (3 inputs, 1 output)");
  });

  it("compiles to a standalone module that runs without the compiler", async () => {
    const dir = scratch();
    const out = join(dir, "build");
    const r = tns(["compile", "examples/attention.tns", "--target", "js", "-o", out, "--size", "n=8", "--size", "d=4"]);
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["attention.ir.txt", "attention.mjs", "manifest.json"]);
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(manifest.inputs.map((i: { name: string }) => i.name)).toEqual(["Q", "K", "V"]);
    const mod = await import(pathToFileURL(join(out, "attention.mjs")).href);
    const inputs = { Q: randomTensor([8, 4], "f32", 1), K: randomTensor([8, 4], "f32", 2), V: randomTensor([8, 4], "f32", 3) };
    const got = mod.run({ Q: inputs.Q.data, K: { data: inputs.K.data, shape: [8, 4] }, V: inputs.V.data });
    const source = readFileSync(join(ROOT, "examples/attention.tns"), "utf8");
    const want = compile(source, { sizes: { n: 8, d: 4 }, backend: "reference" }).run(inputs)["O"]!;
    expect(got.O.shape).toEqual([8, 4]);
    expect(relativeError(got.O.data, want.data)).toBeLessThan(1e-5);
  });

  it("embeds weights bound at compile time in both standalone targets", async () => {
    const dir = scratch();
    writeFileSync(join(dir, "p.tns"), "input x[3]\nweight W[2, 3]\noutput y[i] = W[i, j] * x[j]\n");
    writeFileSync(join(dir, "w.npz"), writeNpz({ W: Tensor.fromArray([[1, 2, 3], [4, 5, 6]]) }));
    for (const target of ["js", "wasm"]) {
      const r = tns(["compile", join(dir, "p.tns"), "--target", target, "-o", join(dir, target), "--weights", join(dir, "w.npz")]);
      expect(r.code, r.stderr).toBe(0);
    }
    const js = await import(pathToFileURL(join(dir, "js", "p.mjs")).href);
    expect(js.manifest.inputs.map((i: { name: string }) => i.name)).toEqual(["x"]);
    expect(Array.from(js.run({ x: new Float32Array([1, 1, 1]) }).y.data)).toEqual([6, 15]);
    expect(Array.from(js.run({ x: new Float32Array([1, 0, 0]) }).y.data)).toEqual([1, 4]);
    const wasm = await (await import(pathToFileURL(join(dir, "wasm", "p.mjs")).href)).load();
    expect(Array.from(wasm.run({ x: new Float32Array([1, 1, 1]) }).y.data)).toEqual([6, 15]);
    expect(() => wasm.run({ x: { data: new Float32Array(3), shape: [4] } })).toThrow("has shape [4], expected [3]");
  });

  it("never leaves partial output when compile fails", () => {
    const dir = scratch();
    const file = join(dir, "bad.tns");
    writeFileSync(file, "input A[4]\noutput B[i] = A[i] * \n");
    const r = tns(["compile", file, "-o", join(dir, "out")]);
    expect(r.code).toBe(1);
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  const python = numpyPython();
  (python || process.env["CI"] ? it : it.skip)("tns einsum agrees with numpy.einsum", () => {
    const dir = scratch();
    const cases: Array<[string, number[][]]> = [
      ["ij,jk->ik", [[30, 40], [40, 20]]],
      ["bij,bjk", [[4, 10, 12], [4, 12, 6]]],
      ["ii->i", [[25, 25]]],
      ["...ij,...jk->...ik", [[2, 3, 5, 4], [3, 4, 6]]],
      ["ab,bc,cd->", [[8, 9], [9, 10], [10, 7]]],
    ];
    cases.forEach(([spec, shapes], k) => {
      const files = shapes.map((s, j) => {
        const f = join(dir, `op${k}_${j}.npy`);
        writeFileSync(f, writeNpy(randomTensor(s, "f32", 100 * k + j)));
        return f;
      });
      const outFile = join(dir, `out${k}.npy`);
      const r = tns(["einsum", spec, ...files, "-o", outFile]);
      expect(r.code, r.stderr).toBe(0);
      const script = `import numpy as np, sys\nops=[np.load(f).astype(np.float64) for f in sys.argv[2:]]\nr=np.einsum(sys.argv[1], *ops)\nnp.save(sys.argv[1].replace('>','_').replace(',','_').replace('.','e')+'.npy', r)`;
      const p = spawnSync(python!, ["-c", script, spec, ...files], { cwd: dir, encoding: "utf8" });
      expect(p.status, p.stderr).toBe(0);
      const want = readNpy(new Uint8Array(readFileSync(join(dir, spec.replace(/>/g, "_").replace(/,/g, "_").replace(/\./g, "e") + ".npy"))));
      const got = readNpy(new Uint8Array(readFileSync(outFile)));
      expect(got.shape).toEqual(want.shape);
      expect(relativeError(got.data, want.data)).toBeLessThan(1e-4);
    });
  });

  it("reports a bad einsum specification with exit code 1", () => {
    const dir = scratch();
    const f = join(dir, "a.npy");
    writeFileSync(f, writeNpy(Tensor.zeros([2, 3])));
    const r = tns(["einsum", "ij,jk->ik", f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("TNS0604");
    expect(r.stderr).not.toMatch(STACK);
  });
});

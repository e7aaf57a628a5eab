/**
 * The public API as plain JavaScript uses it: wrong types are TypeErrors
 * naming the argument, never errors from inside the runtime; the wasm
 * backend keeps a handed-out input buffer as written; einsum refuses what
 * NumPy refuses; a long chain of elementwise defs compiles in linear time.
 */
import { describe, expect, it } from "vitest";
import { check, compile, compileAsync, parse } from "../../src/compiler.js";
import { CompileError } from "../../src/diagnostics/diagnostic.js";
import { einsum } from "../../src/einsum/index.js";
import { exprDepth } from "../../src/ir/walk.js";
import { MAX_FUSED_DEPTH } from "../../src/passes/rewrite/rules/fusion.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { numpyPython } from "../support/numpy.js";
import { spawnSync } from "node:child_process";

const loose = (f: unknown) => f as (...args: unknown[]) => unknown;

describe("API misuse from plain JavaScript", () => {
  const p = compile("input x[4]\noutput y[i] = x[i] * 2");
  const cases: Record<string, [() => unknown, RegExp]> = {
    "run({ x: null })": [() => loose(p.run)({ x: null }), /run: inputs\['x'\] must be a Tensor, got null/],
    "run({ x: 5 })": [() => loose(p.run)({ x: 5 }), /must be a Tensor, got a number \(5\)/],
    "run('x')": [() => loose(p.run)("x"), /run: inputs must be an object/],
    "run with a tensor-like of the wrong length": [() => p.run({ x: { dtype: "f32", shape: [4], data: new Float32Array(3) } as unknown as Tensor }), /shape \[4\] with 3 elements/],
    "run options": [() => loose(p.run)({ x: Tensor.zeros([4]) }, { outputs: "views" }), /options.outputs must be "copy" or "view"/],
    "compile(null)": [() => loose(compile)(null), /compile: the source must be a string/],
    "compile(123)": [() => loose(compile)(123), /compile: the source must be a string of tns code, got a number \(123\)/],
    "weights: { w: 'x' }": [() => loose(compile)("weight w[2]\noutput y[i] = w[i]", { weights: { w: "x" } }), /options.weights\['w'\] must be a Tensor/],
    "sizes: { n: '3' }": [() => loose(compile)("size n = 2\ninput x[n]\noutput y[i] = x[i]", { sizes: { n: "3" } }), /options.sizes.n must be a number/],
    "backend: 'gpu'": [() => loose(compile)("input x[4]\noutput y[i] = x[i]", { backend: "gpu" }), /options.backend must be one of/],
    "threads: 0": [() => loose(compile)("input x[4]\noutput y[i] = x[i]", { threads: 0 }), /options.threads must be a positive integer/],
    "check(undefined)": [() => loose(check)(undefined), /check: the source must be a string/],
    "parse({})": [() => loose(parse)({}), /parse: the source must be a string/],
    "einsum(5)": [() => loose(einsum)(5), /einsum: the specification must be a string/],
    "einsum('i->i', null)": [() => loose(einsum)("i->i", null), /einsum: operand 1 must be a Tensor/],
    "inputBuffer(3)": [() => loose(p.inputBuffer)(3), /inputBuffer: the name must be a string/],
  };
  for (const [what, [call, message]] of Object.entries(cases)) {
    it(`${what} is a TypeError that says what was expected`, () => {
      expect(call).toThrow(TypeError);
      expect(call).toThrow(message);
    });
  }

  it("compileAsync rejects the same way", async () => {
    await expect(loose(compileAsync)(null)).rejects.toThrow(TypeError);
  });

  it("values of the right type but wrong content stay diagnostics", () => {
    const source = "size n = 2\ninput x[n]\noutput y[i] = x[i]";
    for (const n of [-3, 0.5, Number.NaN, 1e300]) expect(compile(source, { sizes: { n } }).diagnostics[0]?.code).toBe("TNS0302");
    expect(() => p.run({ x: Tensor.zeros([3]) })).toThrow(CompileError);
  });
});

describe("wasm inputBuffer", () => {
  it("keeps its contents as written when a run is given another tensor for that input", async () => {
    for (const backend of ["js", "wasm", "reference"] as const) {
      const p = await compileAsync("input x[4]\noutput y[i] = x[i] * 2", { backend });
      const buffer = p.inputBuffer("x");
      buffer.data.set([1, 2, 3, 4]);
      expect(Array.from(p.run({ x: buffer }).y!.data)).toEqual([2, 4, 6, 8]);
      expect(Array.from(p.run({ x: Tensor.fromArray([9, 9, 9, 9]) }).y!.data)).toEqual([18, 18, 18, 18]);
      expect(Array.from(buffer.data), backend).toEqual([1, 2, 3, 4]);
      expect(Array.from(p.run({ x: buffer }).y!.data), backend).toEqual([2, 4, 6, 8]);
      expect(Array.from((await p.runAsync({ x: Tensor.fromArray([5, 5, 5, 5]) })).y!.data)).toEqual([10, 10, 10, 10]);
      expect(Array.from(buffer.data), backend).toEqual([1, 2, 3, 4]);
    }
  });
});

describe("einsum refuses what NumPy refuses", () => {
  const T = (...shape: number[]) => Tensor.zeros(shape);
  const refused: [string, Tensor[]][] = [
    ["ii->i", [T(1, 3)]],
    ["acc,cbc,bca->a", [T(2, 1, 2), T(2, 2, 2), T(2, 2, 2)]],
    [". . .", [T(2)]],
    ["..i->i", [T(2)]],
    ["i\t->i", [T(2)]],
    ["i\n", [T(2)]],
    ["i - > i", [T(2)]],
    ["i>i", [T(2)]],
  ];
  const accepted: [string, Tensor[]][] = [["i j->j i", [T(2, 3)]], ["ij,j ->i", [T(2, 3), T(3)]], ["ii->i", [T(3, 3)]], ["i,i->i", [T(1), T(3)]]];
  for (const [spec, tensors] of refused) {
    it(`refuses ${JSON.stringify(spec)} (TNS0604)`, () => {
      expect(() => einsum(spec, ...tensors)).toThrow(/TNS0604/);
    });
  }
  for (const [spec, tensors] of accepted) {
    it(`accepts ${JSON.stringify(spec)}`, () => expect(einsum(spec, ...tensors)).toBeInstanceOf(Tensor));
  }

  const python = numpyPython();
  it.runIf(python !== null)("and NumPy agrees on each", () => {
    const calls = [...refused, ...accepted].map(([spec, ts]) => ({ spec, shapes: ts.map((t) => t.shape) }));
    const script = `
import json, sys
import numpy as np
out = []
for c in json.load(sys.stdin):
    try:
        np.einsum(c["spec"], *[np.zeros(s) for s in c["shapes"]]); out.append(True)
    except ValueError:
        out.append(False)
json.dump(out, sys.stdout)`;
    const r = spawnSync(python!, ["-c", script], { input: JSON.stringify(calls), encoding: "utf8" });
    expect(JSON.parse(r.stdout)).toEqual([...refused.map(() => false), ...accepted.map(() => true)]);
  });
});

describe("a long chain of elementwise defs", () => {
  const chain = (n: number): string =>
    ["size n = 8", "input x[n]", "D0[i] = x[i]", ...Array.from({ length: n }, (_, k) => `D${k + 1}[i] = D${k}[i] * 2 + x[i]`), `output y[i] = D${n}[i]`].join("\n");

  it("1,000 defs compile on js and wasm, fused into bodies of bounded depth, with the right values", async () => {
    const x = Tensor.fromArray([1, -1, 0.5, 0, 2, -2, 0.25, 1e-3]);
    // y = x * (2^(n+1) - 1) for D0 = x and D(k+1) = 2 D(k) + x; n = 1000 overflows f32, so 20 checks values.
    for (const backend of ["js", "wasm"] as const) {
      const started = performance.now();
      const p = await compileAsync(chain(1000), { backend });
      // The issue asks for well under 2 s; 10 s keeps a loaded CI machine from failing it.
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(p.ok).toBe(true);
      for (const t of p.ir!.tensors) if (t.role === "def") expect(exprDepth(t.body)).toBeLessThanOrEqual(MAX_FUSED_DEPTH + 1);
      expect(p.ir!.tensors.filter((t) => t.role === "def").length).toBeLessThan(200);
      const small = await compileAsync(chain(20), { backend });
      const y = small.run({ x }).y!.data;
      for (let k = 0; k < 8; k++) expect(y[k]).toBeCloseTo(x.data[k]! * (2 ** 21 - 1), -1);
    }
  });
});

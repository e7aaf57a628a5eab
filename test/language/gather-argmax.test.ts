/**
 * Gathers, argmax / argmin and top-k (docs/language.md): the issue's
 * programs on every backend against NumPy float64 (indices exactly equal),
 * the run-time range check on every backend, the gradient of a gather
 * (a scatter-add, against NumPy's `np.add.at`), and the diagnostics of
 * their misuse.
 */
import { describe, expect, it } from "vitest";
import { compileAsync, type CompiledProgram } from "../../src/compiler.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printProgram } from "../../src/ir/print.js";
import { interpret } from "../../src/interpret.js";
import { verifyProgramErrors } from "../../src/ir/verify.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { numpyPython, relativeError, runNumpyScript } from "../support/numpy.js";

const python = numpyPython();
const BACKENDS = ["js", "wasm", "wgsl"] as const;

/** Deterministic pseudo-random data in [-1, 1), with some exact ties. */
function data(n: number, seed: number, ties = false): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let k = 0; k < n; k++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[k] = ties ? Math.floor((s / 2 ** 32) * 5) / 4 - 0.5 : (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

async function build(source: string, backend: string): Promise<CompiledProgram> {
  const p = await compileAsync(source, { backend: backend as "js", verify: backend !== "wgsl" });
  expect(p.ok, p.formatDiagnostics()).toBe(true);
  return p;
}

const run = (p: CompiledProgram, inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> => p.runAsync(inputs);

const PROGRAMS = `
size T = 6, Vocab = 11, D = 5, N = 4, M = 9
input ids[T]: i32, Wte[Vocab, D], X[N, M]
output Xe[t, d] = Wte[ids[t], d]
output arg[i] = argmax(j) X[i, j]
output amin[i] = argmin(j) X[i, j]
output V[i, r], I[i, r] = topk(r < 4, j) X[i, j]
`;

const NUMPY_PROGRAMS = `
import json, sys
import numpy as np
a = json.load(sys.stdin)
ids = np.array(a["ids"], dtype=np.int64)
W = np.array(a["Wte"], dtype=np.float64).reshape(11, 5)
X = np.array(a["X"], dtype=np.float64).reshape(4, 9)
I = np.argsort(-X, axis=1, kind="stable")[:, :4]
out = {"Xe": W[ids], "arg": X.argmax(1), "amin": X.argmin(1), "I": I, "V": np.take_along_axis(X, I, 1)}
json.dump({k: np.asarray(v, dtype=np.float64).reshape(-1).tolist() for k, v in out.items()}, sys.stdout)
`;

describe.skipIf(python === null)("gathers, argmax and topk against NumPy", () => {
  for (const ties of [false, true]) {
    for (const backend of BACKENDS) {
      it(`embedding lookup, argmax, argmin and topk on ${backend}${ties ? " (with ties)" : ""}`, async () => {
        const inputs = {
          ids: new Tensor("i32", [6], Int32Array.from([3, 0, 10, 7, 3, 1])),
          Wte: new Tensor("f32", [11, 5], data(55, 7, ties)),
          X: new Tensor("f32", [4, 9], data(36, 11, ties)),
        };
        const want = runNumpyScript<Record<string, number[]>>(python!, NUMPY_PROGRAMS, {
          ids: Array.from(inputs.ids.data), Wte: Array.from(inputs.Wte.data), X: Array.from(inputs.X.data),
        });
        const got = await run(await build(PROGRAMS, backend), inputs);
        expect(relativeError(got.Xe!.data, want.Xe!)).toBeLessThanOrEqual(1e-4);
        expect(relativeError(got.V!.data, want.V!)).toBeLessThanOrEqual(1e-4);
        for (const name of ["arg", "amin", "I"]) {
          expect(got[name]!.dtype, name).toBe("i32");
          expect(Array.from(got[name]!.data), name).toEqual(want[name]);
        }
      });
    }
  }
});

describe("NaN and ties", () => {
  it("argmax and argmin pick the first NaN, else the smallest index of the extreme; topk ranks NaN first", async () => {
    const src = `input X[3, 4]\noutput a[i] = argmax(j) X[i, j]\noutput b[i] = argmin(j) X[i, j]\noutput V[i, r], I[i, r] = topk(r < 3, j) X[i, j]\n`;
    const X = new Tensor("f32", [3, 4], Float32Array.from([1, 5, 5, 2, 3, NaN, 7, NaN, -1, -1, -Infinity, -Infinity]));
    for (const backend of ["js", "wasm"]) {
      const got = await run(await build(src, backend), { X });
      expect(Array.from(got.a!.data)).toEqual([1, 1, 0]);
      expect(Array.from(got.b!.data)).toEqual([0, 1, 2]);
      expect(Array.from(got.I!.data)).toEqual([1, 2, 3, 1, 3, 2, 0, 1, 2]);
    }
  });
});

describe("run-time range check", () => {
  const src = `input ids[3]: i32, W[4, 2]\noutput Y[t, d] = W[ids[t], d]\n`;
  const inputs = { ids: new Tensor("i32", [3], Int32Array.from([1, 4, 0])), W: new Tensor("f32", [4, 2], data(8, 3)) };
  for (const backend of [...BACKENDS, "reference"]) {
    it(`an index out of range is TNS0620 naming the tensor and the dimension on ${backend}`, async () => {
      const p = await build(src, backend);
      const error = await run(p, inputs).then(() => null, (e: unknown) => e as { diagnostics?: { code: string; message: string }[] });
      expect(error?.diagnostics?.[0]?.code).toBe("TNS0620");
      expect(error?.diagnostics?.[0]?.message).toContain("index 4 is out of range 0..3 in dimension 0 of 'W'");
      // The next run with good data works.
      const ok = await run(p, { ...inputs, ids: new Tensor("i32", [3], Int32Array.from([1, 3, 0])) });
      expect(Array.from(ok.Y!.data.slice(2, 4))).toEqual(Array.from(inputs.W.data.slice(6, 8)));
    });
  }

  it("clamp(...) reads the nearest element instead, with an affine offset", async () => {
    const clamped = `input ids[3]: i32, W[4, 2]\noutput Y[t, d] = W[clamp(ids[t] + 1), d]\n`;
    for (const backend of BACKENDS) {
      const got = await run(await build(clamped, backend), { ...inputs, ids: new Tensor("i32", [3], Int32Array.from([-5, 7, 1])) });
      expect(Array.from(got.Y!.data), backend).toEqual([0, 1, 3, 3, 2, 2].map((row, k) => inputs.W.data[2 * [0, 0, 3, 3, 2, 2][k]! + (k % 2)]!));
    }
  });
});

describe("wrap-around through %", () => {
  it("an index modulo the extent wraps negative and large ids, on every backend", async () => {
    const src = `input ids[4]: i32, W[4]\noutput Y[i] = W[ids[i] % 4]\n`;
    const inputs = { ids: new Tensor("i32", [4], Int32Array.from([-1, 5, 2, -8])), W: new Tensor("f32", [4], Float32Array.from([10, 11, 12, 13])) };
    for (const backend of [...BACKENDS, "reference"]) {
      const got = await run(await build(src, backend), inputs);
      expect(Array.from(got.Y!.data), backend).toEqual([13, 11, 12, 10]);
    }
  });
});

describe("gradient of a gather", () => {
  it.skipIf(python === null)("is a scatter-add (np.add.at), repeated indices summed", async () => {
    const src = `input ids[5]: i32, Wte[6, 3]: f64, G[5, 3]: f64
Xe[t, d] = Wte[ids[t], d]
L = sum(t, d) (Xe[t, d] * G[t, d] + 0.5 * Xe[t, d] ^ 2)
output dW = grad(L, Wte)
`;
    const ids = Int32Array.from([2, 0, 2, 5, 2]);
    const W = Float64Array.from(data(18, 5));
    const G = Float64Array.from(data(15, 9));
    const want = runNumpyScript<number[]>(python!, `
import json, sys
import numpy as np
a = json.load(sys.stdin)
ids = np.array(a["ids"]); W = np.array(a["W"]).reshape(6, 3); G = np.array(a["G"]).reshape(5, 3)
dW = np.zeros_like(W); np.add.at(dW, ids, G + W[ids])
json.dump(dW.reshape(-1).tolist(), sys.stdout)
`, { ids: Array.from(ids), W: Array.from(W), G: Array.from(G) });
    for (const backend of ["js", "wasm"]) {
      const got = await run(await build(src, backend), {
        ids: new Tensor("i32", [5], ids), Wte: new Tensor("f64", [6, 3], W), G: new Tensor("f64", [5, 3], G),
      });
      expect(relativeError(got.dW!.data, want)).toBeLessThanOrEqual(1e-12);
    }
  });

  it("argmax has a zero gradient; topk values send it to the selected positions", async () => {
    const src = `input X[2, 4]: f64
V[i, r], I[i, r] = topk(r < 2, j) X[i, j]
A[i] = argmax(j) X[i, j]
L = sum(i, r) V[i, r] * (r + 1) + sum(i) A[i]
output dX = grad(L, X)
`;
    const X = new Tensor("f64", [2, 4], Float64Array.from([0.5, 3, -1, 2, 4, 4, 1, 0]));
    const got = await run(await build(src, "js"), { X });
    expect(Array.from(got.dX!.data)).toEqual([0, 1, 0, 2, 1, 2, 0, 0]);
  });
});

describe("the IR of a gather", () => {
  it("prints and parses back, and the verifier states its invariant", () => {
    const text = `input ids: i32[3]
input W: f32[4, 2]
output Y: f32[3, 2] = [t:3, d:2] W[{ids[t]} + 1, d; clamp] + W[{ids[t]}, d]
`;
    const p = parseProgramText(text);
    expect(printProgram(p)).toBe(text);
    expect(verifyProgramErrors(p)).toEqual([]);
    const values = interpret(p, { ids: new Tensor("i32", [3], Int32Array.from([0, 3, 1])), W: new Tensor("f32", [4, 2], Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7])) });
    expect(Array.from(values.Y!.data)).toEqual([2, 4, 12, 14, 6, 8]);
    const noTensor = parseProgramText(`input W: f32[4]\noutput Y: f32[2] = [t:2] W[{t}]\n`);
    expect(verifyProgramErrors(noTensor).join("\n")).toContain("reads no tensor (invariant 9)");
  });
});

describe("misuse", () => {
  const cases: [string, string, string][] = [
    ["a float index tensor", "input ids[3], W[4, 2]\noutput Y[t, d] = W[ids[t], d]\n", "TNS0230"],
    ["a division in an index", "input ids[3]: i32, W[4, 2]\noutput Y[t, d] = W[ids[t] / 2, d]\n", "TNS0230"],
    ["a topk larger than its extent", "input X[2, 3]\noutput V[i, r], I[i, r] = topk(r < 4, j) X[i, j]\n", "TNS0232"],
    ["topk with one result", "input X[2, 3]\noutput V[i, r] = topk(r < 2, j) X[i, j]\n", "TNS0234"],
    ["topk inside an expression", "input X[2, 3]\noutput V[i] = 1 + topk(r < 2, j) X[i, j]\n", "TNS0233"],
    ["two results without topk", "input X[2, 3]\noutput V[i], I[i] = sum(j) X[i, j]\n", "TNS0234"],
    ["topk results with other indices", "input X[2, 3]\noutput V[i, r], I[r, i] = topk(r < 2, j) X[i, j]\n", "TNS0234"],
    ["topk without a count", "input X[2, 3]\noutput V[i, r], I[i, r] = topk(r, j) X[i, j]\n", "TNS0233"],
    ["argmax over two indices", "input X[2, 3]\noutput a = argmax(i, j) X[i, j]\n", "TNS0233"],
    ["a recurrence gathering from itself", "input ids[4]: i32, X[5, 4]\noutput H[t, j] = X[t, j] + where(t > 0, H[t - 1, ids[j]], 0)\n", "TNS0231"],
  ];
  for (const [what, source, code] of cases) {
    it(`${what} is ${code} with a location and a hint`, async () => {
      const p = await compileAsync(source, { backend: "js" });
      expect(p.ok).toBe(false);
      const d = p.diagnostics.find((x) => x.code === code);
      expect(d, p.formatDiagnostics()).toBeDefined();
      expect(d!.span).toBeDefined();
      expect(d!.hint).toBeTruthy();
    });
  }
});

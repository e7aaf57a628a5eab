/**
 * Fuzzing the public API: random values where plain JavaScript may pass
 * anything (sources, options, run inputs, einsum operands) are accepted or
 * refused with a TypeError or a CompileError, never another error; and
 * einsum against NumPy on random specifications and shapes: the same
 * refusals, the same values.
 */
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { check, compile } from "../../src/compiler.js";
import { CompileError } from "../../src/diagnostics/diagnostic.js";
import { einsum } from "../../src/einsum/index.js";
import { randomTensor } from "../../src/runtime/random.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { numpyPython } from "../support/numpy.js";
import { fuzzParameters } from "./support.js";

/** Runs `f`; a throw must be a TypeError or a CompileError. */
function expectCleanRefusal(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof TypeError || e instanceof CompileError)) throw new Error(`threw ${(e as Error).name}: ${(e as Error).message}`);
    expect((e as Error).message.length).toBeGreaterThan(0);
  }
}

const anyValue = fc.oneof(
  fc.anything(),
  fc.constantFrom(null, undefined, 5, "x", [], {}, Number.NaN, -1, 1e300, new Float32Array(4), Tensor.zeros([4]), Tensor.zeros([3]), Tensor.zeros([4], "f64"),
    { dtype: "f32", shape: [4], data: new Float32Array(3) }, { dtype: "f16", shape: [4], data: new Float32Array(4) }, { dtype: "f32", shape: [-4], data: new Float32Array(4) }),
);

describe("fuzzing the API", () => {
  const program = compile("size n = 4\ninput x[n]\nweight w[n]\noutput y[i] = x[i] * w[i]", { weights: { w: Tensor.zeros([4]) } });

  it("compile and check take anything as source and options", () => {
    fc.assert(fc.property(fc.oneof(anyValue, fc.string()), fc.oneof(anyValue, fc.record({
      sizes: fc.oneof(anyValue, fc.dictionary(fc.constantFrom("n", "m", "zz"), anyValue)),
      weights: fc.oneof(anyValue, fc.dictionary(fc.constantFrom("w", "x"), anyValue)),
      backend: fc.oneof(anyValue, fc.constantFrom("js", "reference")),
      threads: anyValue, optimize: anyValue, file: anyValue,
    }, { requiredKeys: [] })), (source, options) => {
      expectCleanRefusal(() => compile(source as string, options as object));
      expectCleanRefusal(() => check(source as string, options as object));
    }), fuzzParameters(500));
  });

  it("run and inputBuffer take anything", () => {
    fc.assert(fc.property(fc.oneof(anyValue, fc.dictionary(fc.constantFrom("x", "w", "q"), anyValue)), anyValue, anyValue, (inputs, options, name) => {
      expectCleanRefusal(() => program.run(inputs as Record<string, Tensor>, options as object));
      expectCleanRefusal(() => program.inputBuffer(name as string));
    }), fuzzParameters(500));
  });

  it("einsum takes anything", () => {
    fc.assert(fc.property(fc.oneof(anyValue, fc.string()), fc.array(anyValue, { maxLength: 3 }), (spec, operands) => {
      expectCleanRefusal(() => einsum(spec as string, ...(operands as Tensor[])));
    }), fuzzParameters(500));
  });
});

/** A random einsum call: a specification with some noise and operands of shapes that mostly fit it. */
const einsumCall = fc.tuple(
  fc.array(fc.tuple(fc.array(fc.constantFrom("i", "j", "k", "a", "B"), { maxLength: 3 }), fc.boolean()), { minLength: 1, maxLength: 3 }),
  fc.option(fc.tuple(fc.array(fc.constantFrom("i", "j", "k", "a", "B"), { maxLength: 3 }), fc.boolean())),
  fc.array(fc.tuple(fc.nat(), fc.constantFrom(" ", " ", "\t", "\n", ".", "-", ">", ",", "1", "..", "...")), { maxLength: 2 }),
  fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 20, maxLength: 20 }),
  fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 3, maxLength: 3 }),
  fc.boolean(),
).map(([terms, output, noise, extents, ellipsisDims, consistent]) => {
  const labels = "ijkaB";
  const extentOf = (l: string, k: number) => (consistent ? extents[labels.indexOf(l)]! : extents[(labels.indexOf(l) * 3 + k) % 20]!);
  let spec = terms.map(([ls, dots]) => (dots ? "..." : "") + ls.join("")).join(",");
  if (output) spec += "->" + (output[1] ? "..." : "") + output[0].join("");
  for (const [pos, piece] of noise) {
    const at = pos % (spec.length + 1);
    spec = spec.slice(0, at) + piece + spec.slice(at);
  }
  const shapes = terms.map(([ls, dots], k) => [...(dots ? extents.slice(10, 10 + ellipsisDims[k]!) : []), ...ls.map((l) => extentOf(l, k))]);
  return { spec, shapes };
});

describe("einsum against NumPy", () => {
  const python = numpyPython();
  it.runIf(python !== null)("refuses what NumPy refuses and agrees on the rest", () => {
    const runs = fuzzParameters(400).numRuns!;
    const calls = fc.sample(einsumCall, { numRuns: runs, seed: 20261207 }).map(({ spec, shapes }, k) => ({
      spec, arrays: shapes.map((s, j) => randomTensor(s, "f64", k * 7 + j)),
    }));
    const script = `
import json, sys
import numpy as np
out = []
for c in json.load(sys.stdin):
    try:
        r = np.asarray(np.einsum(c["spec"], *[np.array(a["data"], dtype=np.float64).reshape(a["shape"]) for a in c["arrays"]]))
        out.append({"shape": list(r.shape), "data": r.reshape(-1).tolist()})
    except ValueError as e:
        out.append({"error": str(e)})
json.dump(out, sys.stdout)`;
    const input = JSON.stringify(calls.map((c) => ({ spec: c.spec, arrays: c.arrays.map((a) => ({ shape: a.shape, data: Array.from(a.data) })) })));
    const r = spawnSync(python!, ["-c", script], { input, encoding: "utf8", maxBuffer: 1 << 28 });
    const expected = JSON.parse(r.stdout) as ({ shape: number[]; data: number[] } | { error: string })[];
    const mismatches: string[] = [];
    calls.forEach((c, k) => {
      const want = expected[k]!;
      let got: Tensor | null = null;
      let error = "";
      try {
        got = einsum(c.spec, ...c.arrays);
      } catch (e) {
        if (!(e instanceof CompileError)) throw e;
        error = e.message.split("\n")[0]!;
      }
      const call = `${JSON.stringify(c.spec)} on ${JSON.stringify(c.arrays.map((a) => a.shape))}`;
      if ("error" in want) {
        if (got !== null) mismatches.push(`${call}: NumPy refuses (${want.error}), tns accepts`);
      } else if (got === null) {
        mismatches.push(`${call}: tns refuses (${error}), NumPy accepts`);
      } else if (JSON.stringify(got.shape) !== JSON.stringify(want.shape)) {
        mismatches.push(`${call}: shape ${JSON.stringify(got.shape)}, NumPy ${JSON.stringify(want.shape)}`);
      } else if (want.data.some((v, j) => Math.abs(v - got!.data[j]!) > 1e-9 * Math.max(1, Math.abs(v)))) {
        mismatches.push(`${call}: values differ`);
      }
    });
    expect(mismatches).toEqual([]);
  });
});

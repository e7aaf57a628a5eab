/**
 * Fuzzing reuse: one compiled program driven through random sequences of
 * runs (fresh inputs, input buffers written in place, view outputs,
 * asynchronous runs, dispose) on every backend. Every run gives the
 * reference interpreter's values, and a handed-out input buffer keeps what
 * was written into it.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { compileAsync, type CompiledProgram } from "../../src/compiler.js";
import { randomTensor } from "../../src/runtime/random.js";
import type { Tensor } from "../../src/runtime/tensor.js";
import { fuzzParameters } from "./support.js";

const SOURCE = `size n = 6, k = 5, m = 7
input A[n, k], B[k, m], b[m]
output C[i, j] = tanh(A[i, l] * B[l, j] + b[j])
output s[i] = sum(j) C[i, j] * C[i, j]
`;

type Op = { kind: "run" | "buffer" | "view" | "async" | "dispose" | "other-after-buffer"; seed: number };
const op = fc.record({ kind: fc.constantFrom<Op["kind"]>("run", "buffer", "view", "async", "dispose", "other-after-buffer"), seed: fc.nat({ max: 1000 }) });

const programs: Record<string, CompiledProgram> = {};
afterAll(() => Object.values(programs).forEach((p) => p.dispose()));

function inputs(p: CompiledProgram, seed: number): Record<string, Tensor> {
  return Object.fromEntries(p.inputs.map((t, k) => [t.name, randomTensor(t.shape, t.dtype, seed * 10 + k)]));
}

function expectClose(got: Record<string, Tensor>, want: Record<string, Tensor>): void {
  for (const [name, w] of Object.entries(want)) {
    const g = got[name]!;
    expect(g.shape).toEqual(w.shape);
    for (let k = 0; k < w.data.length; k++) expect(Math.abs(g.data[k]! - w.data[k]!)).toBeLessThan(1e-4);
  }
}

describe("fuzzing reuse of a compiled program", () => {
  for (const [name, options] of [["reference", { backend: "reference" }], ["js", { backend: "js" }], ["wasm", { backend: "wasm", threads: 1 }], ["wasm, 2 threads", { backend: "wasm", threads: 2 }]] as const) {
    it(`${name}: every run in any order gives the reference values`, async () => {
      const reference = await compileAsync(SOURCE, { backend: "reference" });
      const p = (programs[name] = await compileAsync(SOURCE, options));
      await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        for (const { kind, seed } of ops) {
          const given = inputs(p, seed);
          const want = reference.run(given);
          if (kind === "run") expectClose(p.run(given), want);
          else if (kind === "view") expectClose(p.run(given, { outputs: "view" }), want);
          else if (kind === "async") expectClose(await p.runAsync(given), want);
          else if (kind === "dispose") p.dispose();
          else {
            const buffers = Object.fromEntries(p.inputs.map((t) => [t.name, p.inputBuffer(t.name)]));
            for (const t of p.inputs) buffers[t.name]!.data.set(given[t.name]!.data);
            expectClose(p.run(buffers), want);
            if (kind === "other-after-buffer") {
              const other = inputs(p, seed + 1);
              expectClose(p.run(other), reference.run(other));
              for (const t of p.inputs) expect(Array.from(buffers[t.name]!.data)).toEqual(Array.from(given[t.name]!.data));
              expectClose(p.run(buffers), want);
            }
          }
        }
      }), fuzzParameters(40));
    });
  }
});

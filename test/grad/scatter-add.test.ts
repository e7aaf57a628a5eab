/**
 * The gradient of a gather is a scatter-add (invariant 10): the
 * differentiate pass marks it, the text form prints and parses it, the
 * verifier rejects a marked def whose body lost the form, the reference
 * interpreter computes it in one pass over the indices (and agrees with
 * central differences in float64), the js and wasm backends run the
 * one-pass kernel and WGSL the masked sum, all with the same values; an
 * index out of range is TNS0620 in mode `check` and clamped in mode `clamp`.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { check, compileAsync } from "../../src/compiler.js";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { emitJs } from "../../src/backends/js/emit.js";
import { interpret } from "../../src/interpret.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printProgram } from "../../src/ir/print.js";
import { scatterAddForm } from "../../src/ir/scatter.js";
import type { DefNode, Program } from "../../src/ir/types.js";
import { verifyProgramErrors } from "../../src/ir/verify.js";
import { defaultPipeline, loweringPipeline, runPasses } from "../../src/passes/index.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { asFloat64, checkGradients } from "../support/gradcheck.js";
import { relativeError } from "../support/numpy.js";

/** An embedding lookup and a softmax cross-entropy loss over a projection of it (ids repeat). */
const EMBEDDING = `size T = 6, V = 9, D = 4
input ids[T]: i32, Wte[V, D], Wo[D, V], Y[T, V]
Xe[t, d] = Wte[ids[t], d]
Z[t, v] = sum(d) Xe[t, d] * Wo[d, v]
M[t] = max(v) Z[t, v]
LSE[t] = M[t] + log(sum(v) exp(Z[t, v] - M[t]))
output L = sum(t, v) Y[t, v] * (LSE[t] - Z[t, v]) / T
output dWte = grad(L, Wte)
output dWo = grad(L, Wo)
`;

function program(source: string): Program {
  const { program: p, diagnostics } = check(source, { file: "e.tns" });
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return p!;
}

function inputs(ids: readonly number[]): Record<string, Tensor> {
  const wave = (n: number, f: number): Float64Array => Float64Array.from({ length: n }, (_, k) => Math.sin(f * k + 0.3));
  const Y = new Float64Array(6 * 9);
  for (let t = 0; t < 6; t++) Y[t * 9 + ((t * 4 + 1) % 9)] = 1;
  return {
    ids: new Tensor("i32", [6], Int32Array.from(ids)),
    Wte: new Tensor("f64", [9, 4], wave(36, 0.7)),
    Wo: new Tensor("f64", [4, 9], wave(36, 1.3)),
    Y: new Tensor("f64", [6, 9], Y),
  };
}

const IDS = [3, 0, 3, 8, 1, 3];

describe("scatter-add: the gradient of a gather", () => {
  it("is marked by differentiate, prints and parses back, and the verifier checks its form", () => {
    const backward = runPasses(program(EMBEDDING), loweringPipeline(), { verify: true }).program;
    const dWte = backward.tensors.find((t) => t.name === "dWte") as DefNode;
    expect(dWte.scatter).toEqual({ index: dWte.indices[0], mode: "check" });
    const form = scatterAddForm(dWte)!;
    expect(form.summed).toEqual(["t"]);
    const text = printProgram(backward);
    expect(text).toContain("output dWte: f32[9, 4] = scatter(g0) [g0:9, g1:4] sum(t:6) where(ids[t] == g0, ");
    expect(printProgram(parseProgramText(text))).toBe(text);
    // A marked def whose body is not the form breaks invariant 10.
    const broken = { ...backward, tensors: backward.tensors.map((t) => (t.name === "dWte" ? { ...t, body: (t as DefNode).body.kind === "reduce" ? ((t as DefNode).body as { body: DefNode["body"] }).body : (t as DefNode).body, ranges: (t as DefNode).ranges } : t)) };
    expect(verifyProgramErrors(broken as Program).join("\n")).toMatch(/invariant 10|not in scope|bound/);
    const clampText = text.replace("scatter(g0)", "scatter(g0; clamp)");
    expect(verifyProgramErrors(parseProgramText(clampText)).join("\n")).toMatch(/invariant 10/);
  });

  it("agrees with central differences in float64 on the interpreter (one pass over the indices)", () => {
    const reports = checkGradients(asFloat64(program(EMBEDDING)), inputs(IDS));
    expect(reports.map((r) => r.wrt)).toEqual(["Wte", "Wo"]);
    for (const r of reports) expect(r.relError, r.wrt).toBeLessThan(1e-6);
  });

  it("the js and wasm kernels are the one-pass form; wgsl runs the masked sum", () => {
    const optimized = runPasses(program(EMBEDDING), defaultPipeline(), { verify: true }).program;
    const kp = lowerToKernels(optimized);
    const kernel = kp.kernels.find((k) => k.target === "dWte")!;
    expect(kernel.scatterAdd?.loops.map((l) => l.extent)).toEqual([6, 4]);
    expect(kernel.scatterAdd?.index.stride).toBe(4);
    expect(emitJs(kp)).toMatch(/dWte\.fill\(0\);[\s\S]*dWte\[[^\]]*gatherCheck\(/);
  });
});

describe("scatter-add on every backend", () => {
  beforeAll(async () => {
    for (const backend of ["wasm", "wgsl"] as const) await compileAsync("input x[1]\noutput y[i] = x[i]", { backend });
  });
  const f32 = (given: Record<string, Tensor>): Record<string, Tensor> =>
    Object.fromEntries(Object.entries(given).map(([k, t]) => [k, t.dtype === "i32" ? t : new Tensor("f32", t.shape, Float32Array.from(t.data))]));

  for (const backend of ["js", "wasm", "wgsl"] as const) {
    it(`${backend}: the same gradients as the interpreter; an index out of range is TNS0620`, async () => {
      const compiled = await compileAsync(EMBEDDING, { backend, verify: true });
      expect(compiled.ok, compiled.formatDiagnostics()).toBe(true);
      const given = f32(inputs(IDS));
      const want = interpret(compiled.loweredIr!, given);
      const got = await compiled.runAsync(given);
      for (const g of ["dWte", "dWo"]) expect(relativeError(got[g]!.data, want[g]!.data), g).toBeLessThan(1e-5);
      await expect(compiled.runAsync(f32(inputs([3, 0, 9, 8, 1, 3])))).rejects.toThrow(/TNS0620|out of range 0\.\.8/);
      compiled.dispose?.();
    });

    it(`${backend}: in mode clamp an index out of range adds to the edge row`, async () => {
      const source = EMBEDDING.replace("Wte[ids[t], d]", "Wte[clamp(ids[t]), d]");
      const compiled = await compileAsync(source, { backend, verify: true });
      expect(compiled.ok, compiled.formatDiagnostics()).toBe(true);
      const dWte = runPasses(compiled.loweredIr!, loweringPipeline(), { verify: true }).program.tensors.find((t) => t.name === "dWte") as DefNode;
      expect(dWte.scatter?.mode).toBe("clamp");
      const outOfRange = f32(inputs([3, -2, 3, 12, 1, 3]));
      const clamped = f32(inputs([3, 0, 3, 8, 1, 3]));
      const got = await compiled.runAsync(outOfRange);
      const want = interpret(compiled.loweredIr!, clamped);
      expect(relativeError(got.dWte!.data, want.dWte!.data)).toBeLessThan(1e-5);
      compiled.dispose?.();
    });
  }
});

/**
 * Backpropagation through time: gradients through recurrences (the RNN,
 * the cumulative sum, the HMM forward pass, a recurrence of order two and
 * the rest of the recurrence corpus) agree with central finite differences
 * in float64 on the reference interpreter, and the same gradients agree on
 * the js, wasm and wgsl backends. A step the backward pass cannot form is
 * TNS0901 with a hint, never a wrong value.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { check, compile, compileAsync, compileProgram } from "../../src/compiler.js";
import { interpret } from "../../src/interpret.js";
import type { Program } from "../../src/ir/types.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { RECURRENCES } from "../recurrence/corpus.js";
import { asFloat64, checkGradients, smoothInputs, withSquareLoss } from "../support/gradcheck.js";
import { relativeError } from "../support/numpy.js";

const TOLERANCE = 1e-6;
/** float32 storage on the backends: a few ulps of the largest magnitude, amplified by the steps. */
const F32_TOLERANCE = 2e-4;

function checked(source: string): Program {
  const { program, diagnostics } = check(source, { file: "r.tns" });
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return program!;
}

describe("gradients through recurrences agree with central differences (f64, interpreter)", () => {
  for (const c of RECURRENCES) {
    it(c.name, () => {
      const { program } = withSquareLoss(asFloat64(checked(c.source)));
      const reports = checkGradients(program, smoothInputs(program, 3), { skipKinks: true });
      expect(reports.length).toBeGreaterThan(0);
      for (const r of reports) {
        expect(r.relError, `d/d${r.wrt}`).toBeLessThan(TOLERANCE);
        expect(r.skipped, `d/d${r.wrt} elements skipped`).toBeLessThanOrEqual(r.elements / 20);
      }
    });
  }
});

describe.each(["js", "wasm", "wgsl"] as const)("gradients through recurrences on the %s backend", (backend) => {
  beforeAll(async () => {
    await compileAsync("input x[1]\noutput y[i] = x[i]", { backend });
  });
  for (const c of RECURRENCES) {
    it(c.name, async () => {
      const { program, grads } = withSquareLoss(checked(c.source));
      const inputs = Object.fromEntries(Object.entries(smoothInputs(program, 5)).map(([k, t]) =>
        [k, t.dtype === "i32" ? t : new Tensor("f32", t.shape, Float32Array.from(t.data))]));
      const want = interpret(program, inputs);
      const compiled = compileProgram(program, { backend, verify: true });
      expect(compiled.ok, compiled.formatDiagnostics()).toBe(true);
      const got = await compiled.runAsync(inputs);
      for (const g of grads) expect(relativeError(got[g]!.data, want[g]!.data), `${g} on ${backend}`).toBeLessThan(F32_TOLERANCE);
      compiled.dispose?.();
    });
  }
});

/** An embedding gathered inside the step: its gradient is a scatter-add summed over the steps. */
const GATHER_IN_STEP = `size T = 6, V = 5, D = 3, H = 4
input ids[T]: i32, E[V, D], W[D, H], U[H, H]
output Hs[t, j] = tanh(sum(d) E[ids[t], d] * W[d, j] + where(t > 0, sum(k) Hs[t - 1, k] * U[k, j], 0))
`;

describe("an embedding gathered inside the recurrence's step", () => {
  it("agrees with central differences (f64) and across js and wasm", async () => {
    const { program, grads } = withSquareLoss(checked(GATHER_IN_STEP));
    const f64 = asFloat64(program);
    const given = smoothInputs(f64, 4);
    given["ids"] = new Tensor("i32", [6], Int32Array.from([2, 0, 2, 4, 1, 2]));
    for (const r of checkGradients(f64, given)) expect(r.relError, `d/d${r.wrt}`).toBeLessThan(TOLERANCE);
    const f32 = Object.fromEntries(Object.entries(given).map(([k, t]) => [k, t.dtype === "i32" ? t : new Tensor("f32", t.shape, Float32Array.from(t.data))]));
    const want = interpret(program, f32);
    await compileAsync("input x[1]\noutput y[i] = x[i]", { backend: "wasm" });
    for (const backend of ["js", "wasm"] as const) {
      const got = compileProgram(program, { backend, verify: true }).run(f32);
      for (const g of grads) expect(relativeError(got[g]!.data, want[g]!.data), `${g} on ${backend}`).toBeLessThan(F32_TOLERANCE);
    }
  });
});

describe("gradients through recurrences from the language and the API", () => {
  it("grad(L, W) through a recurrence compiles and runs (the API's grad option too)", () => {
    const source = "input x[5]: f64\nC[i] = x[i] + where(i > 0, 0.5 * C[i - 1], 0)\noutput L = sum(i) C[i] * C[i]\n";
    const viaSource = compile(`${source}output g = grad(L, x)\n`, { backend: "js" });
    const viaApi = compile(source, { backend: "js", grad: { loss: "L", wrt: ["x"] } });
    expect(viaSource.ok, viaSource.formatDiagnostics()).toBe(true);
    expect(viaApi.ok, viaApi.formatDiagnostics()).toBe(true);
    const x = new Tensor("f64", [5], Float64Array.from([1, -2, 0.5, 3, -1]));
    // dL/dx[k] = sum over i >= k of 2 C[i] 0.5^(i - k).
    const c = [0, 0, 0, 0, 0];
    for (let i = 0; i < 5; i++) c[i] = x.data[i]! + (i > 0 ? 0.5 * c[i - 1]! : 0);
    const want = c.map((_, k) => c.reduce((s, ci, i) => (i >= k ? s + 2 * ci * 0.5 ** (i - k) : s), 0));
    expect(relativeError(viaSource.run({ x }).g!.data, want)).toBeLessThan(1e-12);
    expect(relativeError(viaApi.run({ x }).grad_x!.data, want)).toBeLessThan(1e-12);
  });

  it("a state read through a grouped index is TNS0901 with a hint, not a wrong gradient", () => {
    const source = "input x[5, 6], K[3, 2]\nR[t, j] = x[t, j] + where(t > 0, 0.1 * sum(q, w) R[t - 1, 2 * q + w] * K[q, w], 0)\nL = sum(t, j) R[t, j] * R[t, j]\noutput g = grad(L, K)\n";
    const compiled = compile(source, { backend: "js", file: "r.tns" });
    expect(compiled.ok).toBe(false);
    expect(compiled.diagnostics.map((d) => d.code)).toEqual(["TNS0901"]);
    expect(compiled.diagnostics[0]!.hint ?? "").toMatch(/previous steps/);
  });
});

/**
 * The same gradients on every backend: for each stdlib function (float32
 * inputs, loss half the sum of squares of its result, gradients by every
 * input) and every example (gradients of the same kind of loss over its
 * outputs), the js and wasm backends agree with the float64 interpreter
 * and with each other within float32 tolerance.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { check, compileAsync, compileProgram } from "../../src/compiler.js";
import type { Program } from "../../src/ir/types.js";
import { interpret } from "../../src/interpret.js";
import { EXAMPLE_FILES, EXAMPLES_DIR, SMALL_SIZES } from "../examples/harness.js";
import { relativeError } from "../support/numpy.js";
import { smoothInputs, withSquareLoss } from "../support/gradcheck.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { STDLIB_CASES, stdlibSource } from "./cases.js";

/** float32 storage of every intermediate: a few ulps of the largest magnitude. */
const F32_TOLERANCE = 2e-4;

function asFloat32Inputs(inputs: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, t.dtype === "i32" ? t : new Tensor("f32", t.shape, Float32Array.from(t.data))]));
}

function expectSameGradients(program: Program, what: string): void {
  const { program: withGrads, grads } = withSquareLoss(program);
  const inputs = asFloat32Inputs(smoothInputs(withGrads, 5));
  const want = interpret(withGrads, inputs);
  // Weights without data (examples/lowrank_mlp.tns) are bound at compile time on the backends.
  const bound: Program = {
    ...withGrads,
    tensors: withGrads.tensors.map((t) => (t.role === "weight" && t.data === null && inputs[t.name] ? { ...t, data: Float64Array.from(inputs[t.name]!.data) } : t)),
  };
  const runtime = Object.fromEntries(Object.entries(inputs).filter(([n]) => !bound.tensors.some((t) => t.name === n && t.role === "weight")));
  const js = compileProgram(bound, { backend: "js", verify: true }).run(runtime);
  const wasm = compileProgram(bound, { backend: "wasm", verify: true }).run(runtime);
  expect(grads.length).toBeGreaterThan(0);
  for (const g of grads) {
    expect(relativeError(js[g]!.data, want[g]!.data), `${what}: ${g} js vs interpreter`).toBeLessThan(F32_TOLERANCE);
    expect(relativeError(wasm[g]!.data, want[g]!.data), `${what}: ${g} wasm vs interpreter`).toBeLessThan(F32_TOLERANCE);
    expect(relativeError(wasm[g]!.data, js[g]!.data), `${what}: ${g} wasm vs js`).toBeLessThan(F32_TOLERANCE);
  }
}

describe("gradients agree across the js and wasm backends", () => {
  beforeAll(async () => {
    await compileAsync("input x[1]\noutput y[i] = x[i]", { backend: "wasm" });
  });

  for (const [name, body] of Object.entries(STDLIB_CASES)) {
    it(`stdlib ${name}`, () => {
      const { program } = check(stdlibSource(body.replaceAll(": f64", "")));
      expectSameGradients(program!, name);
    });
  }

  for (const f of EXAMPLE_FILES) {
    it(`example ${f}`, () => {
      const { program } = check(readFileSync(EXAMPLES_DIR + f, "utf8"), { file: `examples/${f}`, sizes: SMALL_SIZES[f] });
      expectSameGradients(program!, f);
    });
  }
});

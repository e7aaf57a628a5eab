/**
 * materialize-product-operands: a factor of a def's sum that holds a
 * reduction of its own and leaves out some of the variables around it
 * becomes a def, when the sum is then a matrix product; the values stay the
 * same (up to the rounding of the new float32 def), and the backends run
 * both halves on their product kernels.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printProgram } from "../../src/ir/print.js";
import { interpret } from "../../src/ir/interpret.js";
import { materializeProductOperands } from "../../src/passes/materialize-product-operands.js";
import { programCost } from "../../src/passes/cost.js";
import { compile, compileAsync } from "../../src/compiler.js";
import { expectGolden } from "../golden.js";
import { fuzzParameters } from "../fuzz/support.js";
import { applyPass, expectSameValues, inputsFor } from "./support.js";
import { relativeError } from "../backends/support.js";

/** A two-layer network written in one line, as canonicalize leaves it. */
const MLP = `
input x: f32[24, 10]
input W1: f32[10, 12]
input W2: f32[12, 20]
output y: f32[24, 20] = [i:24, e:20] sum(j:12) W2[j, e] * relu(sum(k:10) W1[k, j] * x[i, k])
`;

const names = (text: string): string[] => applyPass(materializeProductOperands, parseProgramText(text)).tensors.map((t) => t.name);

describe("materialize-product-operands", () => {
  it("gives the inner layer of a one-line network a def, and the outer sum is a product", () => {
    const before = parseProgramText(MLP);
    const after = applyPass(materializeProductOperands, before);
    expect(after.tensors.map((t) => t.name)).toEqual(["x", "W1", "W2", "y_p0", "y"]);
    expect(materializeProductOperands.runWithDerivations(before).derivations).toEqual([
      { rule: "product-operand", tensor: "y", detail: "y_p0[i, j] is a def of its own, and y a matrix product" },
    ]);
    expectGolden("materialize-product-operands/mlp", `${printProgram(before)}\n# after materialize-product-operands\n${printProgram(after)}`);
    expectSameValues(before, after);
    // The cost model, as the backend: a loop nest before, the product kernels after.
    expect(programCost(before).tensors.map((t) => t.wasmKernel)).toEqual(["loop-nest"]);
    expect(programCost(after).tensors.map((t) => t.wasmKernel)).toEqual(["gemm-epilogue", "gemm"]);
  });

  it("finds the sum under an epilogue: biases and activations on both layers", () => {
    const before = parseProgramText(`
input x: f32[24, 10]
input W1: f32[10, 12]
input b1: f32[12]
input W2: f32[12, 20]
input b2: f32[20]
output y: f32[24, 20] = [i:24, e:20] tanh(sum(j:12) W2[j, e] * relu(sum(k:10) W1[k, j] * x[i, k] + b1[j]) + b2[e])
`);
    const after = applyPass(materializeProductOperands, before);
    expectGolden("materialize-product-operands/mlp-biases", `${printProgram(before)}\n# after materialize-product-operands\n${printProgram(after)}`);
    expectSameValues(before, after);
    expect(programCost(after).tensors.map((t) => t.wasmKernel)).toEqual(["gemm-epilogue", "gemm-epilogue"]);
  });

  it("takes a factor of every variable around it only when it is a product itself", () => {
    // The inner layer of a network whose output is a vector: p0[i, j] is a product with a ReLU, y a matrix-vector product.
    const before = parseProgramText(`
input x: f32[4, 5]
input W1: f32[6, 5]
input W2: f32[6]
output y: f32[4] = [i:4] sum(j:6) W2[j] * relu(sum(k:5) W1[j, k] * x[i, k])
`);
    const after = applyPass(materializeProductOperands, before);
    expect(after.tensors.map((t) => t.name)).toEqual(["x", "W1", "W2", "y_p0", "y"]);
    expectSameValues(before, after);
    // A factor of every variable that is no product (a sum of exponentials) stays in the loop nest.
    expect(names(`input X: f32[4, 6, 3]
input W: f32[6]
output y: f32[4] = [i:4] sum(j:6) W[j] * log(sum(c:3) exp(X[i, j, c]))
`)).toEqual(["X", "W", "y"]);
    // A row-wise dot with the factor taken out is no matrix product: nothing changes.
    expect(names(`input x: f32[4, 5]
input W: f32[5, 6]
input A: f32[4, 6]
output y: f32[4] = [i:4] sum(j:6) A[i, j] * relu(sum(k:5) x[i, k] * W[k, j])
`)).toEqual(["x", "W", "A", "y"]);
  });

  it("takes both factors when both qualify, and keeps a float64 factor float64", () => {
    const after = applyPass(materializeProductOperands, parseProgramText(`
input x: f64[4, 5]
input W: f32[5, 6]
input U: f32[6, 2]
input V: f32[2, 3]
output y: f64[4, 3] = [i:4, e:3] sum(j:6) exp(sum(c:2) U[j, c] * V[c, e]) * tanh(sum(k:5) x[i, k] * W[k, j])
`));
    expect(after.tensors.map((t) => [t.name, t.dtype])).toEqual([
      ["x", "f64"], ["W", "f32"], ["U", "f32"], ["V", "f32"], ["y_p0", "f32"], ["y_p1", "f64"], ["y", "f64"],
    ]);
    expect(after.tensors.slice(4, 6).map((t) => (t.role === "def" ? t.indices : []))).toEqual([["e", "j"], ["i", "j"]]);
  });

  it("leaves a def alone when no factor qualifies or the sum would not be a product", () => {
    // Elementwise factors (no reduction of their own) stay: fusion's business.
    expect(names(`input x: f32[4, 5]
input W: f32[5, 3]
output y: f32[4, 3] = [i:4, e:3] sum(k:5) relu(x[i, k]) * W[k, e]
`)).toEqual(["x", "W", "y"]);
    // The factor reads every variable around it and is no product: nothing is shared, and no kernel is gained.
    expect(names(`input x: f32[4, 5, 3]
input W: f32[5, 3]
input U: f32[3, 2]
output y: f32[4, 3] = [i:4, e:3] sum(j:5) W[j, e] * exp(sum(c:2) x[i, j, e] * U[e, c])
`)).toEqual(["x", "W", "U", "y"]);
    // Three factors: with the inner sum taken out the def is still no matrix product.
    expect(names(`input x: f32[4, 5]
input W: f32[5, 6]
input V: f32[6, 3]
input G: f32[6, 3]
output y: f32[4, 3] = [i:4, e:3] sum(j:6) V[j, e] * G[j, e] * relu(sum(k:5) x[i, k] * W[k, j])
`)).toEqual(["x", "W", "V", "G", "y"]);
    // The inner layer would hold more than 4 times the largest tensor the def reads or writes (and more than 64 Ki elements).
    expect(names(`input x: f32[300, 8]
input W1: f32[8, 1000]
input W2: f32[1000, 8]
output y: f32[300, 8] = [i:300, e:8] sum(j:1000) W2[j, e] * relu(sum(k:8) W1[k, j] * x[i, k])
`)).toEqual(["x", "W1", "W2", "y"]);
    // Not a sum at the top.
    expect(names(`input x: f32[4, 5]
input W: f32[5, 6]
output y: f32[4] = [i:4] max(j:6) relu(sum(k:5) x[i, k] * W[k, j])
`)).toEqual(["x", "W", "y"]);
  });

  it("a one-line network compiles to two product kernels and agrees with the reference on wasm and js", async () => {
    const source = "input x[24, 10]\ninput W1[10, 12]\ninput W2[12, 20]\noutput y[i, e] = sum(j) relu(sum(k) x[i, k] * W1[k, j]) * W2[j, e]\n";
    const reference = compile(source, { backend: "reference" });
    const inputs = inputsFor(reference.ir!, 4);
    const want = reference.run(inputs)["y"]!;
    for (const backend of ["wasm", "js"] as const) {
      const compiled = await compileAsync(source, { backend });
      expect(programCost(compiled.ir!).tensors.map((t) => t.wasmKernel)).toEqual(["gemm-epilogue", "gemm"]);
      expect(relativeError(compiled.run(inputs)["y"]!.data, want.data), backend).toBeLessThan(1e-5);
    }
  });

  it("keeps the values of random one-line networks (shapes, activations, which operand is transposed)", () => {
    let made = 0;
    fc.assert(fc.property(
      fc.record({
        b: fc.integer({ min: 1, max: 5 }), d: fc.integer({ min: 1, max: 6 }), f: fc.integer({ min: 1, max: 6 }), o: fc.integer({ min: 1, max: 5 }),
        act: fc.constantFrom("relu", "tanh", "exp", ""), transposed: fc.boolean(), seed: fc.integer({ min: 1, max: 1000 }),
      }),
      ({ b, d, f, o, act, transposed, seed }) => {
        const w2 = transposed ? `W2[e, j]` : `W2[j, e]`;
        const text = `input x: f32[${b}, ${d}]
input W1: f32[${d}, ${f}]
input W2: f32[${transposed ? `${o}, ${f}` : `${f}, ${o}`}]
output y: f32[${b}, ${o}] = [i:${b}, e:${o}] sum(j:${f}) ${w2} * ${act}(sum(k:${d}) W1[k, j] * x[i, k])
`;
        const before = parseProgramText(text);
        const after = applyPass(materializeProductOperands, before);
        if (after !== before) made++;
        const inputs = inputsFor(before, seed);
        const want = interpret(before, inputs)["y"]!;
        const got = interpret(after, inputs)["y"]!;
        // The new def is float32: one more rounding of each inner value.
        return relativeError(got.data, want.data) < 1e-5;
      },
    ), fuzzParameters(100));
    expect(made).toBeGreaterThan(50);
  });
});

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { approximate, check, compile, compileProgram, Tensor } from "../../src/index.js";
import { parseApproxRequests } from "../../src/passes/approximate/index.js";
import { calibrationInputs, outputErrors } from "../../src/passes/approximate/output-error.js";
import { frobeniusDistance, frobeniusNorm, gaussianMatrix, kronecker, matmul, matrix, type Matrix } from "../../src/numerics/index.js";
import { verifyProgram } from "../../src/ir/verify.js";
import { defaultPipeline, runPasses } from "../../src/passes/index.js";
import type { WeightNode } from "../../src/ir/types.js";

const f32 = (m: Matrix): Tensor => new Tensor("f32", [m.rows, m.cols], Float32Array.from(m.data));
const noisy = (m: Matrix, eps: number, seed: number): Matrix => {
  const g = gaussianMatrix(m.rows, m.cols, seed);
  const scale = eps * frobeniusNorm(m) / frobeniusNorm(g);
  return matrix(m.rows, m.cols, m.data.map((x, k) => x + scale * g.data[k]!));
};
const weightOf = (p: { tensors: readonly { name: string; role: string }[] }, name: string): WeightNode =>
  p.tensors.find((t) => t.name === name && t.role === "weight") as WeightNode;

describe("approximation requests", () => {
  it("parses every form", () => {
    const { requests, errors } = parseApproxRequests("lowrank:tol=1e-4; lowrank:rank=8 ;lowrank:W1:tol=1e-3;kron:W:shape=32x16,4x8;kron");
    expect(errors).toEqual([]);
    expect(requests.map((r) => [r.kind, r.weight, r.tol, r.rank, r.shape])).toEqual([
      ["lowrank", null, 1e-4, undefined, undefined],
      ["lowrank", null, undefined, 8, undefined],
      ["lowrank", "W1", 1e-3, undefined, undefined],
      ["kron", "W", undefined, undefined, [[32, 16], [4, 8]]],
      ["kron", null, 1e-3, undefined, undefined],
    ]);
  });

  it.each([
    ["svd:tol=1e-3", "unknown approximation 'svd'"],
    ["lowrank:tol=2", "tol must be a number in (0, 1)"],
    ["lowrank:rank=0", "rank must be a positive integer"],
    ["lowrank:rank=2.5", "rank must be a positive integer"],
    ["kron:shape=32x32", "shape must be M1xN1,M2xN2"],
    ["kron:rank=3", "unknown parameter 'rank' of kron"],
    ["lowrank:tol=1e-3:W", "neither a weight name"],
    ["", "no approximation requested"],
  ])("rejects %s", (text, message) => {
    expect(parseApproxRequests(text).errors[0]!.message).toContain(message);
  });
});

const MLP = `size b = 16
weight W1[512, 256]
weight W2[256, 256]
input x[b, 512]
h[n, j] = relu(sum(i) x[n, i] * W1[i, j])
output y[n, k] = sum(j) h[n, j] * W2[j, k]
`;

describe("low-rank substitution", () => {
  const w1 = noisy(matmul(gaussianMatrix(512, 6, 1), gaussianMatrix(6, 256, 2)), 1e-7, 3);
  const w2 = gaussianMatrix(256, 256, 4);
  const weights = { W1: f32(w1), W2: f32(w2) };

  it("factors the low-rank weight, leaves the dense one with a reason, and the program still checks", () => {
    const { program } = check(MLP, { weights });
    const out = approximate(program!, "lowrank:tol=1e-4");
    expect(out.diagnostics).toEqual([]);
    const [a1, a2] = out.approximations;
    expect(a1).toMatchObject({ weight: "W1", kind: "lowrank", rank: 6, factorShapes: [[512, 6], [6, 256]], applied: true, bytesBefore: 512 * 256 * 4, bytesAfter: (512 + 256) * 6 * 4 });
    expect(a1!.relativeError).toBeLessThan(1e-5);
    expect(a1!.flopsAfter).toBeLessThan(a1!.flopsBefore);
    expect(a2).toMatchObject({ weight: "W2", kind: "lowrank", applied: false });
    expect(a2!.reason).toMatch(/no rank up to 127 .* meets tol=0.0001/);
    verifyProgram(out.program!);
    expect(out.program!.tensors.map((t) => t.name)).toContain("W1.U");
    // W1 is now the factored def W1.U·W1.V, which inline-factors moves into the sum that reads it.
    expect(out.program!.tensors.find((t) => t.name === "W1")?.role).toBe("def");
    const optimized = runPasses(out.program!, defaultPipeline(), { verify: true }).program;
    expect(optimized.tensors.some((t) => t.name === "W1" || t.shape.join() === "512,256")).toBe(false);
  });

  it("the reported relative error is the weight's, recomputed from the factors", () => {
    const { program } = check(MLP, { weights });
    const out = approximate(program!, "lowrank:W1:rank=6");
    const u = weightOf(out.program!, "W1.U");
    const v = weightOf(out.program!, "W1.V");
    const back = matmul(matrix(512, 6, u.data!), matrix(6, 256, v.data!));
    const original = weightOf(program!, "W1").data!;
    expect(Math.abs(frobeniusDistance(back, original) / frobeniusNorm(original) - out.approximations[0]!.relativeError!)).toBeLessThan(1e-12);
  });

  it("outputError matches an independent recomputation of the MLP in plain loops", () => {
    const { program } = check(MLP, { weights });
    const out = approximate(program!, "lowrank:tol=1e-4");
    const inputs = calibrationInputs(program!, {}, 5);
    const reported = outputErrors(program!, out.program!, inputs).y!;
    const x = matrix(16, 512, Float64Array.from(inputs.x!.data));
    const relu = (m: Matrix): Matrix => matrix(m.rows, m.cols, m.data.map((t) => Math.max(t, 0)));
    const w1Stored = matrix(512, 256, Float64Array.from(weights.W1.data));
    const w2Stored = matrix(256, 256, Float64Array.from(weights.W2.data));
    const u = weightOf(out.program!, "W1.U");
    const v = weightOf(out.program!, "W1.V");
    const round = (d: Float64Array): Float64Array => Float64Array.from(Float32Array.from(d));
    const w1Approx = matmul(matrix(512, 6, round(u.data!)), matrix(6, 256, round(v.data!)));
    const exact = matmul(relu(matmul(x, w1Stored)), w2Stored);
    const approx = matmul(relu(matmul(x, w1Approx)), w2Stored);
    const independent = frobeniusDistance(exact, approx) / frobeniusNorm(exact);
    expect(reported).toBeGreaterThan(0);
    // Both run in float32 on the js backend; the recomputation in float64: agreement to float32 rounding.
    expect(Math.abs(reported - independent)).toBeLessThan(Math.max(0.05 * independent, 2e-7));
  });

  it("compiles through the API option and runs on js and reference alike", () => {
    const prog = compile(MLP, { weights, approx: "lowrank:tol=1e-4", verify: true });
    expect(prog.ok).toBe(true);
    expect(prog.approximations.filter((a) => a.applied).map((a) => a.weight)).toEqual(["W1"]);
    expect(prog.inputs.map((i) => i.name)).toEqual(["W1.U", "W1.V", "W2", "x"]);
    const x = calibrationInputs(prog.loweredIr!, {}, 2).x!;
    const js = prog.run({ x }).y!;
    const ref = compileProgram(prog.loweredIr!, { backend: "reference" }).run({ x }).y!;
    expect(frobeniusDistance(Float64Array.from(js.data), Float64Array.from(ref.data)) / frobeniusNorm(Float64Array.from(ref.data))).toBeLessThan(1e-5);
  });

  it("a rank that does not pay is refused with the break-even rank", () => {
    const { program } = check(MLP, { weights });
    const out = approximate(program!, "lowrank:W2:rank=200");
    expect(out.approximations[0]).toMatchObject({ applied: false, rank: 200 });
    expect(out.approximations[0]!.reason).toContain("not fewer than W's 256·256");
  });

  it("a weight read outside any sum is left alone with a reason", () => {
    const src = "weight W[64, 64]\ninput x[64, 64]\noutput y[i, j] = x[i, j] * W[i, j]";
    const { program } = check(src, { weights: { W: f32(matmul(gaussianMatrix(64, 2, 1), gaussianMatrix(2, 64, 2))) } });
    const out = approximate(program!, "lowrank:W:tol=1e-3");
    expect(out.approximations[0]).toMatchObject({ applied: false, reason: "no contraction reads it" });
  });
});

describe("Kronecker factoring", () => {
  it("factors an exact 1024x1024 A ⊗ B into 32x32 factors that are never multiplied out", () => {
    const w = kronecker(gaussianMatrix(32, 32, 1), gaussianMatrix(32, 32, 2));
    const src = "weight W[1024, 1024]\ninput x[4, 1024]\noutput y[n, j] = sum(i) x[n, i] * W[i, j]";
    const { program } = check(src, { weights: { W: f32(w) } });
    const out = approximate(program!, "kron:tol=1e-5");
    const a = out.approximations[0]!;
    expect(a).toMatchObject({ weight: "W", kind: "kron", applied: true, factorShapes: [[32, 32], [32, 32]] });
    expect(a.relativeError).toBeLessThan(1e-5);
    const optimized = runPasses(out.program!, defaultPipeline(), { verify: true }).program;
    expect(optimized.tensors.some((t) => t.name === "W" || (t.role === "def" && t.shape.join() === "1024,1024"))).toBe(false);
  });

  it("given factor shapes, factors a 12x20 weight as NumPy would and reports the error", () => {
    const w = noisy(kronecker(gaussianMatrix(3, 4, 5), gaussianMatrix(4, 5, 6)), 1e-3, 7);
    const src = "weight W[12, 20]\ninput x[64, 12]\noutput y[n, j] = sum(i) x[n, i] * W[i, j]";
    const { program } = check(src, { weights: { W: f32(w) } });
    const out = approximate(program!, "kron:W:shape=3x4,4x5");
    const a = out.approximations[0]!;
    expect(a.factorShapes).toEqual([[3, 4], [4, 5]]);
    expect(a.relativeError).toBeGreaterThan(1e-4);
    expect(a.relativeError).toBeLessThan(2e-3);
  });
});

describe("impossible requests are located errors", () => {
  const src = "weight W[8, 6]\nweight T[2, 3, 4]\ninput x[4, 8]\noutput y[n, j] = sum(i) x[n, i] * W[i, j]\noutput z[a] = sum(b, c) T[a, b, c]";
  const weights = { W: f32(gaussianMatrix(8, 6, 1)), T: new Tensor("f32", [2, 3, 4], new Float32Array(24)) };
  it.each([
    ["lowrank:W:rank=7", "TNS1003", "rank 7 is above min(m, n) = 6", 1],
    ["kron:W:shape=3x2,3x3", "TNS1004", "give a 9x6 matrix, but weight 'W' is 8x6", 1],
    ["lowrank:V:tol=1e-3", "TNS1002", "'V' is not a weight", null],
    ["kron:T:tol=1e-3", "TNS1005", "has shape [2, 3, 4]", 2],
    ["lowrank:W:tol=", "TNS1001", "tol must be a number", null],
    ["lowrank:tol", "TNS1002", "'tol' is not a weight", null],
  ])("%s", (approx, code, message, line) => {
    const prog = compile(src, { weights, approx });
    expect(prog.ok).toBe(false);
    const d = prog.diagnostics[0]!;
    expect(d.code).toBe(code);
    expect(d.message).toContain(message);
    expect(d.span?.start.line ?? null).toBe(line);
  });
});

describe("examples/lowrank_mlp.tns", () => {
  const source = readFileSync(new URL("../../examples/lowrank_mlp.tns", import.meta.url), "utf8");
  const d = 256;
  const scaled = (m: Matrix, seed: number): Matrix => {
    const n = noisy(m, 1e-6, seed);
    const s = 1 / Math.sqrt(frobeniusNorm(n) ** 2 / n.cols);
    return matrix(n.rows, n.cols, n.data.map((x) => x * s));
  };
  const w = {
    W1: scaled(matmul(gaussianMatrix(d, 8, 1), gaussianMatrix(8, d, 2)), 3),
    W2: scaled(kronecker(gaussianMatrix(16, 16, 4), gaussianMatrix(16, 16, 5)), 6),
    W3: scaled(gaussianMatrix(d, d, 7), 8),
  };
  const weights = { W1: f32(w.W1), W2: f32(w.W2), W3: f32(w.W3) };

  it("finds the low-rank and the Kronecker layer, leaves the dense one, and reports the output error a float64 recomputation gives", () => {
    const sizes = { d, b: 8 };
    const exact = compile(source, { sizes, weights });
    const approx = compile(source, { sizes, weights, approx: "lowrank:tol=1e-4;kron:tol=1e-4", verify: true });
    expect(approx.ok).toBe(true);
    const applied = approx.approximations.filter((a) => a.applied).map((a) => [a.weight, a.kind, a.kind === "lowrank" ? a.rank : a.factorShapes]);
    expect(applied).toEqual([["W1", "lowrank", 8], ["W2", "kron", [[16, 16], [16, 16]]]]);
    expect(approx.approximations.filter((a) => a.weight === "W3").every((a) => !a.applied && a.reason)).toBe(true);
    expect(approx.inputs.map((i) => i.name)).toEqual(["W1.U", "W1.V", "W2.A", "W2.B", "W3", "x"]);
    const inputs = calibrationInputs(exact.loweredIr!, {}, 3);
    const reported = outputErrors(exact.loweredIr!, approx.loweredIr!, inputs).y!;
    // Independently: the MLP in float64 loops, with W1 and W2 rebuilt from the factors the program holds.
    const weight = (name: string, rows: number, cols: number): Matrix => matrix(rows, cols, Float64Array.from(Float32Array.from(weightOf(approx.loweredIr!, name).data!)));
    const w1 = matmul(weight("W1.U", d, 8), weight("W1.V", 8, d));
    const w2 = kronecker(weight("W2.A", 16, 16), weight("W2.B", 16, 16));
    const relu = (m: Matrix): Matrix => matrix(m.rows, m.cols, m.data.map((t) => Math.max(t, 0)));
    const x = matrix(8, d, Float64Array.from(inputs.x!.data));
    const stored = (m: Matrix): Matrix => matrix(m.rows, m.cols, Float64Array.from(Float32Array.from(m.data)));
    const mlp = (a: Matrix, b: Matrix): Matrix => matmul(relu(matmul(relu(matmul(x, a)), b)), stored(w.W3));
    const want = mlp(stored(w.W1), stored(w.W2));
    const independent = frobeniusDistance(mlp(w1, w2), want) / frobeniusNorm(want);
    expect(independent).toBeLessThan(1e-5);
    expect(Math.abs(reported - independent)).toBeLessThan(Math.max(0.1 * independent, 3e-7));
    const flops = (p: typeof exact) => p.approximations.length === 0 ? null : p.approximations.at(-1)!.flopsAfter;
    expect(flops(approx)).toBeLessThan(approx.approximations[0]!.flopsBefore / 2);
  });
});

describe("Tucker and tensor-train approximation of order-3 weights", () => {
  const src = "weight T[16, 16, 32]\ninput x[8, 16, 16]\noutput y[n, k] = sum(i, j) x[n, i, j] * T[i, j, k]";
  const ttWeight = (): Tensor => {
    // A tensor train with ranks 2 and 3.
    const g1 = gaussianMatrix(16, 2, 1).data;
    const g2 = gaussianMatrix(1, 2 * 16 * 3, 2).data;
    const g3 = gaussianMatrix(3, 32, 3).data;
    const t = new Float32Array(16 * 16 * 32);
    for (let i = 0; i < 16; i++) for (let j = 0; j < 16; j++) for (let k = 0; k < 32; k++) {
      let s = 0;
      for (let a = 0; a < 2; a++) for (let c = 0; c < 3; c++) s += g1[i * 2 + a]! * g2[(a * 16 + j) * 3 + c]! * g3[c * 32 + k]!;
      t[(i * 16 + j) * 32 + k] = s;
    }
    return new Tensor("f32", [16, 16, 32], t);
  };

  it("tt finds ranks 2 and 3, applies where it pays, and the output error is small", () => {
    const { program } = check(src, { weights: { T: ttWeight() } });
    const out = approximate(program!, "tt:tol=1e-4");
    const a = out.approximations[0]!;
    expect(a).toMatchObject({ weight: "T", kind: "tt", applied: true, factorShapes: [[16, 2], [2, 16, 3], [3, 32]], method: "tt-svd" });
    expect(a.relativeError).toBeLessThan(1e-5);
    expect(a.flopsAfter).toBeLessThan(a.flopsBefore);
    const err = outputErrors(program!, out.program!, calibrationInputs(program!, {}, 1)).y!;
    expect(err).toBeLessThan(1e-5);
    const optimized = runPasses(out.program!, defaultPipeline(), { verify: true }).program;
    expect(optimized.tensors.some((t) => t.name === "T")).toBe(false);
  });

  it("tucker finds the multilinear rank and reports core and factor shapes", () => {
    const { program } = check(src, { weights: { T: ttWeight() } });
    const out = approximate(program!, "tucker:T:tol=1e-4");
    const a = out.approximations[0]!;
    expect(a.kind).toBe("tucker");
    expect(a.factorShapes[0]).toEqual([2, 6, 3]);
    expect(a.factorShapes.slice(1)).toEqual([[16, 2], [16, 6], [32, 3]]);
    expect(a.relativeError).toBeLessThan(1e-5);
  });

  it("a matrix request passes an order-3 weight over; a named one is an error", () => {
    const { program } = check(src, { weights: { T: ttWeight() } });
    expect(approximate(program!, "lowrank:tol=1e-3").approximations).toEqual([]);
    expect(approximate(program!, "lowrank:T:tol=1e-3").diagnostics[0]).toMatchObject({ code: "TNS1005" });
  });
});

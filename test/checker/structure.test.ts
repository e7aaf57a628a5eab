import { describe, expect, it } from "vitest";
import { check, compile, Tensor } from "../../src/index.js";
import { inlineFactors, runPasses } from "../../src/passes/index.js";
import { printExpr } from "../../src/ir/print.js";
import { frobeniusDistance, frobeniusNorm, gaussianMatrix, kronecker, matmul, matrix, type Matrix } from "../../src/numerics/index.js";

const f32 = (shape: number[], data: ArrayLike<number>): Tensor => new Tensor("f32", shape, Float32Array.from(data));
const asMatrix = (t: Tensor, rows: number, cols: number): Matrix => matrix(rows, cols, Float64Array.from(t.data));
const rel = (a: Matrix, b: Matrix): number => frobeniusDistance(a, b) / frobeniusNorm(b);

/** y = x·W on the js backend and W built densely in plain loops from the same factors. */
function runStructured(decl: string, m: number, n: number, dense: (f: Record<string, Tensor>) => Matrix): void {
  const src = `size b = 5\ninput x[b, ${m}]\ninput ${decl}\noutput y[p, j] = sum(i) x[p, i] * W[i, j]\n`;
  const prog = compile(src, { verify: true });
  expect(prog.ok, prog.formatDiagnostics()).toBe(true);
  const factors = Object.fromEntries(prog.inputs.filter((i) => i.name.startsWith("W.")).map((i, k) => [i.name, f32([...i.shape], gaussianMatrix(1, i.shape.reduce((a, c) => a * c, 1), 10 + k).data)]));
  const x = f32([5, m], gaussianMatrix(5, m, 1).data);
  const y = asMatrix(prog.run({ x, ...factors }).y!, 5, n);
  expect(rel(y, matmul(asMatrix(x, 5, m), dense(factors)))).toBeLessThan(1e-5);
  // W is never built: no m×n tensor in the optimized program.
  expect(prog.ir!.tensors.some((t) => t.name === "W" || (t.shape[0] === m && t.shape[1] === n))).toBe(false);
}

describe("structured layers", () => {
  it("lowrank(r): inputs W.U, W.V", () => {
    runStructured("W[64, 48] ~ lowrank(3)", 64, 48, (f) => matmul(asMatrix(f["W.U"]!, 64, 3), asMatrix(f["W.V"]!, 3, 48)));
  });

  it("kron([m1, m2], [n1, n2]): inputs W.A, W.B", () => {
    runStructured("W[24, 20] ~ kron([4, 6], [5, 4])", 24, 20, (f) => kronecker(asMatrix(f["W.A"]!, 4, 5), asMatrix(f["W.B"]!, 6, 4)));
  });

  it("monarch(b): W[(f, e), (c, d)] = W.L[e, f, c] * W.R[c, e, d]", () => {
    runStructured("W[32, 16] ~ monarch(4)", 32, 16, (f) => {
      const [L, R] = [f["W.L"]!.data, f["W.R"]!.data];
      const b = 4;
      const me = 32 / b;
      const nd = 16 / b;
      const w = new Float64Array(32 * 16);
      for (let ff = 0; ff < b; ff++) for (let e = 0; e < me; e++) for (let c = 0; c < b; c++) for (let d = 0; d < nd; d++) {
        w[(ff * me + e) * 16 + c * nd + d] = L[(e * b + ff) * b + c]! * R[(c * me + e) * nd + d]!;
      }
      return matrix(32, 16, w);
    });
  });

  it("tt(r1, r2) of an order-3 weight matches the cores contracted in plain loops", () => {
    const src = "input x[3, 4, 5]\nweight T[4, 5, 6] ~ tt(2, 3)\noutput y[n, k] = sum(i, j) x[n, i, j] * T[i, j, k]\n";
    const g1 = gaussianMatrix(4, 2, 1);
    const g2 = gaussianMatrix(2 * 5, 3, 2);
    const g3 = gaussianMatrix(3, 6, 3);
    const weights = { "T.G1": f32([4, 2], g1.data), "T.G2": f32([2, 5, 3], g2.data), "T.G3": f32([3, 6], g3.data) };
    const prog = compile(src, { weights, verify: true });
    expect(prog.ok, prog.formatDiagnostics()).toBe(true);
    expect(prog.inputs.map((i) => i.name)).toEqual(["x", "T.G1", "T.G2", "T.G3"]);
    const x = f32([3, 4, 5], gaussianMatrix(1, 60, 4).data);
    const y = prog.run({ x }).y!;
    const G1 = weights["T.G1"].data;
    const G2 = weights["T.G2"].data;
    const G3 = weights["T.G3"].data;
    const want = new Float64Array(18);
    for (let n = 0; n < 3; n++) for (let k = 0; k < 6; k++) {
      let s = 0;
      for (let i = 0; i < 4; i++) for (let j = 0; j < 5; j++) for (let a = 0; a < 2; a++) for (let c = 0; c < 3; c++) {
        s += x.data[(n * 4 + i) * 5 + j]! * G1[i * 2 + a]! * G2[(a * 5 + j) * 3 + c]! * G3[c * 6 + k]!;
      }
      want[n * 6 + k] = s;
    }
    expect(frobeniusDistance(Float64Array.from(y.data), want) / frobeniusNorm(want)).toBeLessThan(1e-5);
  });

  it("a structured weight given dense data gets its factors from it (lowrank by SVD, kron nearest)", () => {
    const u = gaussianMatrix(40, 2, 1);
    const v = gaussianMatrix(2, 30, 2);
    const dense = matmul(u, v);
    const a = gaussianMatrix(4, 5, 3);
    const b = gaussianMatrix(6, 6, 4);
    const kr = kronecker(a, b);
    const src = "input x[2, 40]\ninput z[2, 30]\nweight W[40, 30] ~ lowrank(2)\nweight K[24, 30] ~ kron([4, 6], [5, 6])\noutput y[p, j] = sum(i) x[p, i] * W[i, j]\noutput w[p, j] = sum(i) z[p, i] * K[j, i]\n";
    const prog = compile(src, { weights: { W: f32([40, 30], dense.data), K: f32([24, 30], kr.data) } });
    expect(prog.ok, prog.formatDiagnostics()).toBe(true);
    const x = f32([2, 40], gaussianMatrix(2, 40, 5).data);
    const z = f32([2, 30], gaussianMatrix(2, 30, 6).data);
    const out = prog.run({ x, z });
    expect(rel(asMatrix(out.y!, 2, 30), matmul(asMatrix(x, 2, 40), dense))).toBeLessThan(1e-5);
    const kt = matrix(30, 24, new Float64Array(720).map((_, k) => kr.data[(k % 24) * 30 + Math.floor(k / 24)]!));
    expect(rel(asMatrix(out.w!, 2, 24), matmul(asMatrix(z, 2, 30), kt))).toBeLessThan(1e-5);
  });

  it("inline-factors leaves a factored tensor in place for a reader that is not a sum", () => {
    const src = "input W[6, 5] ~ lowrank(2)\ninput x[6]\noutput y[j] = sum(i) x[i] * W[i, j]\noutput z[i, j] = 2 * W[i, j]\n";
    const { program } = check(src);
    const inlined = runPasses(program!, [inlineFactors], { verify: true }).program;
    expect(inlined.tensors.find((t) => t.name === "W")?.role).toBe("def");
    const y = inlined.tensors.find((t) => t.name === "y")!;
    expect(y.role === "def" && printExpr(y.body, y.ranges)).toBe("sum(i:6, W_r1:2) x[i] * W.U[i, W_r1] * W.V[W_r1, j]");
  });

  it.each([
    ["input W[8, 6] ~ lowrank(7)", "TNS1003", "rank 7 is above min(m, n) = 6", 1, 15],
    ["input W[8, 6] ~ kron([2, 3], [3, 2])", "TNS1004", "the factors give a 6x6 matrix, but 'W' is 8x6", 1, 15],
    ["input W[8, 6] ~ monarch(4)", "TNS1004", "monarch(4) needs 4 to divide both dimensions", 1, 15],
    ["input W[8, 6] ~ svd(2)", "TNS1006", "unknown structure 'svd'", 1, 17],
    ["input W[8, 6] ~ tt(2, 2)", "TNS1007", "tt of an order-2 tensor takes 1 ranks", 1, 15],
    ["input W[8, 6] ~ kron(2, 3)", "TNS1007", "kron takes two lists", 1, 15],
    ["input W[2, 8, 6] ~ lowrank(2)", "TNS1007", "lowrank structures a matrix", 1, 18],
  ])("%s", (decl, code, message, line, column) => {
    const { diagnostics } = check(`${decl}\ninput x[8]\noutput y = sum(i) x[i]\n`);
    const d = diagnostics.find((x) => x.severity === "error")!;
    expect(d.code).toBe(code);
    expect(d.message).toContain(message);
    expect([d.span!.start.line, d.span!.start.column]).toEqual([line, column]);
  });

  it("factor data of the wrong shape is a located error", () => {
    const prog = compile("input x[2, 8]\nweight W[8, 6] ~ lowrank(2)\noutput y[p, j] = sum(i) x[p, i] * W[i, j]\n", { weights: { "W.U": f32([8, 3], new Float32Array(24)) } });
    expect(prog.diagnostics[0]).toMatchObject({ code: "TNS0602", message: "factor 'W.U' of 'W' is [8, 2] but its data has shape [8, 3]" });
    expect(prog.diagnostics[0]!.span!.start.line).toBe(2);
  });

  it("dense data of a monarch weight asks for the factors by name", () => {
    const prog = compile("input x[2, 8]\nweight W[8, 8] ~ monarch(2)\noutput y[p, j] = sum(i) x[p, i] * W[i, j]\n", { weights: { W: f32([8, 8], new Float32Array(64)) } });
    expect(prog.diagnostics[0]).toMatchObject({ code: "TNS1008", hint: "give the factors' data by their names: W.L, W.R" });
  });
});

describe("factor names in the IR text", () => {
  it("print and parse back", async () => {
    const { parseProgramText } = await import("../../src/ir/parse-text.js");
    const { printProgram } = await import("../../src/ir/print.js");
    const { program } = check("input x[2, 8]\ninput W[8, 6] ~ lowrank(2)\noutput y[p, j] = sum(i) x[p, i] * W[i, j]\n");
    const text = printProgram(program!);
    expect(text).toContain("input W.U: f32[8, 2]");
    expect(printProgram(parseProgramText(text))).toBe(text);
  });
});

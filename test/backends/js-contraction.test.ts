import { describe, expect, it } from "vitest";
import { jsBackend } from "../../src/backends/backend.js";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { REVERSED_B, sizeTriples, transposedB, TRANSPOSED_CASES } from "./contraction-cases.js";
import { expectMatchesInterpreter, inputsFor } from "./support.js";

/** Compiles, checks the register-blocked path was taken, and compares with the interpreter. */
function check(text: string): void {
  const p = parseProgramText(text);
  expect(lowerToKernels(p).kernels.some((k) => k.contraction), "recognised as a contraction").toBe(true);
  const { executable, code } = jsBackend.compile(p);
  expect(code, "packed panel").toContain("const P = new Float64Array(");
  expectMatchesInterpreter(p, (x) => executable.run(x), inputsFor(p, 5));
}

describe("register-blocked contraction on the js backend", () => {
  for (const [m, n, k] of sizeTriples()) {
    it(`transposed-B matmul ${m}x${n}x${k} (f32 and f64)`, () => {
      check(transposedB(m, n, k));
      check(transposedB(m, n, k, "f64"));
    });
  }

  for (const [name, text] of TRANSPOSED_CASES) it(`transposed B: ${name}`, () => check(text));
  it("blocks a B with reversed columns (negative column stride)", () => check(REVERSED_B));

  it("packs a transposed B panel from several rows of B", () => {
    const { code } = jsBackend.compile(parseProgramText(transposedB(5, 9, 7)));
    expect(code).toContain("P[p0] = B[v2]; P[p0 + 1] = B[v2 + 7]; P[p0 + 2] = B[v2 + 14]; P[p0 + 3] = B[v2 + 21];");
  });
});

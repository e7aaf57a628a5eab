/**
 * Random programs that also draw the trigonometric, error and rounding
 * functions (`arbProgram({ mathOps: true })`) on the js and wasm backends,
 * against the reference interpreter, and the IR text form round trip.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadBackend } from "../../src/backends/index.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printProgram } from "../../src/ir/print.js";
import { arbProgram, randomInputs } from "../../src/ir/random-program.js";
import { inlineCalls } from "../../src/passes/index.js";
import { expectMatchesInterpreter } from "./support.js";

const js = await loadBackend("js");
const wasm = await loadBackend("wasm");

describe("random programs with the math functions", () => {
  it("draw the new operators", () => {
    const text = fc.sample(arbProgram({ mathOps: true }), { numRuns: 60, seed: 3 }).map((p) => printProgram(p)).join("\n");
    for (const op of ["sin(", "cos(", "erf(", "log1p(", "floor(", "round(", "atan2("]) expect(text, op).toContain(op);
  });

  it("print and parse back unchanged", () => {
    fc.assert(
      fc.property(arbProgram({ mathOps: true, weights: false }), (p) => {
        expect(printProgram(parseProgramText(printProgram(p)))).toBe(printProgram(p));
      }),
      { numRuns: 100, seed: 16 },
    );
  });

  it("agree with the interpreter on js and wasm within 1e-4 (f32 storage)", () => {
    fc.assert(
      fc.property(arbProgram({ mathOps: true }), fc.integer({ min: 0, max: 1000 }), (program, seed) => {
        const p = inlineCalls.run(program);
        const inputs = randomInputs(p, seed);
        expectMatchesInterpreter(p, (x) => js.compile(p).executable.run(x), inputs);
        expectMatchesInterpreter(p, (x) => wasm.compile(p).executable.run(x), inputs);
      }),
      { numRuns: 40, seed: 20261207 },
    );
  }, 180_000);
});

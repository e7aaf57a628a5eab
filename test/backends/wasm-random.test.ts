import fc from "fast-check";
import { describe, it } from "vitest";
import { loadBackend } from "../../src/backends/index.js";
import { arbProgram, randomInputs } from "../../src/ir/random-program.js";
import { inlineCalls } from "../../src/passes/index.js";
import { expectMatchesInterpreter } from "./support.js";

// Each compile validates and optimizes a module (tens of milliseconds), so
// these run fewer cases than the JavaScript backend's random tests.
const wasm = await loadBackend("wasm");

describe("wasm backend on random programs", () => {
  it("agrees with the interpreter within 1e-4 (f32 storage)", () => {
    fc.assert(
      fc.property(arbProgram(), fc.integer({ min: 0, max: 1000 }), (program, seed) => {
        const p = inlineCalls.run(program);
        const { executable } = wasm.compile(p);
        expectMatchesInterpreter(p, (x) => executable.run(x), randomInputs(p, seed));
      }),
      { numRuns: 60, seed: 20240601 },
    );
  }, 120_000);

  it("agrees at larger extents, where blocked and reordered loops kick in", () => {
    fc.assert(
      fc.property(arbProgram({ maxExtent: 9, calls: false }), fc.integer({ min: 0, max: 1000 }), (p, seed) => {
        const { executable } = wasm.compile(p);
        expectMatchesInterpreter(p, (x) => executable.run(x), randomInputs(p, seed));
      }),
      { numRuns: 40, seed: 7 },
    );
  }, 120_000);
});

import fc from "fast-check";
import { describe, it } from "vitest";
import { jsBackend } from "../../src/backends/backend.js";
import { arbProgram, randomInputs } from "../../src/ir/random-program.js";
import { inlineCalls } from "../../src/passes/index.js";
import { expectMatchesInterpreter } from "./support.js";

describe("js backend on random programs", () => {
  it("agrees with the interpreter within 1e-4 (f32 storage)", () => {
    fc.assert(
      fc.property(arbProgram(), fc.integer({ min: 0, max: 1000 }), (program, seed) => {
        const p = inlineCalls.run(program);
        const { executable } = jsBackend.compile(p);
        expectMatchesInterpreter(p, (x) => executable.run(x), randomInputs(p, seed));
      }),
      { numRuns: 300, seed: 20240601 },
    );
  });

  it("agrees at larger extents, where blocked and reordered loops kick in", () => {
    fc.assert(
      fc.property(arbProgram({ maxExtent: 9, calls: false }), fc.integer({ min: 0, max: 1000 }), (p, seed) => {
        const { executable } = jsBackend.compile(p);
        expectMatchesInterpreter(p, (x) => executable.run(x), randomInputs(p, seed));
      }),
      { numRuns: 150, seed: 7 },
    );
  });
});

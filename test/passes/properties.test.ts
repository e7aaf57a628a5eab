/**
 * Property tests: on random programs, every pass and the default pipeline
 * keep the values the reference interpreter computes (to a relative 1e-9)
 * and leave a program that verifies.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { printProgram } from "../../src/ir/print.js";
import { arbProgram, type ArbProgramOptions } from "../../src/ir/random-program.js";
import type { Program } from "../../src/ir/types.js";
import { defaultPipeline, runPasses } from "../../src/passes/index.js";
import { inlineCalls } from "../../src/passes/inline-calls.js";
import type { Pass } from "../../src/passes/pass.js";
import { fuzzParameters } from "../fuzz/support.js";
import { firstDifference, inputsFor } from "./support.js";

const RUNS = 80;

/**
 * Checks `transform` on random programs: same outputs on two seeds, and the
 * manager verified the result. With unsafe operations (infinities and NaN
 * about) a non-finite output may trade NaN for an infinity, never for a
 * finite value.
 */
function keepsValues(transform: (p: Program) => Program, options: ArbProgramOptions = {}, numRuns = RUNS): void {
  fc.assert(
    fc.property(arbProgram(options), fc.integer({ min: 0, max: 1 << 20 }), (before, seed) => {
      const after = transform(before);
      for (const s of [seed, seed + 1]) {
        const diff = firstDifference(before, after, inputsFor(before, s), options.unsafeOps === true);
        if (diff !== undefined) throw new Error(`${diff}\\n--- before\\n${printProgram(before)}--- after\\n${printProgram(after)}`);
      }
    }),
    fuzzParameters(numRuns),
  );
}

/** `pass` after inlining (so that `no-calls` holds), through the manager with verification. */
const viaManager = (passes: readonly Pass[]) => (p: Program): Program => runPasses(p, passes, { verify: true }).program;

describe("every pass keeps the interpreter's values on random programs", () => {
  for (const pass of defaultPipeline()) {
    it(pass.name, () => {
      const passes = pass === inlineCalls ? [pass] : [inlineCalls, pass];
      keepsValues(viaManager(passes));
    });
  }

  it("the default pipeline", () => {
    keepsValues(viaManager(defaultPipeline()));
  });

  for (const pass of defaultPipeline().filter((p) => p.name === "canonicalize" || p.name === "fold-constants")) {
    it(`${pass.name}, with inf and nan about`, () => {
      keepsValues(viaManager([inlineCalls, pass]), { unsafeOps: true });
    });
  }

  it("the default pipeline, with inf and nan about (unguarded log, sqrt, div, pow, exp)", () => {
    keepsValues(viaManager(defaultPipeline()), { unsafeOps: true });
  });
});

describe("passes reach a fixed point", () => {
  for (const pass of defaultPipeline()) {
    it(`${pass.name} twice is ${pass.name} once`, () => {
      fc.assert(
        fc.property(arbProgram(), (p) => {
          const once = runPasses(p, [inlineCalls, pass], { verify: true }).program;
          expect(printProgram(pass.run(once))).toBe(printProgram(once));
        }),
        fuzzParameters(RUNS),
      );
    });
  }

  it("inlining leaves no call and no function", () => {
    fc.assert(
      fc.property(arbProgram(), (p) => {
        const out = inlineCalls.run(p);
        expect(out.tensors.some((t) => t.role === "call")).toBe(false);
        expect(out.functions).toEqual({});
      }),
      fuzzParameters(RUNS),
    );
  });
});

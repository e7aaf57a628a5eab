/**
 * Random programs with gradients (`arbProgram({ grads: true })`: a loss,
 * grad nodes by some inputs and weights, an update reading one) compile
 * through the default pipeline and run on the js and wasm backends like the
 * reference interpreter.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { compileAsync, compileProgram } from "../../src/compiler.js";
import { interpret } from "../../src/interpret.js";
import { arbProgram, randomInputs } from "../../src/ir/random-program.js";
import { relativeError } from "../support/numpy.js";

/** float32 storage along the forward and backward programs. */
const TOLERANCE = 1e-4;

describe("random programs with gradients on the backends", () => {
  beforeAll(async () => {
    await compileAsync("input x[1]\noutput y[i] = x[i]", { backend: "wasm" });
  });

  for (const backend of ["js", "wasm"] as const) {
    it(`agree with the interpreter on ${backend}`, () => {
      fc.assert(
        fc.property(arbProgram({ grads: true }), fc.integer({ min: 1, max: 1000 }), (p, seed) => {
          const inputs = randomInputs(p, seed);
          const want = interpret(p, inputs);
          const got = compileProgram(p, { backend, verify: true }).run(inputs);
          for (const [name, ref] of Object.entries(want)) {
            expect(relativeError(got[name]!.data, ref.data), `${name} on ${backend}`).toBeLessThanOrEqual(TOLERANCE);
          }
        }),
        { numRuns: 60, seed: 2024 },
      );
    });
  }
});

/**
 * Gradients of random well-formed programs (src/ir/random-program.ts, every
 * feature on: affine reads, nested reductions, groups, calls, weights)
 * agree with central finite differences in float64 on the reference
 * interpreter. Elements where the loss has a kink within reach of the step
 * (relu, abs, a comparison or a tie flipping) are skipped and counted; the
 * test fails if more than a tenth are. Programs made with `grads: true`
 * compute gradients already, so differentiating their outputs checks second
 * derivatives through the backward program.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { arbProgram } from "../../src/ir/random-program.js";
import { verifyProgram } from "../../src/ir/verify.js";
import { asFloat64, checkGradients, smoothInputs, withSquareLoss } from "../support/gradcheck.js";

const TOLERANCE = 1e-6;

describe("gradients of random programs agree with central differences", () => {
  it("on 80 programs", () => {
    let checked = 0;
    let skipped = 0;
    let elements = 0;
    let worst = 0;
    fc.assert(
      fc.property(arbProgram({ maxExtent: 4 }), fc.integer({ min: 1, max: 1000 }), (raw, seed) => {
        const { program } = withSquareLoss(asFloat64(raw));
        verifyProgram(program);
        const reports = checkGradients(program, smoothInputs(program, seed), { skipKinks: true });
        for (const r of reports) {
          worst = Math.max(worst, r.relError);
          skipped += r.skipped;
          elements += r.elements;
          checked++;
          expect(r.relError, `d/d${r.wrt}`).toBeLessThan(TOLERANCE);
        }
      }),
      { numRuns: 80, seed: 12 },
    );
    expect(checked).toBeGreaterThan(80);
    expect(worst).toBeLessThan(TOLERANCE);
    expect(skipped).toBeLessThan(elements / 10);
  });

  it("on 30 programs that compute gradients already (second derivatives)", () => {
    fc.assert(
      fc.property(arbProgram({ maxExtent: 3, grads: true }), fc.integer({ min: 1, max: 1000 }), (raw, seed) => {
        const { program } = withSquareLoss(asFloat64(raw), "L2__");
        for (const r of checkGradients(program, smoothInputs(program, seed), { skipKinks: true })) {
          expect(r.relError, `d/d${r.wrt} of ${r.grad}`).toBeLessThan(TOLERANCE);
        }
      }),
      { numRuns: 30, seed: 31 },
    );
  });
});

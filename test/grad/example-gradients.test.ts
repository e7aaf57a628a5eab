/**
 * Gradients through every example (found by listing examples/, so a new one
 * is covered without editing this file), at the examples' small test sizes
 * in float64: the loss is half the sum of squares of all outputs, and its
 * gradient by every input agrees with central finite differences on the
 * reference interpreter. The training examples' outputs are gradients and
 * updates already, so for them this checks second derivatives.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { check } from "../../src/compiler.js";
import { EXAMPLE_FILES, EXAMPLES_DIR, SMALL_SIZES } from "../examples/harness.js";
import { asFloat64, checkGradients, smoothInputs, withSquareLoss } from "../support/gradcheck.js";

const TOLERANCE = 1e-6;

describe("gradients through every example agree with central differences (f64)", () => {
  for (const f of EXAMPLE_FILES) {
    it(f, () => {
      const { program, diagnostics } = check(readFileSync(EXAMPLES_DIR + f, "utf8"), { file: `examples/${f}`, sizes: SMALL_SIZES[f] });
      expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const { program: withGrads } = withSquareLoss(asFloat64(program!));
      const reports = checkGradients(withGrads, smoothInputs(withGrads, 3), { skipKinks: true });
      expect(reports.length).toBeGreaterThan(0);
      for (const r of reports) {
        expect(r.relError, `${f}: d/d${r.wrt}`).toBeLessThan(TOLERANCE);
        expect(r.skipped, `${f}: d/d${r.wrt} elements skipped`).toBeLessThanOrEqual(r.elements / 20);
      }
    });
  }
});

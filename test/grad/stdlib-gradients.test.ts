/**
 * Gradients of every stdlib function (and the strided and overlapping
 * variants of its convolution and pooling) agree with central finite
 * differences in float64 on the reference interpreter. Each case calls one
 * function on f64 inputs; the loss is half the sum of squares of its result,
 * differentiated by every input.
 */
import { describe, expect, it } from "vitest";
import { check } from "../../src/compiler.js";
import { checkGradients, smoothInputs, withSquareLoss } from "../support/gradcheck.js";
import { STDLIB_CASES as CASES } from "./cases.js";

/** Relative error every gradient must stay below. */
const TOLERANCE = 1e-6;

describe("gradients of the stdlib agree with central differences (f64, interpreter)", () => {
  it("covers every stdlib function", async () => {
    const { readFileSync } = await import("node:fs");
    const names = ["nn", "linalg"].flatMap((m) =>
      [...readFileSync(new URL(`../../stdlib/${m}.tns`, import.meta.url), "utf8").matchAll(/^fn (\w+)/gm)].map((x) => x[1]!));
    expect(names.filter((n) => !(n in CASES))).toEqual([]);
  });

  for (const [name, body] of Object.entries(CASES)) {
    it(name, () => {
      const { program, diagnostics } = check(`import "nn"\nimport "linalg"\n${body}\n`);
      expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const { program: withGrads } = withSquareLoss(program!);
      const reports = checkGradients(withGrads, smoothInputs(withGrads, 7));
      expect(reports.length).toBeGreaterThan(0);
      for (const r of reports) expect(r.relError, `${name}: d/d${r.wrt}`).toBeLessThan(TOLERANCE);
    });
  }
});

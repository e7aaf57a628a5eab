/**
 * `verifyOutputs`: every example's optimized program agrees with its
 * unoptimized one on the reference interpreter (and the backend with the
 * interpreter); an unsound pass injected through `passes` is caught; the
 * comparison itself handles NaN, infinities and all-zero outputs.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/compiler.js";
import { InternalCompilerError } from "../../src/diagnostics/diagnostic.js";
import { interpret } from "../../src/interpret.js";
import type { Expr, Program } from "../../src/ir/types.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { defaultPipeline } from "../../src/passes/index.js";
import type { Pass } from "../../src/passes/pass.js";
import {
  OPTIMIZATION_TOLERANCE, VerificationError, outputDifference, verificationInputs, verificationLines, verifyOptimization,
} from "../../src/passes/verify-optimization.js";
import { EXAMPLE_FILES, EXAMPLES_DIR, SMALL_SIZES } from "../examples/harness.js";

/** A pass that scales every output by `1 + eps`: wrong, by as little as asked. */
function scaleOutputs(eps: number): Pass {
  const scaled = (body: Expr): Expr => ({ kind: "binary", op: "mul", lhs: body, rhs: { kind: "const", value: 1 + eps } });
  return {
    name: "scale-outputs",
    description: `multiplies every output by 1 + ${eps}`,
    requires: [],
    guarantees: [],
    run: (p: Program): Program => ({
      ...p,
      tensors: p.tensors.map((t) => (t.role === "def" && t.output ? { ...t, body: scaled(t.body) } : t)),
    }),
  };
}

const MATMUL = "size n = 3, k = 4, m = 2\ninput A[n, k], B[k, m]\noutput C[i, j] = A[i, p] * B[p, j]\n";

describe("verifyOutputs on the examples", () => {
  it("covers every example", () => {
    expect(EXAMPLE_FILES.length).toBeGreaterThan(5);
    for (const f of EXAMPLE_FILES) expect(SMALL_SIZES, `small sizes for ${f}`).toHaveProperty([f]);
  });

  for (const f of EXAMPLE_FILES) {
    it(`${f}: optimized agrees with unoptimized, backend with the interpreter`, () => {
      const source = readFileSync(EXAMPLES_DIR + f, "utf8");
      const compiled = compile(source, { file: `examples/${f}`, sizes: SMALL_SIZES[f], verifyOutputs: true });
      expect(compiled.ok, compiled.formatDiagnostics()).toBe(true);
      const v = compiled.verification!;
      expect(v).not.toBeNull();
      expect(v.outputs.map((o) => o.name)).toEqual(compiled.outputs.map((o) => o.name));
      expect(v.ok).toBe(true);
      expect(v.seed).toBe(1);
      expect(v.tolerance).toBe(OPTIMIZATION_TOLERANCE);
      expect(v.maxRelDiff).toBeLessThanOrEqual(1e-6);
      expect(v.backend!.backend).toBe("js");
      expect(v.backend!.maxRelDiff).toBeLessThanOrEqual(1e-4);
      for (const o of v.outputs) expect(Number.isFinite(o.maxAbsDiff)).toBe(true);
      expect(verificationLines(v)).toHaveLength(v.outputs.length);
    });
  }

  it("the optimizer really rewrites some examples, so the comparison is not vacuous", () => {
    const changed = EXAMPLE_FILES.filter((f) => {
      const compiled = compile(readFileSync(EXAMPLES_DIR + f, "utf8"), { file: f, sizes: SMALL_SIZES[f] });
      return compiled.passLog.some((e) => e.changed && e.pass !== "inline-calls");
    });
    expect(changed.length).toBeGreaterThan(EXAMPLE_FILES.length / 2);
  });
});

describe("an unsound pass is caught", () => {
  it("a 1e-3 change of every output throws a VerificationError naming the output", () => {
    const passes = [...defaultPipeline(), scaleOutputs(1e-3)];
    let caught: unknown;
    try {
      compile(MATMUL, { passes, verifyOutputs: true });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(VerificationError);
    expect(caught).toBeInstanceOf(InternalCompilerError);
    const err = caught as VerificationError;
    expect(err.message).toMatch(/^internal compiler error: the optimized program computes something else.*seed 1.*C max \|Δ\|/);
    expect(err.verification.ok).toBe(false);
    expect(err.verification.maxRelDiff).toBeCloseTo(1e-3, 6);
    // The backend ran the same (wrong) optimized program, so it agrees with the interpreter on it.
    expect(err.verification.backend!.ok).toBe(true);
  });

  it("a change just past the tolerance is caught, a float64 rounding's worth is not", () => {
    expect(() => compile(MATMUL, { passes: [scaleOutputs(1e-5)], verifyOutputs: true })).toThrow(VerificationError);
    const fine = compile(MATMUL, { passes: [scaleOutputs(1e-12)], verifyOutputs: true });
    expect(fine.verification!.ok).toBe(true);
    expect(fine.verification!.maxRelDiff).toBeGreaterThan(0);
  });

  it("the same unsound pass goes unnoticed without verifyOutputs", () => {
    const compiled = compile(MATMUL, { passes: [scaleOutputs(1e-3)], verify: true });
    expect(compiled.ok).toBe(true);
    expect(compiled.verification).toBeNull();
  });
});

describe("the report", () => {
  it("is null without verifyOutputs, also with verify (IR invariants only)", () => {
    expect(compile(MATMUL).verification).toBeNull();
    expect(compile(MATMUL, { verify: true }).verification).toBeNull();
    expect(compile(MATMUL, { optimize: false, verifyOutputs: true }).verification!.maxRelDiff).toBe(0);
  });

  it("uses the seed it is given", () => {
    const a = compile(MATMUL, { passes: [scaleOutputs(1e-9)], verifyOutputs: true, verifySeed: 5 }).verification!;
    const b = compile(MATMUL, { passes: [scaleOutputs(1e-9)], verifyOutputs: true, verifySeed: 6 }).verification!;
    expect(a.seed).toBe(5);
    expect(b.seed).toBe(6);
    expect(a.outputs[0]!.maxAbsDiff).not.toBe(b.outputs[0]!.maxAbsDiff);
  });

  it("binds random weights where weight data is missing, on the interpreter and the backend", () => {
    const source = "size n = 4\ninput x[n]\nweight W[n, n]\noutput y[i] = W[i, j] * x[j]\n";
    for (const backend of ["js", "reference"] as const) {
      const v = compile(source, { backend, verifyOutputs: true }).verification!;
      expect(v.ok).toBe(true);
      expect(v.backend!.backend).toBe(backend);
      expect(v.outputs[0]!.name).toBe("y");
    }
  });

  it("compares the backend with the interpreter, within 1e-4 for f32", () => {
    const { program } = compileIr(MATMUL);
    const off = (eps: number) => verifyOptimization(program, program, {
      backend: {
        name: "skewed",
        run: (p, inputs) => Object.fromEntries(Object.entries(interpret(p, inputs)).map(([k, t]) => [k, new Tensor(t.dtype, t.shape, t.data.map((x) => x * (1 + eps)))])),
      },
    });
    expect(off(1e-6).ok).toBe(true);
    const bad = off(1e-3);
    expect(bad.ok).toBe(false);
    expect(bad.maxRelDiff).toBe(0);
    expect(bad.backend!.ok).toBe(false);
    expect(new VerificationError(bad).message).toMatch(/skewed backend disagrees .* C rel 1\.0e-3 > 1\.0e-4/);
  });

  it("prints one line per output", () => {
    const v = compile(MATMUL, { verifyOutputs: true }).verification!;
    expect(verificationLines(v)).toEqual([
      expect.stringMatching(/^verify: C max \|Δ\| \S+ \(rel \S+\) vs -O0 \(reference\); backend js vs reference rel \S+$/),
    ]);
  });
});

describe("outputDifference", () => {
  it("is relative to the largest finite magnitude of the expected output", () => {
    expect(outputDifference("y", [1, 2.5], [1, 2])).toEqual({ name: "y", maxAbsDiff: 0.5, maxRelDiff: 0.25 });
    expect(outputDifference("y", [0, 1e-20], [0, 0])).toEqual({ name: "y", maxAbsDiff: 1e-20, maxRelDiff: 1e-20 });
  });

  it("requires non-finite values to match exactly and catches an unexpected NaN", () => {
    expect(outputDifference("y", [NaN, Infinity, 1], [NaN, Infinity, 1]).maxRelDiff).toBe(0);
    expect(outputDifference("y", [-Infinity, 1], [Infinity, 1]).maxRelDiff).toBe(Infinity);
    expect(outputDifference("y", [NaN, 1], [0, 1]).maxRelDiff).toBe(Infinity);
    expect(outputDifference("y", [1, 2], [1]).maxRelDiff).toBe(Infinity);
  });

  it("gets the same data for a program and one derived from it", () => {
    const { program } = compileIr(MATMUL);
    const a = verificationInputs(program, 3);
    const b = verificationInputs(program, 3);
    expect(Object.keys(a).sort()).toEqual(["A", "B"]);
    expect([...a["A"]!.data]).toEqual([...b["A"]!.data]);
    expect([...verificationInputs(program, 4)["A"]!.data]).not.toEqual([...a["A"]!.data]);
  });
});

function compileIr(source: string): { program: Program } {
  const compiled = compile(source, { optimize: false });
  return { program: compiled.ir! };
}

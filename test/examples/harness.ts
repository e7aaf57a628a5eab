/**
 * Shared steps of the example and stdlib tests: check a program, make seeded
 * inputs for it, run it on the reference interpreter and on the JS backend.
 */
import { expect } from "vitest";
import { check, compile } from "../../src/compiler.js";
import { interpret } from "../../src/ir/interpret.js";
import type { Program } from "../../src/ir/types.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { randomTensor, relativeError, seededUniform } from "./reference.js";

/** Largest allowed max |js - ref| / (max |ref| + 1e-6) for f32 outputs of the JS backend. */
export const JS_TOLERANCE = 1e-4;

/**
 * Largest allowed error of the interpreter against a plain-JS reference.
 * Both compute in float64 from the same f32 inputs; the interpreter stores
 * f32 results, so the error is one f32 rounding (about 6e-8) plus slack.
 */
export const REF_TOLERANCE = 1e-6;

/** Parses and checks a source; fails the test with the rendered diagnostics unless it is clean (no warnings either). */
export function checkClean(source: string, file: string, sizes: Record<string, number> = {}): Program {
  const { program, diagnostics } = check(source, { file, sizes });
  const shown = diagnostics.map((d) => `${d.code} ${d.severity}: ${d.message}${d.span ? ` (${d.span.start.line}:${d.span.start.column})` : ""}`);
  expect(shown, `diagnostics of ${file}`).toEqual([]);
  expect(program).not.toBeNull();
  return program!;
}

/** Seeded uniform [-1, 1) data for every run-time input of a program. */
export function randomInputs(program: Program, seed: number): Record<string, Tensor> {
  const next = seededUniform(seed);
  const inputs: Record<string, Tensor> = {};
  for (const t of program.tensors) {
    if (t.role !== "input") continue;
    if (t.dtype === "i32") throw new Error(`input ${t.name}: i32 inputs need their own data`);
    inputs[t.name] = randomTensor(t.shape, next, t.dtype);
  }
  return inputs;
}

/** The names of a program's outputs, in program order. */
export function outputNames(program: Program): string[] {
  return program.tensors.filter((t) => t.output).map((t) => t.name);
}

/** Runs the reference interpreter and returns every output. */
export function runReference(program: Program, inputs: Record<string, Tensor>): Record<string, Tensor> {
  const all = interpret(program, inputs);
  const out: Record<string, Tensor> = {};
  for (const name of outputNames(program)) {
    expect(all[name], `interpreter result for ${name}`).toBeDefined();
    out[name] = all[name]!;
  }
  return out;
}

/**
 * Compiles with the JS backend, runs it on the same inputs, and checks every
 * output against the interpreter's within {@link JS_TOLERANCE}.
 */
export function expectJsMatchesReference(
  source: string,
  file: string,
  sizes: Record<string, number>,
  inputs: Record<string, Tensor>,
  reference: Record<string, Tensor>,
): void {
  const compiled = compile(source, { file, sizes, backend: "js", verify: true });
  expect(compiled.ok, compiled.formatDiagnostics()).toBe(true);
  const got = compiled.run(inputs);
  for (const [name, ref] of Object.entries(reference)) {
    expect(got[name], `JS output ${name}`).toBeDefined();
    const err = relativeError(got[name]!, ref);
    expect(err, `JS output ${name} relative error`).toBeLessThanOrEqual(JS_TOLERANCE);
  }
}

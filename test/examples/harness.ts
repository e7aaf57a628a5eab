/**
 * Shared steps of the example and stdlib tests: check a program, make seeded
 * inputs for it, run it on the reference interpreter and on the JS backend.
 */
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { check, compile } from "../../src/compiler.js";
import { interpret } from "../../src/interpret.js";
import type { Program } from "../../src/ir/types.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { randomTensor, relativeError, seededUniform } from "./reference.js";

/** The examples/ folder, with a trailing slash. */
export const EXAMPLES_DIR = fileURLToPath(new URL("../../examples/", import.meta.url));

/** The example programs' file names, sorted. */
export const EXAMPLE_FILES: readonly string[] = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith(".tns")).sort();

/**
 * Sizes that keep the float64 interpreter fast, per example. Deliberately
 * uneven (and odd where a stride rounds down) so transposed or misgrouped
 * indices show up. Examples not listed run at their defaults.
 */
export const SMALL_SIZES: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  "matmul.tns": { n: 12, k: 10, m: 8 },
  "batched_einsum.tns": { batch: 2, heads: 3, nq: 5, nk: 7, dk: 4 },
  "attention.tns": { n: 12, d: 8 },
  "causal_attention.tns": { n: 12, d: 8 },
  "conv2d.tns": { c: 3, h: 9, w: 8, o: 4, kh: 3, kw: 2 },
  "maxpool.tns": { c: 3, h: 9, w: 8 },
  "layernorm.tns": { n: 6, d: 16 },
  "mlp.tns": { n: 5, d: 7, hidden: 9, classes: 4 },
  "kron_matvec.tns": { p: 3, q: 4, r: 5, s: 2 },
  "tensor_train.tns": { m1: 2, m2: 3, m3: 2, n1: 3, n2: 2, n3: 2, r1: 2, r2: 3 },
  "tucker.tns": { n1: 5, n2: 4, n3: 3, r1: 2, r2: 3, r3: 2 },
  "grouping.tns": { r: 4, c: 6 },
  "lowrank_mlp.tns": { b: 3, d: 16 },
  "structured_layer.tns": { b: 3, s: 4 },
  "softmax_stdlib.tns": { n: 5, m: 7 },
  "train_mlp.tns": { n: 5, d: 7, hidden: 9, classes: 4 },
  "train_attention.tns": { n: 6, d: 5 },
  "gpt_block.tns": { T: 5, Vocab: 7, D: 4, F: 6 },
  "char_rnn.tns": { T: 9, V: 7, H: 6 },
  "hmm_forward.tns": { T: 11, S: 4, O: 5 },
  "train_rnn.tns": { T: 7, V: 6, D: 3, H: 5 },
};

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
    // Weights without data are run-time data too (an example's weights come from a file).
    if (t.role !== "input" && !(t.role === "weight" && t.data === null)) continue;
    // i32 inputs (labels, segment ids) get small non-negative integers: 0 .. 3.
    if (t.dtype === "i32") {
      const ints = Tensor.zeros(t.shape, "i32");
      for (let k = 0; k < ints.data.length; k++) ints.data[k] = Math.floor((next() + 1) * 2);
      inputs[t.name] = ints;
    }
    else inputs[t.name] = randomTensor(t.shape, next, t.dtype);
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
  const probe = compile(source, { file, sizes, backend: "js", optimize: false });
  // Weights are bound at compile time; the interpreter took them as inputs.
  const weightNames = new Set(probe.inputs.filter((i) => i.role === "weight").map((i) => i.name));
  const weights = Object.fromEntries(Object.entries(inputs).filter(([n]) => weightNames.has(n)));
  const compiled = compile(source, { file, sizes, weights, backend: "js", verify: true });
  expect(compiled.ok, compiled.formatDiagnostics()).toBe(true);
  const got = compiled.run(Object.fromEntries(Object.entries(inputs).filter(([n]) => !weightNames.has(n))));
  for (const [name, ref] of Object.entries(reference)) {
    expect(got[name], `JS output ${name}`).toBeDefined();
    const err = relativeError(got[name]!, ref);
    expect(err, `JS output ${name} relative error`).toBeLessThanOrEqual(JS_TOLERANCE);
  }
}

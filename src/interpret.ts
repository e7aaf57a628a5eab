/**
 * The reference interpreter for whole programs, as the package exports it:
 * a program with grad nodes (`grad(L, W)`) is evaluated through its backward
 * program (calls inlined, then every grad node expanded by the differentiate
 * pass, whose results the gradient tests check against finite
 * differences), then by the IR's interpreter (ir/interpret.ts), which
 * evaluates the IR without running passes.
 */
import type { Program } from "./ir/types.js";
import { interpret as interpretIr, interpretAll as interpretAllIr, type InterpretOptions } from "./ir/interpret.js";
import { differentiateProgram } from "./passes/differentiate.js";
import { inlineAllCalls } from "./passes/inline-calls.js";
import type { Tensor } from "./runtime/tensor.js";
import { verifyProgram } from "./ir/verify.js";

export type { InterpretOptions } from "./ir/interpret.js";

/** The program with its grad nodes expanded into the backward program (itself when it has none). */
function expandGradients(p: Program): Program {
  return p.tensors.some((t) => t.role === "grad") ? differentiateProgram(inlineAllCalls(p)) : p;
}

/**
 * Runs a program on inputs (by name; a weight given here overrides its
 * bound data) and returns every `output` tensor as an f64 tensor of the
 * node's shape, gradients included. Throws an `Error` naming the tensor on a
 * missing input, a shape mismatch or an unbound weight.
 *
 * @example
 * ```ts
 * const p = parseProgramText("input A: f32[2, 3]\noutput R: f32[2] = [i:2] sum(j:3) A[i, j]\n");
 * interpret(p, { A: Tensor.fromArray([[1, 2, 3], [4, 5, 6]]) }).R!.toArray(); // [6, 15]
 * ```
 */
export function interpret(p: Program, inputs: Readonly<Record<string, Tensor>>, options: InterpretOptions = {}): Record<string, Tensor> {
  if (options.verify ?? true) verifyProgram(p, "before interpreting");
  return interpretIr(expandGradients(p), inputs, { ...options, verify: false });
}

/**
 * Every tensor of the program's top-level graph, computed, as f64 tensors,
 * gradients included (handy for finding the first tensor where two programs
 * disagree).
 *
 * @example
 * ```ts
 * interpretAll(program, { A: Tensor.fromArray([1, 2]) }).get("B")!.toArray();
 * ```
 */
export function interpretAll(p: Program, inputs: Readonly<Record<string, Tensor>>, options: InterpretOptions = {}): Map<string, Tensor> {
  if (options.verify ?? true) verifyProgram(p, "before interpreting");
  const all = interpretAllIr(expandGradients(p), inputs, { ...options, verify: false });
  return new Map(p.tensors.map((t) => [t.name, all.get(t.name)!]));
}

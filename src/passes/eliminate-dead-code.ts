/**
 * eliminate-dead-code: removes the weights, defs and calls that no output
 * depends on, and the functions no remaining call reaches. Inputs always stay:
 * an unused input is still part of the program's signature.
 *
 * Before:
 *
 *     input A[4], B[4]
 *     T[i] = exp(B[i])
 *     output Y[i] = A[i] * 2
 *
 * After:
 *
 *     input A[4], B[4]
 *     output Y[i] = A[i] * 2
 */
import type { IRFunction, Program, TensorNode } from "../ir/types.js";
import { accessedTensors } from "../ir/walk.js";
import { PROPERTIES, type Pass } from "./pass.js";

/**
 * The eliminate-dead-code pass.
 *
 * @example
 * ```ts
 * eliminateDeadCode.run(program); // only inputs and what feeds an output remain
 * ```
 */
export const eliminateDeadCode: Pass = {
  name: "eliminate-dead-code",
  description: "remove tensors no output depends on, and unused functions",
  requires: [],
  guarantees: [PROPERTIES.noDeadCode],
  // Removing whole tensors changes no body, so every body-level property survives.
  preserves: [PROPERTIES.noCalls, PROPERTIES.canonical, PROPERTIES.folded, PROPERTIES.cse],
  run: eliminateDeadTensors,
};

/**
 * Returns `program` without the tensors and functions no output depends on.
 *
 * @example
 * ```ts
 * const p = parseProgramText("input A: f32[2]\nT: f32[2] = [i:2] A[i]\noutput Y: f32[2] = [i:2] A[i]\n");
 * eliminateDeadTensors(p).tensors.length; // 2
 * ```
 */
export function eliminateDeadTensors(program: Program): Program {
  const live = liveTensors(program.tensors, program.tensors.filter((t) => t.output).map((t) => t.name));
  const tensors = program.tensors.filter((t) => t.role === "input" || live.has(t.name));
  return { ...program, tensors, functions: reachableFunctions(program, tensors) };
}

/** Names of the tensors `roots` depend on (roots included), walking the DAG backwards once. */
function liveTensors(tensors: readonly TensorNode[], roots: readonly string[]): Set<string> {
  const live = new Set(roots);
  for (let k = tensors.length - 1; k >= 0; k--) {
    const t = tensors[k]!;
    if (!live.has(t.name)) continue;
    if (t.role === "def") for (const n of accessedTensors(t.body)) live.add(n);
    if (t.role === "call") for (const n of t.args) live.add(n);
    if (t.role === "grad") live.add(t.loss).add(t.wrt);
  }
  return live;
}

/** The functions called by `tensors`, directly or through other functions. */
function reachableFunctions(program: Program, tensors: readonly TensorNode[]): Record<string, IRFunction> {
  const reached = new Set<string>();
  const pending = tensors.flatMap((t) => (t.role === "call" ? [t.fn] : []));
  while (pending.length > 0) {
    const name = pending.pop()!;
    const fn = program.functions[name];
    if (fn === undefined || reached.has(name)) continue;
    reached.add(name);
    for (const t of fn.tensors) if (t.role === "call") pending.push(t.fn);
  }
  // Keep the original order of the functions, so printing stays stable.
  const out: Record<string, IRFunction> = {};
  for (const [name, fn] of Object.entries(program.functions)) if (reached.has(name)) out[name] = fn;
  return out;
}

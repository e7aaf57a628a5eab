/**
 * inline-calls: replaces every call node with the callee's body, then drops
 * the functions.
 *
 * The callee's parameters become the argument tensors; its result takes the
 * call node's name (and `output` flag); every other tensor of the body gets a
 * fresh name `<call>_<name>` (with a numeric suffix if that is taken).
 * Functions that call functions are inlined recursively.
 *
 * Before:
 *
 *     fn softmax(X[4, 3]) -> Y {
 *       M[i] = max(j) X[i, j]
 *       Y[i, j] = exp(X[i, j] - M[i])
 *     }
 *     input S[4, 3]
 *     output P = softmax(S)
 *
 * After:
 *
 *     input S[4, 3]
 *     P_M[i] = max(j) S[i, j]
 *     output P[i, j] = exp(S[i, j] - P_M[i])
 */
import { InternalCompilerError } from "../diagnostics/diagnostic.js";
import { renameTensors } from "../ir/walk.js";
import type { CallNode, DefNode, IRFunction, Program, TensorNode } from "../ir/types.js";
import { affine, access } from "../ir/types.js";
import { PROPERTIES, type Pass } from "./pass.js";

/**
 * The inline-calls pass.
 *
 * @example
 * ```ts
 * const flat = inlineCalls.run(program); // no CallNode, no functions
 * ```
 */
export const inlineCalls: Pass = {
  name: "inline-calls",
  description: "replace every call by the callee's body and drop the functions",
  requires: [],
  guarantees: [PROPERTIES.noCalls],
  preserves: [],
  run: inlineAllCalls,
};

/**
 * Returns `program` with every call node expanded into the callee's tensors
 * and no functions. Returns the input itself when there is nothing to do.
 *
 * @example
 * ```ts
 * inlineAllCalls(program).functions; // {}
 * ```
 */
export function inlineAllCalls(program: Program): Program {
  const hasCalls = program.tensors.some((t) => t.role === "call");
  if (!hasCalls && Object.keys(program.functions).length === 0) return program;
  const taken = new Set<string>(program.tensors.map((t) => t.name));
  const tensors: TensorNode[] = [];
  for (const t of program.tensors) {
    if (t.role === "call") tensors.push(...expandCall(program, t, taken, []));
    else tensors.push(t);
  }
  return { sizes: program.sizes, tensors, functions: {} };
}

/** The tensors that replace `call`; `stack` holds the functions being expanded (to catch recursion). */
function expandCall(program: Program, call: CallNode, taken: Set<string>, stack: readonly string[]): TensorNode[] {
  const fn = program.functions[call.fn];
  if (fn === undefined) throw new InternalCompilerError(`call '${call.name}' names unknown function '${call.fn}'`);
  if (stack.includes(fn.name)) throw new InternalCompilerError(`recursive call chain ${[...stack, fn.name].join(" -> ")}`);
  if (fn.params.length !== call.args.length) {
    throw new InternalCompilerError(`call '${call.name}' passes ${call.args.length} arguments to '${fn.name}' of ${fn.params.length} parameters`);
  }
  const rename = new Map<string, string>();
  fn.params.forEach((p, k) => rename.set(p.name, call.args[k]!));
  for (const t of fn.tensors) rename.set(t.name, t.name === fn.result ? call.name : freshName(`${call.name}_${t.name}`, taken));

  const out: TensorNode[] = [];
  for (const t of fn.tensors) {
    const renamed = renameNode(t, rename, t.name === fn.result ? call.output : false);
    if (renamed.role === "call") out.push(...expandCall(program, renamed, taken, [...stack, fn.name]));
    else out.push(renamed);
  }
  if (!fn.tensors.some((t) => t.name === fn.result)) out.push(copyOfParam(fn, call));
  return out;
}

/** A node of a function body under the renaming of its tensors. */
function renameNode(t: TensorNode, rename: ReadonlyMap<string, string>, output: boolean): TensorNode {
  const name = rename.get(t.name)!;
  switch (t.role) {
    case "def":
      return { ...t, name, output, body: renameTensors(t.body, rename) };
    case "call":
      return { ...t, name, output, args: t.args.map((a) => rename.get(a) ?? a) };
    case "weight":
    case "input":
      return { ...t, name, output };
    case "grad":
      throw new InternalCompilerError(`function body holds grad node '${t.name}'`);
  }
}

/** A function whose result is one of its parameters: the call becomes a copy of that argument. */
function copyOfParam(fn: IRFunction, call: CallNode): DefNode {
  const k = fn.params.findIndex((p) => p.name === fn.result);
  if (k < 0) throw new InternalCompilerError(`function '${fn.name}' has no tensor named its result '${fn.result}'`);
  const indices = call.shape.map((_, d) => `i${d}`);
  const ranges: Record<string, number> = {};
  call.shape.forEach((n, d) => (ranges[`i${d}`] = n));
  return {
    role: "def",
    name: call.name,
    dtype: call.dtype,
    shape: call.shape,
    output: call.output,
    indices,
    groups: call.shape.map(() => 1),
    ranges,
    body: access(call.args[k]!, indices.map((v) => affine([{ var: v, coef: 1 }]))),
  };
}

/** `base`, or `base_2`, `base_3`, ... whichever is not yet taken; records the choice. */
function freshName(base: string, taken: Set<string>): string {
  let name = base;
  for (let k = 2; taken.has(name); k++) name = `${base}_${k}`;
  taken.add(name);
  return name;
}

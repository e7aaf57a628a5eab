/**
 * Helpers shared by the pass tests: run one pass through the manager with
 * verification, and compare two programs' outputs with the reference
 * interpreter on seeded random inputs.
 */
import { expect } from "vitest";
import { interpret } from "../../src/interpret.js";
import { access, binary, num, reduce, type Expr, type Program, type TensorNode } from "../../src/ir/types.js";
import { randomNetwork } from "../../src/passes/contraction-path/index.js";
import { randomInputs } from "../../src/ir/random-program.js";
import { runPasses } from "../../src/passes/manager.js";
import type { Pass } from "../../src/passes/pass.js";
import type { Tensor } from "../../src/runtime/tensor.js";

/** `pass` applied to `program` through the manager, verifying the result. */
export function applyPass(pass: Pass, program: Program): Program {
  return runPasses(program, [pass], { verify: true }).program;
}

/**
 * Values for every input (seeded, from `randomInputs`) and for every weight
 * without bound data (the same values as an input of that shape would get).
 */
export function inputsFor(program: Program, seed: number): Record<string, Tensor> {
  const unbound = program.tensors.map((t) => (t.role === "weight" && t.data === null ? { ...t, role: "input" as const } : t));
  return randomInputs({ ...program, tensors: unbound }, seed);
}

/**
 * Whether two doubles agree to a relative 1e-9 (NaN agrees with NaN, infinities
 * must match). With `nonFiniteMayTrade`, any non-finite value agrees with any
 * other: rewrites that are exact over the reals may turn a NaN into an infinity
 * and back (docs/optimizer.md, "Non-finite values"), never a finite value into
 * a non-finite one.
 */
export function close(a: number, b: number, nonFiniteMayTrade = false): boolean {
  if (nonFiniteMayTrade && !Number.isFinite(a)) return !Number.isFinite(b);
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** The first disagreement between two programs' outputs on `inputs`, or undefined. */
export function firstDifference(before: Program, after: Program, inputs: Record<string, Tensor>, nonFiniteMayTrade = false): string | undefined {
  const want = interpret(before, inputs);
  const got = interpret(after, inputs);
  const names = Object.keys(want);
  if (names.join() !== Object.keys(got).join()) return `outputs [${names}] became [${Object.keys(got)}]`;
  for (const n of names) {
    const a = want[n]!;
    const b = got[n]!;
    if (a.shape.join() !== b.shape.join()) return `${n}: shape [${a.shape}] became [${b.shape}]`;
    for (let k = 0; k < a.data.length; k++) {
      if (!close(a.data[k]!, b.data[k]!, nonFiniteMayTrade)) return `${n}[${k}]: ${a.data[k]} became ${b.data[k]}`;
    }
  }
  return undefined;
}

/** Asserts that `before` and `after` compute the same outputs on a few seeded inputs. */
export function expectSameValues(before: Program, after: Program, seeds: readonly number[] = [1, 2, 3]): void {
  for (const seed of seeds) expect(firstDifference(before, after, inputsFor(before, seed))).toBeUndefined();
}

/**
 * A program computing a random network: one input per operand, optionally
 * with a diagonal (an operand reading one label twice), a constant inside
 * the sum and an outer factor; one output index no operand uses.
 */
export function networkProgram(n: number, seed: number, diagonal: boolean, factor: boolean): Program {
  const net = randomNetwork({ operands: n, seed, maxExtent: 3, regularity: 2.5, outputs: 1 + (seed % 2) });
  const inputs = net.inputs.map((ls, k) => (diagonal && k === 0 ? [...ls, ls[0]!] : [...ls]));
  const tensors: TensorNode[] = inputs.map((ls, k) => ({
    role: "input", name: `x${k}`, dtype: "f64", shape: ls.map((l) => net.extents[l]!), output: false,
  }));
  const summed = [...new Set(inputs.flat())].filter((l) => !net.output.includes(l)).sort();
  const factors: Expr[] = [...(factor ? [num(0.5)] : []), ...inputs.map((ls, k) => access(`x${k}`, ls))];
  const product = factors.slice(1).reduce((a, b) => binary("mul", a, b), factors[0]!);
  let body: Expr = summed.length > 0 ? reduce("sum", summed, product) : product;
  const indices = [...net.output, "z"];
  if (factor) {
    tensors.push({ role: "input", name: "w", dtype: "f64", shape: [net.extents[net.output[0]!]!], output: false });
    body = binary("mul", access("w", [net.output[0]!]), body);
  }
  tensors.push({
    role: "def", name: "out", dtype: "f64", output: true, indices, groups: indices.map(() => 1),
    shape: indices.map((v) => (v === "z" ? 2 : net.extents[v]!)),
    ranges: { ...net.extents, z: 2 }, body,
  });
  return { sizes: {}, tensors, functions: {} };
}

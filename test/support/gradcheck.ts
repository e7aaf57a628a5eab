/**
 * Gradient checks: the gradients the differentiate pass builds, evaluated on
 * the float64 reference interpreter, against central finite differences of
 * the loss on the same interpreter.
 */
import type { DefNode, Expr, GradNode, Program, TensorNode } from "../../src/ir/types.js";
import { access, binary, reduce } from "../../src/ir/types.js";
import { interpretAll } from "../../src/interpret.js";
import { loweringPipeline, runPasses } from "../../src/passes/index.js";
import { Tensor } from "../../src/runtime/tensor.js";

/** Every tensor's element type made f64 (inputs, weights and defs), so finite differences see float64 inputs. */
export function asFloat64(program: Program): Program {
  const widen = (t: TensorNode): TensorNode => (t.dtype === "i32" ? t : { ...t, dtype: "f64" });
  return {
    ...program,
    tensors: program.tensors.map(widen),
    functions: Object.fromEntries(Object.entries(program.functions).map(([k, f]) => [k, {
      ...f, params: f.params.map((p) => (p.dtype === "i32" ? p : { ...p, dtype: "f64" as const })), tensors: f.tensors.map(widen),
    }])),
  };
}

/**
 * `program` with a scalar loss `L = Σ_O Σ O[...]^2 / 2` over its outputs
 * (the outputs stay) and an output `grad_<W>` per float input or weight W.
 */
export function withSquareLoss(program: Program, loss = "L__"): { program: Program; grads: string[] } {
  const outputs = program.tensors.filter((t) => t.output);
  let body: Expr | null = null;
  const ranges: Record<string, number> = {};
  outputs.forEach((o, k) => {
    const vars = o.shape.map((_, d) => `o${k}_${d}`);
    vars.forEach((v, d) => (ranges[v] = o.shape[d]!));
    const read = access(o.name, vars);
    const sq: Expr = binary("mul", binary("mul", read, read), { kind: "const", value: 0.5 });
    const term = vars.length > 0 ? reduce("sum", vars, sq) : sq;
    body = body === null ? term : binary("add", body, term);
  });
  if (body === null) throw new Error("program has no outputs");
  const lossDef: DefNode = { role: "def", name: loss, dtype: "f64", shape: [], output: false, indices: [], groups: [], ranges, body };
  const wrts = program.tensors.filter((t) => (t.role === "input" || t.role === "weight") && t.dtype !== "i32");
  const grads: GradNode[] = wrts.map((w) => ({ role: "grad", name: `grad_${w.name}`, dtype: w.dtype, shape: w.shape, output: true, loss, wrt: w.name }));
  return { program: { ...program, tensors: [...program.tensors, lossDef, ...grads] }, grads: grads.map((g) => g.name) };
}

/** What {@link checkGradients} found for one gradient. */
export interface GradientReport {
  readonly grad: string;
  readonly wrt: string;
  /** max (|g - fd| - the difference quotient's rounding error) / max(max |fd|, floor). */
  readonly relError: number;
  /** Elements skipped because the loss is not smooth there (the two step sizes disagree). */
  readonly skipped: number;
  /** Elements compared. */
  readonly elements: number;
}

/**
 * Evaluates every grad node of `program` (after inline-calls and
 * differentiate) and compares it with central differences of its loss,
 * step `h`, on the interpreter. Inputs must hold every input and weight.
 * With `skipKinks`, elements where the difference quotients at h and h/4
 * disagree (a kink or a tie within reach of the step), or where the
 * gradient is not finite (a singular point), are skipped and counted.
 */
export function checkGradients(program: Program, inputs: Record<string, Tensor>, options: { h?: number; floor?: number; skipKinks?: boolean } = {}): GradientReport[] {
  const h = options.h ?? 1e-5;
  const floor = options.floor ?? 1e-2;
  const expanded = runPasses(program, loweringPipeline(), { verify: true }).program;
  const got = interpretAll(expanded, inputs);
  const grads = program.tensors.filter((t): t is GradNode => t.role === "grad");
  const lossOf = (loss: string, given: Record<string, Tensor>): number => interpretAll(expanded, given).get(loss)!.data[0]!;
  return grads.map((g) => {
    const base = inputs[g.wrt]!;
    // The rounding error of a difference quotient: a few ulps of the loss, divided by the step.
    let noise = 0;
    const fdAt = (k: number, step: number): number => {
      const plus = base.data.slice() as Float64Array;
      const minus = base.data.slice() as Float64Array;
      plus[k]! += step;
      minus[k]! -= step;
      const lp = lossOf(g.loss, { ...inputs, [g.wrt]: new Tensor("f64", base.shape, Float64Array.from(plus)) });
      const lm = lossOf(g.loss, { ...inputs, [g.wrt]: new Tensor("f64", base.shape, Float64Array.from(minus)) });
      noise = Math.max(noise, (4 * Number.EPSILON * Math.max(Math.abs(lp), Math.abs(lm))) / step);
      return (lp - lm) / (2 * step);
    };
    const analytic = got.get(g.name)!.data;
    let maxFd = 0;
    let maxDiff = 0;
    let skipped = 0;
    for (let k = 0; k < base.data.length; k++) {
      const fd = fdAt(k, h);
      if (options.skipKinks) {
        // A kink within reach of the step, or a singular point: sqrt(abs(x)) at x = 0 has an infinite
        // derivative, and infinity times the zero slope of what feeds it is NaN (as in other reverse-mode tools).
        const fine = fdAt(k, h / 4);
        if (Math.abs(fd - fine) > 1e-6 * Math.max(1, Math.abs(fd)) || !Number.isFinite(fd) || !Number.isFinite(analytic[k]!)) {
          skipped++;
          continue;
        }
      }
      maxFd = Math.max(maxFd, Math.abs(fd));
      maxDiff = Math.max(maxDiff, Math.abs(fd - analytic[k]!) - noise);
    }
    return { grad: g.name, wrt: g.wrt, relError: maxDiff / Math.max(maxFd, floor), skipped, elements: base.data.length };
  });
}

/** Smooth seeded data in [-1, 1) for every float input and weight (integers in [0, 3] for i32). */
export function smoothInputs(program: Program, seed: number): Record<string, Tensor> {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: Record<string, Tensor> = {};
  for (const t of program.tensors) {
    if (t.role !== "input" && t.role !== "weight") continue;
    const n = t.shape.reduce((x, y) => x * y, 1);
    const data = Array.from({ length: n }, () => (t.dtype === "i32" ? Math.floor(next() * 4) : next() * 2 - 1));
    out[t.name] = t.dtype === "i32" ? new Tensor("i32", t.shape, Int32Array.from(data)) : new Tensor("f64", t.shape, Float64Array.from(data));
  }
  return out;
}

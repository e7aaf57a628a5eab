/**
 * The IR verifier: checks every invariant stated in `types.ts` and reports
 * each violation with the tensor it concerns and the invariant's number.
 * The pass manager runs it after every pass in tests; a failure is always a
 * compiler bug, so it throws {@link InternalCompilerError}.
 *
 *     verifyProgram(p, "after cse");
 *     // internal compiler error: IR invalid after cse:
 *     //   tensor 'S': access Q[i, k + 1] index 2 takes values 1..8, outside 0..7 (invariant 4)
 */
import { InternalCompilerError } from "../diagnostics/diagnostic.js";
import type { Affine, DefNode, Expr, InputNode, IRFunction, Program, TensorNode } from "./types.js";
import { UNARY_OPS } from "./types.js";
import { printAffine, printExpr } from "./print.js";
import { recurrenceErrors } from "./recurrence.js";
import { resumedSumForm } from "./resume.js";
import { scatterErrors } from "./scatter.js";
import { accessedTensors } from "./walk.js";

const DTYPES: readonly string[] = ["f32", "f64", "i32"];
const BINARY_OPS: readonly string[] = ["add", "sub", "mul", "div", "pow", "min", "max", "atan2", "lt", "le", "gt", "ge", "eq", "ne"];
const REDUCE_OPS: readonly string[] = ["sum", "max", "min", "prod"];

const isExtent = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n > 0;

/**
 * The smallest and largest value of an affine form when each variable ranges
 * over `0 .. ranges[v]-1` (a box, so each term contributes independently).
 *
 * @example
 * ```ts
 * affineBounds(affine([{ var: "y", coef: 2 }, { var: "dy", coef: 1 }], -1), { y: 3, dy: 2 }); // { min: -1, max: 4 }
 * ```
 */
export function affineBounds(a: Affine, ranges: Readonly<Record<string, number>>): { min: number; max: number } {
  let min = a.constant;
  let max = a.constant;
  for (const t of a.terms) {
    const span = t.coef * ((ranges[t.var] ?? 1) - 1);
    if (span > 0) max += span;
    else min += span;
  }
  return { min, max };
}

/** A violation is reported as `where: what (invariant n)`. */
type Report = (message: string) => void;

/** Shapes of the tensors visible at a point of a graph, by name. */
type Scope = Map<string, readonly number[]>;

function checkAffine(a: Affine, where: string, report: Report): void {
  if (!Number.isInteger(a.constant)) report(`${where}: affine constant ${a.constant} is not an integer (invariant 5)`);
  a.terms.forEach((t, k) => {
    if (!Number.isInteger(t.coef) || t.coef === 0) report(`${where}: coefficient ${t.coef} of '${t.var}' is not a nonzero integer (invariant 5)`);
    const prev = a.terms[k - 1];
    if (prev !== undefined && !(prev.var < t.var)) report(`${where}: terms not sorted by unique variable ('${prev.var}' then '${t.var}') (invariant 5)`);
  });
}

/** Checks a def's body: variables in scope with ranges, reductions, accesses (invariants 2, 4, 5). */
function checkDefBody(d: DefNode, visible: Scope, report: Report): void {
  const where = `tensor '${d.name}'`;
  const outputs = new Set(d.indices);
  const reduced = new Set<string>();
  const useVar = (v: string, inScope: ReadonlySet<string>, what: string): void => {
    if (!inScope.has(v)) report(`${where}: ${what} uses variable '${v}', which is neither an output index nor bound by an enclosing reduction (invariant 2)`);
  };
  const walk = (e: Expr, inScope: ReadonlySet<string>): void => {
    switch (e.kind) {
      case "const":
        if (typeof e.value !== "number") report(`${where}: constant ${String(e.value)} is not a number`);
        return;
      case "index":
        useVar(e.var, inScope, "an index value");
        return;
      case "access": {
        // A recurrence reads itself (invariant 8); its sequential dimension is checked there.
        const self = e.tensor === d.name && d.recurrence !== undefined;
        const shape = self ? d.shape : visible.get(e.tensor);
        const seqDim = self ? d.indices.indexOf(d.recurrence!) : -1;
        const text = `access ${e.tensor}[${e.index.map(printAffine).join(", ")}]`;
        if (shape === undefined) {
          report(`${where}: ${text} reads '${e.tensor}', which is not an earlier tensor or a parameter (invariant 1)`);
          return;
        }
        if (e.index.length !== shape.length) {
          report(`${where}: ${text} has ${e.index.length} indices for a tensor of rank ${shape.length} (invariant 4)`);
          return;
        }
        e.index.forEach((a, k) => {
          checkAffine(a, `${where}: ${text} index ${k + 1}`, report);
          for (const t of a.terms) useVar(t.var, inScope, text);
          if (k === seqDim) return;
          if (!a.terms.every((t) => isExtent(d.ranges[t.var]))) return;
          const { min, max } = affineBounds(a, d.ranges);
          if (!e.guarded && (min < 0 || max > shape[k]! - 1)) {
            report(`${where}: ${text} index ${k + 1} takes values ${min}..${max}, outside 0..${shape[k]! - 1} (invariant 4)`);
          }
        });
        return;
      }
      case "gather": {
        const shape = visible.get(e.tensor);
        const text = `gather ${printExpr(e)}`;
        if (shape === undefined) {
          report(`${where}: ${text} reads '${e.tensor}', which is not an earlier tensor or a parameter (invariant 1)`);
          return;
        }
        if (e.index.length !== shape.length) {
          report(`${where}: ${text} has ${e.index.length} indices for a tensor of rank ${shape.length} (invariant 9)`);
          return;
        }
        if (!["check", "clamp"].includes(e.mode)) report(`${where}: ${text} has unknown mode '${e.mode}' (invariant 9)`);
        if (e.index.every((g) => g.value === null)) report(`${where}: ${text} has no data-dependent index; it is an access (invariant 9)`);
        e.index.forEach((g, k) => {
          checkAffine(g.affine, `${where}: ${text} index ${k + 1}`, report);
          for (const t of g.affine.terms) useVar(t.var, inScope, text);
          if (g.value !== null) {
            if (accessedTensors(g.value).size === 0) report(`${where}: ${text} index ${k + 1} reads no tensor (invariant 9)`);
            walk(g.value, inScope);
            return;
          }
          if (!g.affine.terms.every((t) => isExtent(d.ranges[t.var]))) return;
          const { min, max } = affineBounds(g.affine, d.ranges);
          if (min < 0 || max > shape[k]! - 1) {
            report(`${where}: ${text} index ${k + 1} takes values ${min}..${max}, outside 0..${shape[k]! - 1} (invariant 9)`);
          }
        });
        return;
      }
      case "unary":
        if (!(UNARY_OPS as readonly string[]).includes(e.op)) report(`${where}: unknown unary operator '${e.op}'`);
        walk(e.arg, inScope);
        return;
      case "binary":
        if (!BINARY_OPS.includes(e.op)) report(`${where}: unknown binary operator '${e.op}'`);
        walk(e.lhs, inScope);
        walk(e.rhs, inScope);
        return;
      case "select":
        walk(e.cond, inScope);
        walk(e.then, inScope);
        walk(e.else, inScope);
        return;
      case "reduce": {
        if (!REDUCE_OPS.includes(e.op)) report(`${where}: unknown reduction '${e.op}'`);
        if (e.vars.length === 0) report(`${where}: a reduction binds no variable (invariant 2)`);
        for (const v of e.vars) {
          if (outputs.has(v)) report(`${where}: reduced variable '${v}' is also an output index (invariant 2)`);
          else if (reduced.has(v)) report(`${where}: variable '${v}' is bound by more than one reduction (invariant 2)`);
          if (!isExtent(d.ranges[v])) report(`${where}: reduced variable '${v}' has no positive integer range (invariant 2)`);
          reduced.add(v);
        }
        walk(e.body, new Set([...inScope, ...e.vars]));
        return;
      }
      default:
        report(`${where}: unknown expression kind '${(e as { kind: string }).kind}'`);
    }
  };
  walk(d.body, outputs);
}

/** Checks a def's indices, ranges, groups and shape (invariants 2 and 3), then its body. */
function checkDef(d: DefNode, visible: Scope, report: Report): void {
  const where = `tensor '${d.name}'`;
  if (new Set(d.indices).size !== d.indices.length) report(`${where}: output indices [${d.indices.join(", ")}] are not distinct (invariant 2)`);
  for (const v of d.indices) if (!isExtent(d.ranges[v])) report(`${where}: output index '${v}' has no positive integer range (invariant 2)`);
  for (const [v, n] of Object.entries(d.ranges)) if (!isExtent(n)) report(`${where}: range of '${v}' is ${n}, not a positive integer (invariant 2)`);
  const groupTotal = d.groups.reduce((a, g) => a + g, 0);
  if (d.groups.some((g) => !Number.isInteger(g) || g < 0) || groupTotal !== d.indices.length) {
    report(`${where}: groups [${d.groups.join(", ")}] do not partition its ${d.indices.length} indices (invariant 3)`);
  } else if (d.groups.length !== d.shape.length) {
    report(`${where}: ${d.groups.length} groups for a shape of rank ${d.shape.length} (invariant 3)`);
  } else {
    let k = 0;
    d.groups.forEach((g, dim) => {
      const vars = d.indices.slice(k, k + g);
      k += g;
      const extent = vars.reduce((a, v) => a * (d.ranges[v] ?? NaN), 1);
      if (extent !== d.shape[dim]) {
        report(`${where}: dimension ${dim + 1} has extent ${d.shape[dim]} but its indices (${vars.join(", ")}) span ${extent} (invariant 3)`);
      }
    });
  }
  checkDefBody(d, visible, report);
  for (const m of recurrenceErrors(d)) report(m);
  for (const m of scatterErrors(d)) report(m);
  if (d.split !== undefined) checkSplit(d, report);
}

/** Checks a resumed sum (invariant 12); `earlier` finds a tensor defined before it. */
function checkResumed(d: DefNode, earlier: (name: string) => TensorNode | undefined, report: Report): void {
  const where = `tensor '${d.name}'`;
  if (d.recurrence !== undefined || d.scatter !== undefined || d.split !== undefined || d.groups.some((g) => g !== 1)) {
    report(`${where}: a resumed sum is grouped, a recurrence, a scatter-add or split (invariant 12)`);
  }
  const form = resumedSumForm(d);
  if (form === null) {
    report(`${where}: a resumed sum's body is not P[${d.indices.join(", ")}] + sum(...) (invariant 12)`);
    return;
  }
  const from = earlier(form.from);
  if (from === undefined) {
    report(`${where}: resumes from '${form.from}', which is not an earlier tensor (invariant 12)`);
  } else if (from.dtype !== d.dtype || from.shape.length !== d.shape.length || from.shape.some((n, k) => n !== d.shape[k])) {
    report(`${where}: resumes from '${from.name}' (${from.dtype}[${from.shape.join(", ")}]), not of its type and shape ${d.dtype}[${d.shape.join(", ")}] (invariant 12)`);
  }
}

/** Checks a def's index-set splitting (invariant 11). */
function checkSplit(d: DefNode, report: Report): void {
  const where = `tensor '${d.name}'`;
  const seen = new Set<string>();
  if (d.scatter !== undefined) report(`${where}: a scatter-add is split (invariant 11)`);
  for (const s of d.split ?? []) {
    if (!d.indices.includes(s.var)) report(`${where}: split index '${s.var}' is not an output index (invariant 11)`);
    if (seen.has(s.var)) report(`${where}: index '${s.var}' is split twice (invariant 11)`);
    if (s.var === d.recurrence) report(`${where}: the sequential index '${s.var}' is split (invariant 11)`);
    seen.add(s.var);
    const extent = d.ranges[s.var] ?? 0;
    s.cuts.forEach((c, k) => {
      const prev = k === 0 ? 0 : s.cuts[k - 1]!;
      if (!Number.isInteger(c) || c <= prev || c >= extent) {
        report(`${where}: cuts [${s.cuts.join(", ")}] of '${s.var}' are not increasing integers inside 1..${extent - 1} (invariant 11)`);
      }
    });
    if (s.cuts.length === 0) report(`${where}: index '${s.var}' is split with no cut (invariant 11)`);
  }
}

function checkCall(c: Extract<TensorNode, { role: "call" }>, p: Program, visible: Scope, report: Report): void {
  const where = `tensor '${c.name}'`;
  const f = p.functions[c.fn];
  if (f === undefined) {
    report(`${where}: calls unknown function '${c.fn}' (invariant 6)`);
    return;
  }
  for (const a of c.args) if (!visible.has(a)) report(`${where}: argument '${a}' is not an earlier tensor or a parameter (invariant 1)`);
  if (c.args.length !== f.params.length) {
    report(`${where}: passes ${c.args.length} arguments to '${f.name}', which takes ${f.params.length} (invariant 6)`);
    return;
  }
  f.params.forEach((param, k) => {
    const shape = visible.get(c.args[k]!);
    if (shape !== undefined && !sameShape(shape, param.shape)) {
      report(`${where}: argument ${k + 1} '${c.args[k]}' has shape [${shape.join(", ")}] but parameter '${param.name}' of '${f.name}' has [${param.shape.join(", ")}] (invariant 6)`);
    }
  });
  const result = resultShape(f);
  if (result !== undefined && !sameShape(result, c.shape)) {
    report(`${where}: has shape [${c.shape.join(", ")}] but '${f.name}' returns [${result.join(", ")}] (invariant 6)`);
  }
}

function checkGrad(g: Extract<TensorNode, { role: "grad" }>, nodes: readonly TensorNode[], visible: Scope, report: Report): void {
  const where = `tensor '${g.name}'`;
  const loss = nodes.find((t) => t.name === g.loss);
  const wrt = nodes.find((t) => t.name === g.wrt);
  if (!visible.has(g.loss) || loss === undefined) report(`${where}: loss '${g.loss}' is not an earlier tensor of this graph (invariant 7)`);
  else if (loss.shape.length !== 0 || (loss.role !== "def" && loss.role !== "call")) report(`${where}: loss '${g.loss}' is not a rank-0 def (invariant 7)`);
  if (!visible.has(g.wrt) || wrt === undefined) report(`${where}: '${g.wrt}' is not an earlier tensor of this graph (invariant 7)`);
  else if (wrt.role !== "input" && wrt.role !== "weight") report(`${where}: '${g.wrt}' is a ${wrt.role}, not an input or weight (invariant 7)`);
  else if (!sameShape(wrt.shape, g.shape)) report(`${where}: has shape [${g.shape.join(", ")}] but '${g.wrt}' has [${wrt.shape.join(", ")}] (invariant 7)`);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, k) => n === b[k]);
}

function resultShape(f: IRFunction): readonly number[] | undefined {
  return (f.tensors.find((t) => t.name === f.result) ?? f.params.find((t) => t.name === f.result))?.shape;
}

function checkNodeHeader(t: TensorNode, report: Report): void {
  const where = `tensor '${t.name}'`;
  if (!DTYPES.includes(t.dtype)) report(`${where}: unknown element type '${t.dtype}'`);
  if (!Array.isArray(t.shape) || !t.shape.every(isExtent)) report(`${where}: shape [${t.shape.join(", ")}] is not a list of positive integers`);
  if (typeof t.output !== "boolean") report(`${where}: 'output' is not a boolean`);
  if (t.role === "weight" && t.data !== null) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) report(`${where}: weight data has ${t.data.length} elements for shape [${t.shape.join(", ")}] of ${n}`);
  }
}

/** Checks a graph of nodes in order (names unique, topological), given the tensors visible before it. */
function checkGraph(nodes: readonly TensorNode[], p: Program, visible: Scope, report: Report): void {
  const earlier = new Map<string, TensorNode>();
  for (const t of nodes) {
    checkNodeHeader(t, report);
    if (t.role === "def") {
      checkDef(t, visible, report);
      if (t.resumed) checkResumed(t, (name) => earlier.get(name), report);
    } else if (t.role === "call") checkCall(t, p, visible, report);
    else if (t.role === "grad") checkGrad(t, nodes, visible, report);
    else if (t.role !== "input" && t.role !== "weight") report(`tensor '${(t as TensorNode).name}': unknown role '${(t as { role: string }).role}'`);
    if (visible.has(t.name)) report(`tensor '${t.name}': the name is defined twice (invariant 1)`);
    visible.set(t.name, t.shape);
    earlier.set(t.name, t);
  }
}

function checkFunction(key: string, f: IRFunction, p: Program, report: Report): void {
  const inFn: Report = (m) => report(`function '${f.name}': ${m}`);
  if (key !== f.name) inFn(`is registered under the name '${key}'`);
  const visible: Scope = new Map();
  for (const param of f.params as readonly InputNode[]) {
    if (param.role !== "input") inFn(`parameter '${param.name}' is not an input node`);
    checkNodeHeader(param, inFn);
    if (visible.has(param.name)) inFn(`parameter '${param.name}' is listed twice (invariant 1)`);
    visible.set(param.name, param.shape);
  }
  for (const t of f.tensors) if (t.role !== "def" && t.role !== "call") inFn(`tensor '${t.name}' is a ${t.role}; a function body holds defs and calls only`);
  checkGraph(f.tensors, p, visible, inFn);
  if (!visible.has(f.result)) inFn(`its result '${f.result}' names no tensor of the function`);
}

/** Reports a cycle among the functions (a call chain that reaches its own start). */
function checkCallGraph(p: Program, report: Report): void {
  const state = new Map<string, "open" | "done">();
  const visit = (name: string, path: readonly string[]): void => {
    const s = state.get(name);
    if (s === "done") return;
    if (s === "open") {
      report(`functions call each other recursively: ${[...path, name].join(" -> ")} (invariant 6)`);
      return;
    }
    const f = p.functions[name];
    if (f === undefined) return;
    state.set(name, "open");
    for (const t of f.tensors) if (t.role === "call") visit(t.fn, [...path, name]);
    state.set(name, "done");
  };
  for (const name of Object.keys(p.functions).sort()) visit(name, []);
}

/**
 * Every invariant violation of a program, as readable messages (empty when
 * the program is well-formed). Each message names the tensor (and function)
 * concerned and the invariant number of `types.ts`.
 *
 * @example
 * ```ts
 * verifyProgramErrors(program); // [] for a well-formed program
 * ```
 */
export function verifyProgramErrors(p: Program): string[] {
  const errors: string[] = [];
  const report: Report = (m) => errors.push(m);
  for (const [s, n] of Object.entries(p.sizes)) if (!isExtent(n)) report(`size '${s}' is ${n}, not a positive integer`);
  checkCallGraph(p, report);
  for (const [key, f] of Object.entries(p.functions)) checkFunction(key, f, p, report);
  checkGraph(p.tensors, p, new Map(), report);
  const inputs = new Set(p.tensors.filter((t) => t.role === "input").map((t) => t.name));
  for (const d of p.donated ?? []) if (!inputs.has(d)) report(`donated '${d}' is not a run-time input`);
  return errors;
}

/**
 * Throws an {@link InternalCompilerError} listing every violation when the
 * program breaks an invariant; `stage` says where in the pipeline it ran.
 *
 * @example
 * ```ts
 * verifyProgram(lowered, "after lowering"); // returns, or throws naming the tensor and invariant
 * ```
 */
export function verifyProgram(p: Program, stage?: string): void {
  const errors = verifyProgramErrors(p);
  if (errors.length === 0) return;
  const head = stage === undefined ? "IR invalid" : `IR invalid ${stage}`;
  throw new InternalCompilerError(`${head}:\n  ${errors.join("\n  ")}`);
}

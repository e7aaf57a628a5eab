/**
 * Lowers a definition's right side to an IR expression: names resolved,
 * reduction variables renamed apart, builtins mapped to IR operators, index
 * expressions turned into affine forms. Accesses are recorded for range
 * inference; their indices are filled in by the caller once ranges are known
 * (a right-side group `(c, d)` needs `|d|` to become `c*|d| + d`).
 *
 *     O[i, e] = E[i, j] * V[j, e] / sum(j) E[i, j]
 *     ->  (E[i, j] * V[j, e]) / sum_{j_1} E[i, j_1]      free j summed later by the Einstein rule
 */
import { DiagnosticBag, type Span } from "../diagnostics/diagnostic.js";
import * as ast from "../parser/ast.js";
import * as ir from "../ir/types.js";
import type { AccessUse, DimUse, ReductionOf, VarUse } from "./ranges.js";
import { freshTensorName, lookupTensor, plural, type Graph, type TensorInfo } from "./scope.js";
import { guardFacts } from "./guards.js";
import { evalPositiveSize } from "./sizes.js";
import { unknownFunctionHint } from "./stdlib-index.js";
import { isGradCall, lowerGrad } from "./grad.js";
import { boundVars, renameVars } from "../ir/walk.js";

/**
 * How a builtin lowers: its argument count and IR operator; `clamp` and
 * `softplus` are spelled with other operators (see {@link lowerBuiltin}).
 */
export type Builtin = { readonly arity: number; readonly op: ir.UnaryOp | ir.BinaryOp | "select" | "clamp" | "softplus" };
const UNARY_BUILTINS: readonly ir.UnaryOp[] = ir.UNARY_OPS.filter((op) => op !== "neg");
const BINARY_BUILTINS: readonly ir.BinaryOp[] = ["pow", "min", "max", "atan2"];
/**
 * Elementwise builtins by name: the IR operator and the number of arguments.
 *
 * @example
 * ```ts
 * BUILTINS.get("where"); // { arity: 3, op: "select" }
 * ```
 */
export const BUILTINS: ReadonlyMap<string, Builtin> = new Map<string, Builtin>([
  ...UNARY_BUILTINS.map((op): [string, Builtin] => [op, { arity: 1, op }]),
  ...BINARY_BUILTINS.map((op): [string, Builtin] => [op, { arity: 2, op }]),
  ["where", { arity: 3, op: "select" }],
  ["clamp", { arity: 3, op: "clamp" }],
  ["softplus", { arity: 1, op: "softplus" }],
]);

const BINARY_OPS: Readonly<Record<Exclude<ast.BinaryOpToken, "%" | "&&" | "||">, ir.BinaryOp>> = {
  "+": "add", "-": "sub", "*": "mul", "/": "div", "^": "pow",
  "<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne",
};

const COMPARISONS: ReadonlySet<ir.BinaryOp> = new Set(["lt", "le", "gt", "ge", "eq", "ne"]);

/** Whether an expression is always 0 or 1 (a comparison, or `&&`, `||`, `!` of them). */
function isTruthValue(e: ir.Expr): boolean {
  if (e.kind !== "binary") return false;
  if (COMPARISONS.has(e.op)) return true;
  return (e.op === "mul" || e.op === "max") && isTruthValue(e.lhs) && isTruthValue(e.rhs);
}

/** `e` as 0 or 1: nonzero (NaN included, as in `where`) is 1. */
function truth(e: ir.Expr): ir.Expr {
  return isTruthValue(e) ? e : ir.binary("ne", e, ir.num(0));
}

/**
 * How an index variable divided or taken modulo a constant (`h / 2`,
 * `h % 2`) is lowered: as the group `h = k*q + r` of two IR variables with
 * `r < k` (docs/language.md, "Integer division and modulo of indices").
 */
export interface IndexSplit {
  readonly q: string;
  readonly r: string;
  readonly k: number;
}

/**
 * Everything lowering one definition accumulates (built by lower-def.ts).
 *
 * @example
 * ```ts
 * const state: DefState = { graph, diags, lhs: new Set(["i"]), used: new Set(["i"]), vars: [], occurs: new Set(),
 *   uses: [], pending: new Map(), dtypes: [], shadowedLhs: new Set(), quietLhs: new Set() };
 * ```
 */
export interface DefState {
  readonly graph: Graph;
  readonly diags: DiagnosticBag;
  /** Left-side index names (source names equal IR names there). */
  readonly lhs: ReadonlySet<string>;
  /** IR variable names taken in this def. */
  readonly used: Set<string>;
  /** Every variable of the def, with its source name and first use. */
  readonly vars: VarUse[];
  /** IR variables that occur in an index or as a value. */
  readonly occurs: Set<string>;
  readonly uses: AccessUse[];
  /** Placeholder accesses awaiting their affine indices. */
  readonly pending: Map<ir.Access, AccessUse>;
  readonly dtypes: ir.DType[];
  /** Left indices that an explicit reduction rebinds (`sum(j)` under `Y[i, j]`), for TNS0203's hint. */
  readonly shadowedLhs: Set<string>;
  /** Left indices whose misuse is already reported (in an extent), so TNS0203 stays quiet about them. */
  readonly quietLhs: Set<string>;
  /** Index variables (IR names) split by `/` and `%` into quotient and remainder. */
  readonly splits?: Map<string, IndexSplit>;
  /** Pairs of index variables compared with each other (`j <= i`), for range inference. */
  readonly compared?: [string, string][];
  /** Stack of the `where` conditions enclosing the expression being lowered (then-branches only). */
  readonly guards?: ir.Expr[];
  /** Placeholder gathers awaiting their static indices (see {@link PendingGather}). */
  readonly gathers?: Map<ir.Gather, PendingGather>;
  /** Placeholder reductions that become argmax / argmin once their bodies are filled in, with the copies of their index. */
  readonly argReductions?: Map<ir.Reduce, PendingArg>;
  /** Variables that copy another's range (the extra reductions of an argmax), by name. */
  readonly aliases?: Map<string, string>;
}

/**
 * A gather `X[ids[t], d]` being lowered: its static dimensions go through
 * range inference as an access of the smaller tensor they index (`use`,
 * positions `statics`); its data-dependent ones are already lowered.
 */
export interface PendingGather {
  readonly use: AccessUse;
  readonly statics: readonly number[];
  readonly dynamic: readonly { readonly position: number; readonly value: ir.Expr }[];
}

/** An argmax / argmin reduction being lowered: its operator. */
export interface PendingArg {
  readonly op: "argmax" | "argmin";
}

/**
 * Source name -> IR name of the index variables in scope.
 *
 * @example
 * ```ts
 * const env: Env = new Map([["i", "i"], ["j", "j_1"]]);
 * ```
 */
export type Env = ReadonlyMap<string, string>;

/**
 * The free index variables of an expression (neither sizes, `inf`, tensors
 * nor bound by an enclosing reduction), in order of first appearance.
 *
 * @example
 * ```ts
 * freeVars(parse("Q[i, k] * K[j, k]"), new Set(), graph); // Map { i, k, j } with their spans
 * ```
 */
export function freeVars(e: ast.Expr, bound: ReadonlySet<string>, graph: Graph, out = new Map<string, Span>()): Map<string, Span> {
  switch (e.kind) {
    case "number":
      break;
    case "ident":
      if (!isNonVariable(e.name, graph) && !bound.has(e.name) && !out.has(e.name)) out.set(e.name, e.span);
      break;
    case "access":
      for (const i of e.indices) freeVars(i, bound, graph, out);
      break;
    case "unary":
      freeVars(e.arg, bound, graph, out);
      break;
    case "binary":
      freeVars(e.lhs, bound, graph, out);
      freeVars(e.rhs, bound, graph, out);
      break;
    case "call":
      // `clamp(ids[t])` as a gather index (lowerGather) reads its argument too.
      if (BUILTINS.has(e.callee.name) || (e.callee.name === "clamp" && e.args.length === 1)) for (const a of e.args) freeVars(a, bound, graph, out);
      break;
    case "reduce": {
      const inner = new Set(bound);
      for (const v of e.vars) inner.add(v.name);
      freeVars(e.body, inner, graph, out);
      break;
    }
    case "group":
      for (const i of e.items) freeVars(i, bound, graph, out);
      break;
  }
  return out;
}

/** Whether a bare name means something other than an index variable. */
function isNonVariable(name: string, graph: Graph): boolean {
  return name === "inf" || graph.sizes.has(name) || graph.tensors.has(name) || graph.pending.has(name) || graph.broken.has(name) || graph.fns.has(name);
}

/**
 * Takes an IR name for a variable bound in this def: the source name when
 * free, else `name_1`, `name_2`, ... (alpha-renaming nested reductions and
 * reductions that shadow a left-side index). `stated` is the extent of a
 * bounded index `dy < k`.
 *
 * @example
 * ```ts
 * bindVar(state, { name: "j", span }); // "j", or "j_1" when j is already taken
 * ```
 */
export function bindVar(state: DefState, name: ast.Name, stated?: VarUse["stated"], reduction?: ReductionOf): string {
  let ir = name.name;
  for (let k = 1; state.used.has(ir); k++) ir = `${name.name}_${k}`;
  state.used.add(ir);
  state.vars.push({
    name: ir, display: name.name, span: name.span,
    ...(stated === undefined ? {} : { stated }),
    ...(reduction === undefined ? {} : { reduction }),
  });
  return ir;
}

/**
 * Lowers a value expression; reports problems and returns null on error
 * (after lowering the rest, so one statement can report several errors).
 *
 * @example
 * ```ts
 * lowerValue(parse("exp(S[i, j] - M[i])"), env, state); // unary exp (binary sub ...)
 * ```
 */
export function lowerValue(e: ast.Expr, env: Env, state: DefState): ir.Expr | null {
  const { diags } = state;
  switch (e.kind) {
    case "number":
      return ir.num(e.value);
    case "ident":
      return lowerName(e, env, state);
    case "access":
      return lowerAccess(e, env, state);
    case "unary": {
      const arg = lowerValue(e.arg, env, state);
      if (e.op === "!") return arg === null ? null : ir.binary("eq", truth(arg), ir.num(0));
      // `-inf`, `-1`: a negative constant reads better than neg(const) in every later stage.
      if (arg !== null && arg.kind === "const") return ir.num(-arg.value);
      return arg === null ? null : ir.unary("neg", arg);
    }
    case "binary": {
      const lhs = lowerValue(e.lhs, env, state);
      const rhs = lowerValue(e.rhs, env, state);
      if (lhs === null || rhs === null) return null;
      switch (e.op) {
        case "&&": return ir.binary("mul", truth(lhs), truth(rhs));
        case "||": return ir.binary("max", truth(lhs), truth(rhs));
        // A value modulo: the remainder has the divisor's sign (NumPy's and Python's %).
        case "%": return ir.binary("sub", lhs, ir.binary("mul", rhs, ir.unary("floor", ir.binary("div", lhs, rhs))));
        default: {
          const op = BINARY_OPS[e.op];
          if (COMPARISONS.has(op) && lhs.kind === "index" && rhs.kind === "index") state.compared?.push([lhs.var, rhs.var]);
          return ir.binary(op, lhs, rhs);
        }
      }
    }
    case "call":
      return lowerBuiltin(e, env, state);
    case "reduce":
      return lowerReduce(e, env, state);
    case "group":
      diags.error("TNS0206", "a group (a, b) can only be used as an index", e.span, {
        hint: "groups flatten several indices into one dimension: X[(a, b)]",
      });
      return null;
  }
}

function lowerName(e: ast.Ident, env: Env, state: DefState): ir.Expr | null {
  const { graph, diags } = state;
  const size = graph.sizes.get(e.name);
  // NaN: a size whose declaration failed (already reported).
  if (size !== undefined) return Number.isNaN(size) ? null : ir.num(size);
  if (e.name === "inf") return ir.num(Infinity);
  if (graph.tensors.has(e.name) || graph.pending.has(e.name) || graph.broken.has(e.name)) {
    const t = lookupTensor(graph, e, diags);
    if (t === null) return null;
    if (t.shape.length > 0) {
      diags.error("TNS0109", `tensor '${e.name}' has ${plural(t.shape.length, "dimension")} and needs indices here`, e.span, {
        hint: `index it, e.g. ${e.name}[${t.shape.map((_, k) => "ijklmn"[k] ?? `i${k}`).join(", ")}]`,
      });
      return null;
    }
    return recordAccess(e.name, t.shape, t.dtype, [], e.span, state);
  }
  if (graph.fns.has(e.name)) {
    diags.error("TNS0406", `'${e.name}' is a function; call it and index the result`, e.span, {
      hint: `${e.name}(X)[i, ...]`,
    });
    return null;
  }
  const v = env.get(e.name);
  if (v === undefined) {
    // Only reachable for names the free-variable scan did not see: an internal slip, reported as unknown.
    diags.error("TNS0102", `unknown name '${e.name}'`, e.span);
    return null;
  }
  const split = state.splits?.get(v);
  if (split !== undefined) {
    state.occurs.add(split.q);
    state.occurs.add(split.r);
    return ir.binary("add", ir.binary("mul", ir.num(split.k), ir.indexValue(split.q)), ir.indexValue(split.r));
  }
  state.occurs.add(v);
  return ir.indexValue(v);
}

/** Records an access for range inference and returns its placeholder. */
function recordAccess(
  tensor: string, shape: readonly number[], dtype: ir.DType, dims: DimUse[], span: Span, state: DefState,
  factors?: TensorInfo["factors"],
): ir.Access {
  const placeholder: ir.Access = { kind: "access", tensor, index: [] };
  const guard = state.guards !== undefined && state.guards.length > 0 ? guardFacts(state.guards) : [];
  const use: AccessUse = {
    tensor, shape, dims, span,
    ...(factors !== undefined ? { factors } : {}),
    ...(guard.length > 0 ? { guard } : {}),
  };
  state.uses.push(use);
  state.pending.set(placeholder, use);
  state.dtypes.push(dtype);
  return placeholder;
}

function lowerAccess(e: ast.Access, env: Env, state: DefState): ir.Expr | null {
  const { graph, diags } = state;
  let tensor: { name: string; shape: readonly number[]; dtype: ir.DType; factors?: TensorInfo["factors"] } | null;
  if ("kind" in e.target) {
    tensor = lowerIndexedCall(e.target, state);
  } else {
    const target = e.target;
    tensor = graph.sizes.has(target.name)
      ? (diags.error("TNS0109", `'${target.name}' is a size, not a tensor; it cannot be indexed`, target.span), null)
      : lookupTensor(graph, target, diags);
  }
  if (e.indices.some((i) => isDataIndex(i, state))) return lowerGather(e, tensor, env, state);
  const dims: (DimUse | null)[] = e.indices.map((i) => lowerIndex(i, env, state));
  if (tensor === null || dims.some((d) => d === null)) return null;
  if (dims.length !== tensor.shape.length) {
    diags.error("TNS0201", `${tensor.name} has ${plural(tensor.shape.length, "dimension")} but is indexed with ${plural(dims.length, "index", "indices")}`, e.span, {
      notes: [{ message: `shape of ${tensor.name}: [${tensor.shape.join(", ")}]` }],
    });
    return null;
  }
  return recordAccess(tensor.name, tensor.shape, tensor.dtype, dims as DimUse[], e.span, state, tensor.factors);
}

/**
 * Whether an index expression reads data (a tensor access or an argmax),
 * which makes its access a gather, or is a `clamp(...)` gather index.
 */
function isDataIndex(e: ast.Expr, state: DefState): boolean {
  switch (e.kind) {
    case "access": return true;
    case "ident": return state.graph.tensors.has(e.name) && (state.graph.tensors.get(e.name)!.shape.length === 0);
    case "unary": return isDataIndex(e.arg, state);
    case "binary": return isDataIndex(e.lhs, state) || isDataIndex(e.rhs, state);
    case "reduce": return e.op === "argmax" || e.op === "argmin" || isDataIndex(e.body, state);
    case "call": return (e.callee.name === "clamp" && e.args.length === 1) || (BUILTINS.has(e.callee.name) && e.args.some((a) => isDataIndex(a, state)));
    default: return false;
  }
}

/**
 * Why a data-dependent index is not an integer, or null when it is: it may
 * read i32 tensors, index variables, sizes and integer literals with
 * `+ - * %`, unary minus, `min`/`max`, and argmax / argmin.
 */
function nonIntegerIndex(e: ast.Expr, state: DefState): { span: Span; why: string; hint: string } | null {
  const { graph } = state;
  const i32Hint = "gather indices are integers: read an i32 tensor (declare it `input ids[n]: i32`)";
  switch (e.kind) {
    case "number":
      return e.isInteger ? null : { span: e.span, why: `${e.value} is not an integer`, hint: i32Hint };
    case "ident": {
      const t = graph.tensors.get(e.name);
      if (t !== undefined && t.dtype !== "i32") return { span: e.span, why: `'${e.name}' is ${t.dtype}, not i32`, hint: i32Hint };
      return e.name === "inf" ? { span: e.span, why: "inf is not an integer", hint: i32Hint } : null;
    }
    case "access": {
      const name = "kind" in e.target ? null : e.target.name;
      const t = name === null ? null : graph.tensors.get(name);
      if (name === null || (t !== undefined && t !== null && t.dtype !== "i32")) {
        return { span: e.span, why: `${name === null ? "a function result" : `'${name}'`} is ${t?.dtype ?? "a float tensor"}, not i32`, hint: i32Hint };
      }
      return null;
    }
    case "unary":
      return nonIntegerIndex(e.arg, state);
    case "binary":
      if (e.op !== "+" && e.op !== "-" && e.op !== "*" && e.op !== "%") {
        return { span: e.span, why: `operator '${e.op}' does not keep indices integers`, hint: "use + - * and % on i32 values" };
      }
      return nonIntegerIndex(e.lhs, state) ?? nonIntegerIndex(e.rhs, state);
    case "reduce":
      return e.op === "argmax" || e.op === "argmin" ? null : { span: e.span, why: `a '${e.op}' reduction is not an index`, hint: i32Hint };
    case "call":
      if ((e.callee.name === "min" || e.callee.name === "max") && e.args.length === 2) return nonIntegerIndex(e.args[0]!, state) ?? nonIntegerIndex(e.args[1]!, state);
      return { span: e.span, why: `'${e.callee.name}(...)' is not an integer`, hint: i32Hint };
    case "group":
      return { span: e.span, why: "a group holds plain indices only", hint: "write the data-dependent index on its own: X[ids[t], d]" };
  }
}

/**
 * `Wte[ids[t], d]`: an access with data-dependent indices becomes a gather
 * (docs/language.md, "Gathers"). Each data-dependent index, optionally
 * wrapped in `clamp(...)`, is lowered as a value and must be an integer
 * (TNS0230); the static ones go through range inference as an access of the
 * tensor without the gathered dimensions.
 */
function lowerGather(e: ast.Access, tensor: { name: string; shape: readonly number[]; dtype: ir.DType } | null, env: Env, state: DefState): ir.Expr | null {
  const { diags } = state;
  let ok = tensor !== null;
  let mode: ir.GatherMode = "check";
  const statics: number[] = [];
  const staticDims: DimUse[] = [];
  const dynamic: { position: number; value: ir.Expr }[] = [];
  e.indices.forEach((i, k) => {
    if (!isDataIndex(i, state)) {
      statics.push(k);
      const d = lowerIndex(i, env, state);
      if (d === null) ok = false;
      else staticDims.push(d);
      return;
    }
    let inner = i;
    if (i.kind === "call" && i.callee.name === "clamp" && i.args.length === 1) {
      mode = "clamp";
      inner = i.args[0]!;
    }
    if (inner.kind === "group") {
      diags.error("TNS0231", "a data-dependent index cannot be grouped", inner.span, { hint: "write the data-dependent index on its own: X[ids[t], d]" });
      ok = false;
      return;
    }
    const problem = nonIntegerIndex(inner, state);
    if (problem !== null) {
      diags.error("TNS0230", `a data-dependent index must be an integer: ${problem.why}`, problem.span, { hint: problem.hint });
      ok = false;
    }
    const value = lowerValue(inner, env, state);
    if (value === null) ok = false;
    else dynamic.push({ position: k, value });
  });
  if (!ok || tensor === null) return null;
  if (e.indices.length !== tensor.shape.length) {
    diags.error("TNS0201", `${tensor.name} has ${plural(tensor.shape.length, "dimension")} but is indexed with ${plural(e.indices.length, "index", "indices")}`, e.span, {
      notes: [{ message: `shape of ${tensor.name}: [${tensor.shape.join(", ")}]` }],
    });
    return null;
  }
  const use: AccessUse = { tensor: tensor.name, shape: statics.map((k) => tensor.shape[k]!), dims: staticDims, span: e.span };
  state.uses.push(use);
  state.dtypes.push(tensor.dtype);
  const placeholder: ir.Gather = { kind: "gather", tensor: tensor.name, index: [], mode };
  if (state.gathers === undefined) throw new Error("gathers are not tracked in this definition");
  state.gathers.set(placeholder, { use, statics, dynamic });
  return placeholder;
}

/** `softmax(S)[i, j]`: the call becomes a temporary placed before the def. */
function lowerIndexedCall(call: ast.Call, state: DefState): { name: string; shape: readonly number[]; dtype: ir.DType } | null {
  const { graph, diags } = state;
  if (BUILTINS.has(call.callee.name)) {
    diags.error("TNS0407", `builtin '${call.callee.name}' is elementwise and cannot be indexed`, call.span, {
      hint: `index its argument instead: ${call.callee.name}(X[i])`,
    });
    return null;
  }
  if (isGradCall(call, graph)) return lowerGrad(call, graph, diags, null, false);
  const lowered = graph.lowerCall(call, graph);
  if (lowered === null) return null;
  const name = freshTensorName(graph);
  graph.nodes.push({ role: "call", name, dtype: lowered.dtype, shape: lowered.shape, output: false, fn: lowered.fn, args: lowered.args });
  graph.tensors.set(name, { name, shape: lowered.shape, dtype: lowered.dtype, span: call.span });
  return { name, shape: lowered.shape, dtype: lowered.dtype };
}

function lowerBuiltin(e: ast.Call, env: Env, state: DefState): ir.Expr | null {
  const { graph, diags } = state;
  const name = e.callee.name;
  const builtin = BUILTINS.get(name);
  if (builtin === undefined) {
    if (graph.fns.has(name) || isGradCall(e, graph)) {
      diags.error("TNS0406", `'${name}(...)' is a tensor; index it to use it in an expression`, e.span, {
        hint: `write ${name}(...)[i, ...], or define it whole: T = ${name}(...)`,
      });
    } else if (graph.tensors.has(name) || graph.pending.has(name)) {
      diags.error("TNS0109", `'${name}' is a tensor, not a function`, e.callee.span, { hint: `index it with brackets: ${name}[...]` });
    } else {
      diags.error("TNS0104", `unknown function '${name}'`, e.callee.span, {
        hint: unknownFunctionHint(name, [...BUILTINS.keys(), ...graph.fns.keys()], graph.loader),
      });
    }
    return null;
  }
  // The condition of a where is in view while its then-branch is lowered: it may guard a read there (zero padding).
  const args = builtin.op === "select" && e.args.length === 3
    ? lowerWhereArgs(e.args, env, state)
    : e.args.map((a) => lowerValue(a, env, state));
  if (args.length !== builtin.arity) {
    diags.error("TNS0407", `'${name}' takes ${plural(builtin.arity, "argument")}, got ${args.length}`, e.span);
    return null;
  }
  if (args.some((a) => a === null)) return null;
  const [a, b, c] = args as ir.Expr[];
  if (builtin.op === "select") return ir.select(a!, b!, c!);
  // clamp(x, lo, hi) = min(max(x, lo), hi)
  if (builtin.op === "clamp") return ir.binary("min", ir.binary("max", a!, b!), c!);
  // softplus(x) = log(1 + e^x), written so that it neither overflows nor cancels: max(x, 0) + log1p(e^-|x|)
  if (builtin.op === "softplus") {
    return ir.binary("add", ir.binary("max", a!, ir.num(0)), ir.unary("log1p", ir.unary("exp", ir.unary("neg", ir.unary("abs", a!)))));
  }
  if (builtin.arity === 2) return ir.binary(builtin.op as ir.BinaryOp, a!, b!);
  return ir.unary(builtin.op as ir.UnaryOp, a!);
}

function lowerWhereArgs(args: readonly ast.Expr[], env: Env, state: DefState): (ir.Expr | null)[] {
  const cond = lowerValue(args[0]!, env, state);
  if (cond !== null) state.guards?.push(cond);
  const then = lowerValue(args[1]!, env, state);
  if (cond !== null) state.guards?.pop();
  return [cond, then, lowerValue(args[2]!, env, state)];
}

/**
 * `sum(j) body`: binds each listed index afresh (renamed apart from every
 * other variable of the def, so `Y[i, j] = E[i, j] / sum(j) E[i, j]` sums a
 * local j), with the stated extent of a bounded one (`dy < k`).
 */
function lowerReduce(e: ast.Reduce, env: Env, state: DefState): ir.Expr | null {
  const { graph, diags } = state;
  const inner = new Map(env);
  const vars: string[] = [];
  const seen = new Set<string>();
  // Filled as the indices are bound; shared by all of them for TNS0204's hint.
  const reduction: ReductionOf = { op: e.op, vars, explicit: true };
  let ok = true;
  e.vars.forEach((v, k) => {
    if (seen.has(v.name)) {
      diags.error("TNS0208", `'${e.op}' lists index '${v.name}' twice`, v.span);
      ok = false;
      return;
    }
    seen.add(v.name);
    if (isNonVariable(v.name, graph)) {
      diags.error("TNS0210", `reduction index '${v.name}' has the name of a ${graph.sizes.has(v.name) ? "size" : "tensor or function"}`, v.span);
      ok = false;
      return;
    }
    const extentExpr = e.extents[k] ?? null;
    let stated: VarUse["stated"];
    if (extentExpr !== null) {
      const extent = evalExtent(extentExpr, v.name, e, env, state);
      // Still bound below, so the body reports only its own mistakes.
      if (extent === null) ok = false;
      else stated = { extent, span: extentExpr.span };
    }
    if (state.lhs.has(v.name)) state.shadowedLhs.add(v.name);
    const irName = bindVar(state, v, stated, reduction);
    inner.set(v.name, irName);
    vars.push(irName);
  });
  // `sum(k) X[k / 2]`: a reduction index divided or taken modulo a constant is reduced as its group (k_q, k_r).
  const listed = new Map(e.vars.map((v, k) => [v.name, vars[k]]));
  const splits = ok && state.splits !== undefined ? collectSplits(e.body, new Set(listed.keys()), graph, diags, state.used) : new Map<string, IndexSplit & { span: Span }>();
  if (splits === null) return null;
  for (const [source, sp] of splits) {
    const v = listed.get(source)!;
    const at = state.vars.findIndex((x) => x.name === v);
    const was = state.vars[at]!;
    if (was.stated !== undefined && was.stated.extent % sp.k !== 0) {
      diags.error("TNS0216", `index '${source}' is divided by ${sp.k}, so its extent must be a multiple of ${sp.k}, but it is stated as ${was.stated.extent}`, was.stated.span, {
        hint: `state an extent that ${sp.k} divides`,
      });
      return null;
    }
    const q = was.stated !== undefined ? { stated: { extent: was.stated.extent / sp.k, span: was.stated.span } } : {};
    state.vars.splice(at, 1,
      { name: sp.q, display: `${source} / ${sp.k}`, span: was.span, bounded: true, reduction, ...q },
      { name: sp.r, display: `${source} % ${sp.k}`, span: was.span, reduction, stated: { extent: sp.k, span: sp.span } });
    state.splits!.set(v, { q: sp.q, r: sp.r, k: sp.k });
    vars.splice(vars.indexOf(v), 1, sp.q, sp.r);
  }
  const body = lowerValue(e.body, inner, state);
  if (!ok || body === null || vars.length === 0) return null;
  if (e.op === "topk") {
    diags.error("TNS0233", "topk gives two results, values and indices, and is a whole definition", e.span, {
      hint: "write V[i, r], I[i, r] = topk(r < 4, j) X[i, j]",
    });
    return null;
  }
  if (e.op === "argmax" || e.op === "argmin") {
    if (vars.length !== 1) {
      diags.error("TNS0233", `'${e.op}' takes exactly one index, got ${vars.length}`, e.span, {
        hint: `${e.op} over one index gives its position: ${e.op}(j) X[i, j]; flatten several with a group`,
      });
      return null;
    }
    // A placeholder `min` reduction: it becomes the argmax once its body is filled in (lower-def.ts).
    const placeholder = ir.reduce("min", vars, body);
    state.argReductions?.set(placeholder, { op: e.op });
    return placeholder;
  }
  return ir.reduce(e.op, vars, body);
}

/**
 * A variable name not yet taken in this def, reserved, with the range of
 * `of` (an alias: the copies of an argmax's index and of its body's own
 * reduction variables).
 *
 * @example
 * ```ts
 * aliasVar(state, "j"); // "j_1" when j is taken
 * ```
 */
export function aliasVar(state: DefState, of: string): string {
  let name = of;
  for (let k = 1; state.used.has(name); k++) name = `${of}_${k}`;
  state.used.add(name);
  state.aliases?.set(name, state.aliases.get(of) ?? of);
  return name;
}

/**
 * `argmax(j) b` (`argmin`) in the IR's terms: the smallest `j` whose value
 * is the maximum (minimum) of the non-NaN values, or, when some value is
 * NaN, the smallest `j` holding NaN (NumPy's rule). `fresh(v)` names a
 * new variable of `v`'s range: each of the two inner reductions reads a
 * copy of the body with `j` and the body's own reduction variables renamed:
 *
 *     min(j) where(where(max(j2) b[j2] != b[j2], b[j] != b[j], b[j] == max(j1) where(b[j1] != b[j1], -inf, b[j1])), j, |j|)
 *
 * Three passes over `j`, all built from comparisons, so the tie and NaN
 * rules hold exactly on every backend and the gradient is zero.
 *
 * @example
 * ```ts
 * argExtreme("argmax", "j", 8, (v) => `${v}_1`, access("X", ["i", "j"]));
 * ```
 */
export function argExtreme(op: "argmax" | "argmin", v: string, extent: number, fresh: (v: string) => string, body: ir.Expr): ir.Expr {
  const copy = (): { v: string; body: ir.Expr } => {
    const map = new Map([v, ...boundVars(body)].map((x) => [x, fresh(x)]));
    return { v: map.get(v)!, body: renameVars(body, map) };
  };
  const isNan = (x: ir.Expr): ir.Expr => ir.binary("ne", x, x);
  const c1 = copy();
  const c2 = copy();
  const extreme = ir.reduce(op === "argmax" ? "max" : "min", [c1.v], ir.select(isNan(c1.body), ir.num(op === "argmax" ? -Infinity : Infinity), c1.body));
  const anyNan = ir.reduce("max", [c2.v], isNan(c2.body));
  const wins = ir.select(anyNan, isNan(body), ir.binary("eq", body, extreme));
  // `extent` (past the last index, never the minimum) for the losers: an integer, so an i32 def can hold every part.
  return ir.reduce("min", [v], ir.select(wins, ir.indexValue(v), ir.num(extent)));
}

/** The value each reduction ignores, for masking hints. */
const NEUTRAL: Readonly<Record<ast.ReduceOpToken, string>> = { sum: "0", prod: "1", max: "-inf", min: "inf", argmax: "-inf", argmin: "inf", topk: "-inf" };

/**
 * The value of a bounded index's extent `dy < k`: a size expression that
 * must be a positive integer (TNS0302). An index variable in it is reported
 * as such, since a range depending on another index is not a box.
 */
function evalExtent(expr: ast.Expr, name: string, e: ast.Reduce, env: Env, state: DefState): number | null {
  const { graph, diags } = state;
  const index = firstIndexName(expr, (n) => !graph.sizes.has(n) && (env.has(n) || e.vars.some((v) => v.name === n)));
  if (index !== null) {
    state.quietLhs.add(index.name);
    diags.error("TNS0302", `the extent of '${name}' must be a size expression, but it uses the index '${index.name}'`, index.span, {
      hint: `ranges are fixed boxes; for a range that depends on '${index.name}', mask the body: ${e.op}(${name}) where(${name} < ${index.name}, body, ${NEUTRAL[e.op]})`,
    });
    return null;
  }
  return evalPositiveSize(expr, graph.sizes, diags, `the extent of '${name}'`);
}

/** The first identifier in `e` that `isIndex` accepts, or null. */
function firstIndexName(e: ast.Expr, isIndex: (name: string) => boolean): ast.Ident | null {
  switch (e.kind) {
    case "ident":
      return isIndex(e.name) ? e : null;
    case "unary":
      return firstIndexName(e.arg, isIndex);
    case "binary":
      return firstIndexName(e.lhs, isIndex) ?? firstIndexName(e.rhs, isIndex);
    default:
      return null;
  }
}

/**
 * Lowers one index of an access: an affine form, or a group of plain
 * variables. Reports TNS0206 for anything else.
 *
 * @example
 * ```ts
 * lowerIndex(parse("2*y + dy"), env, state); // { kind: "affine", affine: dy + 2*y }
 * ```
 */
export function lowerIndex(e: ast.Expr, env: Env, state: DefState): DimUse | null {
  if (e.kind === "group") {
    const vars: string[] = [];
    for (const whole of e.items) {
      // `(h < Hh, e)`: a member may state its extent.
      const bounded = whole.kind === "binary" && whole.op === "<" ? whole : null;
      const item = bounded !== null ? bounded.lhs : whole;
      const v = item.kind === "ident" && !isNonVariable(item.name, state.graph) ? env.get(item.name) : undefined;
      if (v === undefined || state.splits?.has(v)) {
        state.diags.error("TNS0206", "only plain index variables can be grouped", item.span, {
          hint: "write the group as (a, b) with index names only, optionally with an extent: (h < H, e)",
        });
        return null;
      }
      if (bounded !== null && !stateExtent(v, bounded.rhs, state)) return null;
      state.occurs.add(v);
      vars.push(v);
    }
    if (new Set(vars).size !== vars.length) {
      state.diags.error("TNS0206", "a group cannot repeat an index", e.span);
      return null;
    }
    return { kind: "group", vars, span: e.span };
  }
  const a = toAffine(e, env, state);
  return a === null ? null : { kind: "affine", affine: ir.affine(a.terms, a.constant), span: e.span };
}

/**
 * States the extent of index `v` from a size expression (`h < Hh` in a
 * group); TNS0217 when it was stated differently before. False on error.
 */
function stateExtent(v: string, expr: ast.Expr, state: DefState): boolean {
  const extent = evalPositiveSize(expr, state.graph.sizes, state.diags, `the extent of '${v}'`);
  if (extent === null) return false;
  const k = state.vars.findIndex((x) => x.name === v);
  if (k < 0) return false;
  const had = state.vars[k]!;
  if (had.stated !== undefined && had.stated.extent !== extent) {
    state.diags.error("TNS0217", `index '${had.display}' is stated to have extent ${extent} here but ${had.stated.extent} before`, expr.span, {
      notes: [{ message: `extent ${had.stated.extent} stated here`, span: had.stated.span }],
      hint: "state an index's extent once, or the same everywhere",
    });
    return false;
  }
  state.vars[k] = { ...had, stated: { extent, span: expr.span } };
  return true;
}

type Linear = { terms: ir.AffineTerm[]; constant: number };

function notAffine(e: ast.Expr, why: string, state: DefState): null {
  state.diags.error("TNS0206", `index expression is not affine: ${why}`, e.span, {
    hint: "indices are sums of index variables times integers, plus an integer (2*y + dy, n - 1 - i)",
  });
  return null;
}

function scale(a: Linear, k: number): Linear {
  return { terms: a.terms.map((t) => ({ var: t.var, coef: t.coef * k })), constant: a.constant * k };
}

function toAffine(e: ast.Expr, env: Env, state: DefState): Linear | null {
  const { graph } = state;
  switch (e.kind) {
    case "number":
      return e.isInteger ? { terms: [], constant: e.value } : notAffine(e, `${e.value} is not an integer`, state);
    case "ident": {
      const size = graph.sizes.get(e.name);
      if (size !== undefined) return Number.isNaN(size) ? null : { terms: [], constant: size };
      const v = isNonVariable(e.name, graph) ? undefined : env.get(e.name);
      if (v === undefined) return notAffine(e, `'${e.name}' is not an index variable or a size`, state);
      const split = state.splits?.get(v);
      if (split !== undefined) {
        state.occurs.add(split.q);
        state.occurs.add(split.r);
        return { terms: [{ var: split.q, coef: split.k }, { var: split.r, coef: 1 }], constant: 0 };
      }
      state.occurs.add(v);
      return { terms: [{ var: v, coef: 1 }], constant: 0 };
    }
    case "unary": {
      const a = toAffine(e.arg, env, state);
      return a === null ? null : scale(a, -1);
    }
    case "binary": {
      if ((e.op === "/" || e.op === "%") && e.lhs.kind === "ident") {
        const v = isNonVariable(e.lhs.name, graph) ? undefined : env.get(e.lhs.name);
        const split = v === undefined ? undefined : state.splits?.get(v);
        if (split !== undefined) {
          const part = e.op === "/" ? split.q : split.r;
          state.occurs.add(part);
          return { terms: [{ var: part, coef: 1 }], constant: 0 };
        }
      }
      if (e.op === "%") {
        return notAffine(e, "'%' applies to an index variable and a constant only (h % 2)", state);
      }
      if (!["+", "-", "*", "/"].includes(e.op)) return notAffine(e, `operator '${e.op}' is not allowed in an index`, state);
      const a = toAffine(e.lhs, env, state);
      const b = toAffine(e.rhs, env, state);
      if (a === null || b === null) return null;
      if (e.op === "+") return { terms: [...a.terms, ...b.terms], constant: a.constant + b.constant };
      if (e.op === "-") return { terms: [...a.terms, ...scale(b, -1).terms], constant: a.constant - b.constant };
      if (e.op === "*") {
        if (a.terms.length === 0) return scale(b, a.constant);
        if (b.terms.length === 0) return scale(a, b.constant);
        return notAffine(e, "a product of two index variables", state);
      }
      const k = b.constant;
      if (b.terms.length > 0 || k === 0 || a.constant % k !== 0 || a.terms.some((t) => t.coef % k !== 0)) {
        return notAffine(e, "division must be of an index variable by a positive constant (h / 2), or divide every coefficient exactly", state);
      }
      return { terms: a.terms.map((t) => ({ var: t.var, coef: t.coef / k })), constant: a.constant / k };
    }
    case "call":
      return notAffine(e, `a call of '${e.callee.name}'`, state);
    case "access":
      return notAffine(e, "a tensor access (indices cannot be data-dependent)", state);
    case "reduce":
      return notAffine(e, "a reduction", state);
    case "group":
      return notAffine(e, "a group nested inside an index expression", state);
  }
}

/**
 * The index variables divided or taken modulo a constant inside an index
 * (`X[h / 2] * M[h % 2]`): each becomes two IR variables, quotient and
 * remainder. Only left-side and implicitly summed indices can be split;
 * every `/` and `%` of one index must use the same constant. Reports
 * TNS0214-TNS0216; null on error.
 */
export function collectSplits(
  rhs: ast.Expr, splittable: ReadonlySet<string>, graph: Graph, diags: DiagnosticBag, used: Set<string>,
): Map<string, IndexSplit & { span: Span }> | null {
  const found = new Map<string, { k: number; span: Span }>();
  let ok = true;
  const inIndex = (e: ast.Expr, bound: ReadonlySet<string>): void => {
    if (e.kind === "binary" && (e.op === "/" || e.op === "%") && e.lhs.kind === "ident" && splittable.has(e.lhs.name) && !bound.has(e.lhs.name)) {
      const name = e.lhs.name;
      const quiet = new DiagnosticBag();
      const k = constantOf(e.rhs, graph, quiet);
      if (k === null) {
        // `i / n` with n an index: not a constant.
        diags.error("TNS0214", `'${e.op}' of index '${name}' needs a constant on the right`, e.rhs.span, {
          hint: `divide an index by an integer or a size, e.g. ${name} ${e.op} 2`,
        });
        ok = false;
        return;
      }
      if (k <= 0) {
        diags.error("TNS0215", `'${e.op}' of index '${name}' by ${k}`, e.rhs.span, {
          hint: `an index can only be divided or taken modulo a positive integer, e.g. ${name} ${e.op} 2`,
        });
        ok = false;
        return;
      }
      if (k === 1 && e.op === "/") return;
      const had = found.get(name);
      if (had !== undefined && had.k !== k) {
        diags.error("TNS0216", `index '${name}' is divided by both ${had.k} and ${k}`, e.rhs.span, {
          notes: [{ message: `divided by ${had.k} here`, span: had.span }],
          hint: `one index is split into quotient and remainder by one number; use a second index for the other split`,
        });
        ok = false;
        return;
      }
      found.set(name, { k, span: e.rhs.span });
      return;
    }
    walk(e, bound, true);
  };
  const walk = (e: ast.Expr, bound: ReadonlySet<string>, index: boolean): void => {
    switch (e.kind) {
      case "access":
        if ("kind" in e.target) walk(e.target, bound, false);
        for (const i of e.indices) inIndex(i, bound);
        return;
      case "unary": return index ? inIndex(e.arg, bound) : walk(e.arg, bound, false);
      case "binary":
        if (index) {
          inIndex(e.lhs, bound);
          inIndex(e.rhs, bound);
        } else {
          walk(e.lhs, bound, false);
          walk(e.rhs, bound, false);
        }
        return;
      case "group": for (const i of e.items) inIndex(i, bound); return;
      case "call": for (const a of e.args) walk(a, bound, false); return;
      case "reduce": {
        const inner = new Set(bound);
        for (const v of e.vars) inner.add(v.name);
        walk(e.body, inner, false);
        return;
      }
      default: return;
    }
  };
  walk(rhs, new Set(), false);
  if (!ok) return null;
  const out = new Map<string, IndexSplit & { span: Span }>();
  const fresh = (base: string): string => {
    let n = base;
    for (let k = 1; used.has(n); k++) n = `${base}_${k}`;
    used.add(n);
    return n;
  };
  for (const [name, { k, span }] of found) out.set(name, { q: fresh(`${name}_q`), r: fresh(`${name}_r`), k, span });
  return out;
}

/** The value of a constant divisor (an integer or a size expression), or null. */
function constantOf(e: ast.Expr, graph: Graph, diags: DiagnosticBag): number | null {
  if (e.kind === "number") return e.isInteger ? e.value : null;
  if (e.kind === "unary" && e.op === "-") {
    const v = constantOf(e.arg, graph, diags);
    return v === null ? null : -v;
  }
  if (firstIndexName(e, (n) => !graph.sizes.has(n)) !== null) return null;
  const quiet = new DiagnosticBag();
  if (e.kind === "ident" || e.kind === "binary") {
    const v = evalPositiveSize(e, graph.sizes, quiet, "divisor");
    if (v !== null) return v;
    // Zero or negative: evaluated without the positivity check.
    return e.kind === "ident" ? graph.sizes.get(e.name) ?? null : null;
  }
  return null;
}


/**
 * JavaScript text for kernel expressions and offsets. Offsets are split so
 * the part that does not change in the innermost loop is computed once per
 * iteration of the loop that binds it:
 *
 *     before: A[8*i + k]        (inside for i { for k { ... } })
 *     after:  const o0 = 8 * i;  (at the top of the i loop)
 *             A[o0 + k]
 */
import type { Affine, BinaryOp, UnaryOp } from "../../ir/types.js";
import { affine } from "../../ir/types.js";
import type { KExpr, KGather } from "../kernel/types.js";
import { jsName } from "./names.js";

/** A loop being emitted: its variable and the offset bases hoisted to its top. */
export interface EmitScope {
  readonly var: string | null;
  readonly prelude: string[];
  readonly memo: Map<string, string>;
}

/** Shared state while emitting one kernel function. */
export interface EmitState {
  /** Enclosing scopes, outermost (the function body) first. */
  readonly scopes: EmitScope[];
  /** Helper functions the module must define (`relu`, `sigmoid`). */
  readonly helpers: Set<string>;
  offsetCounter: number;
}

/** A number literal; negative numbers and non-finite values are spelled so they parse in any position. */
export function jsNumber(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "(-Infinity)";
  if (Object.is(x, -0)) return "(-0)";
  return x < 0 ? `(${x})` : String(x);
}

/** An affine form as a JavaScript integer expression, e.g. `8 * i + k - 1`. */
export function jsAffine(a: Affine): string {
  const parts: string[] = [];
  for (const t of a.terms) {
    const mag = Math.abs(t.coef) === 1 ? jsName(t.var) : `${Math.abs(t.coef)} * ${jsName(t.var)}`;
    parts.push(parts.length === 0 ? (t.coef < 0 ? `-${mag}` : mag) : `${t.coef < 0 ? "-" : "+"} ${mag}`);
  }
  if (a.constant !== 0 || parts.length === 0) {
    parts.push(parts.length === 0 ? String(a.constant) : `${a.constant < 0 ? "-" : "+"} ${Math.abs(a.constant)}`);
  }
  return parts.join(" ");
}

/** The offset expression, hoisting its outer-loop part into the scope that binds it. */
export function jsOffset(a: Affine, st: EmitState): string {
  const depthOf = (v: string): number => st.scopes.findIndex((s) => s.var === v);
  let inner = -1;
  for (const t of a.terms) inner = Math.max(inner, depthOf(t.var));
  const innerVar = inner >= 0 ? st.scopes[inner]!.var! : null;
  const base = affine(a.terms.filter((t) => t.var !== innerVar), a.constant);
  if (base.terms.length === 0) return jsAffine(a);
  let target = 0;
  for (const t of base.terms) target = Math.max(target, depthOf(t.var));
  const scope = st.scopes[target]!;
  const key = jsAffine(base);
  let name = scope.memo.get(key);
  if (name === undefined) {
    name = `o${st.offsetCounter++}`;
    scope.memo.set(key, name);
    scope.prelude.push(`const ${name} = ${key};`);
  }
  const rest = affine(a.terms.filter((t) => t.var === innerVar), 0);
  return rest.terms.length === 0 ? name : `${name} + ${jsAffine(rest)}`;
}

function jsUnary(op: UnaryOp, x: string, st: EmitState): string {
  switch (op) {
    case "neg": return `(-${x})`;
    case "exp": return `Math.exp(${x})`;
    case "log": return `Math.log(${x})`;
    case "sqrt": return `Math.sqrt(${x})`;
    case "rsqrt": return `(1 / Math.sqrt(${x}))`;
    case "tanh": return `Math.tanh(${x})`;
    case "abs": return `Math.abs(${x})`;
    case "sigmoid": st.helpers.add("sigmoid"); return `sigmoid(${x})`;
    case "relu": st.helpers.add("relu"); return `relu(${x})`;
    case "sin": return `Math.sin(${x})`;
    case "cos": return `Math.cos(${x})`;
    case "tan": return `Math.tan(${x})`;
    case "atan": return `Math.atan(${x})`;
    case "log1p": return `Math.log1p(${x})`;
    case "expm1": return `Math.expm1(${x})`;
    case "floor": return `Math.floor(${x})`;
    case "ceil": return `Math.ceil(${x})`;
    case "erf": st.helpers.add("erf"); return `erf(${x})`;
    case "sign": st.helpers.add("sign"); return `sign(${x})`;
    case "round": st.helpers.add("round"); return `round(${x})`;
  }
}

const INFIX: Partial<Record<BinaryOp, string>> = { add: "+", sub: "-", mul: "*", div: "/" };
const COMPARE: Partial<Record<BinaryOp, string>> = { lt: "<", le: "<=", gt: ">", ge: ">=", eq: "===", ne: "!==" };

function jsBinary(op: BinaryOp, a: string, b: string): string {
  const infix = INFIX[op];
  if (infix) return `(${a} ${infix} ${b})`;
  const cmp = COMPARE[op];
  if (cmp) return `(${a} ${cmp} ${b} ? 1 : 0)`;
  switch (op) {
    case "pow": return `Math.pow(${a}, ${b})`;
    case "min": return `Math.min(${a}, ${b})`;
    case "max": return `Math.max(${a}, ${b})`;
    case "atan2": return `Math.atan2(${a}, ${b})`;
    default: return `(${a} ${op} ${b})`;
  }
}

/** A gather: the static offset plus each dynamic index, checked or clamped by a helper. */
function jsGather(e: KGather, offset: string, expr: (x: KExpr) => string, helpers: Set<string>): string {
  const parts = [offset];
  for (const d of e.dims) {
    const v = unwrap(expr(d.value));
    let index: string;
    if (e.mode === "clamp") {
      helpers.add("gatherClamp");
      index = `gatherClamp(${v}, ${d.extent})`;
    } else {
      helpers.add("gatherCheck");
      index = `gatherCheck(${v}, ${d.extent}, ${JSON.stringify(d.site.tensor)}, ${d.site.dim}, ${JSON.stringify(d.site.reader)})`;
    }
    parts.push(d.stride === 1 ? index : `${d.stride} * ${index}`);
  }
  return `${jsName(e.buffer)}[${parts.join(" + ")}]`;
}

/** Strips one pair of outer parentheses for a statement's right-hand side. */
export function unwrap(s: string): string {
  if (!s.startsWith("(") || !s.endsWith(")")) return s;
  let depth = 0;
  for (let k = 0; k < s.length; k++) {
    if (s[k] === "(") depth++;
    else if (s[k] === ")") depth--;
    if (depth === 0 && k < s.length - 1) return s;
  }
  return s.slice(1, -1);
}

/**
 * A kernel expression as JavaScript.
 *
 * @example
 * ```ts
 * jsExpr({ kind: "binary", op: "mul", lhs: { kind: "local", name: "t0" }, rhs: { kind: "const", value: 2 } }, st);
 * // "(t0 * 2)"
 * ```
 */
export function jsExpr(e: KExpr, st: EmitState): string {
  switch (e.kind) {
    case "const": return jsNumber(e.value);
    case "index": return jsName(e.var);
    case "local": return e.name;
    case "load": {
      const read = `${jsName(e.buffer)}[${jsOffset(e.offset, st)}]`;
      if (!e.guard) return read;
      // A padding read: 0 outside the tensor, without touching the array.
      const inside = e.guard.map((g) => { const a = jsAffine(g.index); return `${a} >= 0 && ${a} < ${g.size}`; }).join(" && ");
      return `(${inside} ? ${read} : 0)`;
    }
    case "gather": return jsGather(e, jsOffset(e.offset, st), (x) => jsExpr(x, st), st.helpers);
    case "unary": return jsUnary(e.op, jsExpr(e.arg, st), st);
    case "binary": return jsBinary(e.op, jsExpr(e.lhs, st), jsExpr(e.rhs, st));
    case "select": {
      // A comparison is already 1 or 0 (never NaN), so it can be the condition as it is.
      const cmp = e.cond.kind === "binary" ? COMPARE[e.cond.op] : undefined;
      const cond = cmp && e.cond.kind === "binary"
        ? `${jsExpr(e.cond.lhs, st)} ${cmp} ${jsExpr(e.cond.rhs, st)}`
        : `${jsExpr(e.cond, st)} !== 0`;
      return `(${cond} ? ${jsExpr(e.then, st)} : ${jsExpr(e.else, st)})`;
    }
  }
}

/** An affine form with each variable spelled by `text` (a variable or an expression in parentheses). */
function jsAffineWith(a: Affine, text: (v: string) => string): string {
  const parts = a.terms.map((t) => (t.coef === 1 ? text(t.var) : `${jsNumber(t.coef)} * ${text(t.var)}`));
  if (a.constant !== 0 || parts.length === 0) parts.push(String(a.constant));
  return parts.join(" + ");
}

/**
 * A kernel expression as JavaScript with index variables and locals spelled
 * by the caller, for code that binds them itself (the epilogue of a
 * register-blocked contraction, where the row is `i0 + 2`). Offsets are
 * written out whole, not hoisted.
 *
 * @example
 * ```ts
 * jsExprWith(relu(b[j] + acc), { index: (v) => (v === "j" ? "(j0 + 1)" : v), local: () => "s01" }, helpers);
 * // "relu((b[(j0 + 1)] + s01))"
 * ```
 */
export function jsExprWith(e: KExpr, spell: { index(v: string): string; local(name: string): string }, helpers: Set<string>): string {
  const st: EmitState = { scopes: [], helpers, offsetCounter: 0 };
  const go = (x: KExpr): string => jsExprWith(x, spell, helpers);
  switch (e.kind) {
    case "const": return jsNumber(e.value);
    case "index": return spell.index(e.var);
    case "local": return spell.local(e.name);
    case "load": return `${jsName(e.buffer)}[${jsAffineWith(e.offset, spell.index)}]`;
    case "gather": return jsGather(e, jsAffineWith(e.offset, spell.index), go, helpers);
    case "unary": return jsUnary(e.op, go(e.arg), st);
    case "binary": return jsBinary(e.op, go(e.lhs), go(e.rhs));
    case "select": return `(${go(e.cond)} !== 0 ? ${go(e.then)} : ${go(e.else)})`;
  }
}

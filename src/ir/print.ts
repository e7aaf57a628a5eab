/**
 * The IR's text form: readable, deterministic and line-oriented, for golden
 * tests and `tns explain`. `parse-text.ts` reads it back exactly.
 *
 *     sizes d=8, n=4
 *     input Q: f32[4, 8]
 *     weight W: f32[8, 8] (data)
 *     S: f32[4, 4] = [i:4, j:4] sum(k:8) Q[i, k] * W[j, k] / 2.8284271247461903
 *     output P: f32[4, 4] = call softmax_1(S)
 *
 * Expressions use the surface language's precedence with the fewest
 * parentheses that keep the parse unique. Two spellings keep negative
 * constants apart from negation: `-2` is the constant, `-(2)` negates the
 * constant 2. Numbers print in JavaScript's shortest round-trip form, so
 * they parse back to the identical double (`inf`, `-inf`, `nan`, `-0`).
 */
import type { Affine, BinaryOp, DefNode, Expr, InputNode, IRFunction, Program, TensorNode } from "./types.js";
import { affine } from "./types.js";
import { boundVars } from "./walk.js";

/**
 * Infix spelling of the binary operators written between their operands
 * (the others print as functions: `pow(a, b)`, `min(a, b)`, `max(a, b)`).
 *
 * @example
 * ```ts
 * INFIX.le; // "<="
 * ```
 */
export const INFIX: Partial<Record<BinaryOp, string>> = {
  add: "+", sub: "-", mul: "*", div: "/",
  lt: "<", le: "<=", gt: ">", ge: ">=", eq: "==", ne: "!=",
};

/** Precedence levels, loosest first; a sub-expression below its slot's level is parenthesized. */
const Level = { Top: 0, Comparison: 1, Additive: 2, Multiplicative: 3, Unary: 4, Primary: 5 } as const;
type Level = (typeof Level)[keyof typeof Level];

/**
 * A number as text that parses back to the identical double.
 *
 * @example
 * ```ts
 * formatNumber(0.1); // "0.1"
 * formatNumber(-Infinity); // "-inf"
 * formatNumber(-0); // "-0"
 * ```
 */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return "nan";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  if (Object.is(v, -0)) return "-0";
  return String(v);
}

/**
 * An affine index as text, terms in canonical (name) order.
 *
 * @example
 * ```ts
 * printAffine(affine([{ var: "y", coef: 2 }, { var: "dy", coef: 1 }], -1)); // "dy + 2*y - 1"
 * ```
 */
export function printAffine(a: Affine): string {
  let s = "";
  a.terms.forEach((t, k) => {
    const mag = Math.abs(t.coef);
    const term = mag === 1 ? t.var : `${mag}*${t.var}`;
    if (k === 0) s = t.coef < 0 ? `-${term}` : term;
    else s += t.coef < 0 ? ` - ${term}` : ` + ${term}`;
  });
  if (a.terms.length === 0) return String(a.constant);
  if (a.constant > 0) s += ` + ${a.constant}`;
  if (a.constant < 0) s += ` - ${-a.constant}`;
  return s;
}

function negateAffine(a: Affine): Affine {
  return affine(a.terms.map((t) => ({ var: t.var, coef: -t.coef })), -a.constant);
}

function levelOf(e: Expr): Level {
  switch (e.kind) {
    case "const":
      return e.value < 0 || Object.is(e.value, -0) ? Level.Unary : Level.Primary;
    case "unary":
      return e.op === "neg" ? Level.Unary : Level.Primary;
    case "binary":
      if (e.op === "add" || e.op === "sub") return Level.Additive;
      if (e.op === "mul" || e.op === "div") return Level.Multiplicative;
      return INFIX[e.op] !== undefined ? Level.Comparison : Level.Primary;
    case "reduce":
      return Level.Multiplicative;
    default:
      return Level.Primary;
  }
}

/**
 * An expression as text. `ranges` supplies the extents printed after
 * reduction variables (`sum(k:8)`); without it they are left out.
 *
 * @example
 * ```ts
 * printExpr(binary("mul", binary("add", access("A", ["i"]), num(1)), num(2))); // "(A[i] + 1) * 2"
 * ```
 */
export function printExpr(e: Expr, ranges?: Readonly<Record<string, number>>): string {
  // `closed` means a `*` or `/` follows in the same product: a reduction
  // there would swallow it into its body, so it needs parentheses.
  const fmt = (x: Expr, min: Level, closed: boolean): string => {
    if (levelOf(x) < min || (closed && x.kind === "reduce")) return `(${raw(x, false)})`;
    return raw(x, closed);
  };
  const raw = (x: Expr, closed: boolean): string => {
    switch (x.kind) {
      case "const":
        return formatNumber(x.value);
      case "index":
        return x.var;
      case "access":
        // A padding read (guarded access) is marked `?`: X?[y + dy - 1].
        return `${x.tensor}${x.guarded ? "?" : ""}[${x.index.map(printAffine).join(", ")}]`;
      case "gather": {
        const dims = x.index.map((d) => {
          if (d.value === null) return printAffine(d.affine);
          const value = `{${printExpr(d.value, ranges)}}`;
          if (d.affine.terms.length === 0 && d.affine.constant === 0) return value;
          const text = printAffine(d.affine);
          return text.startsWith("-") ? `${value} - ${printAffine(negateAffine(d.affine))}` : `${value} + ${text}`;
        });
        return `${x.tensor}[${dims.join(", ")}${x.mode === "check" ? "" : `; ${x.mode}`}]`;
      }
      case "unary":
        if (x.op !== "neg") return `${x.op}(${fmt(x.arg, Level.Top, false)})`;
        return x.arg.kind === "const" ? `-(${formatNumber(x.arg.value)})` : `-${fmt(x.arg, Level.Primary, false)}`;
      case "binary": {
        const sym = INFIX[x.op];
        if (sym === undefined) return `${x.op}(${fmt(x.lhs, Level.Top, false)}, ${fmt(x.rhs, Level.Top, false)})`;
        if (x.op === "add" || x.op === "sub") return `${fmt(x.lhs, Level.Additive, false)} ${sym} ${fmt(x.rhs, Level.Multiplicative, closed)}`;
        if (x.op === "mul" || x.op === "div") {
          const rhsMin = x.rhs.kind === "reduce" ? Level.Multiplicative : Level.Unary;
          return `${fmt(x.lhs, Level.Multiplicative, true)} ${sym} ${fmt(x.rhs, rhsMin, closed)}`;
        }
        return `${fmt(x.lhs, Level.Additive, false)} ${sym} ${fmt(x.rhs, Level.Additive, closed)}`;
      }
      case "select":
        return `where(${fmt(x.cond, Level.Top, false)}, ${fmt(x.then, Level.Top, false)}, ${fmt(x.else, Level.Top, false)})`;
      case "reduce": {
        const vars = x.vars.map((v) => (ranges === undefined ? v : `${v}:${ranges[v] ?? "?"}`)).join(", ");
        return `${x.op}(${vars}) ${fmt(x.body, Level.Multiplicative, false)}`;
      }
    }
  };
  return fmt(e, Level.Top, false);
}

function shapeText(t: { dtype: string; shape: readonly number[] }): string {
  return `${t.dtype}[${t.shape.join(", ")}]`;
}

/** `[i:4, (a:3, b:4)]`, plus `; t:3` for range entries no variable of the def uses. */
function indexListText(d: DefNode): string {
  const ext = (v: string): string => `${v}:${d.ranges[v] ?? "?"}`;
  const parts: string[] = [];
  let k = 0;
  for (const g of d.groups) {
    const vars = d.indices.slice(k, k + g);
    k += g;
    parts.push(g === 1 && vars.length === 1 ? ext(vars[0]!) : `(${vars.map(ext).join(", ")})`);
  }
  for (; k < d.indices.length; k++) parts.push(ext(d.indices[k]!));
  const used = new Set([...d.indices, ...boundVars(d.body)]);
  const extra = Object.keys(d.ranges).filter((v) => !used.has(v)).sort();
  const tail = extra.length > 0 ? `; ${extra.map(ext).join(", ")}` : "";
  return `[${parts.join(", ")}${tail}]`;
}

function paramText(p: InputNode): string {
  return `${p.output ? "output " : ""}${p.name}: ${shapeText(p)}`;
}

/** A def's index-set splitting, `split(y: 1, 55; x: 1, 55) `, or nothing. */
function splitText(t: DefNode): string {
  if (t.split === undefined) return "";
  return `split(${t.split.map((s) => `${s.var}: ${s.cuts.join(", ")}`).join("; ")}) `;
}

/**
 * One tensor node as one line.
 *
 * @example
 * ```ts
 * printNode({ role: "input", name: "Q", dtype: "f32", shape: [4, 8], output: false }); // "input Q: f32[4, 8]"
 * ```
 */
export function printNode(t: TensorNode): string {
  const out = t.output ? "output " : "";
  switch (t.role) {
    case "input":
      return `${out}input ${t.name}: ${shapeText(t)}`;
    case "weight":
      return `${out}weight ${t.name}: ${shapeText(t)}${t.data ? " (data)" : ""}`;
    case "def":
      return `${out}${t.name}: ${shapeText(t)} = ${t.recurrence === undefined ? "" : `recur(${t.recurrence}) `}${t.scatter === undefined ? "" : `scatter(${t.scatter.index}${t.scatter.mode === "check" ? "" : `; ${t.scatter.mode}`}) `}${t.resumed ? "resume " : ""}${splitText(t)}${indexListText(t)} ${printExpr(t.body, t.ranges)}`;
    case "call":
      return `${out}${t.name}: ${shapeText(t)} = call ${t.fn}(${t.args.join(", ")})`;
    case "grad":
      return `${out}${t.name}: ${shapeText(t)} = grad(${t.loss}, ${t.wrt})`;
  }
}

/**
 * A function as a header line, its nodes indented, and a closing brace.
 *
 * @example
 * ```ts
 * printFunction(fn); // "fn f(X: f32[4]) -> Y {\n  Y: f32[4] = [i:4] exp(X[i])\n}"
 * ```
 */
export function printFunction(f: IRFunction): string {
  const lines = [`fn ${f.name}(${f.params.map(paramText).join(", ")}) -> ${f.result} {`];
  for (const t of f.tensors) lines.push(`  ${printNode(t)}`);
  lines.push("}");
  return lines.join("\n");
}

/** Function names with every callee before its callers, otherwise by name. */
function functionOrder(p: Program): string[] {
  const order: string[] = [];
  const state = new Map<string, "open" | "done">();
  const visit = (name: string): void => {
    const f = p.functions[name];
    if (f === undefined || state.has(name)) return;
    state.set(name, "open");
    for (const t of f.tensors) if (t.role === "call") visit(t.fn);
    state.set(name, "done");
    order.push(name);
  };
  for (const name of Object.keys(p.functions).sort()) visit(name);
  return order;
}

/**
 * The whole program: the `sizes` line (if any), the functions (callees
 * first), then the tensors in order, one per line, with a final newline.
 *
 * @example
 * ```ts
 * printProgram(program);
 * // sizes n=4
 * // input A: f32[4]
 * // output B: f32[4] = [i:4] exp(A[i])
 * ```
 */
export function printProgram(p: Program): string {
  const lines: string[] = [];
  const sizes = Object.keys(p.sizes).sort();
  if (sizes.length > 0) lines.push(`sizes ${sizes.map((s) => `${s}=${p.sizes[s]}`).join(", ")}`);
  for (const name of functionOrder(p)) lines.push(printFunction(p.functions[name]!));
  for (const t of p.tensors) lines.push(printNode(t));
  return lines.join("\n") + "\n";
}

/**
 * IR back to tns source text, so that random IR programs (`arbProgram`) can
 * drive the whole pipeline: source → parser → checker → passes → backend.
 *
 * Before (IR, as `printProgram` shows it):
 *
 *     input A: f32[4, 3]
 *     output T0: f32[2, 3] = [i:2, j:3] sum(k:3) A[i + k, j] * i
 *
 * After (`pin: false`; the checker cannot infer i or k from `A[i + k, j]`):
 *
 *     input A[4, 3]
 *     output T0[i, j] = (sum(k) ((A[(i + k), j] * i)))
 *
 * After (pinned, the default; `_pin` is all zeros):
 *
 *     input _pin[2]
 *     input A[4, 3]
 *     output T0[i, j] = ((sum(k < 3) ((A[(i + k), j] * i))) + _pin[i])
 *
 * The surface language states few extents: it infers them from how indices
 * are used (docs/language.md, "range inference"). A bare use `A[.., v, ..]`
 * fixes `v` to that dimension; an affine use gives the largest in-bounds
 * extent, which may be larger than the IR's. With `pin: true` (the default)
 * every extent is stated: a reduction index as a bounded index
 * `sum(k < 3)`, and a left-side index without a bare use of exactly its
 * extent by adding a read of an all-zero input declared for that purpose:
 * `body + _pin[v + (L - r)]` infers `v` to `r` and adds 0. Tests supply the
 * zero input with {@link sourceInputs}. A program whose plain use of a
 * left-side index covers a *larger* dimension than the index's extent has
 * no faithful source (a bare use of an unbounded index takes the whole
 * dimension); {@link unrepresentable} says so, and {@link programToSource}
 * throws. With `pin: false` the source states nothing and relies on
 * inference alone, which may fail or infer other extents.
 *
 * Expressions are parenthesized in full: the point is an unambiguous text,
 * not a pretty one.
 */
import type { Affine, DefNode, Expr, Program, TensorNode } from "../../src/ir/types.js";
import { Tensor, arrayTypeOf } from "../../src/runtime/tensor.js";

/** Name of the all-zero input that pins extents. */
export const PIN_INPUT = "_pin";

/** Options of {@link programToSource}. */
export interface ToSourceOptions {
  /** State every extent: bounded reduction indices, pinned left-side indices (default true). Without, the source relies on range inference alone. */
  readonly pin?: boolean;
}

/** Words that cannot name an index variable or a tensor in source text. */
const RESERVED = new Set([
  "size", "input", "weight", "output", "fn", "import", "from", "sum", "prod", "max", "min", "inf",
  "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "relu", "abs", "pow", "where", "f32", "f64", "i32",
]);

/** Shapes of a program's tensors by name. */
type Shapes = ReadonlyMap<string, readonly number[]>;

function shapesOf(p: Program): Shapes {
  return new Map(p.tensors.map((t) => [t.name, t.shape]));
}

/**
 * Why `p` has no faithful tns source, or null when it has one. Reasons:
 * a call node (inline first), a name the surface reserves, or a plain
 * access `X[.., v, ..]` of a left-side index `v` whose dimension differs
 * from `v`'s extent.
 *
 * @example
 * ```ts
 * fc.property(arbProgram({ calls: false }), (p) => { fc.pre(unrepresentable(p) === null); ... });
 * ```
 */
export function unrepresentable(p: Program): string | null {
  if (Object.keys(p.functions).length > 0) return "program has functions (inline calls first)";
  const shapes = shapesOf(p);
  for (const t of p.tensors) {
    if (t.role === "call") return `call node '${t.name}' (inline calls first)`;
    if (RESERVED.has(t.name) || t.name === PIN_INPUT) return `tensor name '${t.name}' is reserved`;
    if (t.role !== "def") {
      if (t.output) return `${t.role} '${t.name}' is an output`;
      continue;
    }
    for (const v of Object.keys(t.ranges)) {
      if (RESERVED.has(v) || shapes.has(v) || v === PIN_INPUT) return `${t.name}: index '${v}' has a reserved or tensor name`;
    }
    for (const [v, dim] of plainUses(t.body, shapes)) {
      if (t.indices.includes(v) && dim !== t.ranges[v]) return `${t.name}: '${v}' (extent ${t.ranges[v]}) is used bare on a dimension of size ${dim}`;
    }
  }
  return null;
}

/**
 * The program as tns source text (see the module comment). Sizes are
 * written as literals; weights are declared, and their data must be given
 * to `compile` (see {@link sourceWeights}).
 *
 * @example
 * ```ts
 * const flat = inlineAllCalls(program);
 * const compiled = compile(programToSource(flat), { weights: sourceWeights(flat) });
 * compiled.run(sourceInputs(flat, randomInputs(flat, 1)));
 * ```
 */
export function programToSource(p: Program, options: ToSourceOptions = {}): string {
  const why = unrepresentable(p);
  if (why !== null) throw new Error(`program has no tns source: ${why}`);
  const shapes = shapesOf(p);
  const pin = options.pin ?? true;
  const pinLength = pin ? pinExtent(p, shapes) : 0;
  const lines: string[] = [];
  if (pinLength > 0) lines.push(`input ${PIN_INPUT}[${pinLength}]`);
  for (const t of p.tensors) lines.push(nodeText(t, shapes, pin ? pinLength : null));
  return lines.join("\n") + "\n";
}

/**
 * The inputs to run the source of `p` with: `inputs` plus the all-zero pin
 * input when the source declares one (same `options` as the source).
 *
 * @example
 * ```ts
 * compiled.run(sourceInputs(program, randomInputs(program, 7)));
 * ```
 */
export function sourceInputs(p: Program, inputs: Readonly<Record<string, Tensor>>, options: ToSourceOptions = {}): Record<string, Tensor> {
  const n = (options.pin ?? true) ? pinExtent(p, shapesOf(p)) : 0;
  return n > 0 ? { ...inputs, [PIN_INPUT]: new Tensor("f32", [n], new Float32Array(n)) } : { ...inputs };
}

/**
 * The data of every weight of `p` that has data, as tensors for
 * `compile(text, { weights })`.
 *
 * @example
 * ```ts
 * compile(programToSource(p), { weights: sourceWeights(p) });
 * ```
 */
export function sourceWeights(p: Program): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const t of p.tensors) {
    if (t.role === "weight" && t.data !== null) out[t.name] = new Tensor(t.dtype, t.shape, arrayTypeOf(t.dtype).from(t.data));
  }
  return out;
}

/** Length of the pin input: the largest extent that needs pinning, or 0 when none does. */
function pinExtent(p: Program, shapes: Shapes): number {
  let n = 0;
  for (const t of p.tensors) {
    if (t.role !== "def") continue;
    for (const v of needsPin(t, shapes)) n = Math.max(n, t.ranges[v]!);
  }
  return n;
}

/** The left-side indices of a def that no bare use pins to their extent (reduction indices are bounded instead). */
function needsPin(d: DefNode, shapes: Shapes): Set<string> {
  const bare = new Set(plainUses(d.body, shapes).filter(([v, dim]) => d.ranges[v] === dim).map(([v]) => v));
  return new Set(d.indices.filter((v) => !bare.has(v)));
}

/** Every plain access index `X[.., v, ..]` in `e`, as [variable, dimension size]. */
function plainUses(e: Expr, shapes: Shapes, out: [string, number][] = []): [string, number][] {
  switch (e.kind) {
    case "access":
      e.index.forEach((a, k) => {
        if (a.constant === 0 && a.terms.length === 1 && a.terms[0]!.coef === 1) out.push([a.terms[0]!.var, shapes.get(e.tensor)![k]!]);
      });
      break;
    case "unary":
      plainUses(e.arg, shapes, out);
      break;
    case "binary":
      plainUses(e.lhs, shapes, out);
      plainUses(e.rhs, shapes, out);
      break;
    case "select":
      plainUses(e.cond, shapes, out);
      plainUses(e.then, shapes, out);
      plainUses(e.else, shapes, out);
      break;
    case "reduce":
      plainUses(e.body, shapes, out);
      break;
    case "const":
    case "index":
      break;
  }
  return out;
}

/** `[3, 4]: f64`, `[5]`, `` (a scalar f32). */
function declText(t: TensorNode): string {
  const dims = t.shape.length > 0 ? `[${t.shape.join(", ")}]` : "";
  return t.dtype === "f32" ? dims : `${dims}: ${t.dtype}`;
}

/** One node as a statement; `pinLength` is null when extents are left to inference. */
function nodeText(t: TensorNode, shapes: Shapes, pinLength: number | null): string {
  switch (t.role) {
    case "input":
    case "weight":
      return `${t.role} ${t.name}${declText(t)}`;
    case "call":
      throw new Error(`call node '${t.name}' has no source form`);
    case "grad":
      return `${t.output ? "output " : ""}${t.name} = grad(${t.loss}, ${t.wrt})`;
    case "def": {
      const pins = pinLength === null ? [] : [...needsPin(t, shapes)];
      const reads = pins.map((v) => `${PIN_INPUT}[${affineText({ terms: [{ var: v, coef: 1 }], constant: pinLength! - t.ranges[v]! })}]`);
      const body = exprText(t.body, pinLength === null ? null : t.ranges);
      const rhs = reads.length === 0 ? body : `(${[body, ...reads].join(" + ")})`;
      const lhs = t.indices.length > 0 ? `[${slotsText(t)}]` : "";
      return `${t.output ? "output " : ""}${t.name}${lhs} = ${rhs}`;
    }
  }
}

/** The left side's slots: `i, (a, b), c`. */
function slotsText(d: DefNode): string {
  const parts: string[] = [];
  let k = 0;
  for (const g of d.groups) {
    const vars = d.indices.slice(k, k + g);
    k += g;
    parts.push(g === 1 ? vars[0]! : `(${vars.join(", ")})`);
  }
  return parts.join(", ");
}

/** `2*i + k - 1`, parenthesized. */
function affineText(a: Affine): string {
  const parts: string[] = [];
  for (const t of a.terms) {
    const mag = Math.abs(t.coef);
    const term = mag === 1 ? t.var : `${mag}*${t.var}`;
    parts.push(parts.length === 0 ? (t.coef < 0 ? `-${term}` : term) : t.coef < 0 ? `- ${term}` : `+ ${term}`);
  }
  if (parts.length === 0) return String(a.constant);
  if (a.constant !== 0) parts.push(a.constant < 0 ? `- ${-a.constant}` : `+ ${a.constant}`);
  return parts.length === 1 ? parts[0]! : `(${parts.join(" ")})`;
}

function numberText(v: number): string {
  if (Number.isNaN(v)) return "(inf - inf)";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "(-inf)";
  if (v < 0 || Object.is(v, -0)) return `(-${numberText(-v)})`;
  return String(v);
}

const INFIX: Readonly<Record<string, string>> = {
  add: "+", sub: "-", mul: "*", div: "/", lt: "<", le: "<=", gt: ">", ge: ">=", eq: "==", ne: "!=",
};

/**
 * An expression as fully parenthesized source. With `ranges`, reduction
 * indices state their extents (`sum(k < 3)`).
 */
function exprText(e: Expr, ranges: Readonly<Record<string, number>> | null): string {
  const go = (x: Expr): string => exprText(x, ranges);
  switch (e.kind) {
    case "const":
      return numberText(e.value);
    case "index":
      return e.var;
    case "access":
      return e.index.length === 0 ? e.tensor : `${e.tensor}[${e.index.map(affineText).join(", ")}]`;
    case "gather": {
      const dims = e.index.map((d) => {
        if (d.value === null) return affineText(d.affine);
        const text = `${go(d.value)} + ${affineText(d.affine)}`;
        return e.mode === "clamp" ? `clamp(${text})` : text;
      });
      return `${e.tensor}[${dims.join(", ")}]`;
    }
    case "unary":
      return e.op === "neg" ? `(-${go(e.arg)})` : `${e.op}(${go(e.arg)})`;
    case "binary": {
      const sym = INFIX[e.op];
      // `max(a, b)` is wrapped so that nothing can follow it as a reduction body.
      return sym === undefined ? `(${e.op}(${go(e.lhs)}, ${go(e.rhs)}))` : `(${go(e.lhs)} ${sym} ${go(e.rhs)})`;
    }
    case "select":
      return `where(${go(e.cond)}, ${go(e.then)}, ${go(e.else)})`;
    case "reduce":
      return `(${e.op}(${e.vars.map((v) => (ranges === null ? v : `${v} < ${ranges[v]}`)).join(", ")}) (${go(e.body)}))`;
  }
}

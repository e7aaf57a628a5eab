/**
 * Generic traversals of IR expressions: rebuild, visit, free variables,
 * substitution, renaming, structural equality and hashing. Passes (CSE,
 * inlining, constant folding) are written on top of these so that none of
 * them re-implements the recursion over the seven expression kinds.
 *
 * Every function here is pure and returns the input object itself when
 * nothing changed, so callers can detect "unchanged" with `===`.
 */
import { InternalCompilerError } from "../diagnostics/diagnostic.js";
import type { Affine, Expr, Gather, TensorNode } from "./types.js";
import { affine, binary, indexValue, num, unary } from "./types.js";

/**
 * A name-to-value mapping given either as a `Map` or as a plain record.
 *
 * @example
 * ```ts
 * const m: NameMap<string> = { X: "S" }; // or new Map([["X", "S"]])
 * ```
 */
export type NameMap<T> = ReadonlyMap<string, T> | Readonly<Record<string, T>>;

function lookup<T>(map: NameMap<T>, key: string): T | undefined {
  if (map instanceof Map) return map.get(key);
  const rec = map as Readonly<Record<string, T>>;
  return Object.prototype.hasOwnProperty.call(rec, key) ? rec[key] : undefined;
}

/**
 * The direct sub-expressions of `e`, in evaluation order.
 *
 * @example
 * ```ts
 * children(binary("add", num(1), num(2))); // [num(1), num(2)]
 * ```
 */
export function children(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case "const":
    case "index":
    case "access":
      return [];
    case "gather":
      return gatherValues(e);
    case "unary":
      return [e.arg];
    case "binary":
      return [e.lhs, e.rhs];
    case "select":
      return [e.cond, e.then, e.else];
    case "reduce":
      return [e.body];
  }
}

/**
 * Rebuilds `e` bottom-up: children first, then `f` on the node with its new
 * children. Returns `e` itself when `f` changes nothing.
 *
 * @example
 * ```ts
 * // Replace every constant 2 by 3.
 * mapExpr(binary("mul", num(2), access("A", ["i"])), (x) => (x.kind === "const" && x.value === 2 ? num(3) : x));
 * ```
 */
export function mapExpr(e: Expr, f: (e: Expr) => Expr): Expr {
  let rebuilt: Expr = e;
  switch (e.kind) {
    case "unary": {
      const arg = mapExpr(e.arg, f);
      if (arg !== e.arg) rebuilt = { ...e, arg };
      break;
    }
    case "binary": {
      const lhs = mapExpr(e.lhs, f);
      const rhs = mapExpr(e.rhs, f);
      if (lhs !== e.lhs || rhs !== e.rhs) rebuilt = { ...e, lhs, rhs };
      break;
    }
    case "select": {
      const cond = mapExpr(e.cond, f);
      const then = mapExpr(e.then, f);
      const otherwise = mapExpr(e.else, f);
      if (cond !== e.cond || then !== e.then || otherwise !== e.else) rebuilt = { ...e, cond, then, else: otherwise };
      break;
    }
    case "reduce": {
      const body = mapExpr(e.body, f);
      if (body !== e.body) rebuilt = { ...e, body };
      break;
    }
    case "gather": {
      const index = e.index.map((d) => {
        if (d.value === null) return d;
        const value = mapExpr(d.value, f);
        return value === d.value ? d : { ...d, value };
      });
      if (index.some((d, k) => d !== e.index[k])) rebuilt = { ...e, index };
      break;
    }
    default:
      break;
  }
  return f(rebuilt);
}

/**
 * Visits `e` top-down (pre-order). `f` gets each node and the variables bound
 * by the reductions enclosing it; returning `false` skips the node's children.
 *
 * @example
 * ```ts
 * let accesses = 0;
 * visitExpr(def.body, (x) => { if (x.kind === "access") accesses++; });
 * ```
 */
export function visitExpr(e: Expr, f: (e: Expr, bound: ReadonlySet<string>) => boolean | void, bound: ReadonlySet<string> = new Set()): void {
  if (f(e, bound) === false) return;
  const inner = e.kind === "reduce" ? new Set([...bound, ...e.vars]) : bound;
  for (const c of children(e)) visitExpr(c, f, inner);
}

/**
 * The index variables `e` uses (in affine indices or as values) that no
 * reduction inside `e` binds, in first-use order.
 *
 * @example
 * ```ts
 * freeVars(reduce("sum", ["k"], binary("mul", access("A", ["i", "k"]), access("B", ["k", "j"])))); // Set { "i", "j" }
 * ```
 */
export function freeVars(e: Expr): Set<string> {
  const out = new Set<string>();
  visitExpr(e, (x, bound) => {
    if (x.kind === "index" && !bound.has(x.var)) out.add(x.var);
    if (x.kind === "access") for (const a of x.index) for (const t of a.terms) if (!bound.has(t.var)) out.add(t.var);
    if (x.kind === "gather") for (const d of x.index) for (const t of d.affine.terms) if (!bound.has(t.var)) out.add(t.var);
  });
  return out;
}

/**
 * The data-dependent index expressions of a gather, in dimension order.
 *
 * @example
 * ```ts
 * gatherValues(gather("Wte", [{ affine: affine([]), value: access("ids", ["t"]) }, "d"])); // [ids[t]]
 * ```
 */
export function gatherValues(g: Gather): Expr[] {
  const out: Expr[] = [];
  for (const d of g.index) if (d.value !== null) out.push(d.value);
  return out;
}

/**
 * A gather with `f` applied to each of its data-dependent index expressions
 * (the gather itself when nothing changed).
 *
 * @example
 * ```ts
 * mapGatherValues(g, canonicalizeExpr);
 * ```
 */
export function mapGatherValues(g: Gather, f: (e: Expr) => Expr): Gather {
  const index = g.index.map((d) => {
    if (d.value === null) return d;
    const value = f(d.value);
    return value === d.value ? d : { ...d, value };
  });
  return index.every((d, k) => d === g.index[k]) ? g : { ...g, index };
}

/**
 * The names of the tensors `e` reads through a gather (`Wte` of `Wte[ids[t], d]`).
 * Passes that rewrite affine reads of a tensor leave a gathered one alone.
 *
 * @example
 * ```ts
 * gatheredTensors(gather("Wte", [{ affine: affine([]), value: access("ids", ["t"]) }, "d"])); // Set { "Wte" }
 * ```
 */
export function gatheredTensors(e: Expr): Set<string> {
  const out = new Set<string>();
  visitExpr(e, (x) => {
    if (x.kind === "gather") out.add(x.tensor);
  });
  return out;
}

/**
 * The names of the tensors `e` reads, in first-access order.
 *
 * @example
 * ```ts
 * accessedTensors(binary("add", access("A", ["i"]), access("B", ["i"]))); // Set { "A", "B" }
 * ```
 */
export function accessedTensors(e: Expr): Set<string> {
  const out = new Set<string>();
  visitExpr(e, (x) => {
    if (x.kind === "access" || x.kind === "gather") out.add(x.tensor);
  });
  return out;
}

/**
 * Every variable bound by a reduction in `e`, outermost first.
 *
 * @example
 * ```ts
 * boundVars(reduce("sum", ["k"], access("A", ["k"]))); // ["k"]
 * ```
 */
export function boundVars(e: Expr): string[] {
  const out: string[] = [];
  visitExpr(e, (x) => {
    if (x.kind === "reduce") out.push(...x.vars);
  });
  return out;
}

/**
 * Substitutes affine forms for variables in one affine form (result canonical).
 *
 * @example
 * ```ts
 * substituteAffine(affine([{ var: "i", coef: 2 }], 1), new Map([["i", affine([{ var: "y", coef: 1 }], 3)]])); // 2*y + 7
 * ```
 */
export function substituteAffine(a: Affine, map: NameMap<Affine>): Affine {
  if (!a.terms.some((t) => lookup(map, t.var) !== undefined)) return a;
  const terms: { var: string; coef: number }[] = [];
  let constant = a.constant;
  for (const t of a.terms) {
    const r = lookup(map, t.var);
    if (r === undefined) {
      terms.push(t);
      continue;
    }
    constant += t.coef * r.constant;
    for (const u of r.terms) terms.push({ var: u.var, coef: t.coef * u.coef });
  }
  return affine(terms, constant);
}

/**
 * The expression computing an affine form's value with constants and
 * `add`/`sub`/`mul` (used when an index value is substituted).
 *
 * @example
 * ```ts
 * affineToExpr(affine([{ var: "y", coef: 2 }], -1)); // binary("sub", binary("mul", num(2), indexValue("y")), num(1))
 * ```
 */
export function affineToExpr(a: Affine): Expr {
  if (a.terms.length === 0) return num(a.constant);
  const term = (coef: number, v: string): Expr => (coef === 1 ? indexValue(v) : binary("mul", num(coef), indexValue(v)));
  const first = a.terms[0]!;
  let acc: Expr = first.coef === -1 ? unary("neg", indexValue(first.var)) : term(first.coef, first.var);
  for (const t of a.terms.slice(1)) acc = t.coef > 0 ? binary("add", acc, term(t.coef, t.var)) : binary("sub", acc, term(-t.coef, t.var));
  if (a.constant > 0) acc = binary("add", acc, num(a.constant));
  if (a.constant < 0) acc = binary("sub", acc, num(-a.constant));
  return acc;
}

/**
 * Replaces free variables by affine forms: affine indices are composed and
 * index values become arithmetic. Variables bound by an inner reduction are
 * left alone (they shadow); a replacement that would be captured by an inner
 * reduction is an internal error (rename the reduction first).
 *
 * @example
 * ```ts
 * // X[y + dy] with y := 2*y → X[dy + 2*y]
 * substituteVars(access("X", [affine([{ var: "y", coef: 1 }, { var: "dy", coef: 1 }])]), { y: affine([{ var: "y", coef: 2 }]) });
 * ```
 */
export function substituteVars(e: Expr, map: NameMap<Affine>): Expr {
  return substituteUnder(e, map, new Set());
}

function substituteUnder(e: Expr, map: NameMap<Affine>, bound: ReadonlySet<string>): Expr {
  const live = (v: string): Affine | undefined => (bound.has(v) ? undefined : lookup(map, v));
  switch (e.kind) {
    case "const":
      return e;
    case "index": {
      const r = live(e.var);
      if (r === undefined) return e;
      checkCapture(e.var, r, bound);
      return affineToExpr(r);
    }
    case "access": {
      let changed = false;
      const index = e.index.map((a) => {
        const sub = new Map<string, Affine>();
        for (const t of a.terms) {
          const r = live(t.var);
          if (r !== undefined) {
            checkCapture(t.var, r, bound);
            sub.set(t.var, r);
          }
        }
        if (sub.size === 0) return a;
        changed = true;
        return substituteAffine(a, sub);
      });
      return changed ? { ...e, index } : e;
    }
    case "reduce": {
      const body = substituteUnder(e.body, map, new Set([...bound, ...e.vars]));
      return body === e.body ? e : { ...e, body };
    }
    case "gather": {
      const index = e.index.map((d) => {
        const sub = new Map<string, Affine>();
        for (const t of d.affine.terms) {
          const r = live(t.var);
          if (r !== undefined) {
            checkCapture(t.var, r, bound);
            sub.set(t.var, r);
          }
        }
        const a = sub.size === 0 ? d.affine : substituteAffine(d.affine, sub);
        const value = d.value === null ? null : substituteUnder(d.value, map, bound);
        return a === d.affine && value === d.value ? d : { affine: a, value };
      });
      return index.every((d, k) => d === e.index[k]) ? e : { ...e, index };
    }
    case "unary": {
      const arg = substituteUnder(e.arg, map, bound);
      return arg === e.arg ? e : { ...e, arg };
    }
    case "binary": {
      const lhs = substituteUnder(e.lhs, map, bound);
      const rhs = substituteUnder(e.rhs, map, bound);
      return lhs === e.lhs && rhs === e.rhs ? e : { ...e, lhs, rhs };
    }
    case "select": {
      const cond = substituteUnder(e.cond, map, bound);
      const then = substituteUnder(e.then, map, bound);
      const otherwise = substituteUnder(e.else, map, bound);
      return cond === e.cond && then === e.then && otherwise === e.else ? e : { ...e, cond, then, else: otherwise };
    }
  }
}

function checkCapture(v: string, r: Affine, bound: ReadonlySet<string>): void {
  for (const t of r.terms) {
    if (bound.has(t.var)) throw new InternalCompilerError(`substituting for '${v}' would capture '${t.var}', bound by an inner reduction`);
  }
}

/**
 * Renames index variables everywhere, bound ones included (alpha-renaming).
 * The caller keeps the new names distinct from the remaining ones.
 *
 * @example
 * ```ts
 * renameVars(reduce("sum", ["k"], access("A", ["i", "k"])), { k: "k_1" }); // sum(k_1) A[i, k_1]
 * ```
 */
export function renameVars(e: Expr, map: NameMap<string>): Expr {
  const rn = (v: string): string => lookup(map, v) ?? v;
  const renameAffine = (a: Affine): Affine =>
    a.terms.some((t) => rn(t.var) !== t.var) ? affine(a.terms.map((t) => ({ var: rn(t.var), coef: t.coef })), a.constant) : a;
  return mapExpr(e, (x) => {
    switch (x.kind) {
      case "index":
        return rn(x.var) === x.var ? x : { ...x, var: rn(x.var) };
      case "access": {
        const index = x.index.map(renameAffine);
        return index.every((a, k) => a === x.index[k]) ? x : { ...x, index };
      }
      case "gather": {
        const index = x.index.map((d) => (renameAffine(d.affine) === d.affine ? d : { ...d, affine: renameAffine(d.affine) }));
        return index.every((d, k) => d === x.index[k]) ? x : { ...x, index };
      }
      case "reduce":
        return x.vars.every((v) => rn(v) === v) ? x : { ...x, vars: x.vars.map(rn) };
      default:
        return x;
    }
  });
}

/**
 * Renames the tensors an expression reads, or the tensors a node reads and
 * the node itself.
 *
 * @example
 * ```ts
 * renameTensors(access("X", ["i"]), new Map([["X", "S"]])); // S[i]
 * ```
 */
export function renameTensors(e: Expr, map: NameMap<string>): Expr;
export function renameTensors(node: TensorNode, map: NameMap<string>): TensorNode;
export function renameTensors(x: Expr | TensorNode, map: NameMap<string>): Expr | TensorNode {
  const rn = (n: string): string => lookup(map, n) ?? n;
  if ("role" in x) {
    const name = rn(x.name);
    switch (x.role) {
      case "def": {
        const body = renameTensors(x.body, map);
        return name === x.name && body === x.body ? x : { ...x, name, body };
      }
      case "call": {
        const args = x.args.map(rn);
        return name === x.name && args.every((a, k) => a === x.args[k]) ? x : { ...x, name, args };
      }
      case "grad": {
        const loss = rn(x.loss);
        const wrt = rn(x.wrt);
        return name === x.name && loss === x.loss && wrt === x.wrt ? x : { ...x, name, loss, wrt };
      }
      default:
        return name === x.name ? x : { ...x, name };
    }
  }
  return mapExpr(x, (y) => ((y.kind === "access" || y.kind === "gather") && rn(y.tensor) !== y.tensor ? { ...y, tensor: rn(y.tensor) } : y));
}

/**
 * Whether two affine forms are identical (both canonical).
 *
 * @example
 * ```ts
 * affineEquals(affine([{ var: "i", coef: 1 }]), affineVar("i")); // true
 * ```
 */
export function affineEquals(a: Affine, b: Affine): boolean {
  if (a.constant !== b.constant || a.terms.length !== b.terms.length) return false;
  return a.terms.every((t, k) => t.var === b.terms[k]!.var && t.coef === b.terms[k]!.coef);
}

/**
 * Structural equality of expressions (constants compared with `Object.is`,
 * so `NaN` equals `NaN` and `0` differs from `-0`). Bound variable names
 * matter: `sum(k) A[k]` and `sum(l) A[l]` differ.
 *
 * @example
 * ```ts
 * exprEquals(access("A", ["i"]), access("A", ["i"])); // true
 * ```
 */
export function exprEquals(a: Expr, b: Expr): boolean {
  if (a === b) return true;
  switch (a.kind) {
    case "const":
      return b.kind === "const" && Object.is(a.value, b.value);
    case "index":
      return b.kind === "index" && a.var === b.var;
    case "access":
      return b.kind === "access" && a.tensor === b.tensor && a.guarded === b.guarded && a.index.length === b.index.length && a.index.every((x, k) => affineEquals(x, b.index[k]!));
    case "gather":
      return b.kind === "gather" && a.tensor === b.tensor && a.mode === b.mode && a.index.length === b.index.length && a.index.every((x, k) => {
        const y = b.index[k]!;
        return affineEquals(x.affine, y.affine) && (x.value === null ? y.value === null : y.value !== null && exprEquals(x.value, y.value));
      });
    case "unary":
      return b.kind === "unary" && a.op === b.op && exprEquals(a.arg, b.arg);
    case "binary":
      return b.kind === "binary" && a.op === b.op && exprEquals(a.lhs, b.lhs) && exprEquals(a.rhs, b.rhs);
    case "select":
      return b.kind === "select" && exprEquals(a.cond, b.cond) && exprEquals(a.then, b.then) && exprEquals(a.else, b.else);
    case "reduce":
      return b.kind === "reduce" && a.op === b.op && a.vars.length === b.vars.length && a.vars.every((v, k) => v === b.vars[k]) && exprEquals(a.body, b.body);
  }
}

/**
 * A compact key of an affine form; equal keys mean equal forms.
 *
 * @example
 * ```ts
 * affineKey(affine([{ var: "y", coef: 2 }], -1)); // "2y-1"
 * ```
 */
export function affineKey(a: Affine): string {
  let s = "";
  for (const t of a.terms) s += `${t.coef >= 0 ? "+" : ""}${t.coef}${t.var}`;
  return `${s}${a.constant >= 0 ? "+" : ""}${a.constant}`.replace(/^\+/, "");
}

/**
 * A structural key of an expression: `exprKey(a) === exprKey(b)` exactly when
 * `exprEquals(a, b)`. Handy as a `Map` key for CSE.
 *
 * @example
 * ```ts
 * exprKey(binary("add", access("A", ["i"]), num(1))); // "(add A[1i+0] 1)"
 * ```
 */
export function exprKey(e: Expr): string {
  switch (e.kind) {
    case "const":
      return Object.is(e.value, -0) ? "-0" : String(e.value);
    case "index":
      return `$${e.var}`;
    case "access":
      return `${e.guarded ? "?" : ""}${e.tensor}[${e.index.map(affineKey).join(",")}]`;
    case "gather":
      return `${e.tensor}@${e.mode}[${e.index.map((d) => (d.value === null ? affineKey(d.affine) : `${affineKey(d.affine)}+${exprKey(d.value)}`)).join(",")}]`;
    case "unary":
      return `(${e.op} ${exprKey(e.arg)})`;
    case "binary":
      return `(${e.op} ${exprKey(e.lhs)} ${exprKey(e.rhs)})`;
    case "select":
      return `(where ${exprKey(e.cond)} ${exprKey(e.then)} ${exprKey(e.else)})`;
    case "reduce":
      return `(${e.op}{${e.vars.join(",")}} ${exprKey(e.body)})`;
  }
}

/**
 * A 32-bit structural hash (FNV-1a of {@link exprKey}); equal expressions hash equally.
 *
 * @example
 * ```ts
 * exprHash(num(1)) === exprHash(num(1)); // true
 * ```
 */
export function exprHash(e: Expr): number {
  const key = exprKey(e);
  let h = 0x811c9dc5;
  for (let k = 0; k < key.length; k++) {
    h ^= key.charCodeAt(k);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Number of nodes of an expression (a size measure for heuristics and tests).
 *
 * @example
 * ```ts
 * exprSize(binary("add", num(1), num(2))); // 3
 * ```
 */
export function exprSize(e: Expr): number {
  let n = 0;
  visitExpr(e, () => {
    n++;
  });
  return n;
}

const depths = new WeakMap<Expr, number>();

/**
 * Levels of an expression tree: 1 for a leaf. Memoized per node (IR nodes
 * are immutable), so asking again after a rewrite costs only the new nodes.
 *
 * @example
 * ```ts
 * exprDepth(binary("add", num(1), unary("exp", num(2)))); // 3
 * ```
 */
export function exprDepth(e: Expr): number {
  const known = depths.get(e);
  if (known !== undefined) return known;
  let deepest = 0;
  for (const c of children(e)) deepest = Math.max(deepest, exprDepth(c));
  depths.set(e, deepest + 1);
  return deepest + 1;
}

/**
 * A namer that never repeats a name of `taken` nor one it gave before:
 * `base`, else `base_2`, `base_3`, ...
 *
 * @example
 * ```ts
 * const fresh = freshNamer(["H"]);
 * [fresh("H"), fresh("H"), fresh("G")]; // ["H_2", "H_3", "G"]
 * ```
 */
export function freshNamer(taken: Iterable<string>): (base: string) => string {
  const used = new Set(taken);
  return (base) => {
    let name = base;
    for (let k = 2; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  };
}

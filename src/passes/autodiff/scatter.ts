/**
 * The adjoint of one read: a def over the read tensor's shape that gathers
 * every contribution `term` makes to each element. A read `X[f(v)]` in a def
 * over the variables `v` scatters `term(v)` to `dX[f(v)]`; written as a
 * gather, each dimension `u = f(v)` is solved for one variable of
 * coefficient ±1 (the one of largest range), which leaves the others summed:
 *
 *     Y[o, y] = sum(c, dy) X[c, y + dy] * W[o, c, dy]        read X[c, y + dy]
 *     ->  dX[c, h] = sum(o, dy) dYp[o, h - dy + 2] * W[o, c, dy]
 *
 * a convolution again, with `dYp` the adjoint zero-padded so that the read
 * stays in bounds (invariant 4). A dimension that is a row-major group of
 * variables (`X[(a, b)]`, `a*|b| + b`) becomes a grouped output index
 * (zero-copy); a dimension with no variable of coefficient ±1 (`X[2*i]`) is
 * matched by an equality test `u == 2*i` under the sum.
 *
 * When a solved variable can leave its range (`y = h - dy` above), the term
 * is guarded by `0 <= h - dy < |y|` unless it is a product with a factor that
 * is zero there anyway (a zero-padded read indexed by that variable alone)
 * and no other factor reads a padded tensor: that is what makes the adjoint
 * of a convolution a plain convolution.
 */
import { InternalCompilerError } from "../../diagnostics/diagnostic.js";
import { affine, binary, indexValue, num, reduce, select, type Access, type Affine, type DefNode, type DType, type Expr } from "../../ir/types.js";
import { affineToExpr, boundVars, freeVars, mapExpr, substituteAffine, substituteVars } from "../../ir/walk.js";

/** Gives the name of `tensor` zero-padded by `lo[d]` before and `hi[d]` after each dimension d. */
export type Padder = (tensor: string, lo: readonly number[], hi: readonly number[]) => string;

/** What {@link scatterDef} needs to know about the read and its def. */
export interface ScatterSite {
  /** The read, as it appears in `term`'s def. */
  readonly read: Access;
  /** The shape of the read tensor. */
  readonly shape: readonly number[];
  /** The contribution at one point of the def (the read's value not included). */
  readonly term: Expr;
  /** The def's variables (output indices and the top reduction's): each is summed unless solved for. */
  readonly vars: readonly string[];
  /** Extents of every variable `term` and `read` use, free or bound. */
  readonly ranges: Readonly<Record<string, number>>;
  /** Shapes of the tensors `term` reads. */
  readonly shapeOf: (tensor: string) => readonly number[];
  /**
   * Leave guarded reads of `term` as they are where they leave their tensor
   * (they read 0 there) instead of reading a zero-padded copy; set for the
   * step of a recurrence's adjoint, whose reads of other steps sit under a
   * `where` that keeps them from being used out of range.
   */
  readonly keepGuarded?: boolean;
}

/**
 * The def `name` over `site.shape` holding the adjoint contribution of one read.
 *
 * @example
 * ```ts
 * scatterDef("dA", "f64", { read: A[i, k], shape: [4, 5], term: dC[i, j] * B[k, j], ranges, shapeOf }, pad);
 * // dA: f64[4, 5] = [g0:4, g1:5] sum(j:6) dC[g0, j] * B[g1, j]
 * ```
 */
export function scatterDef(name: string, dtype: DType, site: ScatterSite, pad: Padder): DefNode {
  const { read, shape, term, ranges } = site;
  const vars = new Set([...site.vars, ...freeVars(term), ...read.index.flatMap((a) => a.terms.map((t) => t.var))]);
  const taken = new Set([...Object.keys(ranges), ...boundVars(term)]);
  const freshVar = (base: string): string => {
    let v = base;
    for (let k = 1; taken.has(v); k++) v = `${base}_${k}`;
    taken.add(v);
    return v;
  };
  const extent = new Map<string, number>(Object.entries(ranges));
  const subst = new Map<string, Affine>();
  const solved: { v: string; value: Affine }[] = [];
  const matches: { u: string; value: Affine }[] = [];
  const indices: string[] = [];
  const groups: number[] = [];
  const outShape: number[] = [];
  const assign = (v: string, value: Affine): void => {
    for (const [w, a] of subst) subst.set(w, substituteAffine(a, new Map([[v, value]])));
    subst.set(v, value);
    vars.delete(v);
  };

  read.index.forEach((original, d) => {
    const a = substituteAffine(original, subst);
    const others = read.index.filter((_, k) => k !== d).map((o) => substituteAffine(o, subst));
    const radix = mixedRadix(a, shape[d]!, extent, vars, others);
    if (radix !== null) {
      for (const v of radix) {
        const u = freshVar(`g${d}`);
        extent.set(u, extent.get(v)!);
        indices.push(u);
        assign(v, affine([{ var: u, coef: 1 }]));
      }
      groups.push(radix.length);
      outShape.push(shape[d]!);
      return;
    }
    const strided = stridedWindow(a, extent, vars, others);
    if (strided !== null) {
      // u = c*v + w + k0 with |w| = K: write u = c*q + r (a grouped output index, the dimension
      // rounded up to a multiple of c) and sum over t: v = q - t - lo, w = c*(t + lo) + r - k0.
      const { v, w, c, k0 } = strided;
      const K = extent.get(w)!;
      const lo = Math.ceil((k0 - (c - 1)) / c);
      const hi = Math.floor((K - 1 + k0) / c);
      const [q, r, t] = [freshVar(`g${d}`), freshVar(`g${d}`), freshVar("t")];
      extent.set(q, Math.ceil(shape[d]! / c));
      extent.set(r, c);
      extent.set(t, hi - lo + 1);
      indices.push(q, r);
      groups.push(2);
      outShape.push(extent.get(q)! * c);
      vars.add(t);
      const vValue = affine([{ var: q, coef: 1 }, { var: t, coef: -1 }], -lo);
      const wValue = affine([{ var: t, coef: c }, { var: r, coef: 1 }], c * lo - k0);
      solved.push({ v, value: vValue }, { v: w, value: wValue });
      assign(v, vValue);
      assign(w, wValue);
      return;
    }
    outShape.push(shape[d]!);
    const u = freshVar(`g${d}`);
    extent.set(u, shape[d]!);
    indices.push(u);
    groups.push(1);
    const unit = a.terms.filter((t) => Math.abs(t.coef) === 1 && vars.has(t.var));
    if (unit.length === 0) {
      matches.push({ u, value: a });
      return;
    }
    // Solve for the variable of largest range: the others stay summed, and the fewer the terms the better.
    const pick = unit.reduce((best, t) => (extent.get(t.var)! > extent.get(best.var)! ? t : best));
    const c = pick.coef;
    const value = affine([{ var: u, coef: c }, ...a.terms.filter((t) => t.var !== pick.var).map((t) => ({ var: t.var, coef: -c * t.coef }))], -c * a.constant);
    solved.push({ v: pick.var, value });
    assign(pick.var, value);
  });

  const substituted = substituteVars(term, subst);
  const final = solved.map(({ v }) => ({ v, value: subst.get(v)! }));
  const { body: padded, paddedTensors } = padReads(substituted, extent, site.shapeOf, pad, site.keepGuarded === true);
  const conds: Expr[] = matches.map(({ u, value }) => binary("eq", indexValue(u), affineToExpr(substituteAffine(value, subst))));
  for (const { v, value } of final) {
    const [lo, hi] = bounds(value, extent);
    const max = extent.get(v)! - 1;
    if (lo >= 0 && hi <= max) continue;
    if (zeroOutside(term, v, extent.get(v)!, site.shapeOf, paddedTensors)) continue;
    if (lo < 0) conds.push(binary("ge", affineToExpr(value), num(0)));
    if (hi > max) conds.push(binary("le", affineToExpr(value), num(max)));
  }
  const guarded = conds.length === 0 ? padded : select(conds.reduce((x, y) => binary("mul", x, y)), padded, num(0));
  const summed = [...vars].filter((v) => !indices.includes(v));
  const body = summed.length > 0 ? reduce("sum", summed, guarded) : guarded;
  const used = new Set([...indices, ...summed, ...boundVars(body)]);
  const defRanges: Record<string, number> = {};
  for (const v of used) {
    const n = extent.get(v);
    if (n === undefined) throw new InternalCompilerError(`scatter: no extent for variable '${v}'`);
    defRanges[v] = n;
  }
  return { role: "def", name, dtype, shape: outShape, output: false, indices, groups, ranges: defRanges, body };
}

/**
 * The variables of `a`, outermost first, when `a` is exactly the row-major
 * flattening of distinct unsolved variables spanning `[0, n)` that no other
 * dimension uses; else null.
 */
function mixedRadix(a: Affine, n: number, extent: ReadonlyMap<string, number>, vars: ReadonlySet<string>, others: readonly Affine[]): string[] | null {
  if (a.constant !== 0 || a.terms.length === 0) return null;
  if (a.terms.some((t) => t.coef <= 0 || !vars.has(t.var) || others.some((o) => o.terms.some((u) => u.var === t.var)))) return null;
  const terms = [...a.terms].sort((x, y) => y.coef - x.coef);
  let stride = 1;
  for (let k = terms.length - 1; k >= 0; k--) {
    if (terms[k]!.coef !== stride) return null;
    stride *= extent.get(terms[k]!.var)!;
  }
  return stride === n ? terms.map((t) => t.var) : null;
}

/**
 * `a = c*v + w + k0` for unsolved variables v (coefficient c >= 2) and w
 * (coefficient 1) that no other dimension reads, when summing over the
 * about |w|/c window positions per output element is cheaper than summing
 * over every v; else null.
 */
function stridedWindow(a: Affine, extent: ReadonlyMap<string, number>, vars: ReadonlySet<string>, others: readonly Affine[]): { v: string; w: string; c: number; k0: number } | null {
  if (a.terms.length !== 2 || a.terms.some((t) => !vars.has(t.var) || others.some((o) => o.terms.some((x) => x.var === t.var)))) return null;
  const strided = a.terms.find((t) => t.coef >= 2);
  const window = a.terms.find((t) => t.coef === 1);
  if (strided === undefined || window === undefined) return null;
  const c = strided.coef;
  const positions = Math.floor((extent.get(window.var)! - 1 + a.constant) / c) - Math.ceil((a.constant - (c - 1)) / c) + 1;
  return positions < extent.get(strided.var)! ? { v: strided.var, w: window.var, c, k0: a.constant } : null;
}

/** Smallest and largest value of `a` over the box of extents. */
export function bounds(a: Affine, extent: ReadonlyMap<string, number>): [number, number] {
  let lo = a.constant;
  let hi = a.constant;
  for (const t of a.terms) {
    const span = t.coef * (extent.get(t.var)! - 1);
    if (span < 0) lo += span;
    else hi += span;
  }
  return [lo, hi];
}

/** Replaces every read that can leave its tensor's bounds by a read of a zero-padded copy. */
function padReads(e: Expr, extent: ReadonlyMap<string, number>, shapeOf: (t: string) => readonly number[], pad: Padder, keepGuarded: boolean): { body: Expr; paddedTensors: Set<string> } {
  const paddedTensors = new Set<string>();
  const body = mapExpr(e, (x) => {
    if (x.kind !== "access" || (keepGuarded && x.guarded === true)) return x;
    const shape = shapeOf(x.tensor);
    const lo: number[] = [];
    const hi: number[] = [];
    x.index.forEach((a, d) => {
      const [min, max] = bounds(a, extent);
      lo.push(Math.max(0, -min));
      hi.push(Math.max(0, max - (shape[d]! - 1)));
    });
    if (lo.every((n) => n === 0) && hi.every((n) => n === 0)) return x;
    paddedTensors.add(x.tensor);
    return { kind: "access", tensor: pad(x.tensor, lo, hi), index: x.index.map((a, d) => affine(a.terms, a.constant + lo[d]!)) };
  });
  return { body, paddedTensors };
}

/**
 * Whether `term` (before substitution) is zero wherever `v` leaves its
 * range once padded: a product with a factor read at `v` alone along a
 * dimension of extent `n` (so its padding is exactly where `v` is out of
 * range), every other factor a constant, a read, or free of padded reads.
 */
function zeroOutside(term: Expr, v: string, n: number, shapeOf: (t: string) => readonly number[], padded: ReadonlySet<string>): boolean {
  const factors = flattenProduct(term);
  const zero = factors.findIndex((f) =>
    f.kind === "access" && f.index.some((a, d) => a.constant === 0 && a.terms.length === 1 && a.terms[0]!.var === v && a.terms[0]!.coef === 1 && shapeOf(f.tensor)[d] === n));
  if (zero < 0) return false;
  return factors.every((f, k) => k === zero || f.kind === "const" || f.kind === "access" || !readsAny(f, padded));
}

function flattenProduct(e: Expr): Expr[] {
  return e.kind === "binary" && e.op === "mul" ? [...flattenProduct(e.lhs), ...flattenProduct(e.rhs)] : [e];
}

function readsAny(e: Expr, tensors: ReadonlySet<string>): boolean {
  let found = false;
  mapExpr(e, (x) => {
    if (x.kind === "access" && tensors.has(x.tensor)) found = true;
    return x;
  });
  return found;
}

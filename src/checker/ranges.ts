/**
 * Index range inference for one definition (docs/language.md, "Index
 * expressions and range inference"), then the static bounds check.
 *
 *     Y[o, y, x] = X[c, y + dy, x + dx] * W[o, c, dy, dx]     X[3, 8, 8], W[4, 3, 3, 3]
 *     bare uses:    o=4 c=3 dy=3 dx=3
 *     fixed point:  y=6 x=6            (the largest extent keeping y + dy < 8)
 *     bounds:       every access in range for every point of the ranges
 *
 *     P[c, y, x] = max(dy < 2, dx < 2) X[c, 2*y + dy, 2*x + dx]   X[3, 9, 8]
 *     stated:       dy=2 dx=2
 *     bare uses:    c=3
 *     fixed point:  y=4 x=4            (the largest extent keeping 2*y + dy < 9)
 */
import type { DiagnosticBag, Span } from "../diagnostics/diagnostic.js";
import type { Affine } from "../ir/types.js";
import { guardProves } from "./guards.js";

/** One dimension of an access: an affine index, or a right-side group `(c, d)`. */
export type DimUse =
  | { readonly kind: "affine"; readonly affine: Affine; readonly span: Span }
  | { readonly kind: "group"; readonly vars: readonly string[]; readonly span: Span };

/** One access `X[...]` of a definition's right side. */
export interface AccessUse {
  readonly tensor: string;
  readonly shape: readonly number[];
  readonly dims: readonly DimUse[];
  readonly span: Span;
  /**
   * Per dimension, the factors its declaration wrote (`X[C * R * R, ...]`
   * gives [C, R, R]), or null: a group of as many members, none of them
   * otherwise known, takes its extents from them.
   */
  readonly factors?: readonly (readonly number[] | null)[];
  /**
   * The facts `f >= 0` of the `where` conditions whose then-branch holds
   * this access (guards.ts): a dimension out of bounds over the box is
   * accepted when they keep it in bounds (zero padding).
   */
  readonly guard?: readonly Affine[];
}

/**
 * An index variable of the definition: its (renamed, unique) IR name, source
 * name and first use, and for a bounded reduction index `dy < k` the stated
 * extent with the span of its expression.
 */
export interface VarUse {
  readonly name: string;
  readonly display: string;
  readonly span: Span;
  readonly stated?: { readonly extent: number; readonly span: Span };
  /**
   * For a reduction index, the reduction that binds it: its operator, the IR
   * names it lists, and whether it is written (`max(dy, dx)`) or implicit
   * (a summed index of the right side). Used in TNS0204's hint.
   */
  readonly reduction?: ReductionOf;
  /**
   * Its bare uses bound its range instead of fixing it, like a neighbour
   * index's (the quotient of an index divided by a constant, `h / 2`).
   */
  readonly bounded?: true;
}

/** The reduction that binds an index variable (see {@link VarUse.reduction}). */
export interface ReductionOf {
  readonly op: string;
  readonly vars: readonly string[];
  readonly explicit: boolean;
}

/**
 * Renders an affine index with source names, as the user would write it.
 *
 * @example
 * ```ts
 * showAffine(affine([{ var: "y", coef: 2 }, { var: "dy", coef: 1 }], -1), (v) => v); // "dy + 2*y - 1"
 * ```
 */
export function showAffine(a: Affine, display: (v: string) => string): string {
  let s = "";
  for (const t of a.terms) {
    const mag = Math.abs(t.coef);
    const term = mag === 1 ? display(t.var) : `${mag}*${display(t.var)}`;
    s += s === "" ? (t.coef < 0 ? `-${term}` : term) : t.coef < 0 ? ` - ${term}` : ` + ${term}`;
  }
  if (a.constant !== 0 || s === "") s += s === "" ? `${a.constant}` : a.constant < 0 ? ` - ${-a.constant}` : ` + ${a.constant}`;
  return s;
}

/**
 * Smallest and largest value of an affine form over the box of its variables' ranges.
 *
 * @example
 * ```ts
 * affineBounds(affine([{ var: "i", coef: -1 }], 4), new Map([["i", 5]])); // { min: 0, max: 4 }
 * ```
 */
export function affineBounds(a: Affine, ext: ReadonlyMap<string, number>): { min: number; max: number } {
  let min = a.constant;
  let max = a.constant;
  for (const t of a.terms) {
    const hi = t.coef * (ext.get(t.var)! - 1);
    min += Math.min(0, hi);
    max += Math.max(0, hi);
  }
  return { min, max };
}

type Candidate = { extent: number; span: Span };

/**
 * Infers the extent of every variable of a definition (a variable with a
 * stated extent keeps it) and checks that every access is in bounds.
 * Reports TNS0202, TNS0204, TNS0207, TNS0209, TNS0212 and TNS0213; returns
 * null when any was reported. Accesses that read outside their tensor where
 * a guard allows it (zero padding) are added to `padded`.
 *
 * @example
 * ```ts
 * // Y[y] = X[y + d] * K[d] with X[8], K[3]
 * inferRanges(vars, uses, diags); // Map { d => 3, y => 6 }
 * ```
 */
export function inferRanges(
  vars: readonly VarUse[],
  uses: readonly AccessUse[],
  diags: DiagnosticBag,
  compared: readonly (readonly [string, string])[] = [],
  padded?: Set<AccessUse>,
): Map<string, number> | null {
  const display = new Map(vars.map((v) => [v.name, v.display]));
  const show = (v: string): string => display.get(v) ?? v;
  const ext = new Map<string, number>();
  const failed = new Set<string>();
  let ok = true;

  // 0. A stated extent (`dy < k`) is known from the start and never revised.
  const stated = new Map<string, Span>();
  for (const v of vars) {
    if (v.stated === undefined) continue;
    ext.set(v.name, v.stated.extent);
    stated.set(v.name, v.stated.span);
  }

  // Where the extents of an index's bounded variables were stated, as notes of a bounds error.
  const statedNotes = (a: Affine): { message: string; span: Span }[] =>
    a.terms.filter((t) => stated.has(t.var)).map((t) => ({ message: `'${show(t.var)}' has the stated extent ${ext.get(t.var)}`, span: stated.get(t.var)! }));

  // A neighbour index is read at an offset somewhere (`x[i + 1]`): its bare
  // uses bound its range like every other position instead of fixing it, so
  // it takes the largest range that keeps every read in bounds (step 2).
  const neighbour = new Set<string>(vars.filter((v) => v.bounded && v.stated === undefined).map((v) => v.name));
  for (const u of uses) {
    u.dims.forEach((d, k) => {
      if (d.kind === "affine" && (u.guard?.length ?? 0) === 0 && d.affine.terms.length === 1 && d.affine.constant !== 0) neighbour.add(d.affine.terms[0]!.var);
    });
  }

  // 1. Bare uses fix extents, and must agree. A bare use of a stated index
  // only has to be in bounds (step 4): it iterates a prefix of the dimension.
  const origin = new Map<string, { span: Span; tensor: string }>();
  for (const u of uses) {
    u.dims.forEach((d, k) => {
      if (d.kind !== "affine" || d.affine.constant !== 0 || d.affine.terms.length !== 1 || d.affine.terms[0]!.coef !== 1) return;
      const v = d.affine.terms[0]!.var;
      if (stated.has(v) || neighbour.has(v)) return;
      const size = u.shape[k]!;
      const had = ext.get(v);
      if (had === undefined) {
        if (failed.has(v)) return;
        ext.set(v, size);
        origin.set(v, { span: d.span, tensor: u.tensor });
      } else if (had !== size) {
        const first = origin.get(v)!;
        diags.error("TNS0202", `index '${show(v)}' has extent ${size} here (dimension ${k + 1} of ${u.tensor}) but ${had} in ${first.tensor}`, d.span, {
          notes: [{ message: `'${show(v)}' gets extent ${had} here`, span: first.span }],
          hint: "every use of an index variable must range over the same values",
        });
        failed.add(v);
        ok = false;
      }
    });
  }
  for (const v of failed) ext.delete(v);

  // 2. Fixed point: a variable that is the only unknown of a position gets
  // the largest extent keeping every such position in bounds. Round 0 only
  // settles the neighbour indices, where step 1 settles the others.
  for (let round = neighbour.size > 0 ? 0 : 1, changed = true; changed; round++) {
    changed = round === 0;
    const candidates = new Map<string, Candidate>();
    const offer = (v: string, c: Candidate): void => {
      const had = candidates.get(v);
      if (had === undefined || c.extent < had.extent) candidates.set(v, c);
    };
    for (const u of uses) {
      u.dims.forEach((d, k) => {
        const size = u.shape[k]!;
        if (d.kind === "group") {
          // Any one unknown member takes what the others leave of the dimension.
          const unknown = d.vars.filter((v) => !ext.has(v));
          if (unknown.length !== 1 || failed.has(unknown[0]!)) return;
          const only = unknown[0]!;
          if (round === 0 && !neighbour.has(only)) return;
          const known = d.vars.filter((v) => v !== only).reduce((p, v) => p * ext.get(v)!, 1);
          if (size % known !== 0) {
            diags.error("TNS0209", `group (${d.vars.map(show).join(", ")}) cannot cover dimension ${k + 1} of ${u.tensor}: ${size} is not a multiple of ${known}`, d.span, {
              notes: [{ message: `known extents: ${d.vars.filter((v) => v !== only).map((v) => `${show(v)}=${ext.get(v)}`).join(", ")}` }],
            });
            failed.add(only);
            ok = false;
            return;
          }
          offer(only, { extent: size / known, span: d.span });
          return;
        }
        const unknown = d.affine.terms.filter((t) => !ext.has(t.var));
        if (unknown.length !== 1 || failed.has(unknown[0]!.var)) return;
        const { var: v, coef } = unknown[0]!;
        if (round === 0 && !neighbour.has(v)) return;
        const rest = affineBounds({ terms: d.affine.terms.filter((t) => t.var !== v), constant: d.affine.constant }, ext);
        const where = `${u.tensor}[..${showAffine(d.affine, show)}..]`;
        // Value at v = 0 must already be in bounds, else the range would not start at zero.
        if ((coef > 0 && rest.min < 0) || (coef < 0 && rest.max > size - 1)) {
          // Under a where guard the read may be padding (step 4 checks the guard). Read p below
          // zero at the start, it pads p on both sides where the guard allows it (symmetric
          // padding, PyTorch's padding=p): the range keeps it within p past the top.
          if ((u.guard?.length ?? 0) > 0) {
            if (coef > 0) {
              // Padding above only where the guard allows reads past the top; else the reads stop there.
              const top = guardProves(u.guard!, d.affine, size, "high") ? size - 1 - rest.min : size - 1;
              const extent = Math.floor((top - rest.max) / coef) + 1;
              if (extent > 0) offer(v, { extent, span: d.span });
            }
            return;
          }
          const first = coef > 0 ? Math.ceil(-rest.min / coef) : Math.ceil((rest.max - (size - 1)) / -coef);
          diags.error("TNS0207", `index '${show(v)}' would have to start at ${first} to keep ${where} in bounds`, d.span, {
            hint: `index ranges start at zero: shift the index expression so that it is in bounds at ${show(v)} = 0`,
          });
          failed.add(v);
          ok = false;
          return;
        }
        const extent = coef > 0 ? Math.floor((size - 1 - rest.max) / coef) + 1 : Math.floor(rest.min / -coef) + 1;
        if (extent <= 0) {
          if ((u.guard?.length ?? 0) > 0) return;
          diags.error("TNS0212", `${where} is out of bounds for every value of '${show(v)}' (dimension ${k + 1} has size ${size})`, d.span, {
            notes: statedNotes(d.affine),
          });
          failed.add(v);
          ok = false;
          return;
        }
        offer(v, { extent, span: d.span });
      });
    }
    for (const [v, c] of candidates) {
      if (failed.has(v)) continue;
      ext.set(v, c.extent);
      changed = true;
    }
    if (!changed && round > 0) changed = stuckRules(vars, uses, compared, ext, failed);
  }

  // 3. Whatever is still unknown cannot be inferred.
  for (const v of vars) {
    if (ext.has(v.name) || failed.has(v.name)) continue;
    diags.error("TNS0204", `the range of index '${v.display}' cannot be inferred`, v.span, { hint: whyUnknown(v.name, vars, uses, ext, show) });
    failed.add(v.name);
    ok = false;
  }
  if (!ok) return null;

  // 4. Every access must be in bounds over the whole iteration space.
  for (const u of uses) {
    u.dims.forEach((d, k) => {
      const size = u.shape[k]!;
      if (d.kind === "group") {
        const total = d.vars.reduce((p, v) => p * ext.get(v)!, 1);
        if (total !== size) {
          diags.error("TNS0209", `group (${d.vars.map(show).join(", ")}) has ${total} values but dimension ${k + 1} of ${u.tensor} has size ${size}`, d.span, {
            notes: [{ message: `extents: ${d.vars.map((v) => `${show(v)}=${ext.get(v)}`).join(", ")}` }],
          });
          ok = false;
        }
        return;
      }
      const { min, max } = affineBounds(d.affine, ext);
      const facts = u.guard ?? [];
      if ((min < 0 || max > size - 1) && facts.length > 0) {
        const low = min >= 0 || guardProves(facts, d.affine, size, "low");
        const high = max <= size - 1 || guardProves(facts, d.affine, size, "high");
        if (low && high) {
          padded?.add(u);
          return;
        }
        const text = showAffine(d.affine, show);
        const missing = [...(low ? [] : [`${text} >= 0`]), ...(high ? [] : [`${text} < ${size}`])].join(" && ");
        diags.error("TNS0213", `index ${text} of ${u.tensor} ranges over ${min}..${max}, outside 0..${size - 1}, and the enclosing where does not exclude the reads outside`, d.span, {
          notes: [{ message: `with ${d.affine.terms.map((t) => `${show(t.var)} in 0..${ext.get(t.var)! - 1}`).join(", ")}` }],
          hint: `a read outside a tensor (zero padding) must sit in the then-branch of a where whose condition implies it is in bounds; add ${missing} to the condition with &&`,
        });
        ok = false;
        return;
      }
      if (min < 0 || max > size - 1) {
        const ranges = d.affine.terms.map((t) => `${show(t.var)} in 0..${ext.get(t.var)! - 1}`).join(", ");
        const bounded = statedNotes(d.affine);
        diags.error("TNS0212", `index ${showAffine(d.affine, show)} of ${u.tensor} ranges over ${min}..${max} but dimension ${k + 1} has size ${size}`, d.span, {
          notes: ranges === "" ? bounded : [{ message: `with ${ranges}` }, ...bounded],
          hint: "every access must stay in bounds for every value of its indices",
        });
        ok = false;
      }
    });
  }
  return ok ? ext : null;
}

/**
 * When the positions fix nothing more, two weaker sources, in order (the
 * first that fixes something wins, then the positions get another go):
 *
 * 1. an index still unknown that is compared with a known index
 *    (`where(j <= i, ...)`, `i == j`) takes that index's range; compared
 *    with several, they must all agree;
 * 2. a group of a dimension declared as a product (`X[C * R * R, H, W]`) with
 *    as many members, none known (`X[(c, r1, r2), h, w]`), takes the factors.
 *
 * Returns whether an extent was set.
 */
function stuckRules(
  vars: readonly VarUse[], uses: readonly AccessUse[], compared: readonly (readonly [string, string])[],
  ext: Map<string, number>, failed: ReadonlySet<string>,
): boolean {
  let changed = false;
  for (const v of vars) {
    if (ext.has(v.name) || failed.has(v.name)) continue;
    const partners = new Set<number>();
    for (const [a, b] of compared) {
      const other = a === v.name ? b : b === v.name ? a : null;
      if (other !== null && ext.has(other)) partners.add(ext.get(other)!);
    }
    if (partners.size === 1) {
      ext.set(v.name, [...partners][0]!);
      changed = true;
    }
  }
  if (changed) return true;
  for (const u of uses) {
    u.dims.forEach((d, k) => {
      const factors = u.factors?.[k];
      if (d.kind !== "group" || factors == null || factors.length !== d.vars.length) return;
      if (d.vars.some((v) => ext.has(v) || failed.has(v))) return;
      d.vars.forEach((v, m) => ext.set(v, factors[m]!));
      changed = true;
    });
    if (changed) return true;
  }
  return false;
}

/** Why a variable's range stayed unknown, as a hint a person can act on. */
function whyUnknown(v: string, vars: readonly VarUse[], uses: readonly AccessUse[], ext: ReadonlyMap<string, number>, show: (v: string) => string): string {
  for (const u of uses) {
    for (const d of u.dims) {
      if (d.kind === "group" && d.vars.includes(v)) {
        const others = d.vars.filter((x) => x !== v && !ext.has(x));
        return `in ${u.tensor}[(${d.vars.map(show).join(", ")})] only one unknown member of a group can be inferred, but ${[v, ...others].map((x) => `'${show(x)}'`).join(" and ")} are unknown; state all but one, e.g. (${d.vars.map((x) => (x === v ? `${show(x)} < 2` : show(x))).join(", ")})`;
      }
      if (d.kind === "affine" && d.affine.terms.some((t) => t.var === v)) {
        const others = d.affine.terms.filter((t) => t.var !== v && !ext.has(t.var)).map((t) => t.var);
        const where = `in the index ${showAffine(d.affine, show)} of ${u.tensor}, '${show(v)}' is not alone${others.length > 0 ? ` (also unknown: ${others.map(show).join(", ")})` : ""}`;
        const bare = others.length > 0 ? "or use one of them bare in another access" : "or use it bare in another access";
        // A window (`2*y + dy`) is fixed by stating the reduction index's extent.
        const reduced = [v, ...others].map((x) => vars.find((w) => w.name === x)?.reduction).find((r) => r !== undefined);
        if (reduced !== undefined) return `${where}; ${statedForm(reduced, ext, show)}, ${bare}`;
        return `${where}; ${bare.slice(3)}`;
      }
    }
  }
  return `'${show(v)}' is only used as a value, so nothing gives its range: state it on the left (e.g. ${show(v)} < n), use it to index a tensor, or, if it is not meant as an index, declare it (as a size or an input)`;
}

/** "state ... extent: max(dy < 2, dx < 2) ..." for the reduction's still-unknown indices. */
function statedForm(r: ReductionOf, ext: ReadonlyMap<string, number>, show: (v: string) => string): string {
  const bounded = r.vars.filter((x) => !ext.has(x)).map((x) => `${show(x)} < 2`).join(", ");
  return r.explicit
    ? `state a reduction index's extent, e.g. ${r.op}(${bounded}) ... for a 2-wide window`
    : `write the sum with its extent, e.g. sum(${bounded}) ... for a 2-wide window`;
}

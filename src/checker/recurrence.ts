/**
 * Checking recurrences (docs/language.md, "Recurrences"): a definition that
 * reads itself at an earlier value of one of its indices, under a base case.
 *
 *     output Cs[i] = x[i] + where(i > 0, Cs[i - 1], 0)
 *     ->  sequential index i, one self-read at step 1, guarded by i >= 1
 *
 * The checker lowers such a definition twice: once with its self-reads
 * replaced by 0 to learn its shape, then for real with the tensor visible to
 * itself. These helpers find the self-reads, classify them (TNS0240 forward
 * or same-point read, TNS0241 no base case, TNS0242 unsupported form) and
 * report a recurrence through a second tensor (TNS0243).
 */
import type { DiagnosticBag, Span } from "../diagnostics/diagnostic.js";
import type * as ast from "../parser/ast.js";
import type * as ir from "../ir/types.js";
import { selfReads } from "../ir/recurrence.js";
import type { AccessUse, DimUse } from "./ranges.js";
import { showAffine } from "./ranges.js";

const isExprNode = (x: unknown): x is ast.Expr =>
  typeof x === "object" && x !== null && typeof (x as { kind?: unknown }).kind === "string" && "span" in x;

/** The child expressions of an AST expression, whatever its kind. */
export function children(e: ast.Expr): ast.Expr[] {
  const out: ast.Expr[] = [];
  for (const [key, val] of Object.entries(e)) {
    if (key === "span") continue;
    if (Array.isArray(val)) for (const x of val) { if (isExprNode(x)) out.push(x); }
    else if (isExprNode(val)) out.push(val);
  }
  return out;
}

/** The name an access reads, when it is a plain tensor (not a call result). */
const accessName = (e: ast.Expr): ast.Name | null =>
  e.kind === "access" && !("kind" in e.target) ? e.target : null;

/**
 * Every tensor name read by an expression (accesses and bare names), with the
 * first place it is read.
 *
 * @example
 * ```ts
 * tensorReads(parse("x[i] + Cs[i - 1]")); // Map { x, Cs, i }
 * ```
 */
export function tensorReads(e: ast.Expr, out = new Map<string, Span>()): Map<string, Span> {
  const n = accessName(e);
  if (n !== null && !out.has(n.name)) out.set(n.name, n.span);
  if (e.kind === "ident" && !out.has(e.name)) out.set(e.name, e.span);
  for (const c of children(e)) tensorReads(c, out);
  return out;
}

/**
 * Whether a definition's right side indexes the tensor it defines.
 *
 * @example
 * ```ts
 * readsItself(csDef); // true for Cs[i] = x[i] + where(i > 0, Cs[i - 1], 0)
 * ```
 */
export function readsItself(def: ast.Def): boolean {
  const self = def.name.name;
  const walk = (e: ast.Expr): boolean => accessName(e)?.name === self || children(e).some(walk);
  return def.indices !== null && walk(def.rhs);
}

/**
 * The right side with every self-read replaced by zero times its indices
 * (the first lowering, which only learns the definition's shape; the
 * indices stay used, so a reduction over one of them is not empty).
 *
 * @example
 * ```ts
 * withoutSelfReads(parse("x[i] + Cs[i - 1]"), "Cs"); // x[i] + 0 * (i - 1)
 * ```
 */
export function withoutSelfReads(e: ast.Expr, self: string): ast.Expr {
  if (e.kind === "access" && accessName(e)?.name === self) {
    const zero: ast.Expr = { kind: "number", value: 0, isInteger: true, span: e.span };
    return e.indices.filter((i) => i.kind !== "group").reduce<ast.Expr>((acc, i) => ({ kind: "binary", op: "*", lhs: acc, rhs: i, span: e.span }), zero);
  }
  let changed = false;
  const copy: Record<string, unknown> = {};
  for (const [key, val] of Object.entries(e)) {
    if (key !== "span" && Array.isArray(val)) {
      copy[key] = val.map((x) => {
        if (!isExprNode(x)) return x;
        const y = withoutSelfReads(x, self);
        changed ||= y !== x;
        return y;
      });
    } else if (key !== "span" && isExprNode(val)) {
      const y = withoutSelfReads(val, self);
      changed ||= y !== val;
      copy[key] = y;
    } else copy[key] = val;
  }
  return changed ? (copy as unknown as ast.Expr) : e;
}

/**
 * TNS0243: `def` reads a tensor defined later whose definition reads `def`
 * back, a recurrence through a second tensor. `readsOf` gives the tensors
 * each pending definition reads. Returns false when it reported one.
 */
export function checkNoMutualRecurrence(def: ast.Def, pending: ReadonlyMap<string, Span>, readsOf: ReadonlyMap<string, ReadonlySet<string>> | undefined, diags: DiagnosticBag): boolean {
  if (readsOf === undefined) return true;
  const self = def.name.name;
  for (const [name, span] of tensorReads(def.rhs)) {
    if (name === self || !pending.has(name)) continue;
    // Follow later definitions' reads: a chain back to `self` is a cycle.
    const seen = new Set<string>([name]);
    const queue = [name];
    let cycle = false;
    while (queue.length > 0 && !cycle) {
      for (const r of readsOf.get(queue.pop()!) ?? []) {
        if (r === self) cycle = true;
        else if (pending.has(r) && !seen.has(r)) { seen.add(r); queue.push(r); }
      }
    }
    if (!cycle) continue;
    diags.error("TNS0243", `'${self}' reads '${name}', which reads '${self}' back: a recurrence through a second tensor`, span, {
      notes: [{ message: `'${name}' is defined here`, span: pending.get(name)! }],
      hint: `a recurrence reads only itself at an earlier step: fold '${name}' into the definition of '${self}' (or '${self}' into '${name}')`,
    });
    return false;
  }
  return true;
}

const sameVar = (a: ir.Affine, v: string): boolean => a.constant === 0 && a.terms.length === 1 && a.terms[0]!.var === v && a.terms[0]!.coef === 1;

/**
 * Checks the self-reads of a recurrence `self[lhs...]` lowered to `body`
 * (placeholders whose uses are in `pending`): each reads one dimension at
 * `v - c` (c > 0) for the same left index `v`, mentions `v` nowhere else,
 * and sits under a `where` whose condition implies `v >= c`. Reports
 * TNS0240, TNS0241 or TNS0242 and returns null on error, else the
 * sequential index.
 *
 * @example
 * ```ts
 * sequentialIndex("Cs", ["i"], lowered, state.pending, diags); // "i"
 * ```
 */
export function sequentialIndex(self: string, lhs: readonly string[], body: ir.Expr, pending: ReadonlyMap<ir.Access, AccessUse>, diags: DiagnosticBag): string | null {
  const uses = [...pending.values()].filter((u) => u.tensor === self);
  let seq: { v: string; span: Span } | null = null;
  const steps = new Map<AccessUse, number>();
  const show = (a: ir.Affine): string => showAffine(a, (x) => x);
  for (const u of uses) {
    const affs = u.dims.map((d: DimUse) => (d.kind === "affine" ? d.affine : null));
    if (affs.some((a) => a === null)) {
      diags.error("TNS0242", `a recurrence cannot read itself through a grouped index`, u.span, { hint: `index '${self}' with one index per dimension` });
      return null;
    }
    const earlier: { k: number; c: number }[] = [];
    let forward = false;
    affs.forEach((a, k) => {
      const v = lhs[k]!;
      if (a!.terms.length === 1 && a!.terms[0]!.var === v && a!.terms[0]!.coef === 1) {
        if (a!.constant < 0) earlier.push({ k, c: -a!.constant });
        else if (a!.constant > 0) forward = true;
      }
    });
    const text = `${self}[${affs.map((a) => show(a!)).join(", ")}]`;
    if (earlier.length === 0) {
      const same = affs.every((a, k) => sameVar(a!, lhs[k]!));
      if (forward || same) {
        diags.error("TNS0240", `${text} reads '${self}' at ${same ? "the point being defined" : "a later point"}: a recurrence may only read itself at an earlier step`, u.span, {
          hint: `read an earlier step, e.g. ${self}[${lhs.map((v, k) => (k === 0 ? `${v} - 1` : v)).join(", ")}], under a base case: where(${lhs[0]} > 0, ..., base)`,
        });
      } else {
        diags.error("TNS0242", `${text}: a recurrence must read itself at '${lhs.join("' or '")} - c' (a constant c > 0) in that index's own dimension`, u.span, {
          hint: `read the previous step as ${self}[${lhs.map((v, k) => (k === 0 ? `${v} - 1` : v)).join(", ")}]`,
        });
      }
      return null;
    }
    if (earlier.length > 1) {
      diags.error("TNS0242", `${text} steps back along ${earlier.length} indices; a recurrence runs sequentially along exactly one`, u.span, {
        hint: `step back along one index (e.g. '${lhs[earlier[0]!.k]}') and read the others at any fixed or summed position`,
      });
      return null;
    }
    const { k, c } = earlier[0]!;
    const v = lhs[k]!;
    if (seq !== null && seq.v !== v) {
      diags.error("TNS0242", `${text} steps back along '${v}' but another read of '${self}' steps back along '${seq.v}'`, u.span, {
        notes: [{ message: `steps back along '${seq.v}' here`, span: seq.span }],
        hint: "every self-read of a recurrence steps back along the same index",
      });
      return null;
    }
    seq ??= { v, span: u.span };
    const other = affs.findIndex((a, m) => m !== k && a!.terms.some((t) => t.var === v));
    if (other >= 0) {
      diags.error("TNS0242", `${text} uses the sequential index '${v}' in dimension ${other + 1}; it may appear only in its own dimension`, u.span, {
        hint: `read dimension ${other + 1} at a plain, summed or fixed index`,
      });
      return null;
    }
    steps.set(u, c);
  }
  if (seq === null) return null;
  let ok = true;
  for (const { access, guard } of selfReads(body, self, seq.v)) {
    const u = pending.get(access);
    const c = u === undefined ? undefined : steps.get(u);
    if (u === undefined || c === undefined || guard >= c) continue;
    const v = seq.v;
    diags.error("TNS0241", `${self}[..${v} - ${c}..] is out of range at ${v} ${c === 1 ? "= 0" : `< ${c}`}: the recurrence has no base case`, u.span, {
      hint: `guard the read and give the first ${c === 1 ? "step" : `${c} steps`} a value: where(${v} >= ${c}, ..., base)`,
    });
    ok = false;
  }
  return ok ? seq.v : null;
}

/**
 * Range-inference uses with the sequential dimension of each self-read set
 * to the constant 0: `Hs[t - 1, k]` still gives `k` its extent (and keeps its
 * dimension numbers for messages), while `t - 1`, which is only in range
 * under the base-case guard, is checked by the guard instead.
 */
export function withoutSequentialDims(uses: readonly AccessUse[], self: string, dim: number): AccessUse[] {
  return uses.map((u) => (u.tensor !== self ? u : {
    ...u,
    dims: u.dims.map((d, k) => (k === dim ? { kind: "affine" as const, affine: { terms: [], constant: 0 }, span: d.span } : d)),
  }));
}

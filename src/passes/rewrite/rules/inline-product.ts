/**
 * Program rules that inline a product producer (a Kronecker or outer
 * product) into the sums that read it, so that it is never materialized:
 *
 *     W[(a, b), (c, d)] = A[a, c] * B[b, d]
 *     y[i] = sum(j) W[i, j] * x[j]
 *
 * `split-index` first writes `i` and `j` as the digits of W's groups
 * (`y[(i_a, i_b)] = sum(j_c, j_d) W[4*i_a + i_b, 5*j_c + j_d] * x[5*j_c + j_d]`),
 * then `inline-product-producer` reads the producer's indices back from the
 * row-major affine forms and substitutes its body:
 * `y[(i_a, i_b)] = sum(j_c, j_d) A[i_a, j_c] * B[i_b, j_d] * x[5*j_c + j_d]`.
 */
import type { Affine, DefNode, Program } from "../../../ir/types.js";
import { affine, affineVar, isPlainVar, reduce } from "../../../ir/types.js";
import { accessedTensors, mapExpr, substituteVars } from "../../../ir/walk.js";
import { programRule } from "../rule.js";
import {
  accessSites, flattenedDigits, freshName, groupExtents, groupIndices, isProductDef, isReadElsewhere, replaceTensor, rowMajorStrides,
} from "./program-helpers.js";

function defNamed(program: Program, name: string): DefNode | undefined {
  const t = program.tensors.find((x) => x.name === name);
  // A recurrence is opaque to the rules (like an input): it reads itself, so it is never inlined or split.
  // So is a scatter-add (invariant 10), which only keeps its cost as a def of its own.
  return t?.role === "def" && t.recurrence === undefined && t.scatter === undefined ? t : undefined;
}

interface SplitSite {
  readonly consumer: string;
  readonly variable: string;
  readonly producer: string;
  readonly dim: number;
  readonly inSum: boolean;
}

/**
 * `split-index`: an index variable i over n₁·n₂ that reads a grouped
 * dimension of a product producer becomes the digits (i₁, i₂):
 * i = i₁·n₂ + i₂. An output index keeps its storage (the new indices form
 * one group); a summed one is summed over both digits.
 *
 * @example
 * ```ts
 * // y[i:8] = sum(j:15) W[i, j] * x[j]  →  y[(i_a:2, i_b:4)] = sum(j:15) W[4*i_a + i_b, j] * x[j]
 * splitIndex.rewrite(splitIndex.sites(program)[0]!, program);
 * ```
 */
export const splitIndex = programRule<SplitSite>({
  name: "split-index",
  statement: "f(W[i]) over i < n₁·n₂ = f(W[i₁·n₂ + i₂]) over i₁ < n₁, i₂ < n₂ when W's dimension groups (n₁, n₂)",
  conditions: [
    {
      name: "read-inside-sum-or-by-a-product",
      holds: (s, p) => s.inSum || isProductDef(defNamed(p, s.consumer)),
    },
    {
      name: "variable-spans-the-dimension",
      holds: (s, p) => defNamed(p, s.consumer)!.ranges[s.variable] === defNamed(p, s.producer)!.shape[s.dim],
    },
  ],
  sites: (program) => {
    const out: SplitSite[] = [];
    const seen = new Set<string>();
    for (const c of program.tensors) {
      if (c.role !== "def" || c.recurrence !== undefined || c.scatter !== undefined) continue;
      for (const { access, inSum } of accessSites(c.body)) {
        const w = defNamed(program, access.tensor);
        if (w === undefined || !isProductDef(w)) continue;
        access.index.forEach((a, dim) => {
          if (w.groups[dim]! < 2 || !isPlainVar(a)) return;
          const variable = a.terms[0].var;
          const key = `${c.name}/${variable}`;
          if (seen.has(key)) return;
          seen.add(key);
          out.push({ consumer: c.name, variable, producer: w.name, dim, inSum });
        });
      }
    }
    return out;
  },
  rewrite: (s, program) => {
    const c = defNamed(program, s.consumer)!;
    const w = defNamed(program, s.producer)!;
    const names = groupIndices(w)[s.dim]!;
    const extents = groupExtents(w)[s.dim]!;
    const taken = new Set([...Object.keys(c.ranges), ...c.indices]);
    const digits = names.map((n) => {
      const f = freshName(`${s.variable}_${n}`, taken);
      taken.add(f);
      return f;
    });
    const strides = rowMajorStrides(extents);
    const form = affine(digits.map((v, t) => ({ var: v, coef: strides[t]! })));
    const ranges: Record<string, number> = { ...c.ranges };
    delete ranges[s.variable];
    digits.forEach((v, t) => (ranges[v] = extents[t]!));
    const sub = { [s.variable]: form };
    const pos = c.indices.indexOf(s.variable);
    if (pos < 0) {
      const body = mapExpr(c.body, (x) => (x.kind === "reduce" && x.vars.includes(s.variable)
        ? reduce(x.op, x.vars.flatMap((v) => (v === s.variable ? digits : [v])), substituteVars(x.body, sub))
        : x));
      return replaceTensor(program, c.name, { ...c, body, ranges });
    }
    const indices = [...c.indices.slice(0, pos), ...digits, ...c.indices.slice(pos + 1)];
    const groups = [...c.groups];
    for (let g = 0, start = 0; g < groups.length; start += groups[g]!, g++) {
      if (pos < start + groups[g]!) {
        groups[g] = groups[g]! + digits.length - 1;
        break;
      }
    }
    return replaceTensor(program, c.name, { ...c, indices, groups, ranges, body: substituteVars(c.body, sub) });
  },
});

/**
 * The producer's index variables as affine forms of the consumer's, read
 * back from one access, or null when some grouped dimension is not the
 * row-major flattening of distinct consumer variables.
 */
function recoverIndices(index: readonly Affine[], producer: DefNode, ranges: Readonly<Record<string, number>>): Map<string, Affine> | null {
  const names = groupIndices(producer);
  const extents = groupExtents(producer);
  const out = new Map<string, Affine>();
  for (let k = 0; k < names.length; k++) {
    if (names[k]!.length === 1) {
      out.set(names[k]![0]!, index[k]!);
      continue;
    }
    const digits = flattenedDigits(index[k]!, extents[k]!, ranges);
    if (digits === null) return null;
    names[k]!.forEach((n, t) => out.set(n, affineVar(digits[t]!)));
  }
  return out;
}

interface InlineSite {
  readonly consumer: string;
  readonly producer: string;
}

/**
 * `inline-product-producer`: a read of a product producer W[(a, b), (c, d)] =
 * A[a, c]·B[b, d] inside a sum becomes the product itself, its indices
 * recovered from the access; W is dropped when nothing else reads it.
 *
 * @example
 * ```ts
 * // y[(a, b)] = sum(c, d) W[4*a + b, 5*c + d] * X[c, d]  →  y[(a, b)] = sum(c, d) A[a, c] * B[b, d] * X[c, d]
 * inlineProductProducer.rewrite({ consumer: "y", producer: "W" }, program);
 * ```
 */
export const inlineProductProducer = programRule<InlineSite>({
  name: "inline-product-producer",
  statement: "Σ W[(a,b),(c,d)]·g = Σ A[a,c]·B[b,d]·g when W[(a,b),(c,d)] = A[a,c]·B[b,d]",
  conditions: [
    {
      name: "read-inside-sum-or-by-a-product",
      holds: (s, p) => {
        const c = defNamed(p, s.consumer)!;
        return isProductDef(c) || accessSites(c.body).some((a) => a.access.tensor === s.producer && a.inSum);
      },
    },
    {
      name: "every-access-recovers-producer-indices",
      holds: (s, p) => {
        const c = defNamed(p, s.consumer)!;
        const w = defNamed(p, s.producer)!;
        return accessSites(c.body).every((a) => a.access.tensor !== s.producer || recoverIndices(a.access.index, w, c.ranges) !== null);
      },
    },
    {
      // An integer producer of non-integer operands truncates; inlining would drop that.
      name: "producer-does-not-truncate",
      holds: (s, p) => {
        const w = defNamed(p, s.producer)!;
        if (w.dtype !== "i32") return true;
        return [...accessedTensors(w.body)].every((n) => p.tensors.find((t) => t.name === n)?.dtype === "i32");
      },
    },
  ],
  sites: (program) => {
    const out: InlineSite[] = [];
    for (const c of program.tensors) {
      if (c.role !== "def" || c.recurrence !== undefined || c.scatter !== undefined) continue;
      const padded = new Set(accessSites(c.body).filter((a) => a.access.guarded).map((a) => a.access.tensor));
      for (const n of accessedTensors(c.body)) {
        if (n !== c.name && !padded.has(n) && isProductDef(defNamed(program, n))) out.push({ consumer: c.name, producer: n });
      }
    }
    return out;
  },
  rewrite: (s, program) => {
    const c = defNamed(program, s.consumer)!;
    const w = defNamed(program, s.producer)!;
    const body = mapExpr(c.body, (x) => (x.kind === "access" && x.tensor === w.name
      ? substituteVars(w.body, recoverIndices(x.index, w, c.ranges)!)
      : x));
    const next = replaceTensor(program, c.name, { ...c, body });
    if (w.output || isReadElsewhere(next, w.name, "")) return next;
    return { ...next, tensors: next.tensors.filter((t) => t.name !== w.name) };
  },
});

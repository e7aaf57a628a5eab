/**
 * inline-factors: a tensor given by factors — a def `W` whose body is one
 * sum of a product of reads of its own factors `W.U`, `W.V`, ... (a
 * structured layer `input W[m, n] ~ lowrank(r)` or `~ tt(...)`, or a weight
 * the approximation step factored) — is moved into every sum that reads W
 * as a factor of a product, its summed variables renamed and added to that
 * sum, so that `order-contractions` sees the whole product and W is never
 * built. A sum inside an epilogue first gets a def of its own
 * (`isolateContractions`). W stays where something else still reads it.
 *
 * Before:
 *
 *     W: f32[1024, 1024] = [i:1024, j:1024] sum(r:8) W.U[i, r] * W.V[r, j]
 *     output y: f32[64, 1024] = [n:64, j:1024] sum(i:1024) W[i, j] * x[n, i]
 *
 * After (order-contractions then computes (x·U)·V):
 *
 *     output y: f32[64, 1024] = [n:64, j:1024] sum(i:1024, r:8) W.U[i, r] * W.V[r, j] * x[n, i]
 */
import type { DefNode, Expr, Program } from "../ir/types.js";
import { associativeChain, reduce } from "../ir/types.js";
import { mapExpr, renameVars, substituteVars, visitExpr } from "../ir/walk.js";
import { factorsOf, isolateContractions } from "./approximate/substitute.js";
import { PROPERTIES, type Pass } from "./pass.js";

/** Whether `d` is a factored def: one sum of a product of reads of `d.name`'s own factors. */
export function isFactoredDef(d: DefNode): boolean {
  if (d.body.kind !== "reduce" || d.body.op !== "sum" || d.groups.some((g) => g !== 1)) return false;
  return factorsOf(d.body.body).every((f) => f.kind === "access" && f.tensor.startsWith(`${d.name}.`) && f.index.every((a) => a.terms.length === 1 && a.constant === 0 && a.terms[0]!.coef === 1));
}

function readsTensor(e: Expr, name: string): boolean {
  let found = false;
  visitExpr(e, (x) => {
    if (x.kind === "access" && x.tensor === name) found = true;
    return !found;
  });
  return found;
}

/** `program` with the factored def `name` inlined into the sums that read it (see the module comment). */
export function inlineFactoredDef(program: Program, name: string): Program {
  const isolated = isolateContractions(program, name);
  const w = isolated.tensors.find((t): t is DefNode => t.name === name && t.role === "def")!;
  const inner = w.body as Extract<Expr, { kind: "reduce" }>;
  const rewriteDef = (d: DefNode): DefNode => {
    const used = new Set([...Object.keys(d.ranges), ...d.indices]);
    const added: Record<string, number> = {};
    const body = mapExpr(d.body, (x) => {
      if (x.kind !== "reduce" || x.op !== "sum") return x;
      const factors = factorsOf(x.body);
      if (!factors.some((f) => f.kind === "access" && f.tensor === name)) return x;
      const vars = [...x.vars];
      const next = factors.flatMap((f) => {
        if (f.kind !== "access" || f.tensor !== name) return [f];
        const renames = new Map<string, string>();
        for (const v of inner.vars) {
          let fresh = `${name.replace(/\W/g, "_")}_${v}`;
          for (let k = 1; used.has(fresh); k++) fresh = `${name.replace(/\W/g, "_")}_${v}${k}`;
          used.add(fresh);
          renames.set(v, fresh);
          vars.push(fresh);
          added[fresh] = w.ranges[v]!;
        }
        const at = new Map(w.indices.map((v, k) => [v, f.index[k]!]));
        return factorsOf(substituteVars(renameVars(inner.body, renames), at));
      });
      return reduce("sum", vars, associativeChain("mul", next));
    });
    if (Object.keys(added).length === 0) return d;
    return { ...d, body, ranges: { ...d.ranges, ...added } };
  };
  const rewritten = isolated.tensors.map((t) => (t.role === "def" && t !== w ? rewriteDef(t) : t));
  const stillRead = w.output || rewritten.some((t) => (t.role === "def" && t !== w && readsTensor(t.body, name)) || (t.role === "call" && t.args.includes(name)));
  return { ...isolated, tensors: stillRead ? rewritten : rewritten.filter((t) => t !== w) };
}

/**
 * The inline-factors pass.
 *
 * @example
 * ```ts
 * runPasses(program, [inlineFactors], { verify: true }).program;
 * ```
 */
export const inlineFactors: Pass = {
  name: "inline-factors",
  description: "inline factored tensors (structured layers, approximated weights) into the sums that read them",
  requires: [PROPERTIES.noCalls],
  guarantees: [],
  preserves: [PROPERTIES.noCalls, PROPERTIES.noGrads],
  run: (program) => {
    let out = program;
    for (const t of program.tensors) {
      if (t.role === "def" && isFactoredDef(t)) out = inlineFactoredDef(out, t.name);
    }
    return out;
  },
};

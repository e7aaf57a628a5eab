/**
 * approximate-weights: replaces weights bound at compile time by low-rank or
 * Kronecker factors where a request asks for it, the error stays within its
 * tolerance, and the cost model says the program gets cheaper. Every weight
 * a request covers gets an {@link Approximation} record: what was tried,
 * the weight's relative error, the program's FLOPs and the weight's bytes
 * before and after, applied or not, and why not.
 *
 * Opt-in (it changes results): `tns compile|run|explain --approx ...`, or
 * the `approx` option of `compile`. It runs on the checked program, before
 * the optimizing passes; the FLOPs it compares are those of the program
 * after the default pipeline (`cost.ts`), so a factoring is taken only when
 * the contraction-path search can use it.
 *
 *     weight W: f32[1024, 1024] (data)            # rank 8 plus noise
 *     output y[b:64, j:1024] = sum(i:1024) W[i, j] * x[b, i]
 *   with lowrank:tol=1e-4, 134,217,728 -> 2,097,152 FLOPs:
 *     weight W.U: f32[1024, 8] (data)
 *     weight W.V: f32[8, 1024] (data)
 *     output y[b:64, j:1024] = sum(i:1024, W_r:8) W.U[i, W_r] * W.V[W_r, j] * x[b, i]
 */
import type { Program, WeightNode } from "../../ir/types.js";
import { numel } from "../../ir/types.js";
import { visitExpr } from "../../ir/walk.js";
import { matrix, type Matrix } from "../../numerics/matrix.js";
import { truncatedSvd } from "../../numerics/svd.js";
import { kronErrorLowerBound, kronShapeCandidates, nearestKronecker, type KronShape } from "../../numerics/kron.js";
import { programCost } from "../cost.js";
import { defaultPipeline, runPasses } from "../index.js";
import { DEFAULT_TOLERANCE, type ApproxKind, type ApproxRequest } from "./request.js";
import { type FactorSpec, isolateContractions, substituteFactored, substituteKronecker, substituteLowRank } from "./substitute.js";
import { hosvd, ttSvd } from "../../numerics/decompose.js";

export { parseApproxRequests, DEFAULT_TOLERANCE, type ApproxKind, type ApproxRequest, type RequestError } from "./request.js";

/** What an approximation of one weight did (one record per weight and kind tried). */
export interface Approximation {
  readonly weight: string;
  readonly kind: ApproxKind;
  /** The request it answers, as written. */
  readonly request: string;
  /** `lowrank`: the rank chosen (or needed, when refused); `kron`: the number of Kronecker terms; `tucker`, `tt`: the largest rank. */
  readonly rank: number | null;
  /** Shapes of the factors: [m, r], [r, n] (lowrank); [m1, n1], [m2, n2] (kron); the core then each mode's factor (tucker); the cores (tt). */
  readonly factorShapes: ReadonlyArray<readonly number[]>;
  /** ‖W − W̃‖_F / ‖W‖_F, null when nothing was computed. */
  readonly relativeError: number | null;
  /** FLOPs of the optimized program before and after this factoring (equal when not applied). */
  readonly flopsBefore: number;
  readonly flopsAfter: number;
  /** Bytes of the weight, and of its factors. */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly applied: boolean;
  /** Why it was not applied. */
  readonly reason?: string;
  /** How the SVD was computed (`jacobi`, `randomized`, ...). */
  readonly method?: string;
}

/** A request the program cannot satisfy: a located error for the caller to report. */
export interface ApproxError {
  /** TNS1002 unknown weight, TNS1003 rank too large, TNS1004 factor shapes, TNS1005 not a matrix. */
  readonly code: "TNS1002" | "TNS1003" | "TNS1004" | "TNS1005";
  readonly weight: string | null;
  readonly request: string;
  readonly message: string;
  readonly hint?: string;
}

/** The result of {@link approximateWeights}. */
export interface ApproximateResult {
  readonly program: Program;
  readonly approximations: readonly Approximation[];
  readonly errors: readonly ApproxError[];
}

/** FLOPs of the program after the default pipeline (the cost model's verdict). */
export function optimizedFlops(program: Program): number {
  return programCost(runPasses(program, defaultPipeline()).program).flops;
}

const BYTES: Record<string, number> = { f32: 4, f64: 8, i32: 4 };

/** Whether some `sum` multiplies a read of `name` (the reads a factoring can reassociate). */
function readByContraction(program: Program, name: string): boolean {
  const inSum = (e: Parameters<typeof visitExpr>[0]): boolean => {
    let found = false;
    visitExpr(e, (x) => {
      if (x.kind === "reduce" && x.op === "sum") {
        visitExpr(x.body, (y) => {
          if (y.kind === "access" && y.tensor === name) found = true;
        });
      }
      return !found;
    });
    return found;
  };
  const defs = [...program.tensors, ...Object.values(program.functions).flatMap((f) => f.tensors)];
  return defs.some((t) => t.role === "def" && inSum(t.body)) || program.tensors.some((t) => t.role === "call" && t.args.includes(name));
}

function gradTargets(program: Program): Set<string> {
  return new Set(program.tensors.flatMap((t) => (t.role === "grad" ? [t.wrt] : [])));
}

/** The requests that apply to a weight: one per kind, a named request before a general one. */
function requestsFor(name: string, requests: readonly ApproxRequest[]): ApproxRequest[] {
  const out: ApproxRequest[] = [];
  for (const kind of ["lowrank", "kron", "tucker", "tt"] as const) {
    const named = requests.filter((r) => r.kind === kind && r.weight === name);
    const general = requests.filter((r) => r.kind === kind && r.weight === null);
    const pick = named.at(-1) ?? general.at(-1);
    if (pick) out.push(pick);
  }
  return out;
}

/** One candidate factoring of a weight, before the choice between kinds. */
interface Candidate {
  readonly record: Approximation;
  readonly program: Program | null;
}

/**
 * Applies `requests` to the weights of `program` (see the module comment).
 * Requests naming a weight that is missing, not a matrix or without data,
 * a rank above min(m, n), or factor shapes that do not multiply to W's
 * shape are `errors`, and nothing is applied for them.
 *
 * @example
 * ```ts
 * const { program: approx, approximations } = approximateWeights(program, parseApproxRequests("lowrank:tol=1e-4").requests);
 * approximations[0]!.rank; // 8
 * ```
 */
export function approximateWeights(program: Program, requests: readonly ApproxRequest[]): ApproximateResult {
  const errors = approximationErrors(program, requests);
  if (errors.length > 0) return { program, approximations: [], errors };
  const grads = gradTargets(program);
  const approximations: Approximation[] = [];
  let current = program;
  let flops = optimizedFlops(current);
  for (const node of program.tensors) {
    if (node.role !== "weight") continue;
    const mine = requestsFor(node.name, requests);
    if (mine.length === 0) continue;
    const bytes = numel(node.shape) * BYTES[node.dtype]!;
    const refuse = (r: ApproxRequest, reason: string): Approximation => ({
      weight: node.name, kind: r.kind, request: r.text, rank: null, factorShapes: [], relativeError: null,
      flopsBefore: flops, flopsAfter: flops, bytesBefore: bytes, bytesAfter: bytes, applied: false, reason,
    });
    // A general request passes over weights of another order silently.
    const fitting = mine.filter((r) => r.weight !== null || (node.shape.length === 2) === MATRIX_KINDS.has(r.kind));
    if (fitting.length === 0) continue;
    const whyNot = ineligible(current, node, grads);
    if (whyNot !== null) {
      for (const r of fitting) approximations.push(refuse(r, whyNot));
      continue;
    }
    const candidates = fitting.map((r) => candidateFor(current, node, r, flops));
    const paying = candidates.filter((c) => c.program !== null && c.record.flopsAfter < flops);
    const best = paying.sort((a, b) => a.record.flopsAfter - b.record.flopsAfter)[0];
    for (const c of candidates) {
      if (c === best) {
        approximations.push({ ...c.record, applied: true });
      } else if (c.program !== null && c.record.flopsAfter >= flops) {
        approximations.push({ ...c.record, applied: false, reason: `the cost model says it does not pay: ${fmt(flops)} FLOPs before, ${fmt(c.record.flopsAfter)} after` });
      } else if (c.program !== null && best) {
        approximations.push({ ...c.record, applied: false, reason: `${best.record.kind} is cheaper (${fmt(best.record.flopsAfter)} FLOPs)` });
      } else {
        approximations.push(c.record);
      }
    }
    if (best) {
      current = best.program!;
      flops = best.record.flopsAfter;
    }
  }
  return { program: current, approximations, errors: [] };
}

function fmt(n: number): string {
  return n.toLocaleString("en-US");
}

/** The kinds that factor matrices; the others factor tensors of order 3 or more. */
const MATRIX_KINDS: ReadonlySet<ApproxKind> = new Set(["lowrank", "kron"]);

function candidateFor(program: Program, node: WeightNode, r: ApproxRequest, flops: number): Candidate {
  if (r.kind === "tucker" || r.kind === "tt") return tensorCandidate(program, node, r, flops);
  const w = matrix(node.shape[0]!, node.shape[1]!, node.data!);
  return r.kind === "lowrank" ? lowRankCandidate(program, node, w, r, flops) : kronCandidate(program, node, w, r, flops);
}

/** Why a weight cannot be factored, or null when it can. */
function ineligible(program: Program, node: WeightNode, grads: ReadonlySet<string>): string | null {
  if (node.data === null) return "no data is bound at compile time (give it with --weights or the weights option)";
  if (node.dtype === "i32") return "an i32 weight is not approximated";
  if (grads.has(node.name)) return "the program differentiates by it";
  if (!readByContraction(program, node.name)) return "no contraction reads it";
  return null;
}

/** The largest rank whose factors (m + n)·r hold fewer elements than W. */
function breakEvenRank(m: number, n: number): number {
  return Math.max(0, Math.ceil((m * n) / (m + n)) - 1);
}

function lowRankCandidate(program: Program, node: WeightNode, w: Matrix, r: ApproxRequest, flops: number): Candidate {
  const { rows: m, cols: n } = w;
  const bytes = m * n * BYTES[node.dtype]!;
  const base = { weight: node.name, kind: "lowrank" as const, request: r.text, flopsBefore: flops, bytesBefore: bytes };
  const maxRank = breakEvenRank(m, n);
  const refuse = (reason: string, rank: number | null, err: number | null): Candidate => ({
    program: null,
    record: { ...base, rank, factorShapes: rank === null ? [] : [[m, rank], [rank, n]], relativeError: err, flopsAfter: flops, bytesAfter: bytes, applied: false, reason },
  });
  if (r.rank !== undefined && r.rank > maxRank) {
    return refuse(`rank ${r.rank} factors hold (${m} + ${n})·${r.rank} elements, not fewer than W's ${m}·${n}`, r.rank, null);
  }
  const t = truncatedSvd(w, r.rank !== undefined ? { rank: r.rank, maxRank } : { tol: r.tol ?? DEFAULT_TOLERANCE, maxRank });
  if (!t.ok) {
    return refuse(`no rank up to ${t.maxRank} (the break-even rank for ${m}x${n}) meets tol=${r.tol}: rank ${t.neededRank} is needed; the relative error at rank ${t.maxRank} is ${t.errorAtMaxRank.toPrecision(3)}`, t.neededRank, t.errorAtMaxRank);
  }
  const rank = Math.max(t.rank, 1);
  const u = new Float64Array(m * rank);
  const v = new Float64Array(rank * n);
  for (let k = 0; k < t.rank; k++) {
    const scale = Math.sqrt(t.svd.s[k]!);
    for (let i = 0; i < m; i++) u[i * rank + k] = t.svd.u.data[i * t.rank + k]! * scale;
    for (let j = 0; j < n; j++) v[k * n + j] = t.svd.v.data[j * t.rank + k]! * scale;
  }
  const next = substituteLowRank(isolateContractions(program, node.name), node.name, matrix(m, rank, u), matrix(rank, n, v));
  const after = optimizedFlops(next);
  return {
    program: next,
    record: {
      ...base, rank, factorShapes: [[m, rank], [rank, n]], relativeError: t.relativeError, flopsAfter: after,
      bytesAfter: (m + n) * rank * BYTES[node.dtype]!, applied: false, method: t.method,
    },
  };
}

function kronCandidate(program: Program, node: WeightNode, w: Matrix, r: ApproxRequest, flops: number): Candidate {
  const { rows: m, cols: n } = w;
  const bytes = m * n * BYTES[node.dtype]!;
  const tol = r.tol ?? (r.shape ? undefined : DEFAULT_TOLERANCE);
  const base = { weight: node.name, kind: "kron" as const, request: r.text, flopsBefore: flops, bytesBefore: bytes };
  const shapes: KronShape[] = r.shape
    ? [{ m1: r.shape[0][0], n1: r.shape[0][1], m2: r.shape[1][0], n2: r.shape[1][1] }]
    : kronShapeCandidates(m, n).filter((s) => tol === undefined || kronErrorLowerBound(w, s) <= tol);
  let best: Candidate | null = null;
  let bestError = Infinity;
  let tried = 0;
  for (const s of shapes) {
    if (tried >= 4) break;
    const f = nearestKronecker(w, s, tol === undefined ? {} : { tol, maxTerms: 1 });
    if (!f.ok) {
      bestError = Math.min(bestError, f.errorAtMaxTerms);
      continue;
    }
    tried++;
    const next = substituteKronecker(isolateContractions(program, node.name), node.name, f.terms[0]!.a, f.terms[0]!.b);
    const after = optimizedFlops(next);
    const record: Approximation = {
      ...base, rank: 1, factorShapes: [[s.m1, s.n1], [s.m2, s.n2]], relativeError: f.relativeError, flopsAfter: after,
      bytesAfter: (s.m1 * s.n1 + s.m2 * s.n2) * BYTES[node.dtype]!, applied: false, method: f.method,
    };
    if (best === null || after < best.record.flopsAfter) best = { program: next, record };
  }
  if (best) return best;
  const what = r.shape ? `A ${r.shape[0].join("x")} ⊗ B ${r.shape[1].join("x")}` : `any of the factor shapes tried (${shapes.length === 0 ? "none passed the quick error bound" : shapes.map((s) => `${s.m1}x${s.n1},${s.m2}x${s.n2}`).join("; ")})`;
  const err = Number.isFinite(bestError) ? `; the nearest has relative error ${bestError.toPrecision(3)}` : "";
  return {
    program: null,
    record: { ...base, rank: null, factorShapes: [], relativeError: Number.isFinite(bestError) ? bestError : null, flopsAfter: flops, bytesAfter: bytes, applied: false, reason: `no single Kronecker product with ${what} meets tol=${tol}${err}` },
  };
}

/**
 * The requests that cannot be satisfied whatever the data (cheap: no
 * factoring is computed), as {@link approximateWeights} reports them.
 */
export function approximationErrors(program: Program, requests: readonly ApproxRequest[]): ApproxError[] {
  const errors: ApproxError[] = [];
  const weights = program.tensors.filter((t): t is WeightNode => t.role === "weight");
  for (const r of requests) {
    const matrices = r.weight === null ? weights.filter((w) => (w.shape.length === 2) === MATRIX_KINDS.has(r.kind)) : weights.filter((w) => w.name === r.weight);
    if (r.weight !== null && matrices.length === 0) {
      const known = weights.map((w) => w.name);
      errors.push({ code: "TNS1002", weight: r.weight, request: r.text, message: `'${r.weight}' is not a weight of the program`, hint: known.length ? `weights: ${known.join(", ")}` : "the program declares no weight" });
      continue;
    }
    for (const w of matrices) {
      if (r.weight !== null && (w.shape.length === 2) !== MATRIX_KINDS.has(r.kind)) {
        const what = MATRIX_KINDS.has(r.kind) ? "a matrix" : "a tensor of order 3 or more";
        errors.push({ code: "TNS1005", weight: w.name, request: r.text, message: `${r.kind} factors ${what}, but weight '${w.name}' has shape [${w.shape.join(", ")}]` });
        continue;
      }
      if (w.shape.length !== 2) continue;
      const [m, n] = w.shape as [number, number];
      if (r.rank !== undefined && r.rank > Math.min(m, n)) {
        errors.push({ code: "TNS1003", weight: w.name, request: r.text, message: `rank ${r.rank} is above min(m, n) = ${Math.min(m, n)} for weight '${w.name}' [${m}, ${n}]`, hint: `ask for a rank from 1 to ${Math.min(m, n)}` });
      }
      if (r.shape) {
        const [[m1, n1], [m2, n2]] = r.shape;
        if (m1 * m2 !== m || n1 * n2 !== n) {
          errors.push({
            code: "TNS1004", weight: w.name, request: r.text,
            message: `factor shapes ${m1}x${n1} ⊗ ${m2}x${n2} give a ${m1 * m2}x${n1 * n2} matrix, but weight '${w.name}' is ${m}x${n}`,
            hint: `choose m1·m2 = ${m} and n1·n2 = ${n}, e.g. shape=${suggestShape(m, n)}`,
          });
        }
      }
    }
  }
  return errors;
}

function suggestShape(m: number, n: number): string {
  const s = kronShapeCandidates(m, n, 1)[0];
  return s ? `${s.m1}x${s.n1},${s.m2}x${s.n2}` : `${m}x${n},1x1`;
}

/** A Tucker (HOSVD) or tensor-train (TT-SVD) candidate for a weight of order 3 or more. */
function tensorCandidate(program: Program, node: WeightNode, r: ApproxRequest, flops: number): Candidate {
  const bytes = numel(node.shape) * BYTES[node.dtype]!;
  const tol = r.tol ?? DEFAULT_TOLERANCE;
  const base = { weight: node.name, kind: r.kind, request: r.text, flopsBefore: flops, bytesBefore: bytes };
  const t = { shape: node.shape, data: node.data! };
  let factors: FactorSpec[];
  let summed: Record<string, number>;
  let relativeError: number;
  let rank: number;
  if (r.kind === "tucker") {
    const tk = hosvd(t, tol);
    if (tk === null) return { program: null, record: { ...base, rank: null, factorShapes: [], relativeError: null, flopsAfter: flops, bytesAfter: bytes, applied: false, reason: `no Tucker decomposition meets tol=${tol}` } };
    const ranks = tk.core.shape;
    summed = Object.fromEntries(ranks.map((x, k) => [`a${k}`, x]));
    factors = [
      { suffix: "core", shape: ranks, data: tk.core.data, indices: ranks.map((_, k) => `a${k}`) },
      ...tk.factors.map((u, k) => ({ suffix: `U${k + 1}`, shape: [u.rows, u.cols], data: u.data, indices: [`i${k}`, `a${k}`] })),
    ];
    relativeError = tk.relativeError;
    rank = Math.max(...ranks);
  } else {
    const tt = ttSvd(t, tol);
    if (tt === null) return { program: null, record: { ...base, rank: null, factorShapes: [], relativeError: null, flopsAfter: flops, bytesAfter: bytes, applied: false, reason: `no tensor train meets tol=${tol}` } };
    summed = Object.fromEntries(tt.ranks.map((x, k) => [`t${k + 1}`, x]));
    const d = node.shape.length;
    factors = tt.cores.map((c, k) => ({
      suffix: `G${k + 1}`, shape: c.shape, data: c.data,
      indices: [...(k > 0 ? [`t${k}`] : []), `i${k}`, ...(k < d - 1 ? [`t${k + 1}`] : [])],
    }));
    relativeError = tt.relativeError;
    rank = Math.max(...tt.ranks);
  }
  const next = substituteFactored(isolateContractions(program, node.name), node.name, factors, summed);
  const after = optimizedFlops(next);
  return {
    program: next,
    record: {
      ...base, rank, factorShapes: factors.map((f) => [...f.shape]), relativeError, flopsAfter: after,
      bytesAfter: factors.reduce((a, f) => a + numel(f.shape), 0) * BYTES[node.dtype]!, applied: false, method: r.kind === "tucker" ? "hosvd" : "tt-svd",
    },
  };
}

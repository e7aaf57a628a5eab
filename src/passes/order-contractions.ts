/**
 * order-contractions: splits a sum of products of three or more tensors
 * into a chain of pairwise contractions in the cheapest order the `auto`
 * path finder knows (see `contraction-path/`), when that costs fewer FLOPs
 * than the single loop nest. The intermediates are named after the def
 * (`D_p1`, `D_p2`, ...); the last def keeps the name, output flag, indices
 * and grouping.
 *
 * A def qualifies when its body is a product whose factors are accesses
 * with plain-variable indices (`A[i, j]`, diagonals `A[i, i]` too) and
 * constants, inside one `sum`, optionally times factors outside the sum
 * (which cannot use the summed variables). Every summed
 * variable must index some access. Anything else (affine indices, other
 * operators, nested reductions) is left alone. Intermediates never exceed
 * the largest of the def's operands and its result (NumPy's default memory
 * limit) or 64 Ki elements, whichever is larger, so reordering never needs
 * much more memory than the inputs, nor is refused over a few kilobytes.
 *
 * Before (n = 64, m = 8):
 *
 *     D[i, l] = sum(j, k) A[i, j] * B[j, k] * C[k, l]        A: [n, n], B: [n, n], C: [n, m]
 *
 * After (n·n·m·2 + n·n·m·2 FLOPs instead of n·n·n·m·3):
 *
 *     D_p1[l, j] = sum(k) B[j, k] * C[k, l]
 *     D[i, l] = sum(j) A[i, j] * D_p1[l, j]
 *
 * (An intermediate stores the def's output indices first, then the others
 * in order of first use.)
 */
import type { Access, DefNode, DType, Expr, Program, TensorNode } from "../ir/types.js";
import { access, associativeChain, isPlainVar, reduce } from "../ir/types.js";
import { boundVars, freeVars } from "../ir/walk.js";
import { auto } from "./contraction-path/auto.js";
import { applyStep, contractStep, internNetwork, type ContractionPath, type InternedNetwork, type LabelSet } from "./contraction-path/network.js";
import { describePath, type PathInfo } from "./contraction-path/path-info.js";
import { elementBytes } from "./cost.js";
import type { NotingPass, PassNote, ProgramSlicing } from "./manager.js";
import { PROPERTIES } from "./pass.js";
import { sliceInChunks } from "./contraction-path/slicing.js";
import { buildSlicedChain } from "./sliced-chain.js";
import { freshName, labelsOf, layoutOrder, rangesFor, type SumOfProducts } from "./contraction-chain.js";

export type { SumOfProducts } from "./contraction-chain.js";

/** Options of {@link orderContractionsWithin}. */
export interface OrderContractionsOptions {
  /**
   * The most bytes any tensor a contraction forms may take (the def's own
   * result aside). A path with a larger intermediate is sliced (see
   * `sliced-chain.ts`): it runs slice by slice, each slice's tensors within
   * the limit. Default: no limit.
   */
  readonly maxIntermediateBytes?: number;
  /**
   * The memory budget of the rematerialization work (`memoryBudget`), when
   * one is given: the contraction's tensors then also keep within what the
   * budget leaves beside the inputs and weights, since no recomputation can
   * make room for more (below that, rematerialization does the rest).
   */
  readonly memoryBudget?: number;
}

/**
 * The limit on the tensors a contraction forms under `options`, in bytes
 * (undefined: none): `maxIntermediateBytes`, lowered under a memory budget
 * to the budget less the inputs' and weights' bytes, when that is positive.
 *
 * @example
 * ```ts
 * intermediateLimitBytes(program, { maxIntermediateBytes: 1 << 20 }); // 1048576
 * ```
 */
export function intermediateLimitBytes(program: Program, options: OrderContractionsOptions): number | undefined {
  let limit = options.maxIntermediateBytes;
  if (options.memoryBudget !== undefined) {
    let persistent = 0;
    for (const t of program.tensors) {
      if (t.role === "input" || t.role === "weight") persistent += t.shape.reduce((a, n) => a * n, 1) * elementBytes(t.dtype);
    }
    const room = Math.floor(options.memoryBudget - persistent);
    if (room > 0) limit = Math.min(limit ?? Infinity, room);
  }
  return limit;
}

/**
 * The order-contractions pass under `options` (see
 * {@link OrderContractionsOptions}). Its notes give the PathInfo of every def
 * it split and, when it sliced one, the slicing.
 *
 * @example
 * ```ts
 * runPasses(program, [orderContractionsWithin({ maxIntermediateBytes: 64 << 20 })]).program;
 * ```
 */
export function orderContractionsWithin(options: OrderContractionsOptions): NotingPass {
  return {
    name: "order-contractions",
    description: "split sums of products of 3+ tensors into pairwise contractions in the cheapest order",
    requires: [],
    guarantees: [],
    // New defs are sums of two-factor products (and, when sliced, sums and
    // selections of slices) that feed the output: no call appears and nothing
    // becomes dead.
    preserves: [PROPERTIES.noCalls, PROPERTIES.noDeadCode],
    run: (program) => orderContractionsWithNotes(program, options).program,
    runWithNotes: (program) => orderContractionsWithNotes(program, options),
  };
}

/**
 * The order-contractions pass, with no limit on intermediates. Its notes give
 * the PathInfo of every def it split.
 *
 * @example
 * ```ts
 * runPasses(program, [orderContractions], { verify: true }).program;
 * orderContractions.runWithNotes(program).notes[0]?.info.speedup; // e.g. 48
 * ```
 */
export const orderContractions: NotingPass = orderContractionsWithin({});

/**
 * Recognises a sum of products of at least three plain-indexed accesses, or null.
 *
 * @example
 * ```ts
 * matchSumOfProducts(def)?.operands.length; // 3 for D[i, l] = sum(j, k) A[i, j] * B[j, k] * C[k, l]
 * ```
 */
export function matchSumOfProducts(def: DefNode): SumOfProducts | null {
  const top = productFactors(def.body);
  const sums = top.filter((f) => f.kind === "reduce");
  if (sums.length > 1) return null;
  const sum = sums[0];
  // Without a summed label there is nothing to gain (NumPy does not reorder those either).
  if (sum === undefined || sum.kind !== "reduce" || sum.op !== "sum") return null;
  const factors: Expr[] = [];
  const operands: Access[] = [];
  factors.push(...top.filter((f) => f !== sum));
  for (const f of productFactors(sum.body)) {
    if (f.kind === "const") factors.push(f);
    else if (f.kind === "access" && f.index.every(isPlainVar)) operands.push(f);
    else return null;
  }
  if (operands.length < 3) return null;
  const summed = sum.vars;
  const used = new Set(operands.flatMap(labelsOf));
  if (!summed.every((v) => used.has(v))) return null;
  return { factors, summed, operands };
}

function productFactors(e: Expr): Expr[] {
  return e.kind === "binary" && e.op === "mul" ? [...productFactors(e.lhs), ...productFactors(e.rhs)] : [e];
}

/**
 * Rewrites every qualifying top-level def of `program` (see the module comment).
 *
 * @example
 * ```ts
 * orderProgramContractions(program).tensors.map((t) => t.name); // [..., "D_p1", "D"]
 * ```
 */
export function orderProgramContractions(program: Program): Program {
  return orderContractionsWithNotes(program).program;
}

/**
 * {@link orderProgramContractions}, with one `contraction-path` note per def
 * it split: the def, its new intermediates, and the path's PathInfo.
 *
 * @example
 * ```ts
 * const { notes } = orderContractionsWithNotes(program);
 * printPathInfo(notes[0]!.info); // "  Complete contraction:  ij,jk,kl->il\n..."
 * ```
 */
export function orderContractionsWithNotes(
  program: Program, options: OrderContractionsOptions = {},
): { program: Program; notes: PassNote[] } {
  const names = new Set(program.tensors.map((t) => t.name));
  const byName = new Map(program.tensors.map((t) => [t.name, t]));
  const notes: PassNote[] = [];
  const limit = intermediateLimitBytes(program, options);
  const tensors: TensorNode[] = [];
  for (const t of program.tensors) {
    // A recurrence's self-read must stay in it: its products are not split into defs of their own.
    const chain = t.role === "def" && t.recurrence === undefined ? contractionChain(t, names, byName, limit) : null;
    if (chain === null) {
      tensors.push(t);
      continue;
    }
    tensors.push(...chain.defs);
    const intermediates = chain.defs.slice(0, -1).map((d) => d.name);
    notes.push({ kind: "contraction-path", tensor: t.name, intermediates, info: chain.info, ...(chain.slicing ? { slicing: chain.slicing } : {}) });
  }
  return notes.length > 0 ? { program: { ...program, tensors }, notes } : { program, notes };
}

/**
 * The smallest memory limit, in elements, the pass uses (64 Ki elements,
 * 256 KiB at f32). NumPy's default, the largest operand or result, is
 * right for large tensors but blocks every split of a small network whose
 * pairwise intermediates are all larger than its operands, as in a tensor
 * train with small ranks (8×8×4 cores, 2048-element intermediates), which
 * then runs as one loop nest costing 40× the FLOPs.
 */
const MIN_MEMORY_LIMIT = 1 << 16;

/** The operands as a network over the def's variables, and the default memory limit. */
function networkOf(def: DefNode, m: SumOfProducts): { net: InternedNetwork; memoryLimit: number } {
  const inputs = m.operands.map(labelsOf);
  const used = new Set(inputs.flat());
  const output = def.indices.filter((v) => used.has(v));
  const net = internNetwork({ inputs, output, extents: def.ranges });
  const size = (vs: readonly string[]): number => vs.reduce((a, v) => a * def.ranges[v]!, 1);
  return { net, memoryLimit: Math.max(size(output), ...inputs.map(size), MIN_MEMORY_LIMIT) };
}

/** The defs replacing `def`, the path taken and its slicing, or null when it does not qualify or reordering does not pay. */
function contractionChain(
  def: DefNode, names: Set<string>, byName: ReadonlyMap<string, TensorNode>, limit: number | undefined,
): { defs: DefNode[]; info: PathInfo; slicing?: ProgramSlicing } | null {
  const m = matchSumOfProducts(def);
  if (m === null) return null;
  const { net, memoryLimit } = networkOf(def, m);
  const path = auto.find(net, { memoryLimit });
  if (path.length < 2) return null;
  const dtype = intermediateType(def, m, byName);
  const bytes = elementBytes(dtype);
  const info = describePath(net, path, auto.name, bytes);
  if (info.optimizedFlops >= info.naiveFlops) return null;
  const intermediates = Math.max(0, ...info.steps.slice(0, -1).map((s) => s.resultSize));
  if (limit === undefined || intermediates * bytes <= limit) return { defs: buildChain(def, m, net, path, names, byName), info };
  const slicing = programSlicing(net, path, limit, bytes);
  if (slicing.refused !== null || slicing.labels.length === 0) return { defs: buildChain(def, m, net, path, names, byName), info, slicing };
  return { defs: buildSlicedChain(def, m, net, path, slicing, names, dtype), info, slicing };
}

/**
 * The most slices the pass unrolls into one program; a limit that needs
 * more leaves the def unsliced, and the compiler reports it (TNS0720).
 */
export const MAX_PROGRAM_SLICES = 256;

/** The chunked slicing of `path` under `limitBytes`, or why there is none. */
function programSlicing(net: InternedNetwork, path: ContractionPath, limitBytes: number, bytes: number): ProgramSlicing {
  const limitElements = Math.floor(limitBytes / bytes);
  const refuse = (why: string): ProgramSlicing => ({
    labels: [], chunks: [], slices: 1, flops: 0, extraFlops: 0, largestIntermediate: 0, limitBytes, elementBytes: bytes, refused: why,
  });
  if (path.some((s) => s.length !== 2)) return refuse("its path has a step over more than two tensors (no pairwise path fits the memory limit)");
  if (limitElements < 1) return refuse(`the limit is less than one element (${bytes} bytes)`);
  let s;
  try {
    s = sliceInChunks(net, path, limitElements);
  } catch (e) {
    if (e instanceof RangeError) return refuse(e.message);
    throw e;
  }
  if (s.slices > MAX_PROGRAM_SLICES) return refuse(`it needs ${s.slices} slices, more than the ${MAX_PROGRAM_SLICES} a program runs`);
  return { ...s, limitBytes, elementBytes: bytes, refused: null };
}

/** An operand of the chain: an original access, or an intermediate over `indices`. */
interface ChainOperand {
  readonly expr: Access;
  readonly set: LabelSet;
}

function buildChain(
  def: DefNode, m: SumOfProducts, net: InternedNetwork, path: ContractionPath,
  names: Set<string>, byName: ReadonlyMap<string, TensorNode>,
): DefNode[] {
  let current: ChainOperand[] = m.operands.map((a, k) => ({ expr: a, set: net.sets[k]! }));
  const dtype = intermediateType(def, m, byName);
  const defs: DefNode[] = [];
  path.forEach((positions, k) => {
    const step = contractStep(net, current.map((o) => o.set), positions);
    const parts = [...positions].sort((a, b) => a - b).map((p) => current[p]!.expr);
    const product = associativeChain("mul", parts);
    const summed = step.contracted.filter((l) => !step.result.includes(l)).map((l) => net.labels[l]!).sort();
    const body = summed.length > 0 ? reduce("sum", summed, product) : product;
    if (k === path.length - 1) {
      defs.push(finalDef(def, m.factors, body));
      return;
    }
    const indices = layoutOrder(def, m, step.result.map((l) => net.labels[l]!));
    const name = freshName(`${def.name}_p${k + 1}`, names);
    defs.push({
      role: "def", name, dtype, output: false,
      shape: indices.map((v) => def.ranges[v]!), indices, groups: indices.map(() => 1),
      ranges: rangesFor(def, step.contracted.map((l) => net.labels[l]!)), body,
    });
    current = applyStep(current, positions, { expr: access(name, indices), set: step.result });
  });
  return defs;
}

/** The original def, its body now `factors * last step`. */
function finalDef(def: DefNode, factors: readonly Expr[], step: Expr): DefNode {
  const body = associativeChain("mul", [...factors, step]);
  const used = new Set([...def.indices, ...freeVars(body), ...boundVars(body)]);
  return { ...def, body, ranges: rangesFor(def, [...used]) };
}

/**
 * Intermediates take the def's type, except that an `i32` def over
 * non-integer operands keeps exact `f64` intermediates (rounding early would
 * change the result).
 */
function intermediateType(def: DefNode, m: SumOfProducts, byName: ReadonlyMap<string, TensorNode>): DType {
  if (def.dtype !== "i32") return def.dtype;
  return m.operands.every((a) => byName.get(a.tensor)?.dtype === "i32") ? "i32" : "f64";
}

/**
 * A sliced contraction chain: the defs that run a def's contraction path
 * one slice at a time, so that no tensor the contraction forms exceeds a
 * limit (`order-contractions` under `maxIntermediateBytes`; the slicing is
 * chosen by `contraction-path/slicing.ts`, `sliceInChunks`).
 *
 * A slice fixes each sliced label `x` to one chunk of `c` consecutive
 * values, `x0 = q·c` to `x0 + c - 1`: in that slice the operands are read at
 * `x + x0` with `x` in `[0, c)`, so every tensor the slice forms holds `c`
 * values of `x` instead of all of them. The loop over slices is unrolled
 * into the IR, slice after slice, which every backend runs as it is:
 *
 * - steps whose operands hold no sliced label do not depend on the slice
 *   and are emitted once, before the slices (`D_p1`, ...);
 * - the other steps are emitted once per slice (`D_s3_p2`: slice 3's second
 *   step), the last step of slice `j` giving `D_s{j}` over the def's output
 *   labels;
 * - slices that differ only in chunks of summed labels are added up in
 *   order (`D_a{j} = D_a{j-1} + D_s{j}`), so a slice's tensors die before
 *   the next slice's are formed and the memory planner reuses their space;
 * - when output labels are sliced, the def's output index `x` becomes the
 *   grouped index `(x_s, x)` (chunk number, value in the chunk; row-major,
 *   so zero-copy and the same storage) and the def selects, per chunk
 *   number, the sum of that part of the output (a balanced `where` tree).
 *
 * Invariants of the result (tested with the verifier and the reference
 * interpreter): every access is in bounds (offsets stay within the
 * operand, `x_s` picks a part whose reads are plain variables); the def
 * keeps its name, shape, output flag and dtype; every tensor the chain
 * forms other than the def holds at most the limit the slicing was chosen
 * for; each part of the output sums its slices in chunk order.
 */
import type { Access, DefNode, DType, Expr } from "../ir/types.js";
import { access, affine, associativeChain, binary, indexValue, num, reduce, select } from "../ir/types.js";
import { boundVars, freeVars, substituteVars } from "../ir/walk.js";
import { applyStep, contractStep, type ContractionPath, type InternedNetwork, type LabelSet } from "./contraction-path/network.js";
import type { ChunkedSlicing } from "./contraction-path/slicing.js";
import { freshName, labelsOf, layoutOrder, rangesFor, type SumOfProducts } from "./contraction-chain.js";

/** An operand of the chain: its read, its labels, and whether it depends on the slice. */
interface Operand {
  readonly expr: Access;
  readonly set: LabelSet;
  readonly variant: boolean;
}

/**
 * The defs that replace `def` (a sum of products `m` over network `net`,
 * contracted along `path`) under `slicing` (at least one sliced label):
 * shared steps, the slices in order, their sums, and the def itself last.
 *
 * @example
 * ```ts
 * buildSlicedChain(def, m, net, path, sliceInChunks(net, path, 4096), names, "f32").map((d) => d.name);
 * // ["D_s0_p1", "D_s0", "D_s1_p1", "D_s1", "D_a1", ..., "D"]
 * ```
 */
export function buildSlicedChain(
  def: DefNode, m: SumOfProducts, net: InternedNetwork, path: ContractionPath,
  slicing: ChunkedSlicing, names: Set<string>, dtype: DType,
): DefNode[] {
  const chunk = new Map(slicing.labels.map((l, k) => [l, slicing.chunks[k]!]));
  const count = (l: string): number => def.ranges[l]! / chunk.get(l)!;
  const outputSliced = slicing.labels.filter((l) => def.indices.includes(l));
  const summedSliced = slicing.labels.filter((l) => !def.indices.includes(l));
  // Labels sliced one value at a time are constants in each slice: read at that value, absent from intermediates.
  const fixed = new Set(slicing.labels.filter((l) => chunk.get(l) === 1));
  const shared: DefNode[] = [];
  const sharedByStep = new Map<number, Operand>();
  const defs: DefNode[] = [];
  const parts: Expr[] = [];
  let slice = 0;
  const outer = combinations(outputSliced.map(count));
  const inner = combinations(summedSliced.map(count));
  for (const o of outer) {
    let sum: Access | null = null;
    for (const [k, i] of inner.entries()) {
      const offsets = new Map<string, number>();
      outputSliced.forEach((l, n) => offsets.set(l, o[n]! * chunk.get(l)!));
      summedSliced.forEach((l, n) => offsets.set(l, i[n]! * chunk.get(l)!));
      const result = emitSlice(slice, offsets);
      slice++;
      if (sum === null) sum = result;
      else if (outputSliced.length === 0 && k === inner.length - 1 && def.indices.length === labelsOf(result).length) {
        // The def itself adds the last slice (unless it broadcasts the sum over indices of its own).
        parts.push(binary("add", sum, result));
        sum = null;
        break;
      } else {
        const name = freshName(`${def.name}_a${slice - 1}`, names);
        const indices = labelsOf(result);
        defs.push(intermediate(name, indices, rangesFor(def, indices, chunk), binary("add", sum, result)));
        sum = access(name, indices);
      }
    }
    if (sum !== null) parts.push(sum);
  }
  return [...shared, ...defs, finalDef(def, m.factors, parts, outputSliced, chunk, count)];

  function intermediate(name: string, indices: readonly string[], ranges: Record<string, number>, body: Expr): DefNode {
    return {
      role: "def", name, dtype, output: false,
      shape: indices.map((v) => ranges[v]!), indices: [...indices], groups: indices.map(() => 1), ranges, body,
    };
  }

  /** Slice `j` with the sliced labels starting at `offsets`: its defs pushed, its result returned. */
  function emitSlice(j: number, offsets: ReadonlyMap<string, number>): Access {
    let current: Operand[] = m.operands.map((a, k) => {
      const variant = a.index.some((x) => chunk.has(x.terms[0]!.var));
      const index = a.index.map((x) => {
        const v = x.terms[0]!.var;
        if (!offsets.has(v)) return x;
        return affine(fixed.has(v) ? [] : [{ var: v, coef: 1 }], offsets.get(v)!);
      });
      return { expr: { ...a, index }, set: net.sets[k]!, variant };
    });
    let last: Access | null = null;
    path.forEach((positions, k) => {
      const step = contractStep(net, current.map((o) => o.set), positions);
      const variant = positions.some((p) => current[p]!.variant);
      const reuse = variant ? undefined : sharedByStep.get(k);
      if (reuse !== undefined) {
        current = applyStep(current, positions, reuse);
        return;
      }
      const factors = [...positions].sort((a, b) => a - b).map((p) => current[p]!.expr);
      const product = associativeChain("mul", factors);
      const summed = step.contracted.filter((l) => !step.result.includes(l)).map((l) => net.labels[l]!).filter((v) => !fixed.has(v)).sort();
      const body = summed.length > 0 ? reduce("sum", summed, product) : product;
      const indices = layoutOrder(def, m, step.result.map((l) => net.labels[l]!)).filter((v) => !fixed.has(v));
      const isLast = k === path.length - 1;
      const base = !variant ? `${def.name}_p${k + 1}` : isLast ? `${def.name}_s${j}` : `${def.name}_s${j}_p${k + 1}`;
      const name = freshName(base, names);
      const vars = step.contracted.map((l) => net.labels[l]!).filter((v) => !fixed.has(v));
      const node = intermediate(name, indices, rangesFor(def, vars, variant ? chunk : new Map()), body);
      const operand: Operand = { expr: access(name, indices), set: step.result, variant };
      if (variant) defs.push(node);
      else {
        shared.push(node);
        sharedByStep.set(k, operand);
      }
      if (isLast) last = operand.expr;
      current = applyStep(current, positions, operand);
    });
    return last!;
  }
}

/** Every combination of `counts[k]` values per position, the last position fastest. */
function combinations(counts: readonly number[]): number[][] {
  let out: number[][] = [[]];
  for (const n of counts) out = out.flatMap((prefix) => Array.from({ length: n }, (_, v) => [...prefix, v]));
  return out;
}

/**
 * The def itself: `factors * part` when no output label is sliced; else
 * `factors * where(...)` choosing the part by chunk number. A sliced output
 * index `x` cut in chunks of `c > 1` values becomes the grouped index
 * `(x_s, x)`, `x_s` the chunk number (the factors then read `x + c·x_s`);
 * one sliced a value at a time is its own chunk number.
 */
function finalDef(
  def: DefNode, factors: readonly Expr[], parts: readonly Expr[], outputSliced: readonly string[],
  chunk: ReadonlyMap<string, number>, count: (l: string) => number,
): DefNode {
  if (outputSliced.length === 0) {
    const body = associativeChain("mul", [...factors, parts[0]!]);
    const used = new Set([...def.indices, ...freeVars(body), ...boundVars(body)]);
    return { ...def, body, ranges: rangesFor(def, [...used]) };
  }
  const taken = new Set(Object.keys(def.ranges));
  const chunked = outputSliced.filter((l) => chunk.get(l)! > 1);
  const chunkVar = new Map(outputSliced.map((l) => [l, chunk.get(l)! > 1 ? freshVar(`${l}_s`, taken) : l]));
  const indices: string[] = [];
  const groups: number[] = [];
  let at = 0;
  for (const g of def.groups) {
    let size = 0;
    for (const v of def.indices.slice(at, at + g)) {
      const q = chunkVar.get(v);
      if (q !== undefined && q !== v) {
        indices.push(q);
        size++;
      }
      indices.push(v);
      size++;
    }
    groups.push(size);
    at += g;
  }
  // The chunk number as one integer, the first sliced label slowest.
  let id: Expr = num(0);
  outputSliced.forEach((l, k) => {
    const term: Expr = indexValue(chunkVar.get(l)!);
    id = k === 0 ? term : binary("add", binary("mul", id, num(count(l))), term);
  });
  const choose = (from: number, to: number): Expr => {
    if (to - from === 1) return parts[from]!;
    const mid = (from + to) >> 1;
    return select(binary("lt", id, num(mid)), choose(from, mid), choose(mid, to));
  };
  // Factors read the whole output index: x + c·x_s.
  const whole = new Map(chunked.map((l) => [l, affine([{ var: l, coef: 1 }, { var: chunkVar.get(l)!, coef: chunk.get(l)! }])]));
  const moved = factors.map((f) => substituteVars(f, whole));
  const body = associativeChain("mul", [...moved, choose(0, parts.length)]);
  const ranges = new Map<string, number>(chunked.map((l) => [l, chunk.get(l)!]));
  for (const l of outputSliced) ranges.set(chunkVar.get(l)!, count(l));
  const used = new Set([...indices, ...freeVars(body), ...boundVars(body)]);
  return { ...def, indices, groups, body, ranges: rangesFor(def, [...used], ranges) };
}

function freshVar(base: string, taken: Set<string>): string {
  let name = base;
  for (let k = 1; taken.has(name); k++) name = `${base}${k}`;
  taken.add(name);
  return name;
}

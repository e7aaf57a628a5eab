/**
 * hoist-last-readers: moves a def up, before an earlier reader of one of its
 * operands, when that makes the earlier reader the operand's last reader
 * and the earlier reader reads the operand only at the element it writes,
 * so that the memory planner can write it over the operand in place. It
 * changes the order of the defs, never a body: every def computes the same
 * bits, only when it runs.
 *
 * A backward program is where this matters. The weight gradient of a layer
 * and the gradient that flows to the layer below both read the layer's
 * input; written in the order the differentiation and the fusion leave
 * them, the weight gradient comes last, so the masked gradient cannot take
 * the activation's bytes:
 *
 * Before (train_mlp's backward; `H` is still read after `G`):
 *
 *     G[i, j] = (sum(c) W2[j, c] * dZ[i, c]) * (0 < H[i, j])
 *     output dW2[j, c] = sum(i) H[i, j] * dZ[i, c]
 *
 * After (the classic order of backpropagation: `G` reads `H` last, at the
 * element it writes, and the planner writes it over `H`):
 *
 *     output dW2[j, c] = sum(i) H[i, j] * dZ[i, c]
 *     G[i, j] = (sum(c) W2[j, c] * dZ[i, c]) * (0 < H[i, j])
 *
 * A def `D` moves before the reader `R` of an operand `X` when:
 *
 * - `D` is `X`'s last reader and `R` the reader just before it;
 * - `X` is a def that is not an output (an output lives to the end), of
 *   `R`'s shape and element type; `R` is neither a recurrence nor a
 *   scatter-add, and reads `X` only at its own output indices, outside any
 *   reduction (an elementwise read at the element it writes, what an
 *   in-place update needs);
 * - everything `D` reads is defined before `R`;
 * - `D`'s output is no larger than `X` (the bytes it holds earlier are paid
 *   for by the bytes `R` no longer needs);
 * - when `D` is an output, no output lies between `R` and `D`, so the
 *   outputs keep their order.
 *
 * Each def moves at most once, so the pass ends.
 */
import type { DefNode, Expr, Program, TensorNode } from "../ir/types.js";
import { accessedTensors, visitExpr } from "../ir/walk.js";
import type { Derivation, DerivingPass } from "./manager.js";
import { PROPERTIES } from "./pass.js";

/**
 * The hoist-last-readers pass. Each move is listed as a derivation (rule
 * `hoist-last-reader` on the def that moved), which `tns explain` prints
 * under the pass.
 *
 * @example
 * ```ts
 * hoistLastReaders.run(program); // dW2 before the masked gradient that reads H last
 * ```
 */
export const hoistLastReaders: DerivingPass = {
  name: "hoist-last-readers",
  description: "move a def before an earlier reader of its operand, so that the reader can update the operand in place",
  requires: [PROPERTIES.noCalls],
  guarantees: [],
  // Only the order of the defs changes: every body-level property survives.
  preserves: [PROPERTIES.noCalls, PROPERTIES.noGrads, PROPERTIES.canonical, PROPERTIES.folded, PROPERTIES.cse, PROPERTIES.noDeadCode],
  run: (program) => hoistLastReadersIn(program).program,
  runWithDerivations: hoistLastReadersIn,
};

/**
 * `program` with every def that qualifies (see the module header) moved
 * before the reader it lets update its operand in place (`program` itself
 * when none does), and one derivation per move.
 *
 * @example
 * ```ts
 * const { program: moved, derivations } = hoistLastReadersIn(program);
 * moved.tensors.map((t) => t.name); // [..., "dW2", "G", ...]
 * derivations[0]!.detail; // "before G, which then reads H last, at the element it writes"
 * ```
 */
export function hoistLastReadersIn(program: Program): { program: Program; derivations: Derivation[] } {
  let tensors = program.tensors;
  const moved = new Set<string>();
  const derivations: Derivation[] = [];
  for (;;) {
    const move = findMove(tensors, moved);
    if (move === null) break;
    const { from, to, operand } = move;
    const d = tensors[from]!;
    moved.add(d.name);
    derivations.push({ rule: "hoist-last-reader", tensor: d.name, detail: `before ${tensors[to]!.name}, which then reads ${operand} last, at the element it writes` });
    tensors = [...tensors.slice(0, to), d, ...tensors.slice(to, from), ...tensors.slice(from + 1)];
  }
  return { program: tensors === program.tensors ? program : { ...program, tensors }, derivations };
}

/** The first def (from the end) that qualifies, the position it moves to, and the operand the reader there reads last. */
function findMove(tensors: readonly TensorNode[], moved: ReadonlySet<string>): { from: number; to: number; operand: string } | null {
  const position = new Map(tensors.map((t, k) => [t.name, k]));
  const readers = new Map<string, number[]>();
  const reads = tensors.map((t) => (t.role === "def" ? accessedTensors(t.body) : new Set<string>()));
  reads.forEach((set, k) => {
    for (const x of set) {
      const list = readers.get(x) ?? [];
      list.push(k);
      readers.set(x, list);
    }
  });
  for (let d = tensors.length - 1; d >= 0; d--) {
    const D = tensors[d]!;
    if (D.role !== "def" || moved.has(D.name)) continue;
    const producersEnd = Math.max(-1, ...[...reads[d]!].map((x) => position.get(x) ?? -1));
    for (const x of reads[d]!) {
      const X = tensors[position.get(x) ?? -1];
      if (X === undefined || X.role !== "def" || X.output) continue;
      const list = readers.get(x)!;
      if (list[list.length - 1] !== d || list.length < 2) continue;
      const r = list[list.length - 2]!;
      const R = tensors[r]!;
      if (r === d || r <= producersEnd || R.role !== "def") continue;
      if (byteSize(D) > byteSize(X)) continue;
      if (!updatableOver(R, X)) continue;
      if (D.output && tensors.slice(r, d).some((t) => t.output)) continue;
      return { from: d, to: r, operand: x };
    }
  }
  return null;
}

function byteSize(t: TensorNode): number {
  return t.shape.reduce((a, b) => a * b, t.dtype === "f64" ? 8 : 4);
}

/**
 * Whether `R` reads `X` only at `R`'s own output indices, outside any
 * reduction, with `X` of `R`'s shape and type: an elementwise read of the
 * element `R` writes.
 */
function updatableOver(R: DefNode, X: DefNode): boolean {
  if (R.recurrence !== undefined || R.scatter !== undefined || R.dtype !== X.dtype) return false;
  if (R.shape.length !== X.shape.length || R.shape.some((n, k) => n !== X.shape[k])) return false;
  if (R.groups.some((g) => g !== 1)) return false;
  let ok = true;
  visitExpr(R.body, (e: Expr, bound) => {
    if (!ok) return false;
    if (e.kind === "gather" && e.tensor === X.name) ok = false;
    if (e.kind !== "access" || e.tensor !== X.name) return;
    const atOwnIndex = e.index.length === R.indices.length && e.index.every((a, k) =>
      a.constant === 0 && a.terms.length === 1 && a.terms[0]!.coef === 1 && a.terms[0]!.var === R.indices[k]);
    if (!atOwnIndex || bound.size > 0 || e.guarded) ok = false;
  });
  return ok;
}

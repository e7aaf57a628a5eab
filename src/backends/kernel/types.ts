/**
 * The kernel IR: a backend-neutral description of how to compute a program
 * with loops. Every tensor becomes a flat row-major buffer; every def becomes
 * one kernel, a tree of statements:
 *
 *     kernel O  (loops i, j, e)           # O[i, e] = sum_j E[i, j] * V[j, e] / sum(j_1) E[i, j_1]
 *       fill O = 0                        # the j loop sits outside the e loop: accumulate in place
 *       for i < 5:
 *         t0 = sum identity               # the nested sum depends on i only:
 *         for j_1 < 5:                    #   computed once per i, not per (i, j, e)
 *           t0 += E[5*i + j_1]
 *         t1 = 1 / t0
 *         for j < 5:
 *           t2 = t1 * E[5*i + j]          # per-(i, j) factor hoisted out of the e loop
 *           for e < 3:
 *             O[e + 3*i] += t2 * V[e + 3*j]
 *
 * Statements:
 * - `loop`: `for var in 0 .. extent-1`, body in order;
 * - `let`: a scalar constant local (a hoisted loop-invariant subexpression);
 * - `declare` / `update`: a scalar accumulator, initialised to the identity
 *   of its reduction (or, for a resumed sum, to its start) and combined with
 *   one value per iteration;
 * - `store`: writes (or, with `op`, combines into) one buffer element;
 * - `fill`: sets every element of a buffer (the identity before an in-place
 *   accumulation), or copies another buffer into it (a resumed sum's start).
 *
 * Offsets are affine forms over loop variables: an access `X[i, k]` of a
 * `[4, 8]` tensor is the offset `8*i + k`. Expressions are the IR's scalar
 * expressions without reductions, plus references to locals.
 *
 * Invariants: every local is defined before use in an enclosing or earlier
 * statement; every loop variable of an offset or index value is bound by an
 * enclosing loop; a kernel writes only its `target` buffer and reads only
 * buffers of earlier kernels, inputs and weights (a `sequential` kernel, a
 * recurrence, also reads its own target at earlier steps).
 */
import type { Affine, BinaryOp, DType, Expr, GatherMode, ReduceOp, UnaryOp } from "../../ir/types.js";
import type { GatherSite } from "../../ir/gather.js";

/** What a buffer holds: a run-time input, compile-time weights, an intermediate, or a program output. */
export type BufferRole = "input" | "weight" | "temp" | "output";

/** One flat row-major buffer per tensor of the program. */
export interface KernelBuffer {
  readonly name: string;
  readonly dtype: DType;
  /** The tensor's shape (grouped dims as declared). */
  readonly shape: readonly number[];
  /** Number of elements. */
  readonly size: number;
  readonly role: BufferRole;
  /** Weight values (row-major), or null when not bound; absent for other roles. */
  readonly data?: Float64Array | null;
}

/** A scalar expression inside a kernel. */
export type KExpr = KConst | KIndex | KLocal | KLoad | KGather | KUnary | KBinary | KSelect;

/** A numeric constant. */
export interface KConst { readonly kind: "const"; readonly value: number }
/** The current value of a loop variable. */
export interface KIndex { readonly kind: "index"; readonly var: string }
/** A local defined by `let` or `declare`. */
export interface KLocal { readonly kind: "local"; readonly name: string }
/**
 * One element of a buffer. With `guard` (a padding read): 0 unless every
 * listed index lies in `0 .. size - 1`, and then no memory is touched.
 */
export interface KLoad { readonly kind: "load"; readonly buffer: string; readonly offset: Affine; readonly guard?: readonly KGuard[] }
/** One index of a guarded load that may leave its dimension `0 .. size - 1`. */
export interface KGuard { readonly index: Affine; readonly size: number }
/**
 * One element of a buffer at a data-dependent position: `offset` (the
 * static dimensions, affine) plus, for each dynamic dimension, `stride`
 * times its index `value` resolved under `mode` (ir/gather.ts). In mode
 * `check` an index outside `0 .. extent-1` is an error reported at `site`;
 * a backend that cannot stop mid-kernel records it and reads element 0 of
 * that dimension instead, so no read ever leaves the buffer.
 */
export interface KGather {
  readonly kind: "gather";
  readonly buffer: string;
  readonly offset: Affine;
  readonly dims: readonly { readonly value: KExpr; readonly stride: number; readonly extent: number; readonly site: GatherSite }[];
  readonly mode: GatherMode;
}
/** `op(arg)`. */
export interface KUnary { readonly kind: "unary"; readonly op: UnaryOp; readonly arg: KExpr }
/** `op(lhs, rhs)`. */
export interface KBinary { readonly kind: "binary"; readonly op: BinaryOp; readonly lhs: KExpr; readonly rhs: KExpr }
/** `cond != 0 ? then : else`. */
export interface KSelect { readonly kind: "select"; readonly cond: KExpr; readonly then: KExpr; readonly else: KExpr }

/** A statement of a kernel body. */
export type Stmt = Loop | Let | Declare | Update | Store | Fill;

/** `for (var = 0; var < extent; var++) body`. */
export interface Loop { readonly kind: "loop"; readonly var: string; readonly extent: number; readonly body: readonly Stmt[] }
/** `const name = value`. */
export interface Let { readonly kind: "let"; readonly name: string; readonly value: KExpr }
/** `let name = identity(op)`, or `let name = init` (a resumed sum's start, IR invariant 12). */
export interface Declare { readonly kind: "declare"; readonly name: string; readonly op: ReduceOp; readonly init?: KExpr }
/** `name = op(name, value)`. */
export interface Update { readonly kind: "update"; readonly name: string; readonly op: ReduceOp; readonly value: KExpr }
/** `buffer[offset] = value`, or `buffer[offset] = op(buffer[offset], value)` when `op` is given. */
export interface Store {
  readonly kind: "store";
  readonly buffer: string;
  readonly offset: Affine;
  readonly value: KExpr;
  readonly op?: ReduceOp;
}
/**
 * Every element of `buffer` set to `value`, or, with `from`, copied from that
 * buffer (of the same size: a resumed sum's start, before the sum is
 * accumulated in place).
 */
export interface Fill { readonly kind: "fill"; readonly buffer: string; readonly value: number; readonly from?: string }

/**
 * A recognised batched matrix product `out[b.., i, j] = sum_k A[.., i, .., k] * B[.., k, .., j]`
 * whose output rows are contiguous in `j`. `A` and `B` may be read with any
 * (non-zero) strides: `B` stored transposed, as in `S[q, k] = sum_d Q[q, d] * K[k, d]`,
 * has `kStride` 1 and `colStride` the row length. The kernel's `body` still
 * computes it; a backend may use this description to emit a register-blocked
 * loop nest instead. Offsets are affine in the batch variables only.
 */
export interface Contraction {
  /** Batch loops (outermost first) with their extents. */
  readonly batch: readonly { readonly var: string; readonly extent: number }[];
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly out: { readonly buffer: string; readonly base: Affine; readonly rowStride: number };
  readonly a: { readonly buffer: string; readonly base: Affine; readonly rowStride: number; readonly kStride: number };
  readonly b: { readonly buffer: string; readonly base: Affine; readonly kStride: number; readonly colStride: number };
  /**
   * Constant factors of the product folded into one number (absent means 1),
   * as in `sum_k Q[i, k] * K[j, k] * 0.125`. A backend multiplies each output
   * element by it once, after accumulating, so its rounding differs slightly
   * from the body's per-term multiply.
   */
  readonly scale?: number;
  /**
   * A resumed sum (IR invariant 12): each output element's sum starts from
   * this buffer's element at the same place (it has the output's layout),
   * not from 0, and adds the terms in `k` order. Never with a `scale`.
   */
  readonly start?: string;
}

/**
 * A contraction whose result goes through an elementwise epilogue before it
 * is stored, as in a dense layer's `relu(sum_k X[i, k] * W[k, j] + b[j])` or
 * attention's `R[i] * sum_j E[i, j] * V[j, e]`. `contraction` describes the
 * sum (its `scale` included); `epilogue` is the value stored at each output
 * element, in terms of the local {@link EPILOGUE_ACC} (the scaled sum at that
 * element) and of loads and index values of the batch variables, `row` and
 * `col` only. It has no reductions and no other locals.
 *
 * A backend that does not know this form runs the kernel's `body`, which
 * computes the same values with the general loop nest.
 */
export interface EpilogueContraction {
  readonly contraction: Contraction;
  /** The output's row variable (`i` of `out[b.., i, j]`). */
  readonly row: string;
  /** The output's column variable (`j`). */
  readonly col: string;
  readonly epilogue: KExpr;
}

/** The name of the local that stands for the accumulated sum in an {@link EpilogueContraction}'s epilogue. */
export const EPILOGUE_ACC = "acc";

/**
 * A scatter-add def (invariant 10) as one pass over its terms: the target
 * filled with 0, then, for every combination of `loops` (outermost first),
 * `term` added to the element at `offset + index.stride * resolve(index.value)`,
 * the index resolved under `mode` as a gather's is (`check`: out of range
 * is TNS0620 at `index.site`). See `scatter-add.ts`.
 */
export interface ScatterAdd {
  readonly loops: readonly { readonly var: string; readonly extent: number }[];
  /** The offset of the other output indices (affine in the loop variables). */
  readonly offset: Affine;
  readonly index: { readonly value: KExpr; readonly stride: number; readonly extent: number; readonly site: GatherSite };
  readonly mode: GatherMode;
  readonly term: KExpr;
}

/** The loop nest computing one def. */
export interface Kernel {
  /** Name of the buffer this kernel writes (the def's name). */
  readonly target: string;
  /** Buffers read, sorted. */
  readonly reads: readonly string[];
  /** Loop variables of the main nest, outermost first (documentation and tests). */
  readonly loopOrder: readonly string[];
  readonly body: readonly Stmt[];
  readonly contraction?: Contraction;
  /**
   * Set instead of `contraction` when the def is a contraction followed by an
   * elementwise epilogue (never both); optional for backends, see {@link EpilogueContraction}.
   */
  readonly epilogueContraction?: EpilogueContraction;
  /**
   * Set on a recurrence's kernel: the loop variable of its outermost loop,
   * whose iterations must run in order (each reads what the earlier ones
   * wrote to `target`). The other loops may run in parallel within one
   * iteration. Such a kernel reads its own target, and has neither
   * `contraction` nor `epilogueContraction`.
   */
  readonly sequential?: string;
  /**
   * Set when the def is a softmax-weighted sum (attention's
   * `softmax_j(s) · v`): `body` then runs it in one pass over `j` with a
   * running maximum and sum per row (`online-softmax.ts`), never storing
   * the scores; a backend may use the form for a faster kernel.
   */
  readonly onlineSoftmax?: OnlineSoftmaxForm;
  /** With `onlineSoftmax`, when it is float32 attention over row-major operands: its blocked plan (optional for backends). */
  readonly blockedAttention?: BlockedAttention;
  /**
   * Set when the def is a scatter-add: a backend may run this one pass over
   * the terms instead of `body` (the masked sum over every element), where it
   * can add to data-dependent positions without races.
   */
  readonly scatterAdd?: ScatterAdd;
}

/** A whole program as buffers and kernels run in order. */
export interface KernelProgram {
  readonly buffers: readonly KernelBuffer[];
  readonly kernels: readonly Kernel[];
  /** Names of run-time inputs, in program order. */
  readonly inputs: readonly string[];
  /** Names of output buffers, in program order. */
  readonly outputs: readonly string[];
  /**
   * Inputs whose storage the caller gives up for the run ({@link Program.donated}):
   * the memory planner may reuse it once the input's last reader has run.
   */
  readonly donated?: readonly string[];
}

/** A def in the softmax-weighted sum form (see online-softmax.ts). */
export interface OnlineSoftmaxForm {
  /** The weighted (reduced) variable of the numerator, `j`. */
  readonly j: string;
  /** Its extent. */
  readonly extent: number;
  /** The score `s`, free in the row variables and `j`. */
  readonly score: Expr;
  /** The value `v` weighted at each `j` (the numerator's other factors; the constant 1 when none). */
  readonly value: Expr;
  /** Factors of the whole quotient outside the sums (`g` in `g · N / D`), free of `j`; the constant 1 when none. */
  readonly scale: Expr;
  /** Output indices the score depends on, in storage order: one running maximum and sum per combination. */
  readonly rows: readonly string[];
  /** The other output indices, in storage order: one accumulator each per row. */
  readonly cols: readonly string[];
}

/**
 * A softmax-weighted sum that is attention on float32 rows: scores a
 * matrix product of two row-major operands (`Q[i, k]·K[j, k]`, contiguous in
 * `k`) under an elementwise epilogue of the score, its row and key only (a
 * scale, a causal mask), values a row-major `V[j, e]` and the output
 * `O[i, e]`. The wasm backend runs it blocked (emit-attention.ts): scores
 * for 4 rows and a block of keys in scratch, their exponentials in f32x4
 * lanes, the accumulators rescaled once per block.
 */
export interface BlockedAttention {
  /** Rows (`i`), keys (`j`), the contracted length (`k`) and value columns (`e`). */
  readonly rows: number;
  readonly keys: number;
  readonly depth: number;
  readonly cols: number;
  /** The row, key and column variables (the score epilogue reads the first two). */
  readonly rowVar: string;
  readonly keyVar: string;
  /** Element offsets: `Q[i, k]` at `q.base + i·q.rowStride + k`, and so on. */
  readonly q: { readonly buffer: string; readonly base: number; readonly rowStride: number };
  readonly k: { readonly buffer: string; readonly base: number; readonly rowStride: number };
  readonly v: { readonly buffer: string; readonly base: number; readonly rowStride: number };
  readonly out: { readonly buffer: string; readonly rowStride: number };
  /** The constant factor of the product (1 when none). */
  readonly scale: number;
  /** The score from the scaled sum `acc`, the row and the key; null when it is `acc`. */
  readonly epilogue: KExpr | null;
}

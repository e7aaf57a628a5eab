/**
 * The cost model: FLOPs, bytes moved, the largest intermediate and peak live
 * memory of a program, per tensor and in total. `tns explain` prints it
 * before and after every pass; docs/optimizer.md, "Cost model", states the
 * conventions. In short:
 *
 * - every elementwise operator (unary, binary, comparison, `where`) costs 1
 *   per point it is evaluated at; a reduction of N iterations costs N
 *   combines (the first combine is with the identity, as NumPy counts);
 *   constants, index values and loads cost nothing, and so does an operator
 *   over constants only (`sqrt(64)`: the backends fold it);
 * - a def's body is evaluated once per output point; the body of a
 *   reduction once per iteration; a reduction nested inside an expression is
 *   hoisted, as the backends do, and evaluated once per combination of its
 *   own free variables;
 * - a def reads each tensor it accesses once and writes itself once, at its
 *   element type's size (caches ignored);
 * - peak memory is the memory planner's arena (kernel/memory-plan.ts) for a
 *   program without calls; by liveness over the program order otherwise
 *   (inputs, weights and outputs live for the whole program, any other
 *   tensor from its def to its last reader), which is also `liveBytes`.
 *
 * For a sum of products of two or more factors these FLOPs equal
 * contraction-path's (NumPy's): `D[i, j] = A[i, k] * B[k, j]` costs
 * `2·n³`, a three-factor product summed over two labels `3·n⁴`.
 *
 * FLOPs are not all alike: a def the backends run as a register-blocked
 * matrix product does several times more of them per second than a general
 * loop nest, and which defs qualify differs per backend. Each def's
 * `kernel` says how it runs, and `blockedFlops` counts, per backend, the
 * FLOPs that run blocked: plain matrix products and those with an
 * elementwise epilogue (a bias and an activation, a per-row scale) on both
 * backends, on `wasm` only where the result and every operand are float32
 * (its SIMD micro-kernel's condition).
 *
 * On `wasm` each def's `wasmKernel` names the kernel that runs it, chosen by
 * shape as the backend chooses it: the register-blocked micro-kernel
 * (`gemm`, `gemm-epilogue`), a skinny kernel for products with a few rows or
 * columns on one side (`skinny-axpy`, `skinny-dot`: the large operand
 * streamed once, src/backends/kernel/skinny.ts; `skinny-panels`: a one-row
 * `x·W` whose weight the module keeps in column panels, wasm/panels.ts), attention in one pass
 * (`online-softmax`: a softmax-weighted sum, wasm/emit-attention.ts), or a
 * loop nest. Its
 * `wasmSeconds` is a roofline estimate on one thread: the larger of its
 * FLOPs at that kernel's rate and its bytes at the memory's read rate
 * ({@link WASM_RATES}), so a 1×4096×4096 product is priced by its 64 MiB of
 * weight (about 4 ms), not by its 34 MFLOP:
 *
 *     C[i, j] = A[i, k] * B[k, j], 1×4096×4096:  skinny-axpy, intensity 0.5 FLOP/B, 4.2 ms (memory)
 *     C[i, j] = A[i, k] * B[k, j], 1024³:         gemm, intensity 171 FLOP/B, 60 ms (compute)
 */
import { InternalCompilerError } from "../diagnostics/diagnostic.js";
import type { DefNode, DType, Gather, IRFunction, Program, TensorNode } from "../ir/types.js";
import { numel } from "../ir/types.js";
import { splitPieces } from "../ir/split.js";
import { accessedTensors, visitExpr } from "../ir/walk.js";
import { kernelForm, lowerToKernels, matrixProductOf } from "../backends/kernel/lower.js";
import { planMemory } from "../backends/kernel/memory-plan.js";
import { type PanelReader, panelWeights, skinnyPlan } from "../backends/kernel/skinny.js";
import { matchEpilogueContraction } from "../backends/kernel/contraction.js";
import { blockedAttentionOf, matchOnlineSoftmax } from "../backends/kernel/online-softmax.js";
import { defFlops } from "../backends/kernel/flops.js";

/** How a def runs on the backends (see `kernelForm` in the kernel lowering); a call runs its function's defs. */
export type TensorKernel = "matrix-product" | "matrix-product-epilogue" | "online-softmax" | "loop-nest" | "recurrence" | "call";

/** The WebAssembly kernel that runs a def (see the module comment); a call runs its function's defs. */
export type WasmKernel = "gemm" | "gemm-epilogue" | "skinny-axpy" | "skinny-dot" | "skinny-panels" | "online-softmax" | "loop-nest" | "recurrence" | "call";

/**
 * Rates of one thread of the WASM backend, measured on the development
 * machine (AMD EPYC Zen 3, Node 20; docs/benchmarks.md): the micro-kernel's
 * FLOP/s on large products, a skinny kernel's FLOP/s when its operands are
 * in cache, the blocked attention kernel's (its two products counted: about
 * 0.85 of the micro-kernel's on the same products at d = 64, less at
 * smaller d, where the softmax's share is larger; docs/benchmarks.md), a
 * loop nest's counted operations per second, and the bytes per
 * second a kernel reads from memory. Estimates, for comparing kernels and
 * programs, not promises.
 */
export const WASM_RATES = { gemmFlops: 36e9, skinnyFlops: 30e9, attentionFlops: 30e9, loopFlops: 2e9, readBytes: 16e9 } as const;

/** What computing one def or call costs. */
export interface TensorCost {
  readonly name: string;
  readonly role: "def" | "call";
  readonly flops: number;
  /** Bytes of every distinct tensor it reads (for a call: what its body's defs read). */
  readonly bytesRead: number;
  /** Bytes it writes (for a call: what its body's defs write). */
  readonly bytesWritten: number;
  /** Elements of the result. */
  readonly elements: number;
  /** Bytes of the result. */
  readonly bytes: number;
  /** Whether the backends run it as a register-blocked matrix product, with an epilogue or not, or a loop nest. */
  readonly kernel: TensorKernel;
  /** The kernel the WASM backend runs it with. */
  readonly wasmKernel: WasmKernel;
  /** Estimated seconds on one thread of the WASM backend ({@link WASM_RATES}; for a call, its defs' sum). */
  readonly wasmSeconds: number;
}

/** The largest tensor that is computed but not returned. */
export interface IntermediateSize {
  readonly name: string;
  readonly elements: number;
  readonly bytes: number;
}

/** The most memory live at once, and where. */
export interface PeakMemory {
  /**
   * The planned peak: the size of the arena the memory planner lays out
   * (kernel/memory-plan.ts: in-place updates, 16-byte alignment, placement)
   * for a program without calls; for one with calls, `liveBytes`.
   */
  readonly bytes: number;
  /** The most bytes live at once by liveness over the program order (a lower bound of the planned peak). */
  readonly liveBytes: number;
  /** The tensor being computed when the peak is reached (null for a program that computes nothing). */
  readonly at: string | null;
  /** The tensors live at that moment, in program order (a call's own intermediates not listed). */
  readonly live: readonly string[];
}

/** The cost of a whole program. */
export interface ProgramCost {
  /** One entry per def and call, in program order. */
  readonly tensors: readonly TensorCost[];
  readonly flops: number;
  /** Bytes read plus bytes written, over every def and call. */
  readonly bytesMoved: number;
  readonly largestIntermediate: IntermediateSize | null;
  readonly peakMemory: PeakMemory;
  /** Per backend, the FLOPs of defs it runs as a register-blocked matrix product (see the module comment). */
  readonly blockedFlops: { readonly js: number; readonly wasm: number };
  /** Estimated seconds of the whole program on one thread of the WASM backend (the sum of its defs'). */
  readonly wasmSeconds: number;
}

/**
 * Bytes per element of a stored tensor.
 *
 * @example
 * ```ts
 * elementBytes("f32"); // 4
 * elementBytes("f64"); // 8
 * ```
 */
export function elementBytes(dtype: DType): number {
  return dtype === "f64" ? 8 : 4;
}

/** Bytes of a tensor node's storage. */
function bytesOf(t: TensorNode): number {
  return numel(t.shape) * elementBytes(t.dtype);
}

/**
 * The cost of `program` (see the module comment). A call costs what its
 * function's body costs; while it runs, the function's own intermediates add
 * to the live memory.
 *
 * @example
 * ```ts
 * const cost = programCost(parseProgramText("input A: f32[8, 8]\ninput B: f32[8, 8]\noutput C: f32[8, 8] = [i:8, j:8] sum(k:8) A[i, k] * B[k, j]\n"));
 * cost.flops;             // 1024
 * cost.bytesMoved;        // 768: A and B read, C written, 256 bytes each
 * cost.peakMemory.bytes;  // 768
 * ```
 */
export function programCost(program: Program): ProgramCost {
  const cost = costOf(program.tensors, program.functions, new Map());
  // Calls and gradients not yet expanded have no kernels: their peak stays the unplanned estimate.
  const unlowered = program.tensors.some((t) => t.role === "call" || t.role === "grad") || Object.keys(program.functions).length > 0;
  if (unlowered) return cost;
  return { ...cost, peakMemory: { ...cost.peakMemory, bytes: planMemory(lowerToKernels(program)).bytes } };
}

/** What running a function costs: its totals, and the memory its own intermediates need beyond its parameters and result. */
interface FunctionCost {
  readonly cost: ProgramCost;
  readonly transientBytes: number;
}

/**
 * Bytes a def reads of tensor `r` (all of it, `whole` bytes), except that a
 * tensor read only through gathers is read at most once per element of the
 * def and gathered index: an embedding lookup reads T rows of the table, not
 * all V of them.
 */
function gatheredBytes(def: DefNode, r: string, whole: number, elements: number): number {
  const gathers: Gather[] = [];
  let affine = false;
  visitExpr(def.body, (x) => {
    if (x.kind === "access" && x.tensor === r) affine = true;
    if (x.kind === "gather" && x.tensor === r) gathers.push(x);
  });
  if (affine || gathers.length === 0) return whole;
  const reduced = Object.entries(def.ranges).filter(([v]) => !def.indices.includes(v)).reduce((a, [, n]) => a * n, 1);
  return Math.min(whole, gathers.length * numel(def.shape) * reduced * (whole / elements));
}

function costOf(
  tensors: readonly TensorNode[],
  functions: Readonly<Record<string, IRFunction>>,
  memo: Map<string, FunctionCost>,
): ProgramCost {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const bytesNamed = (name: string): number => {
    const t = byName.get(name);
    if (t === undefined) throw new InternalCompilerError(`cost: unknown tensor ${name}`);
    return bytesOf(t);
  };
  const shapes = new Map(tensors.map((t) => [t.name, t.shape]));
  const blockedInCalls = { js: 0, wasm: 0 };
  const costs: TensorCost[] = [];
  const transient = new Map<string, number>();
  const lastUse = new Map<string, number>();
  const f32Def = (t: DefNode): boolean => t.dtype === "f32" && [...accessedTensors(t.body)].every((r) => byName.get(r)!.dtype === "f32");
  const forms = new Map(tensors.flatMap((t) => (t.role === "def" ? [[t.name, kernelForm(t, shapes)] as const] : [])));
  const skinny = new Map(tensors.flatMap((t) => (t.role === "def" ? [[t.name, skinnyOf(t, forms.get(t.name)!, f32Def(t), shapes)] as const] : [])));
  const paneled = panelWeightNames(tensors, skinny);
  tensors.forEach((t, k) => {
    if (t.role === "input" || t.role === "weight") return;
    // A gradient not yet expanded costs what its backward program will, once differentiate has run.
    if (t.role === "grad") return;
    const reads = t.role === "def" ? [...accessedTensors(t.body)] : [...new Set(t.args)];
    for (const r of reads) lastUse.set(r, k);
    const own = { name: t.name, role: t.role, elements: numel(t.shape), bytes: bytesOf(t) };
    if (t.role === "def") {
      const kernel = forms.get(t.name)!;
      // A split def (padding reads cut into interior and border) costs what its pieces do.
      const flops = t.split === undefined ? defFlops(t) : splitPieces(t, shapes).reduce((a, p) => a + defFlops(p.def), 0);
      const bytesRead = reads.reduce((a, r) => a + gatheredBytes(t, r, bytesNamed(r), numel(shapes.get(r)!)), 0);
      const wasmKernel = wasmKernelOf(t, kernel, f32Def(t), shapes, (name) => byName.get(name)?.dtype ?? "", skinny.get(t.name) ?? null, paneled);
      const wasmSeconds = wasmSecondsOf(wasmKernel, flops, bytesRead + own.bytes);
      costs.push({ ...own, flops, bytesRead, bytesWritten: own.bytes, kernel, wasmKernel, wasmSeconds });
      return;
    }
    const fn = functionCost(t.fn, functions, memo);
    transient.set(t.name, fn.transientBytes);
    const totals = fn.cost.tensors.reduce((a, c) => ({ read: a.read + c.bytesRead, written: a.written + c.bytesWritten }), { read: 0, written: 0 });
    costs.push({
      ...own, flops: fn.cost.flops, bytesRead: totals.read, bytesWritten: totals.written, kernel: "call", wasmKernel: "call", wasmSeconds: fn.cost.wasmSeconds,
    });
    blockedInCalls.js += fn.cost.blockedFlops.js;
    blockedInCalls.wasm += fn.cost.blockedFlops.wasm;
  });
  const blocked = (c: TensorCost): boolean => c.kernel === "matrix-product" || c.kernel === "matrix-product-epilogue";
  // The wasm micro-kernel takes float32 products only: result and every operand.
  const allF32 = (name: string): boolean => {
    const t = byName.get(name)!;
    return t.dtype === "f32" && (t.role !== "def" || [...accessedTensors(t.body)].every((r) => byName.get(r)!.dtype === "f32"));
  };
  const flopsWhere = (keep: (c: TensorCost) => boolean): number => costs.filter(keep).reduce((a, c) => a + c.flops, 0);
  return {
    tensors: costs,
    flops: costs.reduce((a, c) => a + c.flops, 0),
    bytesMoved: costs.reduce((a, c) => a + c.bytesRead + c.bytesWritten, 0),
    largestIntermediate: largestIntermediate(tensors),
    peakMemory: peakMemory(tensors, lastUse, transient),
    blockedFlops: {
      js: flopsWhere(blocked) + blockedInCalls.js,
      wasm: flopsWhere((c) => blocked(c) && allF32(c.name)) + blockedInCalls.wasm,
    },
    wasmSeconds: costs.reduce((a, c) => a + c.wasmSeconds, 0),
  };
}

/** The skinny product a def runs on in the wasm backend (float32, by shape: kernel/skinny.ts), or null. */
function skinnyOf(def: DefNode, kernel: TensorKernel, f32: boolean, shapes: ReadonlyMap<string, readonly number[]>): PanelReader["product"] {
  if (!f32) return null;
  if (kernel === "matrix-product-epilogue") {
    // Unbatched, a skinny product takes its skinny kernel with the epilogue after it (wasm/emit.ts).
    const epilogue = matchEpilogueContraction(def, shapes);
    if (epilogue === null || epilogue.contraction.batch.length > 0) return null;
    const plan = skinnyPlan(epilogue.contraction);
    return plan ? { contraction: epilogue.contraction, plan, epilogue } : null;
  }
  if (kernel !== "matrix-product") return null;
  const product = matrixProductOf(def, shapes);
  const plan = product ? skinnyPlan(product) : null;
  return product && plan ? { contraction: product, plan } : null;
}

/**
 * The weights the wasm backend keeps in column panels (`panelWeights`,
 * kernel/skinny.ts), judged on the defs as it judges their kernels;
 * `skinny` has each def's skinny product.
 */
function panelWeightNames(tensors: readonly TensorNode[], skinny: ReadonlyMap<string, PanelReader["product"]>): Set<string> {
  if (!tensors.some((t) => t.role === "weight")) return new Set();
  const readers: PanelReader[] = tensors.flatMap((t): PanelReader[] => {
    if (t.role === "call") return [{ reads: [...new Set(t.args)], product: null }];
    return t.role === "def" ? [{ reads: [...accessedTensors(t.body)], product: skinny.get(t.name) ?? null }] : [];
  });
  const buffers = tensors.map((t) => ({ name: t.name, role: t.role === "weight" ? "weight" as const : "temp" as const, dtype: t.dtype, size: numel(t.shape) }));
  return new Set(panelWeights(buffers, readers, () => true).map((w) => w.name));
}

/** The WASM kernel of a def: the backend's choice by shape (float32 products only take the SIMD kernels); `skinny` its skinny product, if any. */
function wasmKernelOf(
  def: DefNode, kernel: TensorKernel, f32: boolean, shapes: ReadonlyMap<string, readonly number[]>, dtypeOf: (name: string) => string,
  skinny: PanelReader["product"], paneled: ReadonlySet<string>,
): WasmKernel {
  if (kernel === "recurrence" || kernel === "call") return kernel;
  // The softmax-weighted sum runs blocked when it is float32 attention over row-major operands, else as its one-pass loop nest.
  if (kernel === "online-softmax") return blockedAttentionOf(def, matchOnlineSoftmax(def)!, shapes, dtypeOf) ? "online-softmax" : "loop-nest";
  if (!f32 || kernel === "loop-nest") return "loop-nest";
  if (skinny) {
    const { contraction: c, plan } = skinny;
    if (plan.form === "dot") return "skinny-dot";
    return paneled.has((plan.smallIsA ? c.b : c.a).buffer) ? "skinny-panels" : "skinny-axpy";
  }
  return kernel === "matrix-product-epilogue" ? "gemm-epilogue" : "gemm";
}

/**
 * A roofline estimate of one kernel on one thread: its FLOPs at its kernel's
 * rate or its bytes at the memory's, whichever takes longer (a loop nest:
 * both, one after the other).
 *
 * @example
 * ```ts
 * wasmSecondsOf("skinny-axpy", 2 * 4096 * 4096, 4 * 4096 * 4096); // 0.0042: its 64 MiB at 16 GB/s
 * ```
 */
export function wasmSecondsOf(kernel: WasmKernel, flops: number, bytes: number): number {
  const memory = bytes / WASM_RATES.readBytes;
  switch (kernel) {
    case "gemm": case "gemm-epilogue": return Math.max(flops / WASM_RATES.gemmFlops, memory);
    case "online-softmax": return Math.max(flops / WASM_RATES.attentionFlops, memory);
    case "skinny-axpy": case "skinny-dot": case "skinny-panels": return Math.max(flops / WASM_RATES.skinnyFlops, memory);
    default: return flops / WASM_RATES.loopFlops + memory;
  }
}

function functionCost(name: string, functions: Readonly<Record<string, IRFunction>>, memo: Map<string, FunctionCost>): FunctionCost {
  const known = memo.get(name);
  if (known !== undefined) return known;
  const fn = functions[name];
  if (fn === undefined) throw new InternalCompilerError(`cost: call of unknown function ${name}`);
  const body = fn.tensors.map((t) => (t.name === fn.result ? { ...t, output: true } : t));
  const cost = costOf([...fn.params, ...body], functions, memo);
  const result = body.find((t) => t.name === fn.result);
  const boundary = fn.params.reduce((a, p) => a + bytesOf(p), 0) + (result ? bytesOf(result) : 0);
  const out = { cost, transientBytes: Math.max(0, cost.peakMemory.bytes - boundary) };
  memo.set(name, out);
  return out;
}

function largestIntermediate(tensors: readonly TensorNode[]): IntermediateSize | null {
  let best: IntermediateSize | null = null;
  for (const t of tensors) {
    if (t.output || t.role === "input" || t.role === "weight") continue;
    const elements = numel(t.shape);
    if (best === null || elements > best.elements) best = { name: t.name, elements, bytes: bytesOf(t) };
  }
  return best;
}

/**
 * Liveness over the program order: while tensor k is computed, every input,
 * weight and output is live, and every other computed tensor whose def is at
 * or before k and whose last reader is at or after k.
 */
function peakMemory(
  tensors: readonly TensorNode[],
  lastUse: ReadonlyMap<string, number>,
  transient: ReadonlyMap<string, number>,
): PeakMemory {
  const persistent = (t: TensorNode): boolean => t.output || t.role === "input" || t.role === "weight";
  const always = tensors.filter(persistent).reduce((a, t) => a + bytesOf(t), 0);
  let peak: PeakMemory = { bytes: always, liveBytes: always, at: null, live: tensors.filter(persistent).map((t) => t.name) };
  tensors.forEach((t, k) => {
    if (t.role === "input" || t.role === "weight") return;
    const live = tensors.filter((u, j) => persistent(u) || (j <= k && (lastUse.get(u.name) ?? j) >= k));
    const bytes = live.reduce((a, u) => a + bytesOf(u), 0) + (transient.get(t.name) ?? 0);
    if (peak.at === null || bytes > peak.bytes) peak = { bytes, liveBytes: bytes, at: t.name, live: live.map((u) => u.name) };
  });
  return peak;
}

/**
 * WebAssembly code generation from the kernel IR: one module per program,
 * one function per kernel and an exported `run` that calls them in order.
 * The module imports its linear memory (`env.memory`), laid out at compile
 * time by {@link layoutArena}, and the host `Math` functions it uses:
 *
 *     before: kernel S  (loops i, j)
 *               for i < 2: t0 = sum identity; for j < 3: t0 += A[3*i + j]; S[i] = t0
 *     after:  (module
 *               (import "env" "memory" (memory $arena 1 65536))
 *               (func $k0_S (local i32 f64 ...) ...loops over f32.load / f32.store...)
 *               (func $run (call $k0_S))
 *               (export "run" (func $run)))
 *
 * A recognised float32 contraction, with or without an elementwise epilogue,
 * uses the SIMD128 micro-kernel of emit-contraction.ts; everything else the
 * scalar statements of emit-kernel.ts.
 *
 * With `threads` > 1 and a kernel worth splitting (parallel.ts), the module
 * is built for threads instead: its memory is shared, each split kernel has
 * an exported entry `NAME_unit(u, t)` running work unit `u` on thread `t` (a
 * split product has one panel of scratch per thread; a split loop a range of
 * its outer loop per unit),
 * and every kernel function is exported so the host (load.ts, threads.ts)
 * can run them one by one, the split ones on all threads.
 */
import { kernelName } from "../kernel/names.js";
import type { GatherSite } from "../../ir/gather.js";
import { GATHER_STATUS, kernelGathers } from "./emit-expr.js";
import { CompileError } from "../../diagnostics/diagnostic.js";
import { EPILOGUE_ACC, type Contraction, type EpilogueContraction, type KExpr, type KernelProgram, type Stmt } from "../kernel/types.js";
import { affine } from "../../ir/types.js";
import type { Binaryen, Ref } from "./binaryen.js";
import { contractionScratchBytes, emitSimdContraction } from "./emit-contraction.js";
import { MATH_IMPORTS } from "./emit-expr.js";
import { emitKernelBody } from "./emit-kernel.js";
import { emitScatterAdd } from "./emit-scatter.js";
import { type PanelWeight, panelWeights, skinnyScratchBytes } from "../kernel/skinny.js";
import { emitSkinnyContraction } from "./emit-skinny.js";
import { attentionScratchBytes, emitAttention } from "./emit-attention.js";
import type { BlockedAttention } from "../kernel/types.js";
import { type BufferPlace, FunctionContext } from "./function-context.js";
import { type ArenaLayout, layoutArena } from "./layout.js";
import { pauseTierUp } from "./v8-tiering.js";
import { contractionFlops, LOOP_OP_FLOPS, type LoopSplitPlan, PARALLEL_MIN_FLOPS, productUnits, simdProductOf, skinnyProductOf, splitKernels } from "./parallel.js";

/** The largest memory a wasm32 module can address: 65536 pages of 64 KiB. */
export const MAX_WASM32_BYTES = 2 ** 32;

/** A compiled module and what is needed to run it. */
export interface WasmArtifact {
  readonly binary: Uint8Array;
  /** The module in the text format, before optimization (deterministic). */
  readonly text: string;
  readonly layout: ArenaLayout;
  /** 64 KiB pages the memory needs. */
  readonly pages: number;
  /** Host functions the module imports from `env`, sorted. */
  readonly imports: readonly string[];
  /** Threads the module is built for: 1 for a single-threaded module (unshared memory, only `run` exported). */
  readonly threads: number;
  /** The function of each kernel, by position (exported when `threads` > 1). */
  readonly kernelFunctions: readonly string[];
  /** The kernels split across threads (empty when `threads` is 1). */
  readonly parallel: readonly ParallelKernel[];
  /**
   * Weights the module stores in column panels (panels.ts; chosen by
   * `panelWeights`, kernel/skinny.ts): whoever copies
   * their data into memory rearranges it with `packPanels` (load.ts, the
   * standalone loader's embedded data).
   */
  readonly panels: readonly PanelWeight[];
  /**
   * Where a checked gather records an out-of-range index (absent when the
   * program has none): two i32 at byte `status`, the site's number plus one
   * and the index, which the host reads after each run (load.ts).
   */
  readonly gather?: { readonly status: number; readonly sites: readonly GatherSite[] };
}

/** A kernel that runs split across threads, and how. */
export interface ParallelKernel {
  /** Position of the kernel in the program. */
  readonly kernel: number;
  /** The exported entry `(unit, thread)` computing one work unit on a thread (0 for the calling thread, up to `threads - 1`). */
  readonly entry: string;
  /** Work units; each may run on any thread, in any order. */
  readonly units: number;
  /** Floating-point operations of the kernel (2·batch·m·n·k; for a split loop its counted operations times `LOOP_OP_FLOPS`, parallel.ts). */
  readonly flops: number;
  /** An exported function to run (on the calling thread) before the units: the fills of a split loop kernel. */
  readonly prologue?: string;
}

/** Options for {@link emitWasm}. */
export interface EmitWasmOptions {
  /** Run binaryen's optimizer at level 3 over the encoded module (default false; binaryen must be loaded: `loadBinaryen()`). */
  readonly optimize?: boolean;
  /**
   * Use relaxed SIMD (`f32x4.relaxed_madd`) in the matrix-product micro-kernel
   * (default false: the module then runs on every SIMD128 engine). Pass
   * `hostRunsRelaxedSimd()` (relaxed-simd.ts) to use it where the host runs it.
   */
  readonly relaxedSimd?: boolean;
  /**
   * In kernels that store float32, compute `exp`, `tanh` and `sigmoid` inline
   * to float32 accuracy, scalar and in four lanes, instead of calling the
   * host's `Math.exp` / `Math.tanh` (default true; see emit-exp.ts and
   * emit-tanh.ts, accuracy in docs/wasm.md).
   */
  readonly inlineExp?: boolean;
  /**
   * Threads to build the module for (default 1). Above 1 the module is built
   * for threads only when some kernel is worth splitting (parallel.ts);
   * otherwise it is the single-threaded module.
   */
  readonly threads?: number;
  /** The fewest operations of a matrix product split across threads (default {@link PARALLEL_MIN_FLOPS}; tests lower it). */
  readonly parallelMinFlops?: number;
  /**
   * Which weights may be stored in column panels when only one-row skinny
   * products read them (panels.ts): all (`true`, the default), none
   * (`false`), or those named (a standalone build: the weights whose data it
   * embeds; the others are its run-time inputs).
   */
  readonly panelWeights?: boolean | readonly string[];
}

/**
 * The name of the function for the kernel at a position.
 *
 * @example
 * ```ts
 * wasmKernelName("C", 0); // "k0_C"
 * ```
 */
export function wasmKernelName(target: string, position: number): string {
  return kernelName(target, position);
}

/**
 * Compiles a kernel program to a validated WebAssembly module.
 *
 * @throws CompileError (TNS0901) when the arena exceeds the 4 GiB a wasm32 module can address
 * @throws InternalCompilerError when the module does not validate
 * @example
 * ```ts
 * const art = emitWasm(wasmEncoder(), lowerToKernels(program));
 * new WebAssembly.Module(art.binary);
 * ```
 */
export function emitWasm(binaryen: Binaryen, kp: KernelProgram, options: EmitWasmOptions = {}): WasmArtifact {
  // Binaryen's own functions must not be sent to V8's optimizing compiler while its optimizer runs (v8-tiering.ts).
  return options.optimize ? pauseTierUp(() => emitModule(binaryen, kp, options)) : emitModule(binaryen, kp, options);
}

/**
 * The epilogue of a product as a loop nest over the product's output, each
 * element read back as the scaled sum `acc` and replaced by the epilogue's
 * value (for a skinny kernel, which stores the plain product):
 *
 *     for i: for j: C[n*i + j] = relu(C[n*i + j] + b[j])
 */
function epilogueOverOutput(e: EpilogueContraction): Stmt[] {
  const c = e.contraction;
  const offset = affine([{ var: e.row, coef: c.out.rowStride }, { var: e.col, coef: 1 }], c.out.base.constant);
  const acc: KExpr = { kind: "load", buffer: c.out.buffer, offset };
  const value = replaceLocal(e.epilogue, EPILOGUE_ACC, acc);
  const store: Stmt = { kind: "store", buffer: c.out.buffer, offset, value };
  return [{ kind: "loop", var: e.row, extent: c.m, body: [{ kind: "loop", var: e.col, extent: c.n, body: [store] }] }];
}

function replaceLocal(e: KExpr, name: string, by: KExpr): KExpr {
  switch (e.kind) {
    case "local": return e.name === name ? by : e;
    case "unary": return { ...e, arg: replaceLocal(e.arg, name, by) };
    case "binary": return { ...e, lhs: replaceLocal(e.lhs, name, by), rhs: replaceLocal(e.rhs, name, by) };
    case "select": return { ...e, cond: replaceLocal(e.cond, name, by), then: replaceLocal(e.then, name, by), else: replaceLocal(e.else, name, by) };
    default: return e;
  }
}

/** How a module runs its kernels: which run on the SIMD micro-kernel, which are split across threads, and the arena. */
interface ModulePlan {
  readonly simd: readonly (Contraction | null)[];
  readonly skinny: readonly (ReturnType<typeof skinnyProductOf> | null)[];
  /** Softmax-weighted sums that run as blocked attention (emit-attention.ts), one thread. */
  readonly attention: readonly (BlockedAttention | null)[];
  readonly plans: ReadonlyMap<number, "panels" | LoopSplitPlan>;
  readonly split: ReadonlySet<number>;
  readonly threads: number;
  readonly layout: ArenaLayout;
  readonly panels: readonly PanelWeight[];
}

function planModule(kp: KernelProgram, options: EmitWasmOptions): ModulePlan {
  const dtypes = new Map(kp.buffers.map((b) => [b.name, b.dtype]));
  // The matrix product of each kernel that runs on the SIMD micro-kernel, plain or under an elementwise epilogue.
  const simd = kp.kernels.map((k) => simdProductOf(k, (b) => dtypes.get(b) ?? "") ?? null);
  // Those that run on a skinny kernel instead (emit-skinny.ts): no packed panel.
  const found = kp.kernels.map((k) => skinnyProductOf(k, (b) => dtypes.get(b) ?? "") ?? null);
  // Weights read only by one-row products are stored in column panels, and those products read them so.
  const allowed = options.panelWeights ?? true;
  const readers = kp.kernels.map((k, n) => ({ reads: k.reads, product: found[n] ?? null }));
  const panels = panelWeights(kp.buffers, readers, (name) => (typeof allowed === "boolean" ? allowed : allowed.includes(name)));
  const paneled = new Set(panels.map((w) => w.name));
  const skinny = found.map((thin) => {
    if (thin === null) return null;
    const large = thin.plan.smallIsA ? thin.contraction.b : thin.contraction.a;
    return paneled.has(large.buffer) ? { ...thin, plan: { ...thin.plan, panels: true } } : thin;
  });
  const attention = kp.kernels.map((k) => k.blockedAttention ?? null);
  const plans = (options.threads ?? 1) > 1
    ? splitKernels(kp, { threads: options.threads!, minFlops: options.parallelMinFlops ?? PARALLEL_MIN_FLOPS, inlineExp: options.inlineExp })
    : new Map<number, "panels" | LoopSplitPlan>();
  // Attention, and a skinny product under an epilogue (which runs after the product, over its output), stay on one thread.
  for (const n of [...plans.keys()]) if (attention[n] || skinny[n]?.epilogue) plans.delete(n);
  const split = new Set([...plans].filter(([, p]) => p === "panels").map(([n]) => n));
  const threads = plans.size > 0 ? options.threads! : 1;
  const panelBytes = (n: number): number => {
    const blocked = attention[n];
    if (blocked) return attentionScratchBytes(blocked);
    const thin = skinny[n];
    if (thin) return skinnyScratchBytes(thin.plan);
    const c = simd[n];
    return c ? contractionScratchBytes(c) : 0;
  };
  const layout = layoutArena(kp, (n) => panelBytes(n) * (split.has(n) ? threads : 1));
  return { simd, skinny, attention, plans, split, threads, layout, panels };
}



/**
 * The arena {@link emitWasm} lays out for a kernel program with these
 * options (the memory plan, scratch panels included), without building the
 * module.
 *
 * @example
 * ```ts
 * wasmArenaPlan(lowerToKernels(program)).bytes; // the module's planned peak
 * ```
 */
export function wasmArenaPlan(kp: KernelProgram, options: EmitWasmOptions = {}): ArenaLayout {
  return planModule(kp, options).layout;
}

function emitModule(binaryen: Binaryen, kp: KernelProgram, options: EmitWasmOptions): WasmArtifact {
  const dtypes = new Map(kp.buffers.map((b) => [b.name, b.dtype]));
  const { simd, skinny, attention, plans, split, threads, layout, panels } = planModule(kp, options);
  const loopPlan = (n: number): LoopSplitPlan | undefined => { const p = plans.get(n); return p === "panels" ? undefined : p; };
  if (layout.bytes > MAX_WASM32_BYTES) {
    const gib = (layout.bytes / 2 ** 30).toFixed(2);
    throw new CompileError([{
      code: "TNS0901", severity: "error", notes: [],
      message: `the program needs ${gib} GiB of memory; the wasm backend can address at most 4 GiB (wasm32)`,
      hint: "use the js backend, or smaller sizes",
    }]);
  }
  // The gather status lives past the arena (only when some kernel gathers).
  const status = Math.ceil(layout.bytes / 16) * 16;
  const gathers = kp.kernels.some((k) => kernelGathers(k) || k.scatterAdd?.mode === "check");
  const pages = Math.max(1, Math.ceil((gathers ? status + 16 : layout.bytes) / 65536));
  const places = new Map<string, BufferPlace>(kp.buffers.map((b) => [b.name, { offset: layout.offsets.get(b.name)!, dtype: b.dtype }]));
  if (gathers) places.set(GATHER_STATUS, { offset: status, dtype: "i32" });
  const sites: GatherSite[] = [];
  const sizes = new Map(kp.buffers.map((b) => [b.name, b.size]));
  const m = binaryen.createModule({ relaxedSimd: options.relaxedSimd ?? false, threads: threads > 1 });
  m.importMemory(pages, threads > 1);
  const imports = new Set<string>();
  const names: string[] = [];
  const parallel: ParallelKernel[] = [];
  kp.kernels.forEach((k, n) => {
    const ctx = new FunctionContext(m, places, imports, (options.inlineExp ?? true) && dtypes.get(k.target) === "f32", k.sequential === undefined ? null : k.target, sites);
    const name = wasmKernelName(k.target, n);
    let body: Ref[];
    const scratch = layout.scratch.get(n) ?? 0;
    const product = simd[n];
    const thin = skinny[n];
    const blocked = attention[n];
    if (blocked) body = emitAttention(ctx, blocked, scratch);
    else if (thin) {
      body = emitSkinnyContraction(ctx, thin.contraction, thin.plan, name, scratch, { threads: split.has(n) ? threads : 1 });
      if (thin.epilogue) body = [...body, ...emitKernelBody(ctx, epilogueOverOutput(thin.epilogue), sizes, `${name}_epilogue`)];
    }
    else if (product) body = emitSimdContraction(ctx, product, scratch, name, { threads: split.has(n) ? threads : 1, epilogue: k.epilogueContraction });
    else if (k.scatterAdd && loopPlan(n) === undefined) body = emitScatterAdd(ctx, k.scatterAdd, k.target, sizes.get(k.target)!);
    else body = emitKernelBody(ctx, k.body, sizes, name, loopPlan(n));
    m.addFunction(name, [], "none", ctx.locals.types, m.block([...ctx.scopes[0]!.prelude, ...body]));
    if (threads > 1) m.exportFunction(name);
    if (split.has(n) && product) {
      // The units of the kernel as emitted: a weight in panels changes a skinny product's ranges.
      parallel.push({ kernel: n, entry: `${name}_unit`, units: productUnits(product, thin?.plan ?? null), flops: contractionFlops(product) });
    }
    const plan = loopPlan(n);
    if (plan) {
      const prologue = plan.loop > 0 ? { prologue: `${name}_pre` } : {};
      parallel.push({ kernel: n, entry: `${name}_unit`, units: plan.units, flops: plan.work * LOOP_OP_FLOPS, ...prologue });
    }
    names.push(name);
  });
  const sorted = [...imports].sort();
  for (const f of sorted) m.importMathFunction(f, MATH_IMPORTS[f]!);
  m.addFunction("run", [], "none", [], m.block(names.map((n) => m.call(n, [], "none"))));
  m.exportFunction("run");
  const finished = m.finish({ optimize: options.optimize ?? false });
  return { binary: finished.binary, get text() { return finished.text; }, layout, pages, imports: sorted, threads, kernelFunctions: names, parallel, panels, ...(gathers ? { gather: { status, sites } } : {}) };
}

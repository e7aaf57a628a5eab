/**
 * Kernels that are not matrix products: the kernel layer's loop nest,
 * lowered with the output indices outermost (`lowerDef`'s `outputsOuter`),
 * becomes one invocation per output element, or one workgroup per output
 * element when a reduction inside is long enough to share.
 *
 *     before: kernel M (loops i, j)                 M[i] = max(j) S[i, j], S[256, 256]
 *               for i < 256:
 *                 t0 = max identity
 *                 for j < 256: t0 = max(t0, S[256*i + j])
 *                 M[i] = t0
 *     after:  one workgroup of 64 per i:
 *               var t0 = -inf;
 *               for (var r = lid; r < 256u; r += 64u) { let v_j = i32(r); t0 = max(t0, b_S[256 * v_i + v_j]); }
 *               red[lid] = t0; workgroupBarrier(); ... tree ...; t0 = red[0];
 *               if (lid == 0u) { b_M[v_i] = t0; }
 *
 * A reduction of more than {@link CHUNK_PER_WORKGROUP} elements per output
 * element runs in two passes: chunks of it reduce to partial results in a
 * scratch buffer, and a second pass combines them and runs the rest of the
 * def. Loops that cannot be flattened into one linear range (two loops side
 * by side) stay sequential inside an invocation.
 */
import { InternalCompilerError } from "../../diagnostics/diagnostic.js";
import type { ReduceOp } from "../../ir/types.js";
import { kernelName } from "../kernel/names.js";
import type { Kernel, Loop, Stmt } from "../kernel/types.js";
import { type BufferAccess, type StmtContext, WgslExprWriter, wgslCombine, wgslIdentity, wgslStmts } from "./emit-expr.js";
import { wgslVar } from "./names.js";
import { type DeclaredBinding, dispatchGrid, shaderText } from "./shader.js";
import type { WgslDispatch, WgslLimits } from "./types.js";

/** Invocations of the workgroups of these kernels (within every WebGPU device's limits). */
export const LOOP_WORKGROUP = 64;
/** Elements one workgroup reduces for one output element before a reduction needs a second pass. */
export const CHUNK_PER_WORKGROUP = LOOP_WORKGROUP * 256;

/** A loop variable and its extent. */
interface Dim { readonly var: string; readonly extent: number }

/** The loops over `vars` opened in order: each loop replaced by its body, in place. */
function openLoops(body: readonly Stmt[], vars: readonly string[]): Stmt[] {
  let stmts = [...body];
  for (const v of vars) {
    const k = stmts.findIndex((s) => s.kind === "loop" && s.var === v);
    if (k < 0) throw new InternalCompilerError(`loop ${v} is not at the top of the nest`);
    stmts = [...stmts.slice(0, k), ...(stmts[k] as Loop).body, ...stmts.slice(k + 1)];
  }
  return stmts;
}

function updates(s: Stmt, name: string): boolean {
  if (s.kind === "update") return s.name === name;
  return s.kind === "loop" && s.body.some((b) => updates(b, name));
}

/**
 * A loop that accumulates into `name`, opened as far as its chain of loops
 * goes: the loop variables (outermost first) and the statements per point,
 * in which the update of `name` sits at the top level.
 */
function openReduction(loop: Loop, name: string): { dims: Dim[]; body: Stmt[] } {
  const dims: Dim[] = [];
  let stmts: Stmt[] = [loop];
  for (;;) {
    const k = stmts.findIndex((s) => s.kind === "loop" && updates(s, name));
    if (k < 0) break;
    const l = stmts[k] as Loop;
    dims.push({ var: l.var, extent: l.extent });
    stmts = [...stmts.slice(0, k), ...l.body, ...stmts.slice(k + 1)];
  }
  return { dims, body: stmts };
}

/** Lines binding each variable of `dims` (row-major, the last fastest) from a linear u32 index. */
function decompose(dims: readonly Dim[], linear: string, indent: string): string[] {
  const out: string[] = [];
  let stride = 1;
  for (let k = dims.length - 1; k >= 0; k--) {
    const d = dims[k]!;
    const q = stride === 1 ? linear : `(${linear} / ${stride}u)`;
    const value = k === 0 ? q : `${q} % ${d.extent}u`;
    out.unshift(`${indent}let ${wgslVar(d.var)} = i32(${value});`);
    stride *= d.extent;
  }
  return out;
}

const product = (dims: readonly Dim[]): number => dims.reduce((n, d) => n * d.extent, 1);

/** A reduction shared by the invocations of a workgroup: the accumulator, its operator, the loops it runs over. */
interface Shared {
  readonly name: string;
  readonly op: ReduceOp;
  readonly dims: readonly Dim[];
  readonly body: readonly Stmt[];
}

/** One step of a kernel body after analysis: plain statements, or a shared reduction. */
type Step = { readonly kind: "stmts"; readonly stmts: readonly Stmt[] } | { readonly kind: "shared"; readonly red: Shared };

/**
 * Outputs from which one invocation each already fills a GPU: below this, a
 * long reduction is better shared by a workgroup per output element.
 */
export const MANY_OUTPUTS = 16384;

/**
 * Whether a reduction over `length` elements is worth a workgroup per output
 * element, for `outputs` elements: when there are too few outputs to keep a
 * GPU busy one invocation each, and the reduction has work for every
 * invocation of a workgroup. With many outputs, the tree's barriers cost
 * more than they save (a 256 × 256 × 256 product written so that it is not
 * recognised as one: 132 ms shared against 31 ms tiled on llvmpipe).
 */
function shareReduction(length: number, outputs: number): boolean {
  return length >= LOOP_WORKGROUP && outputs < MANY_OUTPUTS;
}

/** Splits the per-element statements into plain runs and the reductions worth sharing. */
function analyse(stmts: readonly Stmt[], outputs: number): Step[] {
  const steps: Step[] = [];
  let run: Stmt[] = [];
  for (let k = 0; k < stmts.length; k++) {
    const s = stmts[k]!;
    const next = stmts[k + 1];
    // A resumed sum (a declare with a start) adds its terms in order, one invocation: never shared.
    if (s.kind === "declare" && s.init === undefined && next?.kind === "loop" && updates(next, s.name)) {
      const { dims, body } = openReduction(next, s.name);
      if (shareReduction(product(dims), outputs)) {
        if (run.length > 0) steps.push({ kind: "stmts", stmts: run });
        run = [];
        steps.push({ kind: "shared", red: { name: s.name, op: s.op, dims, body } });
        k++;
        continue;
      }
    }
    run.push(s);
  }
  if (run.length > 0) steps.push({ kind: "stmts", stmts: run });
  return steps;
}

/** The workgroup tree combining `red[0 .. LOOP_WORKGROUP)` into `red[0]`, then `name` set from it in every invocation. */
function treeLines(name: string, op: ReduceOp): string[] {
  return [
    `  red[lid] = ${name};`,
    "  workgroupBarrier();",
    `  for (var s = ${LOOP_WORKGROUP / 2}u; s > 0u; s = s >> 1u) {`,
    `    if (lid < s) { red[lid] = ${wgslCombine(op, "red[lid]", "red[lid + s]")}; }`,
    "    workgroupBarrier();",
    "  }",
    `  ${name} = red[0];`,
    "  workgroupBarrier();",
  ];
}

/** A strided loop of the workgroup's invocations over `[start, end)` of a shared reduction's linear range. */
function stridedLines(red: Shared, start: string, end: string, cx: StmtContext): string[] {
  const out = [
    `  var ${red.name} = ${wgslIdentity(red.op)};`,
    `  for (var r = ${start} + lid; r < ${end}; r = r + ${LOOP_WORKGROUP}u) {`,
    ...decompose(red.dims, "r", "    "),
  ];
  wgslStmts(red.body, cx, "    ", out);
  out.push("  }");
  return out;
}

/** What the emitters of one kernel share. */
interface KernelInput {
  readonly kernel: Kernel;
  readonly position: number;
  /** The def's output indices and their extents. */
  readonly outputs: readonly Dim[];
  readonly io: BufferAccess;
  readonly bindings: readonly DeclaredBinding[];
  readonly limits: WgslLimits;
  readonly flops: number;
}

/**
 * The dispatches (one, or two for a long reduction) computing a kernel that
 * is not a matrix product.
 *
 * @example
 * ```ts
 * emitLoopKernel({ kernel, position: 0, outputs: [{ var: "i", extent: 4 }], io, bindings, limits, flops: 4 })[0].form; // "elementwise"
 * ```
 */
export function emitLoopKernel(input: KernelInput): WgslDispatch[] {
  const { kernel, outputs } = input;
  const n = product(outputs);
  const perElement = openLoops(kernel.body, outputs.map((d) => d.var));
  const steps = analyse(perElement, n);
  const shared = steps.filter((s) => s.kind === "shared");
  if (shared.length === 0) return [elementwise(input, perElement)];
  const only = shared.length === 1 ? shared[0]!.red : null;
  if (only && product(only.dims) > CHUNK_PER_WORKGROUP) return twoPass(input, steps, only);
  return [workgroupReduce(input, steps)];
}

function baseName(input: KernelInput): string {
  return kernelName(input.kernel.target, input.position);
}

function comment(input: KernelInput, what: string): string[] {
  const dims = input.outputs.map((d) => `${d.var} < ${d.extent}`).join(", ");
  return [`tns kernel ${input.position}: ${input.kernel.target}[${dims}]: ${what}`];
}

function elementwise(input: KernelInput, stmts: readonly Stmt[]): WgslDispatch {
  const n = product(input.outputs);
  const groups = Math.ceil(n / LOOP_WORKGROUP);
  const grid = dispatchGrid(groups, input.limits.maxComputeWorkgroupsPerDimension, `kernel ${input.kernel.target}`);
  const helpers = new Set<string>();
  const body = [...grid.prologue, `  let e = wid * ${LOOP_WORKGROUP}u + lid;`];
  if (groups * LOOP_WORKGROUP > n) body.push(`  if (e >= ${n}u) { return; }`);
  body.push(...decompose(input.outputs, "e", "  "));
  wgslStmts(stmts, { w: new WgslExprWriter(input.io, helpers) }, "  ", body);
  return {
    name: baseName(input), target: input.kernel.target, form: "elementwise",
    code: shaderText({
      comment: comment(input, `one invocation per element (${n}), ${LOOP_WORKGROUP} per workgroup`),
      bindings: input.bindings, helpers, workgroupSize: [LOOP_WORKGROUP, 1, 1], body,
    }),
    workgroupSize: [LOOP_WORKGROUP, 1, 1], workgroups: grid.workgroups, bindings: input.bindings.map(strip), flops: input.flops,
  };
}

const RED_DECL = `var<workgroup> red: array<f32, ${LOOP_WORKGROUP}>;`;

/** Statements of the steps, shared reductions run by the whole workgroup; stores by invocation 0. */
function workgroupLines(steps: readonly Step[], cx: StmtContext): string[] {
  const out: string[] = [];
  for (const step of steps) {
    if (step.kind === "stmts") {
      wgslStmts(step.stmts, cx, "  ", out);
    } else {
      out.push(...stridedLines(step.red, "0u", `${product(step.red.dims)}u`, cx), ...treeLines(step.red.name, step.red.op));
    }
  }
  return out;
}

const guardStore = (line: string): string => `if (lid == 0u) { ${line} }`;

function workgroupReduce(input: KernelInput, steps: readonly Step[]): WgslDispatch {
  const n = product(input.outputs);
  const grid = dispatchGrid(n, input.limits.maxComputeWorkgroupsPerDimension, `kernel ${input.kernel.target}`);
  const helpers = new Set<string>();
  const cx: StmtContext = { w: new WgslExprWriter(input.io, helpers), guardStore };
  const body = [...grid.prologue, ...decompose(input.outputs, "wid", "  "), ...workgroupLines(steps, cx)];
  const lengths = steps.flatMap((s) => (s.kind === "shared" ? [product(s.red.dims)] : []));
  return {
    name: baseName(input), target: input.kernel.target, form: "workgroup-reduce",
    code: shaderText({
      comment: comment(input, `one workgroup of ${LOOP_WORKGROUP} per element (${n}); reductions of ${lengths.join(", ")} shared, tree-combined`),
      bindings: input.bindings, workgroupVars: [RED_DECL], helpers, workgroupSize: [LOOP_WORKGROUP, 1, 1], body,
    }),
    workgroupSize: [LOOP_WORKGROUP, 1, 1], workgroups: grid.workgroups, bindings: input.bindings.map(strip), flops: input.flops,
  };
}

/** The scratch buffer of a two-pass reduction: one partial result per output element and chunk. */
export function partialsBuffer(target: string): string {
  return `${target}#partials`;
}

function twoPass(input: KernelInput, steps: readonly Step[], red: Shared): WgslDispatch[] {
  const n = product(input.outputs);
  const length = product(red.dims);
  const chunks = Math.ceil(length / CHUNK_PER_WORKGROUP);
  const cap = input.limits.maxComputeWorkgroupsPerDimension;
  const at = steps.findIndex((s) => s.kind === "shared");
  const before = steps.slice(0, at);
  const after = steps.slice(at + 1);
  const scratch = partialsBuffer(input.kernel.target);
  const partBinding = (binding: number, access: "read" | "read_write"): DeclaredBinding =>
    ({ binding, buffer: scratch, access, wgslName: "part", element: "f32" });
  const target = input.kernel.target;

  // Pass 1: what the reduction needs, then one chunk of it per workgroup.
  const readOnly = input.bindings.filter((b) => b.buffer !== target);
  const firstBindings = [...readOnly.map((b, k) => ({ ...b, binding: k })), partBinding(readOnly.length, "read_write")];
  const grid1 = dispatchGrid(n * chunks, cap, `kernel ${target}`);
  const helpers1 = new Set<string>();
  const cx1: StmtContext = { w: new WgslExprWriter(input.io, helpers1), guardStore };
  const body1 = [...grid1.prologue, `  let o = wid / ${chunks}u;`, `  let c = wid % ${chunks}u;`, ...decompose(input.outputs, "o", "  ")];
  body1.push(...workgroupLines(before, cx1));
  body1.push(...stridedLines(red, `c * ${CHUNK_PER_WORKGROUP}u`, `min(c * ${CHUNK_PER_WORKGROUP}u + ${CHUNK_PER_WORKGROUP}u, ${length}u)`, cx1));
  body1.push(...treeLines(red.name, red.op), `  if (lid == 0u) { part[wid] = ${red.name}; }`);
  const first: WgslDispatch = {
    name: `${baseName(input)}_partials`, target, form: "reduce-partials",
    code: shaderText({
      comment: comment(input, `first pass: ${chunks} chunks of ${CHUNK_PER_WORKGROUP} of a reduction of ${length} per element, one workgroup each`),
      bindings: firstBindings, workgroupVars: [RED_DECL], helpers: helpers1, workgroupSize: [LOOP_WORKGROUP, 1, 1], body: body1,
    }),
    workgroupSize: [LOOP_WORKGROUP, 1, 1], workgroups: grid1.workgroups, bindings: firstBindings.map(strip), flops: input.flops,
  };

  // Pass 2: the partial results combined, then the rest of the def.
  const secondBindings = [...input.bindings, partBinding(input.bindings.length, "read")];
  const grid2 = dispatchGrid(n, cap, `kernel ${target}`);
  const helpers2 = new Set<string>();
  const cx2: StmtContext = { w: new WgslExprWriter(input.io, helpers2), guardStore };
  const body2 = [...grid2.prologue, ...decompose(input.outputs, "wid", "  ")];
  body2.push(...workgroupLines(before, cx2));
  body2.push(
    `  var ${red.name} = ${wgslIdentity(red.op)};`,
    `  for (var r = lid; r < ${chunks}u; r = r + ${LOOP_WORKGROUP}u) { ${red.name} = ${wgslCombine(red.op, red.name, `part[wid * ${chunks}u + r]`)}; }`,
    ...treeLines(red.name, red.op),
  );
  body2.push(...workgroupLines(after, cx2));
  const second: WgslDispatch = {
    name: `${baseName(input)}_final`, target, form: "reduce-final",
    code: shaderText({
      comment: comment(input, `second pass: ${chunks} partial results per element combined`),
      bindings: secondBindings, workgroupVars: [RED_DECL], helpers: helpers2, workgroupSize: [LOOP_WORKGROUP, 1, 1], body: body2,
    }),
    workgroupSize: [LOOP_WORKGROUP, 1, 1], workgroups: grid2.workgroups, bindings: secondBindings.map(strip), flops: n * chunks,
  };
  return [first, second];
}

/**
 * A recurrence (`Kernel.sequential`): one workgroup runs the steps in order;
 * in each step its invocations share the step's elements (strided), and a
 * storage barrier makes the step's writes visible before the next step reads
 * them. One dispatch for the whole sequence, so no per-step dispatch cost;
 * the price is one workgroup's parallelism per step (docs/wgsl.md).
 *
 *     for (var s = 0u; s < 256u; s++) {
 *       let v_t = i32(s);
 *       for (var e = lid; e < 256u; e = e + 64u) { let v_j = i32(e); ... b_Hs[256 * v_t + v_j] = ...; }
 *       storageBarrier(); workgroupBarrier();
 *     }
 */
export function emitSequentialKernel(input: KernelInput): WgslDispatch {
  const { kernel, outputs } = input;
  const seq = outputs.find((d) => d.var === kernel.sequential);
  if (seq === undefined) throw new InternalCompilerError(`kernel ${kernel.target}: sequential index ${kernel.sequential} is not an output index`);
  const rest = outputs.filter((d) => d !== seq);
  const perElement = openLoops(kernel.body, [seq.var, ...rest.map((d) => d.var)]);
  const n = product(rest);
  const helpers = new Set<string>();
  const body = [
    `  for (var s = 0u; s < ${seq.extent}u; s = s + 1u) {`,
    `    let ${wgslVar(seq.var)} = i32(s);`,
    `    for (var e = lid; e < ${n}u; e = e + ${LOOP_WORKGROUP}u) {`,
    ...decompose(rest, "e", "      "),
  ];
  wgslStmts(perElement, { w: new WgslExprWriter(input.io, helpers) }, "      ", body);
  body.push("    }", "    storageBarrier();", "    workgroupBarrier();", "  }");
  return {
    name: baseName(input), target: kernel.target, form: "sequential-steps",
    code: shaderText({
      comment: comment(input, `${seq.extent} steps along ${seq.var} in order, in one workgroup of ${LOOP_WORKGROUP} sharing each step's ${n} elements`),
      bindings: input.bindings, helpers, workgroupSize: [LOOP_WORKGROUP, 1, 1], body,
    }),
    workgroupSize: [LOOP_WORKGROUP, 1, 1], workgroups: [1, 1, 1], bindings: input.bindings.map(strip), flops: input.flops,
  };
}

/** A declared binding as the plan records it. */
export function strip(b: DeclaredBinding): { binding: number; buffer: string; access: "read" | "read_write" } {
  return { binding: b.binding, buffer: b.buffer, access: b.access };
}

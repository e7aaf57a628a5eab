/**
 * One kernel's statements as the body of a WebAssembly function. Loops count
 * an i32 local from 0 and test at the bottom (every extent is at least 1);
 * `let`/`declare`/`update` use f64 locals; a store narrows to the buffer's
 * element type; a fill of zeros is one `memory.fill`:
 *
 *     before: fill S = 0
 *             for i < 2:
 *               t0 = sum identity
 *               for j < 3: t0 += A[3*i + j]
 *               S[i] = t0
 *     after:  (memory.fill (i32.const 64) (i32.const 0) (i32.const 8))
 *             (local.set $i (i32.const 0))
 *             (loop $L0
 *               (local.set $a0 (i32.mul (local.get $i) (i32.const 12)))
 *               (local.set $t0 (f64.const 0))
 *               (local.set $j (i32.const 0))
 *               (loop $L1 ... (br_if $L1 (i32.lt_s (local.get $j) (i32.const 3))))
 *               (f32.store offset=64 ...)
 *               (local.set $i (i32.add (local.get $i) (i32.const 1)))
 *               (br_if $L0 (i32.lt_s (local.get $i) (i32.const 2))))
 *
 * An innermost loop that vectorize.ts accepts (contiguous float32 accesses)
 * runs four iterations at a time in f32x4 lanes (emit-vector-loop.ts), then
 * the iterations left over as the scalar loop above, starting where the
 * vector loop stopped.
 */
import { type Affine, type AffineTerm, reduceIdentity } from "../../ir/types.js";
import type { KExpr, Loop, Stmt } from "../kernel/types.js";
import { localsReadBy } from "../kernel/walk.js";
import type { Ref } from "./binaryen.js";
import { combine, localIndex, narrow, wasmExpr, widen } from "./emit-expr.js";
import { emitVectorLoop, vectorEnd } from "./emit-vector-loop.js";
import type { FunctionContext } from "./function-context.js";
import { BYTES } from "./layout.js";
import { type VectorDecision, vectorizeLoop } from "./vectorize.js";

/**
 * `for v in from .. extent-1 { body }` as a bottom-tested loop (`from` is 0
 * unless given, and below `extent`); `body` is built with the loop's scope open.
 */
export function countedLoop(ctx: FunctionContext, v: number, extent: number, body: () => Ref[], from = 0): Ref[] {
  const m = ctx.m;
  const label = ctx.label();
  const inner = body();
  const next = m.set(v, m.i32("add", m.get(v, "i32"), m.i32Const(1)));
  const again = m.brIf(label, m.i32("lt_s", m.get(v, "i32"), m.i32Const(extent)));
  return [m.set(v, m.i32Const(from)), m.loop(label, m.block([...inner, next, again]))];
}

/** The loop's decision (vectorize.ts) in the function being emitted. */
function vectorDecision(ctx: FunctionContext, loop: Loop, extents: ReadonlyMap<string, number>): VectorDecision {
  return vectorizeLoop(loop, { dtypeOf: (b) => ctx.place(b).dtype, inlineMath: ctx.f32Exp, extents });
}

/**
 * A loop as scalar code over `from .. extent-1`, with its scope (for
 * hoisted address arithmetic) open while its body is built.
 */
function scalarLoop(ctx: FunctionContext, s: Loop, sizes: ReadonlyMap<string, number>, extents: ReadonlyMap<string, number>, from = 0): Ref[] {
  const scope = { var: s.var, prelude: [] as Ref[], memo: new Map<string, number>() };
  const inner = new Map(extents).set(s.var, s.extent);
  return countedLoop(ctx, ctx.loopVar(s.var), s.extent, () => {
    ctx.scopes.push(scope);
    const body = emitStmts(ctx, s.body, sizes, inner);
    ctx.scopes.pop();
    return [...scope.prelude, ...body];
  }, from);
}

function fill(ctx: FunctionContext, buffer: string, value: number, size: number): Ref[] {
  const m = ctx.m;
  const { offset, dtype } = ctx.place(buffer);
  const bytes = BYTES[dtype];
  if (value === 0 && !Object.is(value, -0)) return [m.fillBytes(m.i32Const(offset), m.i32Const(0), m.i32Const(size * bytes))];
  const constant = narrow(ctx, dtype, m.f64Const(value));
  return eachElement(ctx, size, bytes, (at) => m.store(dtype, offset, at(), constant));
}

/** Copies `size` elements of `from` into `to` (same element type), element by element. */
function copy(ctx: FunctionContext, from: string, to: string, size: number): Ref[] {
  const m = ctx.m;
  const src = ctx.place(from);
  const dst = ctx.place(to);
  return eachElement(ctx, size, BYTES[dst.dtype], (at) => m.store(dst.dtype, dst.offset, at(), m.load(src.dtype, src.offset, at())));
}

/** `body(at)` for each of `size` elements of `bytes` bytes, in order (`size` > 0); `at()` reads the element's byte offset (a fresh expression per use: binaryen's are a tree). */
function eachElement(ctx: FunctionContext, size: number, bytes: number, body: (at: () => Ref) => Ref): Ref[] {
  const m = ctx.m;
  const p = ctx.locals.fresh("i32");
  const label = ctx.label();
  const next = m.set(p, m.i32("add", m.get(p, "i32"), m.i32Const(bytes)));
  const again = m.brIf(label, m.i32("lt_u", m.get(p, "i32"), m.i32Const(size * bytes)));
  return [m.set(p, m.i32Const(0)), m.loop(label, m.block([body(() => m.get(p, "i32")), next, again]))];
}

/**
 * The instructions for a list of kernel statements; `sizes` gives each
 * buffer's element count (for fills).
 *
 * @example
 * ```ts
 * const body = emitStmts(ctx, kernel.body, sizes);
 * ctx.m.addFunction("k0_S", [], "none", ctx.locals.types, ctx.m.block(body));
 * ```
 */
export function emitStmts(
  ctx: FunctionContext, stmts: readonly Stmt[], sizes: ReadonlyMap<string, number>, extents: ReadonlyMap<string, number> = new Map(),
): Ref[] {
  const m = ctx.m;
  const out: Ref[] = [];
  for (const s of stmts) {
    switch (s.kind) {
      case "loop": {
        const vector = vectorDecision(ctx, s, extents);
        if (!vector.ok) {
          out.push(...scalarLoop(ctx, s, sizes, extents));
          break;
        }
        out.push(...emitVectorLoop(ctx, s, vector.plan));
        const end = vectorEnd(s.extent);
        if (end < s.extent) out.push(...scalarLoop(ctx, s, sizes, extents, end));
        break;
      }
      case "let": out.push(m.set(localIndex(ctx, s.name), wasmExpr(ctx, s.value))); break;
      case "declare": out.push(m.set(localIndex(ctx, s.name), s.init === undefined ? m.f64Const(reduceIdentity(s.op)) : wasmExpr(ctx, s.init))); break;
      case "update": {
        const t = localIndex(ctx, s.name);
        out.push(m.set(t, combine(ctx, s.op, m.get(t, "f64"), wasmExpr(ctx, s.value))));
        break;
      }
      case "store": {
        const { dtype } = ctx.place(s.buffer);
        let value = wasmExpr(ctx, s.value);
        if (s.op) {
          const from = ctx.address(s.buffer, s.offset);
          value = combine(ctx, s.op, widen(ctx, dtype, m.load(dtype, from.offset, from.ptr)), value);
        }
        const at = ctx.address(s.buffer, s.offset);
        out.push(m.store(dtype, at.offset, at.ptr, narrow(ctx, dtype, value)));
        break;
      }
      case "fill": out.push(...(s.from === undefined ? fill(ctx, s.buffer, s.value, sizes.get(s.buffer) ?? 0) : copy(ctx, s.from, s.buffer, sizes.get(s.buffer) ?? 0))); break;
    }
  }
  return out;
}

/** Whether statements only read kernel locals they define themselves (nothing flows in or out of them). */
function selfContained(stmts: readonly Stmt[]): boolean {
  const defined = new Set<string>();
  const ok = (list: readonly Stmt[]): boolean => list.every((s) => {
    const reads = new Set<string>();
    switch (s.kind) {
      case "loop": return ok(s.body);
      case "let": localsReadBy(s.value, reads); defined.add(s.name); break;
      case "declare": if (s.init !== undefined) localsReadBy(s.init, reads); defined.add(s.name); break;
      case "update": localsReadBy(s.value, reads); reads.add(s.name); break;
      case "store": localsReadBy(s.value, reads); break;
      case "fill": break;
    }
    return [...reads].every((r) => defined.has(r));
  });
  return ok(stmts);
}

/** How a loop kernel splits: ranges of its outermost loop. */
export interface LoopSplitPlan {
  /** Position of the split loop in the kernel's body; the statements before it are fills. */
  readonly loop: number;
  /** Iterations of the loop per work unit (a multiple of 4 when the loop runs in vectors). */
  readonly chunk: number;
  /** Work units: unit u runs iterations `u * chunk` up to `min((u + 1) * chunk, extent)`. */
  readonly units: number;
  /** Whether the outermost loop itself runs in f32x4 lanes (a one-dimensional kernel). */
  readonly vector: boolean;
  /** Counted operations of the kernel (`loopWork` in parallel.ts). */
  readonly work: number;
}

/**
 * A kernel's statements as the body of its function `name`. The body of each
 * outermost loop that carries no kernel local in or out becomes its own
 * function `name_bN(v)`, called once per iteration: V8 runs new code
 * unoptimized first and can switch a function to optimized code only between
 * calls, so a loop nest kept whole would run unoptimized for all of the first
 * run.
 *
 *     before: for i < 256: for j < 256: ... S[256*i + j] = t0
 *     after:  (func $k0_S (loop ... (call $k0_S_b0 (local.get $i)) ...))
 *             (func $k0_S_b0 (param $i i32) (loop $j ...))
 *
 * With a `split` plan (parallel.ts) the kernel also gets the entry
 * `name_unit(u, t)` running iterations `u·chunk` up to
 * `min((u+1)·chunk, extent)` of its split loop, and, when fills precede
 * that loop, `name_pre()` running them (see {@link emitLoopUnitEntry}).
 *
 * @example
 * ```ts
 * const body = emitKernelBody(ctx, kernel.body, sizes, "k0_S");
 * ```
 */
export function emitKernelBody(
  ctx: FunctionContext, stmts: readonly Stmt[], sizes: ReadonlyMap<string, number>, name: string, split?: LoopSplitPlan,
): Ref[] {
  const m = ctx.m;
  const out: Ref[] = [];
  let parts = 0;
  stmts.forEach((s, at) => {
    const splitHere = split !== undefined && at === split.loop;
    // A loop that runs in vectors stays in the kernel's function: one call per
    // element would cost more than V8's first, unoptimized run of it.
    const outline = s.kind === "loop" && (splitHere ? !split.vector : s.extent >= 2 && selfContained(s.body) && !vectorDecision(ctx, s, new Map()).ok);
    if (!outline) {
      out.push(...emitStmts(ctx, [s], sizes));
      if (splitHere) emitLoopUnitEntry(ctx, s as Loop, sizes, name, split, null);
      return;
    }
    const part = ctx.sibling();
    const param = part.loopVar(s.var);
    const scope = { var: s.var, prelude: [] as Ref[], memo: new Map<string, number>() };
    part.scopes.push(scope);
    const body = emitStmts(part, s.body, sizes, new Map([[s.var, s.extent]]));
    const partName = `${name}_b${parts++}`;
    const types = part.locals.types;
    m.addFunction(partName, ["i32"], "none", types.slice(param + 1), m.block([...part.scopes[0]!.prelude, ...scope.prelude, ...body]));
    out.push(...countedLoop(ctx, ctx.loopVar(s.var), s.extent, () => [m.call(partName, [m.get(ctx.loopVar(s.var), "i32")], "none")]));
    if (splitHere) emitLoopUnitEntry(ctx, s, sizes, name, split, partName);
  });
  if (split !== undefined && split.loop > 0) {
    const pre = ctx.sibling();
    const fills = emitStmts(pre, stmts.slice(0, split.loop), sizes);
    m.addFunction(`${name}_pre`, [], "none", pre.locals.types, m.block([...pre.scopes[0]!.prelude, ...fills]));
    m.exportFunction(`${name}_pre`);
  }
  return out;
}

/** The loop variable of a work unit's range in a rebased vector loop (not a name the kernel IR uses). */
const UNIT_VAR = "unit#";

/**
 * Adds the exported `name_unit(u, t)` of a split loop (the thread `t` is
 * unused: loop kernels need no scratch). A scalar loop's unit calls its outlined
 * per-iteration function `part` for `v = u·chunk .. min((u+1)·chunk,
 * extent) - 1`, so every iteration runs the function the whole kernel calls:
 *
 *     (func $k1_M_unit (param $u i32) (param $t i32)
 *       v = u * 16; end = min(v + 16, 256)
 *       (loop (call $k1_M_b0 (local.get $v)) v += 1 (br_if (v < end))))
 *
 * A loop that runs in f32x4 lanes (no outlined function) is rebased
 * instead: unit u < units-1 runs `for v' < chunk` with `v = chunk·u + v'`
 * (chunk is a multiple of 4: vector steps only), the last unit `for v' <
 * extent - chunk·(units-1)` with `v = chunk·(units-1) + v'`, whose vector
 * part and scalar remainder then cover exactly the elements they cover in
 * the whole loop (the loop body does not read `v` itself, parallel.ts).
 */
function emitLoopUnitEntry(ctx: FunctionContext, loop: Loop, sizes: ReadonlyMap<string, number>, name: string, plan: LoopSplitPlan, part: string | null): void {
  const fn = ctx.sibling();
  const m = fn.m;
  const u = fn.loopVar(UNIT_VAR);
  fn.locals.fresh("i32"); // the thread parameter
  const get = (x: number): Ref => m.get(x, "i32");
  let body: Ref[];
  if (part !== null) {
    const v = fn.loopVar(loop.var);
    const end = fn.locals.fresh("i32");
    const label = fn.label();
    const next = m.i32("add", get(v), m.i32Const(plan.chunk));
    body = [
      m.set(v, m.i32("mul", get(u), m.i32Const(plan.chunk))),
      m.set(end, m.select(m.i32("lt_s", next, m.i32Const(loop.extent)), m.i32("add", get(v), m.i32Const(plan.chunk)), m.i32Const(loop.extent))),
      m.loop(label, m.block([
        m.call(part, [get(v)], "none"),
        m.set(v, m.i32("add", get(v), m.i32Const(1))),
        m.brIf(label, m.i32("lt_s", get(v), get(end))),
      ])),
    ];
  } else {
    const scope = { var: UNIT_VAR, prelude: [] as Ref[], memo: new Map<string, number>() };
    fn.scopes.push(scope);
    const last = plan.units - 1;
    const inner = `${loop.var}#`;
    const extents = new Map([[UNIT_VAR, plan.units]]);
    const whole = emitStmts(fn, [rebaseLoop(loop, inner, plan.chunk, { var: UNIT_VAR, coef: plan.chunk }, 0)], sizes, extents);
    const tail = emitStmts(fn, [rebaseLoop(loop, inner, loop.extent - plan.chunk * last, null, plan.chunk * last)], sizes, extents);
    fn.scopes.pop();
    body = [...scope.prelude, m.ifElse(m.i32("lt_u", get(u), m.i32Const(last)), m.block(whole), m.block(tail))];
  }
  m.addFunction(`${name}_unit`, ["i32", "i32"], "none", fn.locals.types.slice(2), m.block([...fn.scopes[0]!.prelude, ...body]));
  m.exportFunction(`${name}_unit`);
}

/**
 * `loop` as `for inner < extent` with its variable `v` replaced by
 * `inner + base` (plus `coef·by.var` when `by` is given) in every offset.
 */
function rebaseLoop(loop: Loop, inner: string, extent: number, by: AffineTerm | null, base: number): Loop {
  const affine = (a: Affine): Affine => {
    const coef = a.terms.find((t) => t.var === loop.var)?.coef ?? 0;
    if (coef === 0) return a;
    const terms = a.terms.filter((t) => t.var !== loop.var).concat([{ var: inner, coef }], by ? [{ var: by.var, coef: coef * by.coef }] : []);
    return { terms: terms.sort((x, y) => (x.var < y.var ? -1 : x.var > y.var ? 1 : 0)), constant: a.constant + coef * base };
  };
  const expr = (e: KExpr): KExpr => {
    switch (e.kind) {
      case "load": return e.guard
        ? { ...e, offset: affine(e.offset), guard: e.guard.map((g) => ({ ...g, index: affine(g.index) })) }
        : { ...e, offset: affine(e.offset) };
      case "unary": return { ...e, arg: expr(e.arg) };
      case "binary": return { ...e, lhs: expr(e.lhs), rhs: expr(e.rhs) };
      case "select": return { ...e, cond: expr(e.cond), then: expr(e.then), else: expr(e.else) };
      default: return e;
    }
  };
  const stmt = (s: Stmt): Stmt => {
    switch (s.kind) {
      case "loop": return { ...s, body: s.body.map(stmt) };
      case "let": case "update": return { ...s, value: expr(s.value) };
      case "store": return { ...s, offset: affine(s.offset), value: expr(s.value) };
      case "declare": return s.init === undefined ? s : { ...s, init: expr(s.init) };
      default: return s;
    }
  };
  return { kind: "loop", var: inner, extent, body: loop.body.map(stmt) };
}

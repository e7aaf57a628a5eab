/**
 * A scatter-add kernel (`Kernel.scatterAdd`) as a WebAssembly function
 * body: the target zeroed with one `memory.fill`, then one pass over the
 * terms, each added to the element its resolved index selects (an index out
 * of range in mode `check` is recorded in the gather status and adds to
 * element 0 of the dimension, so no store leaves the buffer; the host then
 * raises TNS0620):
 *
 *     (memory.fill (i32.const 64) (i32.const 0) (i32.const 112))
 *     (loop $t ... (loop $g1 ...
 *       (local.set $p (i32.add (<offset of g1>) (i32.mul (<resolved ids[t]>) (i32.const 16))))
 *       (f32.store offset=64 (local.get $p) (f32.add (f32.load offset=64 (local.get $p)) (<term>)))))
 *
 * It runs on one thread: threads splitting the loops would add to the same
 * element at once (the kernel's masked-sum `body` is what a split runs).
 */
import type { Ref } from "./binaryen.js";
import type { ScatterAdd } from "../kernel/types.js";
import { countedLoop } from "./emit-kernel.js";
import { combine, gatherIndex, narrow, wasmExpr, widen } from "./emit-expr.js";
import type { FunctionContext } from "./function-context.js";
import { BYTES } from "./layout.js";

/**
 * The instructions of a scatter-add into `target`, a buffer of `size` elements.
 *
 * @example
 * ```ts
 * const body = emitScatterAdd(ctx, kernel.scatterAdd!, kernel.target, 28);
 * ```
 */
export function emitScatterAdd(ctx: FunctionContext, s: ScatterAdd, target: string, size: number): Ref[] {
  const m = ctx.m;
  const { offset: base, dtype } = ctx.place(target);
  const bytes = BYTES[dtype];
  const nest = (depth: number): Ref[] => {
    if (depth === s.loops.length) {
      const at = ctx.address(target, s.offset);
      const p = ctx.locals.fresh("i32");
      const index = gatherIndex(ctx, wasmExpr(ctx, s.index.value), s.index.extent, s.mode, s.index.site);
      const ptr = m.i32("add", at.ptr, m.i32("mul", index, m.i32Const(s.index.stride * bytes)));
      const sum = combine(ctx, "sum", widen(ctx, dtype, m.load(dtype, at.offset, m.get(p, "i32"))), wasmExpr(ctx, s.term));
      return [m.set(p, ptr), m.store(dtype, at.offset, m.get(p, "i32"), narrow(ctx, dtype, sum))];
    }
    const loop = s.loops[depth]!;
    const scope = { var: loop.var, prelude: [] as Ref[], memo: new Map<string, number>() };
    return countedLoop(ctx, ctx.loopVar(loop.var), loop.extent, () => {
      ctx.scopes.push(scope);
      const inner = nest(depth + 1);
      ctx.scopes.pop();
      return [...scope.prelude, ...inner];
    });
  };
  return [m.fillBytes(m.i32Const(base), m.i32Const(0), m.i32Const(size * bytes)), ...nest(0)];
}

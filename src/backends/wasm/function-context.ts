/**
 * State shared while one kernel becomes one WebAssembly function: its locals
 * (named kernel locals and loop variables, plus fresh temporaries), the
 * arena offsets of the buffers, and the loop scopes into which address
 * arithmetic is hoisted. Byte addresses are split so the part that does not
 * change in the innermost loop is computed once, at the top of the loop that
 * binds its last variable:
 *
 *     before: X[8*i + k]    (f32 at arena offset 64, inside for i { for k { ... } })
 *     after:  (top of the i loop)  a0 = 32 * i
 *             f32.load offset=64 (a0 + 4 * k)
 */
import type { Affine, DType } from "../../ir/types.js";
import { InternalCompilerError } from "../../diagnostics/diagnostic.js";
import type { Ref, ValueType, WasmModule } from "./binaryen.js";
import { BYTES } from "./layout.js";
import type { GatherSite } from "../../ir/gather.js";

/** Where a buffer lives in the arena. */
export interface BufferPlace {
  readonly offset: number;
  readonly dtype: DType;
}

/** A loop being emitted: its variable and the address bases hoisted to its top. */
export interface WasmScope {
  readonly var: string | null;
  readonly prelude: Ref[];
  readonly memo: Map<string, number>;
}

/**
 * The locals of one function, by role. Named locals (kernel locals, loop
 * variables) are created on first use; `fresh` adds an anonymous one.
 *
 * @example
 * ```ts
 * const locals = new Locals();
 * locals.named("v:i", "i32"); // 0
 * locals.fresh("f64"); // 1
 * ```
 */
export class Locals {
  readonly types: ValueType[] = [];
  private readonly byName = new Map<string, number>();

  named(name: string, type: ValueType): number {
    const known = this.byName.get(name);
    if (known !== undefined) {
      if (this.types[known] !== type) throw new InternalCompilerError(`local ${name} used as ${type} and ${this.types[known]}`);
      return known;
    }
    const index = this.fresh(type);
    this.byName.set(name, index);
    return index;
  }

  fresh(type: ValueType): number {
    this.types.push(type);
    return this.types.length - 1;
  }
}

/** Everything the emitters need while building one function. */
export class FunctionContext {
  readonly locals = new Locals();
  readonly scopes: WasmScope[] = [{ var: null, prelude: [], memo: new Map() }];
  private labels = 0;

  constructor(
    readonly m: WasmModule,
    private readonly places: ReadonlyMap<string, BufferPlace>,
    /** Imported `Math` functions the module must declare, filled as they are used. */
    readonly imports: Set<string>,
    /** Compute `exp` inline to float32 accuracy (the kernel stores float32) instead of calling `Math.exp`. */
    readonly f32Exp = false,
    /**
     * A recurrence's own buffer (`Kernel.sequential`): its reads at earlier
     * steps are in bounds only where their `where` guard holds, so a select
     * whose arm reads it branches instead of evaluating both arms.
     */
    readonly guardedBuffer: string | null = null,
    /** The module's gather sites, numbered as they are emitted (shared by every function of the module). */
    readonly gatherSites: GatherSite[] = [],
  ) {}

  /** A context for another function of the same module (same arena, same imports, same `exp`). */
  sibling(): FunctionContext {
    return new FunctionContext(this.m, this.places, this.imports, this.f32Exp, this.guardedBuffer, this.gatherSites);
  }

  place(buffer: string): BufferPlace {
    const p = this.places.get(buffer);
    if (!p) throw new InternalCompilerError(`buffer ${buffer} has no place in the arena`);
    return p;
  }

  /** A new loop label, unique in the function. */
  label(): string {
    return `L${this.labels++}`;
  }

  /** The i32 local holding a loop variable. */
  loopVar(v: string): number {
    return this.locals.named(`v:${v}`, "i32");
  }

  /** `coef * v` as an i32 expression. */
  private term(v: string, coef: number): Ref {
    const x = this.m.get(this.loopVar(v), "i32");
    return coef === 1 ? x : this.m.i32("mul", x, this.m.i32Const(coef));
  }

  /** `sum coef * var` (no constant) as an i32 expression; 0 for no terms. */
  terms(terms: Affine["terms"], scale: number): Ref {
    let acc: Ref | null = null;
    for (const t of terms) {
      const x = this.term(t.var, t.coef * scale);
      acc = acc === null ? x : this.m.i32("add", acc, x);
    }
    return acc ?? this.m.i32Const(0);
  }

  /**
   * The address of element `offset` of `buffer` as a dynamic pointer and a
   * static byte offset for the instruction's memarg.
   */
  address(buffer: string, offset: Affine): { ptr: Ref; offset: number } {
    const { offset: base, dtype } = this.place(buffer);
    const size = BYTES[dtype];
    const depthOf = (v: string): number => {
      const d = this.scopes.findIndex((s) => s.var === v);
      if (d < 0) throw new InternalCompilerError(`loop variable ${v} is not bound`);
      return d;
    };
    let inner = -1;
    for (const t of offset.terms) inner = Math.max(inner, depthOf(t.var));
    const innerVar = inner >= 0 ? this.scopes[inner]!.var : null;
    const outer = offset.terms.filter((t) => t.var !== innerVar);
    const parts: Ref[] = [];
    if (outer.length > 0) {
      const target = this.scopes[Math.max(...outer.map((t) => depthOf(t.var)))]!;
      const key = outer.map((t) => `${t.coef * size}*${t.var}`).join("+");
      let local = target.memo.get(key);
      if (local === undefined) {
        local = this.locals.fresh("i32");
        target.memo.set(key, local);
        target.prelude.push(this.m.set(local, this.terms(outer, size)));
      }
      parts.push(this.m.get(local, "i32"));
    }
    const innerTerm = offset.terms.find((t) => t.var === innerVar);
    if (innerTerm) parts.push(this.term(innerTerm.var, innerTerm.coef * size));
    const fixed = base + offset.constant * size;
    const nonNegative = offset.terms.every((t) => t.coef > 0) && fixed >= 0;
    let ptr = parts.length === 0 ? this.m.i32Const(0) : parts.reduce((a, b) => this.m.i32("add", a, b));
    if (nonNegative) return { ptr, offset: fixed };
    ptr = this.m.i32("add", ptr, this.m.i32Const(fixed));
    return { ptr, offset: 0 };
  }
}

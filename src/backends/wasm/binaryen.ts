/**
 * The facade the WebAssembly backend builds modules through, and the one
 * door to binaryen. {@link WasmModule} is a small typed interface that names
 * only the instructions the backend emits; tns's own encoder (encoder.ts)
 * implements it without loading anything:
 *
 *     const m = wasmEncoder().createModule();
 *     m.addFunction("two", [], "f64", [], m.f64Const(2));
 *     m.exportFunction("two");
 *     const { binary } = m.finish({ optimize: false });
 *
 * Binaryen is a 15 MB module that takes about a third of a second to load,
 * so it is imported lazily, only where its optimizer is asked for
 * (`finish({ optimize: true })`, after {@link loadBinaryen}), and cached.
 * {@link loadBinaryenBuilder} builds the same facade through binaryen's own
 * API: the reference the encoder is tested against.
 */
import { InternalCompilerError } from "../../diagnostics/diagnostic.js";
import { featuresOf, loadApi, optimizeModule, type BModule, type BinaryenApi } from "./binaryen-library.js";
import type {
  Binaryen, Conversion, F32x4Arith, F32x4Binary, F32x4Compare, F32x4Unary, FinishedModule, FloatBinary, FloatUnary, I32x4Binary,
  IntBinary, Ref, V128Bitwise, ValueType, WasmModule,
} from "./facade.js";

export type {
  Binaryen, Conversion, F32x4Arith, F32x4Binary, F32x4Compare, F32x4Unary, FinishedModule, FloatBinary, FloatUnary, I32x4Binary,
  IntBinary, Ref, V128Bitwise, ValueType, WasmModule,
} from "./facade.js";

export { BINARYEN_VERSION, binaryenLoaded, optimizeWithBinaryen } from "./binaryen-library.js";

/**
 * Loads binaryen once and returns tns's encoder, whose modules may then be
 * finished with `optimize: true` (binaryen's optimizer over the encoded
 * binary). Later calls return at once.
 *
 * @example
 * ```ts
 * const m = (await loadBinaryen()).createModule();
 * m.addFunction("f", [], "f64", [], m.f64Const(1));
 * m.finish({ optimize: true });
 * ```
 */
export async function loadBinaryen(): Promise<Binaryen> {
  await loadApi();
  const { wasmEncoder } = await import("./encoder.js");
  return wasmEncoder();
}

/**
 * Loads binaryen once and returns a factory of modules built through
 * binaryen's own API (validated by binaryen's validator): the reference
 * build of the facade that the encoder's tests compare against.
 *
 * @example
 * ```ts
 * const reference = (await loadBinaryenBuilder()).createModule();
 * ```
 */
export async function loadBinaryenBuilder(): Promise<Binaryen> {
  const api = await loadApi();
  return { createModule: (options) => new BinaryenModule(api, options?.relaxedSimd ?? false, options?.threads ?? false) };
}

/**
 * The facade built through binaryen's own API and validated by binaryen's
 * validator (see {@link loadBinaryenBuilder}); the native module is freed by
 * `finish`.
 */
class BinaryenModule implements WasmModule {
  private readonly m: BModule;
  private readonly memoryName = "arena";

  constructor(private readonly api: BinaryenApi, readonly relaxedSimd = false, readonly threads = false) {
    this.m = new api.Module();
    this.m.setFeatures(featuresOf(api, relaxedSimd, threads) as never);
  }

  private type(t: ValueType): number {
    return this.api[t];
  }

  /**
   * Imports the linear memory as `env.memory` with at least `pages` 64 KiB
   * pages; `shared` declares a shared memory (a module created with `threads`).
   */
  importMemory(pages: number, shared = false): void {
    if (shared && !this.threads) throw new InternalCompilerError("a shared memory in a module without threads");
    this.m.setMemory(pages, 65536, null, [], shared, false, this.memoryName);
    this.m.addMemoryImport(this.memoryName, "env", "memory");
  }

  /** Imports a JavaScript function `env.name` taking and returning f64 values. */
  importMathFunction(name: string, arity: number): void {
    const params = this.api.createType(Array.from({ length: arity }, () => this.api.f64));
    this.m.addFunctionImport(name, "env", name, params, this.api.f64);
  }

  /** Adds a function; locals are numbered after the parameters. */
  addFunction(name: string, params: readonly ValueType[], result: ValueType, locals: readonly ValueType[], body: Ref): void {
    this.m.addFunction(name, this.api.createType(params.map((p) => this.type(p))), this.type(result), locals.map((l) => this.type(l)), body);
  }

  /** Exports a function under its own name. */
  exportFunction(name: string): void {
    this.m.addFunctionExport(name, name);
  }

  i32Const(v: number): Ref { return this.m.i32.const(v | 0) as Ref; }
  f32Const(v: number): Ref { return this.m.f32.const(v) as Ref; }
  f64Const(v: number): Ref { return this.m.f64.const(v) as Ref; }

  get(index: number, t: ValueType): Ref { return this.m.local.get(index, this.type(t)) as Ref; }
  set(index: number, value: Ref): Ref { return this.m.local.set(index, value) as Ref; }

  i32(op: IntBinary, a: Ref, b: Ref): Ref { return this.m.i32[op](a, b) as Ref; }
  float(t: "f32" | "f64", op: FloatBinary, a: Ref, b: Ref): Ref { return this.m[t][op](a, b) as Ref; }
  floatUnary(t: "f32" | "f64", op: FloatUnary, a: Ref): Ref { return this.m[t][op](a) as Ref; }

  convert(op: Conversion, a: Ref): Ref {
    switch (op) {
      case "f64.promote_f32": return this.m.f64.promote(a) as Ref;
      case "f32.demote_f64": return this.m.f32.demote(a) as Ref;
      case "f64.convert_i32_s": return this.m.f64.convert_s.i32(a) as Ref;
      case "f64.convert_i32_u": return this.m.f64.convert_u.i32(a) as Ref;
      case "i32.trunc_sat_f64_s": return this.m.i32.trunc_s_sat.f64(a) as Ref;
      case "f32.reinterpret_i32": return this.m.f32.reinterpret(a) as Ref;
    }
  }

  /** A naturally aligned scalar load at `ptr + offset` (bytes). */
  load(t: "i32" | "f32" | "f64", offset: number, ptr: Ref): Ref {
    return this.m[t].load(offset, t === "f64" ? 8 : 4, ptr, this.memoryName) as Ref;
  }
  /** A naturally aligned scalar store at `ptr + offset` (bytes). */
  store(t: "i32" | "f32" | "f64", offset: number, ptr: Ref, value: Ref): Ref {
    return this.m[t].store(offset, t === "f64" ? 8 : 4, ptr, value, this.memoryName) as Ref;
  }
  /** `memory.fill(dest, byte, size)`. */
  fillBytes(dest: Ref, byte: Ref, size: Ref): Ref { return this.m.memory.fill(dest, byte, size, this.memoryName) as Ref; }

  /** A 16-byte load that assumes only 4-byte alignment (rows of odd width start anywhere). */
  v128Load(offset: number, ptr: Ref): Ref { return this.m.v128.load(offset, 4, ptr, this.memoryName) as Ref; }
  v128Store(offset: number, ptr: Ref, value: Ref): Ref { return this.m.v128.store(offset, 4, ptr, value, this.memoryName) as Ref; }
  /** One f32 loaded into all four lanes. */
  load32Splat(offset: number, ptr: Ref): Ref { return this.m.v128.load32_splat(offset, 4, ptr, this.memoryName) as Ref; }
  f32x4(op: F32x4Binary, a: Ref, b: Ref): Ref { return this.m.f32x4[op](a, b) as Ref; }
  /**
   * `a * b + c` lane-wise as one `f32x4.relaxed_madd` (fused or not, as the
   * engine chooses). Binaryen's high-level `f32x4` wrapper lacks it, hence the
   * low-level call. Only in a module created with `relaxedSimd`.
   */
  f32x4Madd(a: Ref, b: Ref, c: Ref): Ref {
    if (!this.relaxedSimd) throw new InternalCompilerError("f32x4.relaxed_madd in a module without relaxed SIMD");
    const api = this.api as unknown as { _BinaryenSIMDTernary(m: number, op: number, a: Ref, b: Ref, c: Ref): number; RelaxedMaddVecF32x4: number };
    return api._BinaryenSIMDTernary(this.m.ptr, api.RelaxedMaddVecF32x4, a, b, c) as Ref;
  }
  f32x4Splat(a: Ref): Ref { return this.m.f32x4.splat(a) as Ref; }
  v128Zero(): Ref { return this.m.v128.const([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) as Ref; }

  /** Lane-wise f32x4 arithmetic (IEEE, NaN-propagating `min`/`max` like the scalar ones). */
  f32x4Arith(op: F32x4Arith, a: Ref, b: Ref): Ref { return this.m.f32x4[op](a, b) as Ref; }
  /** Lane-wise f32x4 comparison: a mask, all ones in the lanes where it holds. */
  f32x4Compare(op: F32x4Compare, a: Ref, b: Ref): Ref { return this.m.f32x4[op](a, b) as Ref; }
  f32x4Unary(op: F32x4Unary, a: Ref): Ref { return this.m.f32x4[op](a) as Ref; }
  /** One f32 lane (0..3) of a vector. */
  f32x4ExtractLane(v: Ref, lane: number): Ref { return this.m.f32x4.extract_lane(v, lane as never) as Ref; }
  /** Four f32 constants (each rounded to float32). */
  f32x4Const(lanes: readonly [number, number, number, number]): Ref {
    return this.m.v128.const(Array.from(new Uint8Array(Float32Array.from(lanes).buffer))) as Ref;
  }
  /** Four i32 constants. */
  i32x4Const(lanes: readonly [number, number, number, number]): Ref {
    return this.m.v128.const(Array.from(new Uint8Array(Int32Array.from(lanes).buffer))) as Ref;
  }
  /** Lane-wise i32 to f32, rounding to nearest. */
  f32x4ConvertI32x4(a: Ref): Ref { return this.m.f32x4.convert_i32x4_s(a) as Ref; }
  /** Lane-wise f32 to i32, toward zero, saturating (NaN gives 0). */
  i32x4TruncSatF32x4(a: Ref): Ref { return this.m.i32x4.trunc_sat_f32x4_s(a) as Ref; }
  i32x4Splat(a: Ref): Ref { return this.m.i32x4.splat(a) as Ref; }
  i32x4(op: I32x4Binary, a: Ref, b: Ref): Ref { return this.m.i32x4[op](a, b) as Ref; }
  /** Lane-wise shift left by a scalar i32 count. */
  i32x4Shl(a: Ref, count: Ref): Ref { return this.m.i32x4.shl(a, count) as Ref; }
  /** Lane-wise arithmetic shift right by a scalar i32 count. */
  i32x4ShrS(a: Ref, count: Ref): Ref { return this.m.i32x4.shr_s(a, count) as Ref; }
  v128Bitwise(op: V128Bitwise, a: Ref, b: Ref): Ref { return this.m.v128[op](a, b) as Ref; }
  /** Bits of `ifSet` where `mask` is 1, of `ifClear` where it is 0. */
  v128Bitselect(ifSet: Ref, ifClear: Ref, mask: Ref): Ref { return this.m.v128.bitselect(ifSet, ifClear, mask) as Ref; }

  /** `select(ifTrue, ifFalse, cond)`: both operands are evaluated. */
  select(cond: Ref, ifTrue: Ref, ifFalse: Ref): Ref { return this.m.select(cond, ifTrue, ifFalse) as Ref; }
  call(name: string, args: readonly Ref[], result: ValueType): Ref { return this.m.call(name, args, this.type(result)) as Ref; }
  block(children: readonly Ref[]): Ref { return this.m.block(null, children, this.api.none) as Ref; }
  /** A block whose last child is its value, of type `t`. */
  valueBlock(children: readonly Ref[], t: ValueType): Ref { return this.m.block(null, children, this.type(t)) as Ref; }
  loop(label: string, body: Ref): Ref { return this.m.loop(label, body) as Ref; }
  /** A block a `br` or `br_if` inside can leave by its label. */
  blockNamed(label: string, children: readonly Ref[]): Ref { return this.m.block(label, children, this.api.none) as Ref; }
  br(label: string): Ref { return this.m.br(label) as Ref; }
  brIf(label: string, cond: Ref): Ref { return this.m.br_if(label, cond) as Ref; }
  /** `if (cond) then else otherwise` as a statement (`otherwise` optional). */
  ifElse(cond: Ref, then: Ref, otherwise?: Ref): Ref { return this.m.if(cond, then, otherwise) as Ref; }
  nop(): Ref { return this.m.nop() as Ref; }

  finish(options: { optimize: boolean }): FinishedModule {
    try {
      if (!this.m.validate()) throw new InternalCompilerError("the emitted WebAssembly module does not validate");
      const text = this.m.emitText();
      if (options.optimize) optimizeModule(this.api, this.m);
      return { binary: this.m.emitBinary(), text };
    } finally {
      this.m.dispose();
    }
  }
}

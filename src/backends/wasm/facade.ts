/**
 * The facade the WebAssembly backend builds modules through: {@link WasmModule}
 * names only the instructions the backend emits. Two builders implement it,
 * tns's own encoder (encoder.ts) and binaryen's API (binaryen.ts, the
 * reference the encoder is tested against); the emitters see only this file's
 * types.
 */
/** An expression under construction (an index into the encoder's node table, or binaryen's expression pointer), branded. */
export type Ref = number & { readonly __wasmRef: unique symbol };

/** A WebAssembly value type, or `none` for statements. */
export type ValueType = "i32" | "f32" | "f64" | "v128" | "none";

/** Scalar floating-point binary instructions. */
export type FloatBinary = "add" | "sub" | "mul" | "div" | "min" | "max" | "copysign" | "eq" | "ne" | "lt" | "le" | "gt" | "ge";
/** Scalar floating-point unary instructions. */
export type FloatUnary = "neg" | "abs" | "sqrt" | "nearest" | "floor" | "ceil";
/** i32 binary instructions. */
export type IntBinary = "add" | "sub" | "mul" | "and" | "lt_s" | "lt_u" | "ne" | "eq" | "shl" | "shr_s" | "div_u" | "rem_u";
/** Conversions between value types. */
export type Conversion =
  | "f64.promote_f32" | "f32.demote_f64" | "f64.convert_i32_s" | "f64.convert_i32_u" | "i32.trunc_sat_f64_s"
  | "f32.reinterpret_i32";
/** f32x4 lane-wise instructions. */
export type F32x4Binary = "add" | "mul";
/**
 * More f32x4 lane-wise arithmetic (vectorised loops). `pmin`/`pmax` are the
 * pseudo-minimum and -maximum (`b < a ? b : a`, `a < b ? b : a`): one x64
 * instruction each, where `min`/`max` (NaN-propagating, -0 below +0) take
 * several.
 */
export type F32x4Arith = "add" | "sub" | "mul" | "div" | "min" | "max" | "pmin" | "pmax";
/** f32x4 lane-wise comparisons: each lane all ones where true, zero where false. */
export type F32x4Compare = "eq" | "ne" | "lt" | "le" | "gt" | "ge";
/** f32x4 lane-wise unary instructions. */
export type F32x4Unary = "neg" | "abs" | "sqrt" | "nearest";
/** i32x4 lane-wise instructions (shift counts are scalar i32). */
export type I32x4Binary = "add" | "sub";
/** Whole-vector bitwise instructions (`andnot`: `a & ~b`). */
export type V128Bitwise = "and" | "or" | "xor" | "andnot";

/** A factory of modules: tns's encoder ({@link wasmEncoder}, {@link loadBinaryen}) or binaryen's builder ({@link loadBinaryenBuilder}). */
export interface Binaryen {
  /**
   * A new module; `relaxedSimd` enables the relaxed SIMD feature (needed by {@link WasmModule.f32x4Madd}),
   * `threads` the threads feature (needed by a shared memory, {@link WasmModule.importMemory}).
   */
  createModule(options?: { relaxedSimd?: boolean; threads?: boolean }): WasmModule;
}

/** What {@link WasmModule.finish} produces. */
export interface FinishedModule {
  readonly binary: Uint8Array;
  /** The text format of the module as validated (before optimization). */
  readonly text: string;
}

/**
 * A module being built: the facade every emitter uses. Call
 * {@link WasmModule.finish} once; it validates, optionally optimizes and
 * emits the module.
 *
 * @example
 * ```ts
 * const m = wasmEncoder().createModule();
 * m.addFunction("f", [], "f64", [], m.f64Const(1.5));
 * m.exportFunction("f");
 * m.finish({ optimize: false }).text; // "(module\n (type ..."
 * ```
 */
export interface WasmModule {
  readonly relaxedSimd: boolean;
  readonly threads: boolean;
  /**
   * Imports the linear memory as `env.memory` with at least `pages` 64 KiB
   * pages; `shared` declares a shared memory (a module created with `threads`).
   */
  importMemory(pages: number, shared?: boolean): void;
  /** Imports a JavaScript function `env.name` taking and returning f64 values. */
  importMathFunction(name: string, arity: number): void;
  /** Adds a function; locals are numbered after the parameters. */
  addFunction(name: string, params: readonly ValueType[], result: ValueType, locals: readonly ValueType[], body: Ref): void;
  /** Exports a function under its own name. */
  exportFunction(name: string): void;
  i32Const(v: number): Ref;
  f32Const(v: number): Ref;
  f64Const(v: number): Ref;
  get(index: number, t: ValueType): Ref;
  set(index: number, value: Ref): Ref;
  i32(op: IntBinary, a: Ref, b: Ref): Ref;
  float(t: "f32" | "f64", op: FloatBinary, a: Ref, b: Ref): Ref;
  floatUnary(t: "f32" | "f64", op: FloatUnary, a: Ref): Ref;
  convert(op: Conversion, a: Ref): Ref;
  /** A naturally aligned scalar load at `ptr + offset` (bytes). */
  load(t: "i32" | "f32" | "f64", offset: number, ptr: Ref): Ref;
  /** A naturally aligned scalar store at `ptr + offset` (bytes). */
  store(t: "i32" | "f32" | "f64", offset: number, ptr: Ref, value: Ref): Ref;
  /** `memory.fill(dest, byte, size)`. */
  fillBytes(dest: Ref, byte: Ref, size: Ref): Ref;
  /** A 16-byte load that assumes only 4-byte alignment (rows of odd width start anywhere). */
  v128Load(offset: number, ptr: Ref): Ref;
  v128Store(offset: number, ptr: Ref, value: Ref): Ref;
  /** One f32 loaded into all four lanes. */
  load32Splat(offset: number, ptr: Ref): Ref;
  f32x4(op: F32x4Binary, a: Ref, b: Ref): Ref;
  /**
   * `a * b + c` lane-wise as one `f32x4.relaxed_madd` (fused or not, as the
   * engine chooses). Only in a module created with `relaxedSimd`.
   */
  f32x4Madd(a: Ref, b: Ref, c: Ref): Ref;
  f32x4Splat(a: Ref): Ref;
  v128Zero(): Ref;
  /** Lane-wise f32x4 arithmetic (IEEE, NaN-propagating `min`/`max` like the scalar ones). */
  f32x4Arith(op: F32x4Arith, a: Ref, b: Ref): Ref;
  /** Lane-wise f32x4 comparison: a mask, all ones in the lanes where it holds. */
  f32x4Compare(op: F32x4Compare, a: Ref, b: Ref): Ref;
  f32x4Unary(op: F32x4Unary, a: Ref): Ref;
  /** One f32 lane (0..3) of a vector. */
  f32x4ExtractLane(v: Ref, lane: number): Ref;
  /** Four f32 constants (each rounded to float32). */
  f32x4Const(lanes: readonly [number, number, number, number]): Ref;
  /** Four i32 constants. */
  i32x4Const(lanes: readonly [number, number, number, number]): Ref;
  /** Lane-wise i32 to f32, rounding to nearest. */
  f32x4ConvertI32x4(a: Ref): Ref;
  /** Lane-wise f32 to i32, toward zero, saturating (NaN gives 0). */
  i32x4TruncSatF32x4(a: Ref): Ref;
  i32x4Splat(a: Ref): Ref;
  i32x4(op: I32x4Binary, a: Ref, b: Ref): Ref;
  /** Lane-wise shift left by a scalar i32 count. */
  i32x4Shl(a: Ref, count: Ref): Ref;
  /** Lane-wise arithmetic shift right by a scalar i32 count. */
  i32x4ShrS(a: Ref, count: Ref): Ref;
  v128Bitwise(op: V128Bitwise, a: Ref, b: Ref): Ref;
  /** Bits of `ifSet` where `mask` is 1, of `ifClear` where it is 0. */
  v128Bitselect(ifSet: Ref, ifClear: Ref, mask: Ref): Ref;
  /** `select(ifTrue, ifFalse, cond)`: both operands are evaluated. */
  select(cond: Ref, ifTrue: Ref, ifFalse: Ref): Ref;
  call(name: string, args: readonly Ref[], result: ValueType): Ref;
  block(children: readonly Ref[]): Ref;
  /** A block whose last child is its value, of type `t`. */
  valueBlock(children: readonly Ref[], t: ValueType): Ref;
  loop(label: string, body: Ref): Ref;
  /** A block a `br` or `br_if` inside can leave by its label. */
  blockNamed(label: string, children: readonly Ref[]): Ref;
  br(label: string): Ref;
  brIf(label: string, cond: Ref): Ref;
  /** `if (cond) then else otherwise` as a statement (`otherwise` optional). */
  ifElse(cond: Ref, then: Ref, otherwise?: Ref): Ref;
  nop(): Ref;
  /**
   * Validates, optionally optimizes with binaryen's optimizer at level 3
   * (binaryen must be loaded), and emits the module.
   *
   * @throws InternalCompilerError when the module does not validate
   */
  finish(options: { optimize: boolean }): FinishedModule;
}

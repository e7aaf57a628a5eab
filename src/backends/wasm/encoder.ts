/**
 * tns's own WebAssembly encoder: the {@link WasmModule} facade built as
 * expression trees in JavaScript and encoded straight to a binary module, so
 * that emitting a module needs no 15 MB library. Binaryen (binaryen.ts) is
 * loaded only to optimize a module, where that pays (docs/architecture.md).
 *
 *     const m = wasmEncoder().createModule();
 *     m.addFunction("two", [], "f64", [], m.f64Const(2));
 *     m.exportFunction("two");
 *     m.finish({ optimize: false }).binary;
 *     // 00 61 73 6d 01 00 00 00  01 05 01 60 00 01 7c  03 02 01 00
 *     // 07 07 01 03 74 77 6f 00 00  0a 0d 01 0b 00 44 00..00 40 0b
 *
 * A {@link Ref} is the index of a node in the module's node table. Each node
 * knows its type when it is made, so a mistyped operand is an internal
 * compiler error at the call that made it, naming the instruction. Branch
 * labels are names, as in binaryen; the encoder resolves each `br` to its
 * depth on the stack of enclosing labels. Blocks without a label cannot be
 * branched to, so they are encoded as their children in line (no
 * `block`/`end`). Functions are numbered imports first, in the order they
 * were added, as the binary format wants. The finished binary is checked by
 * the host's `WebAssembly.validate`; where the host lacks relaxed SIMD, by
 * validating the same module with `f32x4.relaxed_madd` spelled as
 * `f32x4.mul` + `f32x4.add` (the same types everywhere). The text
 * (`finish().text`, `tns compile --emit wat`, the playground) is printed
 * from the same trees by wat.ts, lazily.
 */
import { InternalCompilerError } from "../../diagnostics/diagnostic.js";
import type {
  Binaryen, Conversion, F32x4Arith, F32x4Binary, F32x4Compare, F32x4Unary, FinishedModule, FloatBinary, FloatUnary, I32x4Binary,
  IntBinary, Ref, V128Bitwise, ValueType, WasmModule,
} from "./facade.js";
import { BINARYEN_VERSION, optimizeWithBinaryen } from "./binaryen-library.js";
import { hostRunsRelaxedSimd } from "./relaxed-simd.js";
import type { EncodedFunction, EncodedTree, FunctionImport, Node, NodeType } from "./encoder-tree.js";
import { printWat } from "./wat.js";

/**
 * Which code generator produced a module's bytes, for cache keys: this
 * encoder's revision (raise it whenever the bytes it writes for the same
 * calls change), and binaryen's release when its optimizer ran.
 *
 * @example
 * ```ts
 * moduleProducer(false); // "tns-encoder/1"
 * moduleProducer(true);  // "tns-encoder/1+binaryen-O3/132.0.0"
 * ```
 */
export function moduleProducer(optimize: boolean): string {
  return optimize ? `tns-encoder/${ENCODER_REVISION}+binaryen-O3/${BINARYEN_VERSION}` : `tns-encoder/${ENCODER_REVISION}`;
}

/** The encoder's revision (see {@link moduleProducer}). */
export const ENCODER_REVISION = 1;

export type { EncodedFunction, EncodedTree, FunctionImport, Node, NodeType } from "./encoder-tree.js";

const TYPE_BYTE: Record<ValueType, number> = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b, none: 0x40 };

const INT_BINARY: Record<IntBinary, [number, boolean]> = {
  eq: [0x46, true], ne: [0x47, true], lt_s: [0x48, true], lt_u: [0x49, true],
  add: [0x6a, false], sub: [0x6b, false], mul: [0x6c, false], div_u: [0x6e, false], rem_u: [0x70, false],
  and: [0x71, false], shl: [0x74, false], shr_s: [0x75, false],
};
/** f32 opcodes; the f64 one is at a fixed distance for arithmetic (+0x0e) and comparisons (+0x06). */
const FLOAT_BINARY: Record<FloatBinary, number> = {
  eq: 0x5b, ne: 0x5c, lt: 0x5d, gt: 0x5e, le: 0x5f, ge: 0x60,
  add: 0x92, sub: 0x93, mul: 0x94, div: 0x95, min: 0x96, max: 0x97, copysign: 0x98,
};
const FLOAT_UNARY: Record<FloatUnary, number> = { abs: 0x8b, neg: 0x8c, ceil: 0x8d, floor: 0x8e, nearest: 0x90, sqrt: 0x91 };
const CONVERSION: Record<Conversion, { code: number[]; from: ValueType; to: ValueType }> = {
  "f32.demote_f64": { code: [0xb6], from: "f64", to: "f32" },
  "f64.convert_i32_s": { code: [0xb7], from: "i32", to: "f64" },
  "f64.convert_i32_u": { code: [0xb8], from: "i32", to: "f64" },
  "f64.promote_f32": { code: [0xbb], from: "f32", to: "f64" },
  "f32.reinterpret_i32": { code: [0xbe], from: "i32", to: "f32" },
  "i32.trunc_sat_f64_s": { code: [0xfc, 0x02], from: "f64", to: "i32" },
};
/** SIMD opcodes (after the 0xfd prefix, as unsigned LEB128). */
const F32X4_ARITH: Record<F32x4Arith, number> = { add: 228, sub: 229, mul: 230, div: 231, min: 232, max: 233, pmin: 234, pmax: 235 };
const F32X4_COMPARE: Record<F32x4Compare, number> = { eq: 65, ne: 66, lt: 67, gt: 68, le: 69, ge: 70 };
const F32X4_UNARY: Record<F32x4Unary, number> = { abs: 224, neg: 225, sqrt: 227, nearest: 106 };
const I32X4_BINARY: Record<I32x4Binary, number> = { add: 174, sub: 177 };
const V128_BITWISE: Record<V128Bitwise, number> = { and: 78, andnot: 79, or: 80, xor: 81 };
const SIMD = {
  load: 0, load32Splat: 9, store: 11, const: 12, i32x4Splat: 17, f32x4Splat: 19, f32x4ExtractLane: 31, bitselect: 82,
  i32x4Shl: 171, i32x4ShrS: 172, i32x4TruncSatF32x4S: 248, f32x4ConvertI32x4S: 250, f32x4RelaxedMadd: 0x105,
} as const;
const MEMORY_FILL = [0xfc, 11, 0x00];

function simd(op: number): number[] {
  return [0xfd, ...uleb(op)];
}

function uleb(v: number): number[] {
  const out: number[] = [];
  let x = v >>> 0;
  do {
    const byte = x & 0x7f;
    x >>>= 7;
    out.push(x === 0 ? byte : byte | 0x80);
  } while (x !== 0);
  return out;
}

/** A growable byte buffer with the binary format's primitive encodings. */
class Bytes {
  private buf = new Uint8Array(1024);
  length = 0;
  private readonly scratch = new DataView(new ArrayBuffer(8));

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    bigger.set(this.buf.subarray(0, this.length));
    this.buf = bigger;
  }
  byte(b: number): void {
    this.room(1);
    this.buf[this.length++] = b;
  }
  bytes(bs: ArrayLike<number>): void {
    this.room(bs.length);
    this.buf.set(bs, this.length);
    this.length += bs.length;
  }
  u32(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new InternalCompilerError(`${v} is not an unsigned 32-bit immediate`);
    let x = v >>> 0;
    for (;;) {
      const byte = x & 0x7f;
      x >>>= 7;
      if (x === 0) { this.byte(byte); return; }
      this.byte(byte | 0x80);
    }
  }
  s32(v: number): void {
    let x = v | 0;
    for (;;) {
      const byte = x & 0x7f;
      x >>= 7;
      if ((x === 0 && (byte & 0x40) === 0) || (x === -1 && (byte & 0x40) !== 0)) { this.byte(byte); return; }
      this.byte(byte | 0x80);
    }
  }
  f32(v: number): void {
    this.scratch.setFloat32(0, v, true);
    for (let k = 0; k < 4; k++) this.byte(this.scratch.getUint8(k));
  }
  f64(v: number): void {
    this.scratch.setFloat64(0, v, true);
    for (let k = 0; k < 8; k++) this.byte(this.scratch.getUint8(k));
  }
  name(s: string): void {
    const utf8 = new TextEncoder().encode(s);
    this.u32(utf8.length);
    this.bytes(utf8);
  }
  /** Appends `inner` as a length-prefixed vector of bytes (a section body, a function body). */
  sized(inner: Bytes): void {
    this.u32(inner.length);
    this.bytes(inner.view());
  }
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** The host's WebAssembly `validate` (the Node typings omit the WebAssembly namespace). */
const validate = (bytes: Uint8Array): boolean =>
  (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate(bytes);

/**
 * A module built by tns's own encoder (see the header). Call
 * {@link EncoderModule.finish} once.
 *
 * @example
 * ```ts
 * const m = wasmEncoder().createModule();
 * m.addFunction("f", [], "f64", [], m.f64Const(1.5));
 * m.exportFunction("f");
 * new WebAssembly.Module(m.finish({ optimize: false }).binary);
 * ```
 */
export class EncoderModule implements WasmModule, EncodedTree {
  /** The expression nodes; a {@link Ref} is an index into this table. */
  readonly nodes: Node[] = [];
  readonly functions: EncodedFunction[] = [];
  readonly imports: FunctionImport[] = [];
  readonly exports: string[] = [];
  memory: { pages: number; shared: boolean } | null = null;
  private finished = false;

  constructor(readonly relaxedSimd = false, readonly threads = false) {}

  private add(node: Node): Ref {
    this.nodes.push(node);
    return (this.nodes.length - 1) as Ref;
  }

  /** The node a ref names. */
  node(r: Ref): Node {
    const n = this.nodes[r];
    if (n === undefined) throw new InternalCompilerError(`expression ${r} is not in this module`);
    return n;
  }

  typeOf(r: Ref): NodeType {
    return this.node(r).type;
  }

  private expect(r: Ref, t: ValueType, what: string): void {
    const actual = this.node(r).type;
    if (actual !== t && actual !== "unreachable") throw new InternalCompilerError(`${what}: operand of type ${actual}, expected ${t}`);
  }

  private op(name: string, code: readonly number[], type: NodeType, args: readonly Ref[], operandTypes: readonly ValueType[], extra: { lane?: number; memarg?: { align: number; offset: number } } = {}): Ref {
    args.forEach((a, k) => this.expect(a, operandTypes[k]!, name));
    return this.add({ kind: "op", type, name, code, args, ...extra });
  }

  private memarg(name: string, align: number, offset: number): { align: number; offset: number } {
    if (this.memory === null) throw new InternalCompilerError(`${name} in a module without memory`);
    if (!Number.isInteger(offset) || offset < 0 || offset > 0xffffffff) throw new InternalCompilerError(`${name}: offset ${offset} out of range`);
    return { align, offset };
  }

  importMemory(pages: number, shared = false): void {
    if (shared && !this.threads) throw new InternalCompilerError("a shared memory in a module without threads");
    this.memory = { pages, shared };
  }

  importMathFunction(name: string, arity: number): void {
    this.imports.push({ name, params: Array.from({ length: arity }, () => "f64"), result: "f64" });
  }

  addFunction(name: string, params: readonly ValueType[], result: ValueType, locals: readonly ValueType[], body: Ref): void {
    if (this.functions.some((f) => f.name === name)) throw new InternalCompilerError(`function ${name} is added twice`);
    const t = this.typeOf(body);
    if (t !== result && t !== "unreachable") throw new InternalCompilerError(`function ${name}: body of type ${t}, result ${result}`);
    this.functions.push({ name, params: [...params], result, locals: [...locals], body });
  }

  exportFunction(name: string): void {
    this.exports.push(name);
  }

  i32Const(v: number): Ref { return this.add({ kind: "const", type: "i32", value: v | 0 }); }
  f32Const(v: number): Ref { return this.add({ kind: "const", type: "f32", value: Math.fround(v) }); }
  f64Const(v: number): Ref { return this.add({ kind: "const", type: "f64", value: v }); }

  get(index: number, t: ValueType): Ref { return this.add({ kind: "get", type: t, index }); }
  set(index: number, value: Ref): Ref {
    this.node(value);
    return this.add({ kind: "set", type: "none", index, value });
  }

  i32(op: IntBinary, a: Ref, b: Ref): Ref {
    const [code] = INT_BINARY[op];
    return this.op(`i32.${op}`, [code], "i32", [a, b], ["i32", "i32"]);
  }
  float(t: "f32" | "f64", op: FloatBinary, a: Ref, b: Ref): Ref {
    const base = FLOAT_BINARY[op];
    const compare = base < 0x92;
    const code = t === "f32" ? base : base + (compare ? 0x06 : 0x0e);
    return this.op(`${t}.${op}`, [code], compare ? "i32" : t, [a, b], [t, t]);
  }
  floatUnary(t: "f32" | "f64", op: FloatUnary, a: Ref): Ref {
    const code = FLOAT_UNARY[op] + (t === "f32" ? 0 : 0x0e);
    return this.op(`${t}.${op}`, [code], t, [a], [t]);
  }
  convert(op: Conversion, a: Ref): Ref {
    const c = CONVERSION[op];
    return this.op(op, c.code, c.to, [a], [c.from]);
  }

  load(t: "i32" | "f32" | "f64", offset: number, ptr: Ref): Ref {
    const code = { i32: 0x28, f32: 0x2a, f64: 0x2b }[t];
    return this.op(`${t}.load`, [code], t, [ptr], ["i32"], { memarg: this.memarg(`${t}.load`, t === "f64" ? 3 : 2, offset) });
  }
  store(t: "i32" | "f32" | "f64", offset: number, ptr: Ref, value: Ref): Ref {
    const code = { i32: 0x36, f32: 0x38, f64: 0x39 }[t];
    return this.op(`${t}.store`, [code], "none", [ptr, value], ["i32", t], { memarg: this.memarg(`${t}.store`, t === "f64" ? 3 : 2, offset) });
  }
  fillBytes(dest: Ref, byte: Ref, size: Ref): Ref {
    this.memarg("memory.fill", 0, 0);
    return this.op("memory.fill", MEMORY_FILL, "none", [dest, byte, size], ["i32", "i32", "i32"]);
  }

  v128Load(offset: number, ptr: Ref): Ref {
    return this.op("v128.load", simd(SIMD.load), "v128", [ptr], ["i32"], { memarg: this.memarg("v128.load", 2, offset) });
  }
  v128Store(offset: number, ptr: Ref, value: Ref): Ref {
    return this.op("v128.store", simd(SIMD.store), "none", [ptr, value], ["i32", "v128"], { memarg: this.memarg("v128.store", 2, offset) });
  }
  load32Splat(offset: number, ptr: Ref): Ref {
    return this.op("v128.load32_splat", simd(SIMD.load32Splat), "v128", [ptr], ["i32"], { memarg: this.memarg("v128.load32_splat", 2, offset) });
  }
  f32x4(op: F32x4Binary, a: Ref, b: Ref): Ref { return this.f32x4Arith(op, a, b); }
  f32x4Madd(a: Ref, b: Ref, c: Ref): Ref {
    if (!this.relaxedSimd) throw new InternalCompilerError("f32x4.relaxed_madd in a module without relaxed SIMD");
    return this.op("f32x4.relaxed_madd", simd(SIMD.f32x4RelaxedMadd), "v128", [a, b, c], ["v128", "v128", "v128"]);
  }
  f32x4Splat(a: Ref): Ref { return this.op("f32x4.splat", simd(SIMD.f32x4Splat), "v128", [a], ["f32"]); }
  v128Zero(): Ref { return this.add({ kind: "v128", type: "v128", bytes: new Uint8Array(16) }); }
  f32x4Arith(op: F32x4Arith, a: Ref, b: Ref): Ref {
    return this.op(`f32x4.${op}`, simd(F32X4_ARITH[op]), "v128", [a, b], ["v128", "v128"]);
  }
  f32x4Compare(op: F32x4Compare, a: Ref, b: Ref): Ref {
    return this.op(`f32x4.${op}`, simd(F32X4_COMPARE[op]), "v128", [a, b], ["v128", "v128"]);
  }
  f32x4Unary(op: F32x4Unary, a: Ref): Ref {
    return this.op(`f32x4.${op}`, simd(F32X4_UNARY[op]), "v128", [a], ["v128"]);
  }
  f32x4ExtractLane(v: Ref, lane: number): Ref {
    if (!Number.isInteger(lane) || lane < 0 || lane > 3) throw new InternalCompilerError(`f32x4.extract_lane: lane ${lane}`);
    return this.op("f32x4.extract_lane", simd(SIMD.f32x4ExtractLane), "f32", [v], ["v128"], { lane });
  }
  f32x4Const(lanes: readonly [number, number, number, number]): Ref {
    return this.add({ kind: "v128", type: "v128", bytes: new Uint8Array(Float32Array.from(lanes).buffer) });
  }
  i32x4Const(lanes: readonly [number, number, number, number]): Ref {
    return this.add({ kind: "v128", type: "v128", bytes: new Uint8Array(Int32Array.from(lanes).buffer) });
  }
  f32x4ConvertI32x4(a: Ref): Ref { return this.op("f32x4.convert_i32x4_s", simd(SIMD.f32x4ConvertI32x4S), "v128", [a], ["v128"]); }
  i32x4TruncSatF32x4(a: Ref): Ref { return this.op("i32x4.trunc_sat_f32x4_s", simd(SIMD.i32x4TruncSatF32x4S), "v128", [a], ["v128"]); }
  i32x4Splat(a: Ref): Ref { return this.op("i32x4.splat", simd(SIMD.i32x4Splat), "v128", [a], ["i32"]); }
  i32x4(op: I32x4Binary, a: Ref, b: Ref): Ref {
    return this.op(`i32x4.${op}`, simd(I32X4_BINARY[op]), "v128", [a, b], ["v128", "v128"]);
  }
  i32x4Shl(a: Ref, count: Ref): Ref { return this.op("i32x4.shl", simd(SIMD.i32x4Shl), "v128", [a, count], ["v128", "i32"]); }
  i32x4ShrS(a: Ref, count: Ref): Ref { return this.op("i32x4.shr_s", simd(SIMD.i32x4ShrS), "v128", [a, count], ["v128", "i32"]); }
  v128Bitwise(op: V128Bitwise, a: Ref, b: Ref): Ref {
    return this.op(`v128.${op}`, simd(V128_BITWISE[op]), "v128", [a, b], ["v128", "v128"]);
  }
  v128Bitselect(ifSet: Ref, ifClear: Ref, mask: Ref): Ref {
    return this.op("v128.bitselect", simd(SIMD.bitselect), "v128", [ifSet, ifClear, mask], ["v128", "v128", "v128"]);
  }

  select(cond: Ref, ifTrue: Ref, ifFalse: Ref): Ref {
    this.expect(cond, "i32", "select");
    const a = this.typeOf(ifTrue);
    const b = this.typeOf(ifFalse);
    const type = a === "unreachable" ? b : a;
    if (type === "none" || (b !== type && b !== "unreachable")) throw new InternalCompilerError(`select of ${a} and ${b}`);
    return this.add({ kind: "select", type, cond, ifTrue, ifFalse });
  }
  call(name: string, args: readonly Ref[], result: ValueType): Ref {
    for (const a of args) this.node(a);
    return this.add({ kind: "call", type: result, name, args: [...args] });
  }
  block(children: readonly Ref[]): Ref { return this.blockOf(null, children, "none"); }
  valueBlock(children: readonly Ref[], t: ValueType): Ref { return this.blockOf(null, children, t); }
  loop(label: string, body: Ref): Ref {
    return this.add({ kind: "loop", type: this.typeOf(body), label, body });
  }
  blockNamed(label: string, children: readonly Ref[]): Ref { return this.blockOf(label, children, "none"); }
  br(label: string): Ref { return this.add({ kind: "br", type: "unreachable", label, cond: null }); }
  brIf(label: string, cond: Ref): Ref {
    this.expect(cond, "i32", "br_if");
    return this.add({ kind: "br", type: "none", label, cond });
  }
  ifElse(cond: Ref, then: Ref, otherwise?: Ref): Ref {
    this.expect(cond, "i32", "if");
    let type: NodeType = "none";
    if (otherwise !== undefined) {
      const a = this.typeOf(then);
      const b = this.typeOf(otherwise);
      type = a === "unreachable" ? b : b === "unreachable" || a === b ? a : "none";
      if (a !== b && a !== "unreachable" && b !== "unreachable") {
        if (a !== "none" || b !== "none") throw new InternalCompilerError(`if with arms of types ${a} and ${b}`);
      }
    }
    return this.add({ kind: "if", type, cond, then, otherwise: otherwise ?? null });
  }
  nop(): Ref { return this.add({ kind: "nop", type: "none" }); }

  private blockOf(label: string | null, children: readonly Ref[], type: ValueType): Ref {
    children.forEach((c, k) => {
      const t = this.typeOf(c);
      const last = k === children.length - 1;
      if (!last && t !== "none" && t !== "unreachable") throw new InternalCompilerError(`a block drops a value of type ${t}`);
      if (last && t !== type && t !== "unreachable") throw new InternalCompilerError(`a block of type ${type} ends in a value of type ${t}`);
    });
    if (children.length === 0 && type !== "none") throw new InternalCompilerError(`an empty block of type ${type}`);
    return this.add({ kind: "block", type, label, children: [...children] });
  }

  /**
   * Encodes and validates the module; with `optimize`, binaryen's optimizer
   * (which must be loaded: {@link loadBinaryen}) rewrites the binary.
   *
   * @throws InternalCompilerError when the module does not validate
   */
  finish(options: { optimize: boolean }): FinishedModule {
    if (this.finished) throw new InternalCompilerError("a module is finished twice");
    this.finished = true;
    let binary = this.encode(false);
    const check = this.relaxedSimd && !hostRunsRelaxedSimd() ? this.encode(true) : binary;
    if (!validate(check)) throw new InternalCompilerError("the emitted WebAssembly module does not validate");
    if (options.optimize) binary = optimizeWithBinaryen(binary, { relaxedSimd: this.relaxedSimd, threads: this.threads });
    // The trees are kept for the text until it is first read, then let go.
    let text: string | null = null;
    let trees: EncoderModule | null = this;
    return {
      binary,
      get text(): string {
        if (text === null) {
          text = printWat(trees!);
          trees = null;
        }
        return text;
      },
    };
  }

  /** The binary module; `fusedAsPlain` spells `f32x4.relaxed_madd` as `f32x4.mul` + `f32x4.add` (for validation only). */
  encode(fusedAsPlain: boolean): Uint8Array {
    const types: string[] = [];
    const typeBytes: number[][] = [];
    const typeOf = (params: readonly ValueType[], result: ValueType): number => {
      const key = `${params.join(",")}>${result}`;
      let k = types.indexOf(key);
      if (k < 0) {
        k = types.length;
        types.push(key);
        const results = result === "none" ? [] : [TYPE_BYTE[result]];
        typeBytes.push([0x60, ...uleb(params.length), ...params.map((p) => TYPE_BYTE[p]), ...uleb(results.length), ...results]);
      }
      return k;
    };
    const importTypes = this.imports.map((f) => typeOf(f.params, f.result));
    const functionTypes = this.functions.map((f) => typeOf(f.params, f.result));
    const index = new Map<string, number>();
    this.imports.forEach((f, k) => index.set(f.name, k));
    this.functions.forEach((f, k) => {
      if (index.has(f.name)) throw new InternalCompilerError(`function ${f.name} is both imported and defined`);
      index.set(f.name, this.imports.length + k);
    });

    const out = new Bytes();
    out.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const section = (id: number, fill: (s: Bytes) => void): void => {
      const s = new Bytes();
      fill(s);
      out.byte(id);
      out.sized(s);
    };
    section(1, (s) => {
      s.u32(typeBytes.length);
      for (const t of typeBytes) s.bytes(t);
    });
    const memory = this.memory;
    if (this.imports.length > 0 || memory !== null) {
      section(2, (s) => {
        s.u32(this.imports.length + (memory === null ? 0 : 1));
        this.imports.forEach((f, k) => {
          s.name("env");
          s.name(f.name);
          s.byte(0x00);
          s.u32(importTypes[k]!);
        });
        if (memory !== null) {
          s.name("env");
          s.name("memory");
          s.byte(0x02);
          s.byte(memory.shared ? 0x03 : 0x01);
          s.u32(memory.pages);
          s.u32(65536);
        }
      });
    }
    section(3, (s) => {
      s.u32(functionTypes.length);
      for (const t of functionTypes) s.u32(t);
    });
    if (this.exports.length > 0) {
      section(7, (s) => {
        s.u32(this.exports.length);
        for (const name of this.exports) {
          const k = index.get(name);
          if (k === undefined) throw new InternalCompilerError(`export of unknown function ${name}`);
          s.name(name);
          s.byte(0x00);
          s.u32(k);
        }
      });
    }
    section(10, (s) => {
      s.u32(this.functions.length);
      for (const f of this.functions) {
        const body = new Bytes();
        const runs: [number, ValueType][] = [];
        for (const l of f.locals) {
          const last = runs[runs.length - 1];
          if (last && last[1] === l) last[0]++;
          else runs.push([1, l]);
        }
        body.u32(runs.length);
        for (const [count, t] of runs) {
          body.u32(count);
          body.byte(TYPE_BYTE[t]);
        }
        new FunctionEncoder(this, body, index, f, fusedAsPlain).expression(f.body);
        body.byte(0x0b);
        s.sized(body);
      }
    });
    return out.view().slice();
  }
}

/** Encodes the expressions of one function, tracking the labels a branch can name. */
class FunctionEncoder {
  private readonly labels: (string | null)[] = [];

  constructor(
    private readonly m: EncoderModule,
    private readonly out: Bytes,
    private readonly functions: ReadonlyMap<string, number>,
    private readonly fn: EncodedFunction,
    private readonly fusedAsPlain: boolean,
  ) {}

  private localCount(): number {
    return this.fn.params.length + this.fn.locals.length;
  }

  private depth(label: string): number {
    for (let k = this.labels.length - 1; k >= 0; k--) if (this.labels[k] === label) return this.labels.length - 1 - k;
    throw new InternalCompilerError(`br to ${label}, which does not enclose it (in ${this.fn.name})`);
  }

  private blockType(t: NodeType): number {
    return t === "unreachable" ? 0x40 : TYPE_BYTE[t];
  }

  /** Encodes `r` as one expression (or, for a block without label, its children in line). */
  expression(r: Ref): void {
    const n = this.m.node(r);
    const out = this.out;
    switch (n.kind) {
      case "const":
        if (n.type === "i32") { out.byte(0x41); out.s32(n.value); }
        else if (n.type === "f32") { out.byte(0x43); out.f32(n.value); }
        else { out.byte(0x44); out.f64(n.value); }
        return;
      case "v128":
        out.bytes(simd(SIMD.const));
        out.bytes(n.bytes);
        return;
      case "get":
        if (n.index >= this.localCount()) throw new InternalCompilerError(`local ${n.index} of ${this.fn.name} does not exist`);
        out.byte(0x20);
        out.u32(n.index);
        return;
      case "set":
        if (n.index >= this.localCount()) throw new InternalCompilerError(`local ${n.index} of ${this.fn.name} does not exist`);
        this.expression(n.value);
        out.byte(0x21);
        out.u32(n.index);
        return;
      case "op":
        if (this.fusedAsPlain && n.name === "f32x4.relaxed_madd") {
          this.expression(n.args[0]!);
          this.expression(n.args[1]!);
          out.bytes(simd(F32X4_ARITH.mul));
          this.expression(n.args[2]!);
          out.bytes(simd(F32X4_ARITH.add));
          return;
        }
        for (const a of n.args) this.expression(a);
        out.bytes(n.code);
        if (n.memarg) { out.u32(n.memarg.align); out.u32(n.memarg.offset); }
        if (n.lane !== undefined) out.byte(n.lane);
        return;
      case "select":
        this.expression(n.ifTrue);
        this.expression(n.ifFalse);
        this.expression(n.cond);
        out.byte(0x1b);
        return;
      case "call": {
        const k = this.functions.get(n.name);
        if (k === undefined) throw new InternalCompilerError(`call to unknown function ${n.name}`);
        for (const a of n.args) this.expression(a);
        out.byte(0x10);
        out.u32(k);
        return;
      }
      case "block":
        if (n.label === null) {
          for (const c of n.children) this.expression(c);
          return;
        }
        out.byte(0x02);
        out.byte(this.blockType(n.type));
        this.labels.push(n.label);
        for (const c of n.children) this.expression(c);
        this.labels.pop();
        out.byte(0x0b);
        return;
      case "loop":
        out.byte(0x03);
        out.byte(this.blockType(n.type));
        this.labels.push(n.label);
        this.expression(n.body);
        this.labels.pop();
        out.byte(0x0b);
        return;
      case "br":
        if (n.cond !== null) this.expression(n.cond);
        out.byte(n.cond === null ? 0x0c : 0x0d);
        out.u32(this.depth(n.label));
        return;
      case "if":
        this.expression(n.cond);
        out.byte(0x04);
        out.byte(this.blockType(n.type));
        this.labels.push(null);
        this.expression(n.then);
        if (n.otherwise !== null) {
          out.byte(0x05);
          this.expression(n.otherwise);
        }
        this.labels.pop();
        out.byte(0x0b);
        return;
      case "nop":
        out.byte(0x01);
        return;
    }
  }
}

/**
 * The factory of modules built by tns's own encoder: nothing to load.
 *
 * @example
 * ```ts
 * const m = wasmEncoder().createModule({ relaxedSimd: hostRunsRelaxedSimd() });
 * ```
 */
export function wasmEncoder(): Binaryen {
  return { createModule: (options) => new EncoderModule(options?.relaxedSimd ?? false, options?.threads ?? false) };
}

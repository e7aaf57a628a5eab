/**
 * tns's WebAssembly encoder (encoder.ts) against binaryen's build of the
 * same facade calls: for every facade operation, a module built both ways
 * validates (in the engine, and the encoder's bytes also in binaryen's own
 * validator) and computes the same bytes of memory from the same inputs.
 * Plus the encoder's own checks (mistyped operands, unknown labels) and its
 * text.
 */
import binaryen from "binaryen";
import { describe, expect, it } from "vitest";
import {
  type Binaryen, type Ref, type ValueType, type WasmModule, loadBinaryenBuilder,
} from "../../src/backends/wasm/binaryen.js";
import { EncoderModule, wasmEncoder } from "../../src/backends/wasm/encoder.js";
import { hostRunsRelaxedSimd } from "../../src/backends/wasm/relaxed-simd.js";
import { InternalCompilerError } from "../../src/diagnostics/diagnostic.js";

const reference = await loadBinaryenBuilder();
const encoder = wasmEncoder();

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, (...xs: number[]) => number> };
  Memory: new (d: { initial: number; maximum: number; shared?: boolean }) => { readonly buffer: ArrayBuffer };
  validate(bytes: Uint8Array): boolean;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Input values at byte 1024 on: f32 then f64, with the awkward ones (NaN, ±0, ±inf, halves, large, negative). */
const F32_INPUTS = [1.5, -2.25, 0, -0, Infinity, -Infinity, NaN, 3e38, 0.5, 2.5, -0.5, 7, 1e-40, -3.75, 100.25, 2 ** 31];
const F64_INPUTS = [1.5, -2.25, 0, -0, Infinity, -Infinity, NaN, 1e300, 0.5, 2.5, -0.5, 7, 5e-324, -3.75, -(2 ** 31) - 0.5, 2 ** 32 + 5];
const I32_INPUTS = [7, -3, 0, 1, 31, 32, -2147483648, 2147483647, 65536, 5, 100, -100, 3, 12345, -1, 2];
const IN_F32 = 1024;
const IN_F64 = IN_F32 + 4 * F32_INPUTS.length;
const IN_I32 = IN_F64 + 8 * F64_INPUTS.length;
const OUT_BYTES = 1024;

/** Reads of the inputs, written against the facade. */
const f32In = (m: WasmModule, k: number): Ref => m.load("f32", IN_F32 + 4 * k, m.i32Const(0));
const f64In = (m: WasmModule, k: number): Ref => m.load("f64", IN_F64 + 8 * k, m.i32Const(0));
const i32In = (m: WasmModule, k: number): Ref => m.load("i32", IN_I32 + 4 * k, m.i32Const(0));
const v128In = (m: WasmModule, k: number): Ref => m.v128Load(IN_F32 + 4 * k, m.i32Const(0));
const i32x4In = (m: WasmModule, k: number): Ref => m.v128Load(IN_I32 + 4 * k, m.i32Const(0));

/** One test module: `f` (no parameters, locals `locals`) stores its results from byte 0 on. */
interface Case {
  readonly name: string;
  readonly locals?: readonly ValueType[];
  readonly relaxedSimd?: boolean;
  readonly threads?: boolean;
  readonly body: (m: WasmModule) => Ref[];
  /** Extra functions (and imports) before `f`. */
  readonly extra?: (m: WasmModule) => void;
}

/** Stores `values` of one type at consecutive slots from byte 0. */
function storeAll(m: WasmModule, t: "i32" | "f32" | "f64" | "v128", values: readonly Ref[]): Ref[] {
  const size = t === "f64" ? 8 : t === "v128" ? 16 : 4;
  return values.map((v, k) => (t === "v128" ? m.v128Store(size * k, m.i32Const(0), v) : m.store(t, size * k, m.i32Const(0), v)));
}

/** Operand pairs: some equal, most not. */
const pairs = (n: number): [number, number][] => Array.from({ length: n }, (_, k) => [k, k % 5 === 0 ? k : (k * 7 + 3) % n]);

const CASES: Case[] = [
  { name: "constants", body: (m) => [...storeAll(m, "i32", [m.i32Const(-5), m.i32Const(2 ** 31 + 7)]), m.store("f32", 8, m.i32Const(0), m.f32Const(0.1)), m.store("f64", 16, m.i32Const(0), m.f64Const(-1e-300))] },
  { name: "locals", locals: ["i32", "f64", "v128"], body: (m) => [m.set(0, m.i32Const(9)), m.set(1, m.f64Const(2.5)), m.set(2, v128In(m, 0)), m.store("i32", 0, m.i32Const(0), m.get(0, "i32")), m.store("f64", 8, m.i32Const(0), m.get(1, "f64")), m.v128Store(16, m.i32Const(0), m.get(2, "v128"))] },
  ...(["add", "sub", "mul", "and", "lt_s", "lt_u", "ne", "eq", "shl", "shr_s", "div_u", "rem_u"] as const).map((op): Case => ({
    name: `i32.${op}`,
    body: (m) => storeAll(m, "i32", pairs(16).filter(([, b]) => !(op.endsWith("_u") && I32_INPUTS[b] === 0)).map(([a, b]) => m.i32(op, i32In(m, a), i32In(m, b)))),
  })),
  ...(["f32", "f64"] as const).flatMap((t) => [
    ...(["add", "sub", "mul", "div", "min", "max", "copysign", "eq", "ne", "lt", "le", "gt", "ge"] as const).map((op): Case => ({
      name: `${t}.${op}`,
      body: (m) => storeAll(m, ["eq", "ne", "lt", "le", "gt", "ge"].includes(op) ? "i32" : t, pairs(16).map(([a, b]) => m.float(t, op, (t === "f32" ? f32In : f64In)(m, a), (t === "f32" ? f32In : f64In)(m, b)))),
    })),
    ...(["neg", "abs", "sqrt", "nearest", "floor", "ceil"] as const).map((op): Case => ({
      name: `${t}.${op}`,
      body: (m) => storeAll(m, t, Array.from({ length: 16 }, (_, k) => m.floatUnary(t, op, (t === "f32" ? f32In : f64In)(m, k)))),
    })),
  ]),
  { name: "f64.promote_f32", body: (m) => storeAll(m, "f64", Array.from({ length: 16 }, (_, k) => m.convert("f64.promote_f32", f32In(m, k)))) },
  { name: "f32.demote_f64", body: (m) => storeAll(m, "f32", Array.from({ length: 16 }, (_, k) => m.convert("f32.demote_f64", f64In(m, k)))) },
  { name: "f64.convert_i32_s", body: (m) => storeAll(m, "f64", Array.from({ length: 16 }, (_, k) => m.convert("f64.convert_i32_s", i32In(m, k)))) },
  { name: "f64.convert_i32_u", body: (m) => storeAll(m, "f64", Array.from({ length: 16 }, (_, k) => m.convert("f64.convert_i32_u", i32In(m, k)))) },
  { name: "i32.trunc_sat_f64_s", body: (m) => storeAll(m, "i32", Array.from({ length: 16 }, (_, k) => m.convert("i32.trunc_sat_f64_s", f64In(m, k)))) },
  { name: "f32.reinterpret_i32", body: (m) => storeAll(m, "f32", Array.from({ length: 16 }, (_, k) => m.convert("f32.reinterpret_i32", i32In(m, k)))) },
  {
    name: "loads and stores at offsets",
    body: (m) => [
      m.store("f32", 4, m.i32Const(8), m.load("f32", 4, m.i32Const(IN_F32))),
      m.store("f64", 24, m.i32Const(8), m.load("f64", 8, m.i32Const(IN_F64))),
      m.store("i32", 0, m.i32Const(40), m.load("i32", 12, m.i32Const(IN_I32))),
    ],
  },
  { name: "memory.fill", body: (m) => [m.fillBytes(m.i32Const(3), m.i32Const(0xab), m.i32Const(61)), m.fillBytes(m.i32Const(100), m.i32Const(0x1ff), m.i32Const(0))] },
  { name: "v128 load, store and load32_splat at offsets", body: (m) => [m.v128Store(4, m.i32Const(0), m.v128Load(8, m.i32Const(IN_F32 - 4))), m.v128Store(32, m.i32Const(0), m.load32Splat(12, m.i32Const(IN_F32)))] },
  { name: "f32x4 add and mul", body: (m) => storeAll(m, "v128", [m.f32x4("add", v128In(m, 0), v128In(m, 4)), m.f32x4("mul", v128In(m, 8), v128In(m, 12))]) },
  { name: "f32x4.relaxed_madd", relaxedSimd: true, body: (m) => storeAll(m, "v128", [m.f32x4Madd(v128In(m, 0), v128In(m, 8), v128In(m, 12)), m.f32x4Madd(v128In(m, 8), v128In(m, 8), m.v128Zero())]) },
  { name: "f32x4.splat and v128 zero", body: (m) => storeAll(m, "v128", [m.f32x4Splat(f32In(m, 3)), m.v128Zero()]) },
  ...(["add", "sub", "mul", "div", "min", "max", "pmin", "pmax"] as const).map((op): Case => ({ name: `f32x4.${op}`, body: (m) => storeAll(m, "v128", [0, 4, 8, 12].map((k) => m.f32x4Arith(op, v128In(m, k), v128In(m, (k + 5) % 12)))) })),
  ...(["eq", "ne", "lt", "le", "gt", "ge"] as const).map((op): Case => ({ name: `f32x4.${op}`, body: (m) => storeAll(m, "v128", [0, 4, 8, 12].map((k) => m.f32x4Compare(op, v128In(m, k), v128In(m, k === 0 ? 0 : (k + 3) % 12)))) })),
  ...(["neg", "abs", "sqrt", "nearest"] as const).map((op): Case => ({ name: `f32x4.${op}`, body: (m) => storeAll(m, "v128", [0, 4, 8, 12].map((k) => m.f32x4Unary(op, v128In(m, k)))) })),
  { name: "f32x4.extract_lane", body: (m) => storeAll(m, "f32", [0, 1, 2, 3].map((lane) => m.f32x4ExtractLane(v128In(m, 5), lane))) },
  { name: "v128 constants", body: (m) => storeAll(m, "v128", [m.f32x4Const([1.1, -0, NaN, 3e38]), m.i32x4Const([-1, 0, 2 ** 31, 12345678])]) },
  { name: "f32x4.convert_i32x4_s and i32x4.trunc_sat_f32x4_s", body: (m) => storeAll(m, "v128", [m.f32x4ConvertI32x4(i32x4In(m, 4)), m.i32x4TruncSatF32x4(v128In(m, 4)), m.i32x4TruncSatF32x4(v128In(m, 12))]) },
  { name: "i32x4 splat, add, sub, shifts", body: (m) => storeAll(m, "v128", [m.i32x4Splat(i32In(m, 1)), m.i32x4("add", i32x4In(m, 0), i32x4In(m, 4)), m.i32x4("sub", i32x4In(m, 4), i32x4In(m, 8)), m.i32x4Shl(i32x4In(m, 8), m.i32Const(3)), m.i32x4ShrS(i32x4In(m, 4), i32In(m, 4))]) },
  { name: "v128 bitwise and bitselect", body: (m) => storeAll(m, "v128", [...(["and", "or", "xor", "andnot"] as const).map((op) => m.v128Bitwise(op, v128In(m, 0), i32x4In(m, 4))), m.v128Bitselect(v128In(m, 0), v128In(m, 4), m.f32x4Compare("lt", v128In(m, 0), v128In(m, 4)))]) },
  {
    name: "select of i32, f32, f64 and v128",
    body: (m) => [
      m.store("i32", 0, m.i32Const(0), m.select(i32In(m, 2), m.i32Const(1), m.i32Const(2))),
      m.store("f32", 4, m.i32Const(0), m.select(i32In(m, 0), f32In(m, 0), f32In(m, 1))),
      m.store("f64", 8, m.i32Const(0), m.select(m.i32Const(0), f64In(m, 0), f64In(m, 1))),
      m.v128Store(16, m.i32Const(0), m.select(i32In(m, 1), v128In(m, 0), v128In(m, 4))),
    ],
  },
  {
    name: "calls to functions and imported Math functions",
    extra: (m) => {
      m.importMathFunction("exp", 1);
      m.importMathFunction("pow", 2);
      m.addFunction("twice", ["f64", "i32"], "f64", ["f64"], m.valueBlock([m.set(2, m.float("f64", "add", m.get(0, "f64"), m.get(0, "f64"))), m.float("f64", "add", m.get(2, "f64"), m.convert("f64.convert_i32_s", m.get(1, "i32")))], "f64"));
      m.addFunction("nothing", [], "none", [], m.nop());
    },
    body: (m) => [
      m.call("nothing", [], "none"),
      ...storeAll(m, "f64", [m.call("twice", [f64In(m, 0), i32In(m, 0)], "f64"), m.call("exp", [f64In(m, 8)], "f64"), m.call("pow", [f64In(m, 9), f64In(m, 11)], "f64")]),
    ],
  },
  {
    name: "loops, br_if, named blocks, br, if/else and value blocks",
    locals: ["i32", "f64"],
    body: (m) => [
      m.set(0, m.i32Const(0)),
      m.set(1, m.f64Const(0)),
      // for (i = 0; i < 10; i++) { if (i == 7) break; acc += i odd ? i : -i }
      m.blockNamed("out", [
        m.loop("L", m.block([
          m.brIf("out", m.i32("eq", m.get(0, "i32"), m.i32Const(7))),
          m.ifElse(
            m.i32("rem_u", m.get(0, "i32"), m.i32Const(2)),
            m.set(1, m.float("f64", "add", m.get(1, "f64"), m.convert("f64.convert_i32_s", m.get(0, "i32")))),
            m.set(1, m.float("f64", "sub", m.get(1, "f64"), m.convert("f64.convert_i32_s", m.get(0, "i32")))),
          ),
          m.ifElse(m.i32("eq", m.get(0, "i32"), m.i32Const(3)), m.store("i32", 8, m.i32Const(0), m.i32Const(33))),
          m.set(0, m.i32("add", m.get(0, "i32"), m.i32Const(1))),
          m.br("L"),
        ])),
      ]),
      m.store("i32", 0, m.i32Const(0), m.get(0, "i32")),
      m.store("f64", 16, m.i32Const(0), m.get(1, "f64")),
      m.store("f64", 24, m.i32Const(0), m.valueBlock([m.set(1, m.f64Const(4)), m.float("f64", "mul", m.get(1, "f64"), m.get(1, "f64"))], "f64")),
      m.blockNamed("skip", [m.br("skip"), m.store("i32", 32, m.i32Const(0), m.i32Const(1))]),
      m.nop(),
    ],
  },
  { name: "a shared memory", threads: true, body: (m) => [m.store("f32", 0, m.i32Const(0), m.float("f32", "mul", f32In(m, 0), f32In(m, 1)))] },
];

function build(factory: Binaryen, c: Case): Uint8Array {
  const m = factory.createModule({ relaxedSimd: c.relaxedSimd ?? false, threads: c.threads ?? false });
  m.importMemory(1, c.threads ?? false);
  c.extra?.(m);
  m.addFunction("f", [], "none", c.locals ?? [], m.block(c.body(m)));
  m.exportFunction("f");
  return m.finish({ optimize: false }).binary;
}

/** Runs `f` over the inputs and returns the output bytes. */
function run(binary: Uint8Array, shared: boolean): Uint8Array {
  const memory = new WA.Memory(shared ? { initial: 1, maximum: 65536, shared: true } : { initial: 1, maximum: 65536 });
  new Float32Array(memory.buffer, IN_F32, F32_INPUTS.length).set(F32_INPUTS);
  new Float64Array(memory.buffer, IN_F64, F64_INPUTS.length).set(F64_INPUTS);
  new Int32Array(memory.buffer, IN_I32, I32_INPUTS.length).set(I32_INPUTS);
  const instance = new WA.Instance(new WA.Module(binary), { env: { memory, exp: Math.exp, pow: Math.pow } });
  instance.exports["f"]!();
  return new Uint8Array(memory.buffer.slice(0, OUT_BYTES));
}

/** Binaryen's own validator over the encoder's bytes (every feature the facade uses). */
function binaryenValidates(binary: Uint8Array): boolean {
  const F = binaryen.Features;
  const features = F.MVP | F.SIMD128 | F.BulkMemory | F.BulkMemoryOpt | F.NontrappingFPToInt | F.SignExt | F.MutableGlobals | F.RelaxedSIMD | F.Atomics;
  const m = (binaryen.readBinary as unknown as (b: Uint8Array, f: number) => InstanceType<typeof binaryen.Module>)(binary, features);
  try {
    return Boolean(m.validate());
  } finally {
    m.dispose();
  }
}

describe("the WebAssembly encoder against binaryen's build of the same facade calls", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const ours = build(encoder, c);
      const theirs = build(reference, c);
      expect(binaryenValidates(ours)).toBe(true);
      if (c.relaxedSimd && !hostRunsRelaxedSimd()) {
        // This engine does not run relaxed SIMD: binaryen's validator above is the check, and the opcode is there.
        expect(Buffer.from(ours).includes(Buffer.from([0xfd, 0x85, 0x02]))).toBe(true);
        return;
      }
      expect(WA.validate(ours)).toBe(true);
      const got = run(ours, c.threads ?? false);
      expect(got.some((b) => b !== 0) || c.name === "memory.fill").toBe(true);
      expect(Array.from(got)).toEqual(Array.from(run(theirs, c.threads ?? false)));
    });
  }

  it("numbers imported functions first and shares function types", () => {
    const m = encoder.createModule();
    m.importMemory(2);
    m.addFunction("two", [], "f64", [], m.f64Const(2));
    m.addFunction("three", [], "f64", [], m.f64Const(3));
    m.importMathFunction("exp", 1);
    m.exportFunction("two");
    m.exportFunction("three");
    const { binary } = m.finish({ optimize: false });
    const exports = new WA.Instance(new WA.Module(binary), { env: { memory: new WA.Memory({ initial: 2, maximum: 65536 }), exp: Math.exp } }).exports;
    expect([exports["two"]!(), exports["three"]!()]).toEqual([2, 3]);
    // One type for both functions (() -> f64) and one for exp.
    expect([binary[8], binary[10]]).toEqual([1, 2]);
  });

  it("refuses mistyped operands, unknown labels and functions, and relaxed SIMD or shared memory without the feature", () => {
    const m = encoder.createModule();
    expect(() => m.i32("add", m.i32Const(1), m.f32Const(1))).toThrow(InternalCompilerError);
    expect(() => m.float("f64", "add", m.f64Const(1), m.f32Const(1))).toThrow(/f64.add: operand of type f32, expected f64/);
    expect(() => m.block([m.i32Const(1), m.nop()])).toThrow(/drops a value/);
    expect(() => m.f32x4Madd(m.v128Zero(), m.v128Zero(), m.v128Zero())).toThrow(/without relaxed SIMD/);
    expect(() => m.importMemory(1, true)).toThrow(/without threads/);
    const noMemory = encoder.createModule();
    expect(() => noMemory.load("f32", 0, noMemory.i32Const(0))).toThrow(/without memory/);
    const badBr = encoder.createModule();
    badBr.addFunction("f", [], "none", [], badBr.block([badBr.br("nowhere")]));
    expect(() => badBr.finish({ optimize: false })).toThrow(/br to nowhere/);
    const badCall = encoder.createModule();
    badCall.addFunction("f", [], "none", [], badCall.call("missing", [], "none"));
    expect(() => badCall.finish({ optimize: false })).toThrow(/unknown function missing/);
  });

  it("needs binaryen loaded to optimize, and then optimizes to a module that computes the same", () => {
    const c = CASES.find((x) => x.name === "loops, br_if, named blocks, br, if/else and value blocks")!;
    const m = encoder.createModule();
    m.importMemory(1);
    m.addFunction("f", [], "none", c.locals ?? [], m.block(c.body(m)));
    m.exportFunction("f");
    const plain = build(encoder, c);
    // loadBinaryenBuilder() above loaded binaryen, so the optimizer is at hand.
    const optimized = m.finish({ optimize: true }).binary;
    expect(optimized).not.toEqual(plain);
    expect(Array.from(run(optimized, false))).toEqual(Array.from(run(plain, false)));
  });

  it("prints the module text as binaryen does, lazily", () => {
    const m = encoder.createModule();
    m.importMemory(1);
    m.addFunction("f", ["i32"], "f64", ["f64"], m.valueBlock([m.set(1, m.load("f64", 8, m.get(0, "i32"))), m.get(1, "f64")], "f64"));
    m.exportFunction("f");
    const finished = m.finish({ optimize: false });
    expect(finished.text).toBe([
      "(module",
      " (type $0 (func (param i32) (result f64)))",
      ' (import "env" "memory" (memory $arena 1 65536))',
      ' (export "f" (func $f))',
      " (func $f (param $0 i32) (result f64)",
      "  (local $1 f64)",
      "  (block (result f64)",
      "   (local.set $1",
      "    (f64.load offset=8",
      "     (local.get $0)",
      "    )",
      "   )",
      "   (local.get $1)",
      "  )",
      " )",
      ")",
      "",
    ].join("\n"));
    expect(m).toBeInstanceOf(EncoderModule);
  });
});

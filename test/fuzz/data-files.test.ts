/**
 * Fuzzing .npy and .npz bytes: valid files with bytes flipped, cut short,
 * or with header fields replaced. Every one is either read as a
 * consistent tensor or refused with TNS0605; nothing else is thrown.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensorProblem } from "../../src/api-arguments.js";
import { CompileError } from "../../src/diagnostics/diagnostic.js";
import { readNpy, writeNpy } from "../../src/runtime/npy.js";
import { readNpz, writeNpz } from "../../src/runtime/npz.js";
import { randomTensor } from "../../src/runtime/random.js";
import type { DType } from "../../src/ir/types.js";
import { fuzzParameters } from "./support.js";

const tensor = fc.tuple(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }), fc.constantFrom<DType>("f32", "f64", "i32"), fc.nat())
  .map(([shape, dtype, seed]) => randomTensor(shape, dtype, seed));

/** Edits of a byte string: flips, cuts, insertions. */
const edits = fc.array(fc.oneof(
  fc.tuple(fc.constant("flip" as const), fc.nat(), fc.integer({ min: 0, max: 255 })),
  fc.tuple(fc.constant("cut" as const), fc.nat(), fc.constant(0)),
  fc.tuple(fc.constant("insert" as const), fc.nat(), fc.integer({ min: 0, max: 255 })),
), { minLength: 1, maxLength: 5 });

function edit(bytes: Uint8Array, changes: readonly (readonly ["flip" | "cut" | "insert", number, number])[]): Uint8Array {
  let out = Uint8Array.from(bytes);
  for (const [kind, pos, value] of changes) {
    const at = pos % (out.length + 1);
    if (kind === "flip" && at < out.length) out[at] = value;
    if (kind === "cut") out = out.slice(0, at);
    if (kind === "insert") out = Uint8Array.from([...out.slice(0, at), value, ...out.slice(at)]);
  }
  return out;
}

/** Header texts a hostile file may carry. */
const HEADER_VALUES = [
  "'descr': '<f4'", "'descr': '>f8'", "'descr': '|u1'", "'descr': '<c16'", "'descr': [('a', '<f4')]", "'descr': 'O'",
  "'fortran_order': True", "'fortran_order': 1", "'shape': ()", "'shape': (-1,)", "'shape': (99999999999, 99999999999)",
  "'shape': (3.5,)", "'shape': (2, 'x')", "'shape': (4294967296,)", "", "{", "}", "'shape': (1" ,
];

function expectReadOrRefused(read: () => unknown): void {
  let result: unknown;
  try {
    result = read();
  } catch (e) {
    expect(e).toBeInstanceOf(CompileError);
    expect((e as CompileError).diagnostics.every((d) => d.code === "TNS0605")).toBe(true);
    return;
  }
  const tensors = result && typeof result === "object" && "dtype" in result ? [result] : Object.values(result as object);
  for (const t of tensors) expect(tensorProblem(t)).toBeNull();
}

describe("fuzzing data files", () => {
  it(".npy bytes with edits are read consistently or refused with TNS0605", () => {
    fc.assert(fc.property(tensor, edits, (t, changes) => expectReadOrRefused(() => readNpy(edit(writeNpy(t), changes)))), fuzzParameters(600));
  });

  it(".npy headers with hostile fields are read consistently or refused", () => {
    fc.assert(fc.property(tensor, fc.constantFrom(...HEADER_VALUES), fc.constantFrom("descr", "fortran_order", "shape"), (t, value, field) => {
      const bytes = writeNpy(t);
      const headerLength = bytes[8]! | (bytes[9]! << 8);
      const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLength));
      const replaced = header.replace(new RegExp(`'${field}': (\\([^)]*\\)|'[^']*'|\\w+)`), value).padEnd(headerLength - 1, " ").slice(0, headerLength - 1) + "\n";
      const out = Uint8Array.from(bytes);
      out.set(new TextEncoder().encode(replaced).subarray(0, headerLength), 10);
      expectReadOrRefused(() => readNpy(out));
    }), fuzzParameters(300));
  });

  it(".npz archives with edits are read consistently or refused with TNS0605", () => {
    fc.assert(fc.property(fc.dictionary(fc.constantFrom("a", "b", "W", "x_1"), tensor, { maxKeys: 3 }), edits, (arrays, changes) =>
      expectReadOrRefused(() => readNpz(edit(writeNpz(arrays), changes)))), fuzzParameters(300));
  });

  it("random bytes are refused", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      expectReadOrRefused(() => readNpy(bytes));
      expectReadOrRefused(() => readNpz(bytes));
    }), fuzzParameters(300));
  });
});

describe("archives that claim more than they hold", () => {
  it("are refused from the sizes they declare, before inflating", () => {
    const bytes = writeNpz({ a: randomTensor([250], "f32", 1) }, { compress: true });
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Local header and central directory: the uncompressed size, 3 GB.
    for (let k = 0; k + 4 <= bytes.length; k++) {
      if (view.getUint32(k, true) === 0x04034b50) view.setUint32(k + 22, 3e9, true);
      if (view.getUint32(k, true) === 0x02014b50) view.setUint32(k + 24, 3e9, true);
    }
    expect(() => readNpz(bytes)).toThrow(/TNS0605: arrays larger than \d+ bytes/);
  });
});

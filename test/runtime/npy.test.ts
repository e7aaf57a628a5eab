import { describe, expect, it } from "vitest";
import { CompileError } from "../../src/diagnostics/diagnostic.js";
import { readNpy, writeNpy } from "../../src/runtime/npy.js";
import { Tensor } from "../../src/runtime/tensor.js";

/** A .npy file built by hand per the format spec: magic, version, header length, dict, data. */
function npyBytes(dict: string, data: Uint8Array, version = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const header = dict.padEnd(total - prefix - 1, " ") + "\n";
  const out = new Uint8Array(total + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), prefix);
  out.set(data, total);
  return out;
}

function bytesOf(write: (v: DataView) => void, n: number): Uint8Array {
  const b = new Uint8Array(n);
  write(new DataView(b.buffer));
  return b;
}

describe("writeNpy / readNpy", () => {
  it("round-trips every dtype and rank, scalars included", () => {
    const cases = [
      Tensor.fromArray([[1.5, -2], [3, 4.25], [5, 6]], "f32"),
      Tensor.fromArray([1e-300, -7, Math.PI], "f64"),
      Tensor.fromArray([[[1, -2]], [[2147483647, -2147483648]]], "i32"),
      new Tensor("f32", [], new Float32Array([42])),
      new Tensor("f64", [0, 3], new Float64Array(0)),
    ];
    for (const t of cases) {
      const back = readNpy(writeNpy(t));
      expect(back.dtype).toBe(t.dtype);
      expect(back.shape).toEqual(t.shape);
      expect(Array.from(back.data)).toEqual(Array.from(t.data));
    }
  });

  it("writes a version 1.0 header padded to 64 bytes with a trailing newline", () => {
    const bytes = writeNpy(Tensor.fromArray([1, 2, 3]));
    const headerLen = new DataView(bytes.buffer).getUint16(8, true);
    expect(bytes[6]).toBe(1);
    expect((10 + headerLen) % 64).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLen));
    expect(header).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(3,\), \} *\n$/);
    expect(bytes.length).toBe(10 + headerLen + 12);
  });

  it("reads version 2.0 and 3.0 headers", () => {
    const data = bytesOf((v) => { v.setFloat64(0, 1.25, true); v.setFloat64(8, -3, true); }, 16);
    for (const version of [2, 3]) {
      const t = readNpy(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", data, version));
      expect(t.dtype).toBe("f64");
      expect(Array.from(t.data)).toEqual([1.25, -3]);
    }
  });

  it("reads big-endian floats", () => {
    const f4 = bytesOf((v) => { v.setFloat32(0, 1.5, false); v.setFloat32(4, -2, false); }, 8);
    expect(Array.from(readNpy(npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", f4)).data)).toEqual([1.5, -2]);
    const f8 = bytesOf((v) => v.setFloat64(0, 0.1, false), 8);
    expect(readNpy(npyBytes("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", f8)).data[0]).toBe(0.1);
  });

  it("transposes Fortran-order data into C order", () => {
    // The 2x3 matrix [[1, 2, 3], [4, 5, 6]] stored column by column.
    const data = bytesOf((v) => [1, 4, 2, 5, 3, 6].forEach((x, k) => v.setInt32(4 * k, x, true)), 24);
    const t = readNpy(npyBytes("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }", data));
    expect(t.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  it("converts i8, u1, b1 and f2 to supported dtypes", () => {
    const i8 = bytesOf((v) => { v.setBigInt64(0, -5n, true); v.setBigInt64(8, 70000n, true); }, 16);
    const a = readNpy(npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", i8));
    expect(a.dtype).toBe("i32");
    expect(Array.from(a.data)).toEqual([-5, 70000]);
    const u1 = readNpy(npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", new Uint8Array([0, 200, 255])));
    expect(Array.from(u1.data)).toEqual([0, 200, 255]);
    const b1 = readNpy(npyBytes("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", new Uint8Array([1, 0])));
    expect(Array.from(b1.data)).toEqual([1, 0]);
    const f2 = bytesOf((v) => { v.setUint16(0, 0x3c00, true); v.setUint16(2, 0xc100, true); v.setUint16(4, 0x7c00, true); }, 6);
    const h = readNpy(npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }", f2));
    expect(h.dtype).toBe("f32");
    expect(Array.from(h.data)).toEqual([1, -2.5, Infinity]);
  });

  it("rejects malformed and unsupported files with TNS0605", () => {
    const bad: Uint8Array[] = [
      new Uint8Array([1, 2, 3]),
      new TextEncoder().encode("PK\x03\x04 not npy at all"),
      npyBytes("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(16)),
      npyBytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)),
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", new Uint8Array(8)),
      npyBytes("{'descr': '<f4', 'shape': (1,), }", new Uint8Array(4)),
      npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", bytesOf((v) => v.setBigInt64(0, 1n << 40n, true), 8)),
    ];
    for (const b of bad) {
      let caught: unknown;
      try { readNpy(b); } catch (e) { caught = e; }
      expect(caught).toBeInstanceOf(CompileError);
      expect((caught as CompileError).diagnostics[0]!.code).toBe("TNS0605");
    }
  });
});

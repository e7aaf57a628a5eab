import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { CompileError } from "../../src/diagnostics/diagnostic.js";
import { writeNpy } from "../../src/runtime/npy.js";
import { readNpz, writeNpz } from "../../src/runtime/npz.js";
import { randomTensor } from "../../src/runtime/random.js";
import { Tensor } from "../../src/runtime/tensor.js";

describe("writeNpz / readNpz", () => {
  it("round-trips several arrays, stored and deflated", () => {
    const arrays = { W: randomTensor([4, 3], "f32", 1), b: randomTensor([3], "f64", 2), ids: randomTensor([5], "i32", 3) };
    for (const compress of [false, true]) {
      const back = readNpz(writeNpz(arrays, { compress }));
      expect(Object.keys(back).sort()).toEqual(["W", "b", "ids"]);
      for (const [name, t] of Object.entries(arrays)) {
        expect(back[name]!.dtype).toBe(t.dtype);
        expect(back[name]!.shape).toEqual(t.shape);
        expect(Array.from(back[name]!.data)).toEqual(Array.from(t.data));
      }
    }
  });

  it("deflating makes a compressible archive smaller and output is reproducible", () => {
    const arrays = { Z: Tensor.zeros([64, 64]) };
    expect(writeNpz(arrays, { compress: true }).length).toBeLessThan(writeNpz(arrays).length / 10);
    expect(writeNpz(arrays)).toEqual(writeNpz(arrays));
  });

  it("reads an archive built by another zip writer", () => {
    const zip = zipSync({ "x.npy": writeNpy(Tensor.fromArray([1, 2])) }, { level: 9 });
    expect(readNpz(zip)["x"]!.toArray()).toEqual([1, 2]);
  });

  it("reports a broken archive or array as TNS0605", () => {
    const broken = [new Uint8Array([1, 2, 3, 4]), zipSync({ "x.npy": new Uint8Array([0x93, 0x4e]) })];
    for (const b of broken) {
      let caught: unknown;
      try { readNpz(b); } catch (e) { caught = e; }
      expect(caught).toBeInstanceOf(CompileError);
      expect((caught as CompileError).diagnostics[0]!.code).toBe("TNS0605");
    }
  });
});

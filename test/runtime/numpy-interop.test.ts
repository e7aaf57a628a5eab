import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readNpy, writeNpy } from "../../src/runtime/npy.js";
import { readNpz, writeNpz } from "../../src/runtime/npz.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { numpyPython } from "../support/numpy.js";

const python = numpyPython();

function py(script: string, dir: string): string {
  const r = spawnSync(python!, ["-c", script, dir], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout;
}

describe.skipIf(python === null)("NumPy interop", () => {
  it("reads files NumPy writes: dtypes, Fortran order, big-endian, npz", () => {
    const dir = mkdtempSync(join(tmpdir(), "tns-npy-"));
    py(`
import sys, numpy as np
d = sys.argv[1]
a = np.arange(12, dtype=np.float32).reshape(3, 4) / 8
np.save(d + "/f4.npy", a)
np.save(d + "/f8_fortran.npy", np.asfortranarray(np.arange(24, dtype=np.float64).reshape(2, 3, 4) - 5.5))
np.save(d + "/i8.npy", np.array([[-3, 4], [5, 6]], dtype=np.int64))
np.save(d + "/be.npy", np.array([1.5, -2.25], dtype=">f8"))
np.save(d + "/bool.npy", np.array([True, False, True]))
np.save(d + "/scalar.npy", np.float32(2.5))
np.savez(d + "/plain.npz", W=a, b=np.ones(3))
np.savez_compressed(d + "/packed.npz", W=a)
`, dir);
    const f4 = readNpy(readFileSync(join(dir, "f4.npy")));
    expect(f4.dtype).toBe("f32");
    expect(f4.toArray()).toEqual([[0, 0.125, 0.25, 0.375], [0.5, 0.625, 0.75, 0.875], [1, 1.125, 1.25, 1.375]]);
    const fo = readNpy(readFileSync(join(dir, "f8_fortran.npy")));
    expect(fo.shape).toEqual([2, 3, 4]);
    expect(Array.from(fo.data)).toEqual(Array.from({ length: 24 }, (_, k) => k - 5.5));
    expect(readNpy(readFileSync(join(dir, "i8.npy"))).toArray()).toEqual([[-3, 4], [5, 6]]);
    expect(readNpy(readFileSync(join(dir, "be.npy"))).toArray()).toEqual([1.5, -2.25]);
    expect(readNpy(readFileSync(join(dir, "bool.npy"))).toArray()).toEqual([1, 0, 1]);
    const s = readNpy(readFileSync(join(dir, "scalar.npy")));
    expect(s.shape).toEqual([]);
    expect(s.data[0]).toBe(2.5);
    const plain = readNpz(readFileSync(join(dir, "plain.npz")));
    expect(Object.keys(plain).sort()).toEqual(["W", "b"]);
    expect(plain["W"]!.toArray()).toEqual(f4.toArray());
    expect(readNpz(readFileSync(join(dir, "packed.npz")))["W"]!.toArray()).toEqual(f4.toArray());
  });

  it("writes files NumPy reads", () => {
    const dir = mkdtempSync(join(tmpdir(), "tns-npy-"));
    writeFileSync(join(dir, "a.npy"), writeNpy(Tensor.fromArray([[1, 2, 3], [4, 5, 6.5]], "f32")));
    writeFileSync(join(dir, "s.npy"), writeNpy(new Tensor("f64", [], new Float64Array([-0.1]))));
    writeFileSync(join(dir, "z.npz"), writeNpz({ ids: Tensor.fromArray([7, -8], "i32"), x: Tensor.fromArray([0.5], "f64") }, { compress: true }));
    const out = py(`
import sys, json, numpy as np
d = sys.argv[1]
a = np.load(d + "/a.npy"); s = np.load(d + "/s.npy"); z = np.load(d + "/z.npz")
print(json.dumps([str(a.dtype), a.shape, a.tolist(), str(s.dtype), s.shape, float(s), sorted(z.files), str(z["ids"].dtype), z["ids"].tolist(), z["x"].tolist()]))
`, dir);
    expect(JSON.parse(out)).toEqual(["float32", [2, 3], [[1, 2, 3], [4, 5, 6.5]], "float64", [], -0.1, ["ids", "x"], "int32", [7, -8], [0.5]]);
  });
});

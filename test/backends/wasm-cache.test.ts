import { describe, expect, it } from "vitest";
import { loadBackend } from "../../src/backends/index.js";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { ModuleCache, moduleCacheKey } from "../../src/backends/wasm/cache.js";
import { wasmModuleCacheStats } from "../../src/backends/wasm/index.js";
import { compile } from "../../src/compiler.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { CORPUS } from "./corpus.js";

await loadBackend("wasm");

const SOURCE = "size n = 4\ninput A[n, n], B[n, n]\noutput C[i, j] = A[i, l] * B[l, j]";

describe("wasm module cache", () => {
  it("keys by program and sizes, not by weight data", () => {
    const kp = lowerToKernels(parseProgramText(CORPUS["matmul"]!));
    const withData = { ...kp, buffers: kp.buffers.map((b) => ({ ...b, data: new Float64Array(b.size).fill(7) })) };
    expect(moduleCacheKey(withData, { optimize: true })).toBe(moduleCacheKey(kp, { optimize: true }));
    expect(moduleCacheKey(kp, { optimize: false })).not.toBe(moduleCacheKey(kp, { optimize: true }));
  });

  it("returns the same module for the same program and sizes, another for other sizes", () => {
    const before = wasmModuleCacheStats();
    const a = compile(SOURCE, { backend: "wasm" });
    const b = compile(SOURCE, { backend: "wasm" });
    const c = compile(SOURCE, { backend: "wasm", sizes: { n: 5 } });
    expect(wasmModuleCacheStats()).toEqual({ entries: before.entries + 2, hits: before.hits + 1 });
    expect(b.code).toBe(a.code);
    expect(c.code).not.toBe(a.code);
    const A = Tensor.fromArray([[1, 2, 0, 0], [3, 4, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]);
    // Two executables of one cached module have separate memories.
    const first = a.run({ A, B: A }).C!.toArray();
    const eye = Tensor.fromArray([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]);
    expect(b.run({ A, B: eye }).C!.toArray()).toEqual(A.toArray());
    expect(a.run({ A, B: A }).C!.toArray()).toEqual(first);
    expect((first as number[][])[0]).toEqual([7, 10, 0, 0]);
  });

  it("drops the least recently used entry beyond its capacity", () => {
    const cache = new ModuleCache<number>(2);
    let built = 0;
    const get = (k: string) => cache.getOrCreate(k, () => ++built);
    expect([get("a"), get("b"), get("a"), get("c")]).toEqual([1, 2, 1, 3]);
    expect(cache.size).toBe(2);
    expect(get("a")).toBe(1);
    expect(get("b")).toBe(4);
  });
});

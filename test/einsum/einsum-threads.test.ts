import { describe, expect, it } from "vitest";
import { loadBackend } from "../../src/backends/index.js";
import { einsumWith } from "../../src/einsum/index.js";
import { randomTensor } from "../../src/runtime/random.js";

await loadBackend("wasm");

describe("einsum on the wasm backend with a thread count", () => {
  it("gives bitwise the same batched product on one and on two threads", () => {
    // 4 × 96 × 80 × 72 multiply-adds: above the size at which products are split across threads.
    const a = randomTensor([4, 96, 72], "f32", 1);
    const b = randomTensor([4, 72, 80], "f32", 2);
    const one = einsumWith("bij,bjk->bik", [a, b], { backend: "wasm", threads: 1 });
    const two = einsumWith("bij,bjk->bik", [a, b], { backend: "wasm", threads: 2 });
    expect(two.shape).toEqual([4, 96, 80]);
    expect(Array.from(two.data)).toEqual(Array.from(one.data));
    // Run again: the second run is the one that hands units to the workers.
    const again = einsumWith("bij,bjk->bik", [a, b], { backend: "wasm", threads: 2 });
    expect(Array.from(again.data)).toEqual(Array.from(one.data));
  });
});

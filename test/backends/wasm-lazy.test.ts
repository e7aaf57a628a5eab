import { describe, expect, it } from "vitest";
import { backendNamed, loadBackend } from "../../src/backends/index.js";
import { binaryenLoaded } from "../../src/backends/wasm/binaryen.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { CORPUS } from "./corpus.js";

describe("lazy loading of binaryen", () => {
  it("is not loaded by importing the backends or compiling with the js backend", async () => {
    const p = parseProgramText(CORPUS["matmul"]!);
    backendNamed("js").compile(p).executable;
    (await loadBackend("js")).compile(p);
    (await loadBackend("reference")).compile(p);
    expect(binaryenLoaded()).toBe(false);
    const wasm = await loadBackend("wasm");
    expect(binaryenLoaded()).toBe(true);
    expect(wasm.name).toBe("wasm");
    expect(await loadBackend("wasm")).not.toBe(null);
    await expect(loadBackend("webgl")).rejects.toThrow(/unknown backend 'webgl'/);
  });
});

/**
 * A host without any WebGPU adapter (here: Dawn's package present, every
 * backend of it without an adapter): a clear TNS0610 error that says how to
 * get one, from the API and from the CLI (exit 1, no stack trace).
 */
import { describe, expect, it, vi } from "vitest";
import { requestWgslDevice } from "../../src/backends/wgsl/device.js";
import { main } from "../../src/cli/main.js";
import { compileAsync } from "../../src/compiler.js";
import { CompileError } from "../../src/diagnostics/diagnostic.js";

vi.mock("webgpu", () => ({ create: () => ({ requestAdapter: async () => null }), globals: {} }));

describe("no WebGPU adapter", () => {
  it("requestWgslDevice rejects with TNS0610 and a hint", async () => {
    const e = await requestWgslDevice().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CompileError);
    const [d] = (e as CompileError).diagnostics;
    expect(d!.code).toBe("TNS0610");
    expect(d!.hint).toMatch(/mesa-vulkan-drivers|--enable-unsafe-webgpu/);
  });

  it("compileAsync with the wgsl backend rejects the same way", async () => {
    await expect(compileAsync("input x[4]\noutput y[i] = x[i] * 2", { backend: "wgsl" })).rejects.toThrow(/TNS0610/);
  });

  it("tns run --backend wgsl exits 1 with the diagnostic and no stack trace", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(["run", "examples/matmul.tns", "--backend", "wgsl", "--random-inputs"], {
      out: (l) => out.push(l), err: (l) => err.push(l), color: false,
    });
    expect(code).toBe(1);
    expect(err.join("\n")).toMatch(/error\[TNS0610\]|TNS0610/);
    expect(err.join("\n")).toMatch(/hint: .*webgpu/);
    expect(err.join("\n")).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(out).toEqual([]);
  });
});

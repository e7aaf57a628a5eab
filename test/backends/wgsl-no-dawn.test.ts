/**
 * A host where Dawn's package is present but does not load (a native
 * library missing): TNS0610 says so, with the reason.
 */
import { describe, expect, it, vi } from "vitest";
import { requestWgslDevice } from "../../src/backends/wgsl/device.js";
import { CompileError } from "../../src/diagnostics/diagnostic.js";

vi.mock("webgpu", () => {
  throw new Error("libvulkan.so.1: cannot open shared object file");
});

describe("Dawn's package does not load", () => {
  it("requestWgslDevice rejects with TNS0610 and says the package did not load", async () => {
    const e = await requestWgslDevice().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CompileError);
    const [d] = (e as CompileError).diagnostics;
    expect(d!.code).toBe("TNS0610");
    expect(d!.message).toMatch(/the package `webgpu` did not load \(/);
    expect(d!.hint).toMatch(/npm install webgpu/);
  });
});

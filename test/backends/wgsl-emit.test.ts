import { describe, expect, it } from "vitest";
import { lowerDef } from "../../src/backends/kernel/lower-def.js";
import { emitWgsl } from "../../src/backends/wgsl/emit.js";
import { wgslF32 } from "../../src/backends/wgsl/emit-expr.js";
import { isWgslReserved, WGSL_RESERVED, wgslBuffer, wgslVar } from "../../src/backends/wgsl/names.js";
import { dispatchGrid } from "../../src/backends/wgsl/shader.js";
import { COMPATIBILITY_LIMITS } from "../../src/backends/wgsl/types.js";
import { CompileError } from "../../src/diagnostics/diagnostic.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import type { DefNode } from "../../src/ir/types.js";
import { expectGolden } from "../golden.js";
import { CORPUS } from "./corpus.js";
import { denseLayer } from "./support.js";

const plan = (text: string) => emitWgsl(parseProgramText(text));
const shaders = (text: string): string => plan(text).dispatches.map((d) => d.code).join("\n");

describe("wgsl emission", () => {
  it("emits a register-tiled matrix product (golden)", () => {
    const p = plan(`input A: f32[256, 48]\ninput B: f32[48, 500]\noutput C: f32[256, 500] = [i:256, j:500] sum(k:48) A[i, k] * B[k, j]`);
    expect(p.dispatches.map((d) => [d.form, d.workgroupSize, d.workgroups])).toEqual([["tiled-matmul", [128, 1, 1], [64, 1, 1]]]);
    expect(p.dispatches[0]!.code).toContain("tiles 32 × 64 (k step 16), 16 × 8 invocations of 4 × 4 outputs");
    expectGolden("wgsl-matmul", p.dispatches[0]!.code);
    // Too few 32 × 64 tiles for a GPU: 16 × 32 ones, four times as many workgroups.
    const small = plan(`input A: f32[64, 48]\ninput B: f32[48, 80]\noutput C: f32[64, 80] = [i:64, j:80] sum(k:48) A[i, k] * B[k, j]`);
    expect(small.dispatches[0]!.workgroups).toEqual([12, 1, 1]);
    expect(small.dispatches[0]!.code).toContain("tiles 16 × 32 (k step 16), 16 × 8 invocations of 2 × 2 outputs");
  });

  it("emits a workgroup tree reduction (golden)", () => {
    const p = plan(`input S: f32[16, 1000]\noutput M: f32[16] = [i:16] max(j:1000) S[i, j]`);
    expect(p.dispatches.map((d) => [d.form, d.workgroups])).toEqual([["workgroup-reduce", [16, 1, 1]]]);
    expectGolden("wgsl-reduce", p.dispatches[0]!.code);
  });

  it("shares a reduction across a workgroup only when there are too few outputs to fill a GPU", () => {
    const few = plan(`input A: f32[100, 300]\noutput s: f32[100] = [i:100] sum(k:300) A[i, k] * A[i, k]`);
    expect(few.dispatches[0]!.form).toBe("workgroup-reduce");
    const many = plan(`input A: f32[200, 300]\ninput B: f32[300, 100]\noutput C: f32[200, 100] = [i:200, j:100] sum(k:300) A[i, k] * B[k, j] * A[0, 0]`);
    expect(many.dispatches[0]!.form).toBe("elementwise");
  });

  it("emits a product with a fused epilogue (golden)", () => {
    const p = plan(denseLayer(3, 40, 24));
    expect(p.dispatches[0]!.form).toBe("tiled-matmul");
    expect(p.dispatches[0]!.code).toContain("max(");
    expectGolden("wgsl-dense-epilogue", p.dispatches[0]!.code);
  });

  it("emits the same text twice, and every dispatch within the compatibility limits", () => {
    for (const text of Object.values(CORPUS)) {
      const p = parseProgramText(text);
      if (p.tensors.some((t) => t.dtype === "f64")) continue;
      const a = emitWgsl(p);
      expect(emitWgsl(p)).toEqual(a);
      for (const d of a.dispatches) {
        expect(d.workgroupSize[0] * d.workgroupSize[1] * d.workgroupSize[2]).toBeLessThanOrEqual(COMPATIBILITY_LIMITS.maxComputeInvocationsPerWorkgroup);
        expect(d.bindings.length).toBeLessThanOrEqual(COMPATIBILITY_LIMITS.maxStorageBuffersPerShaderStage);
        for (const g of d.workgroups) expect(g).toBeLessThanOrEqual(COMPATIBILITY_LIMITS.maxComputeWorkgroupsPerDimension);
        const shared = [...d.code.matchAll(/var<workgroup> \w+: array<f32, (\d+)>/g)].reduce((n, m) => n + 4 * Number(m[1]), 0);
        expect(shared).toBeLessThanOrEqual(COMPATIBILITY_LIMITS.maxComputeWorkgroupStorageSize);
      }
    }
  });

  it("refuses float64 with a diagnostic that names the tensor", () => {
    try {
      plan(`input X: f64[4]\noutput Y: f64[4] = [i:4] X[i] * 2`);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CompileError);
      const d = (e as CompileError).diagnostics;
      expect(d.map((x) => x.code)).toEqual(["TNS0902", "TNS0902"]);
      expect(d[0]!.message).toContain("'X' is f64");
      expect(d[0]!.hint).toMatch(/js or wasm/);
    }
  });

  it("refuses a tensor larger than a storage binding (TNS0611)", () => {
    expect(() => plan(`input X: f32[40000, 1000]\noutput Y: f32[40000, 1000] = [i:40000, j:1000] X[i, j] * 2`)).toThrow(/TNS0611: tensor 'X' needs 152.6 MiB/);
  });

  it("names program identifiers away from WGSL's keywords and its own names", () => {
    for (const word of ["loop", "let", "fn", "var", "main", "select"]) {
      expect(isWgslReserved(wgslBuffer(word))).toBe(false);
      expect(isWgslReserved(wgslVar(word))).toBe(false);
    }
    for (const word of WGSL_RESERVED) expect(wgslVar(word)).not.toBe(word);
    const code = shaders(`input loop: f32[4]\noutput fn: f32[4] = [let:4] loop[let] * 2`);
    expect(code).toContain("b_fn[v_let] = (b_loop[v_let] * 2f);");
  });

  it("spells literals WGSL accepts, non-finite values at run time", () => {
    expect(wgslF32(3)).toBe("3f");
    expect(wgslF32(-0.5)).toBe("(-0.5f)");
    expect(wgslF32(-0)).toBe("(-0f)");
    expect(wgslF32(1e-7)).toBe(`${Math.fround(1e-7)}f`);
    expect(wgslF32(Infinity)).toBe("bitcast<f32>(tns_special.x)");
    expect(wgslF32(-Infinity)).toBe("bitcast<f32>(tns_special.y)");
    expect(wgslF32(NaN)).toBe("bitcast<f32>(tns_special.z)");
    expect(wgslF32(1e300)).toBe("bitcast<f32>(tns_special.x)");
  });

  it("spreads workgroups over the grid's dimensions", () => {
    expect(dispatchGrid(10, 65535).workgroups).toEqual([10, 1, 1]);
    expect(dispatchGrid(100000, 65535).workgroups).toEqual([50000, 2, 1]);
    expect(dispatchGrid(65535 * 65535 + 1, 65535).workgroups).toEqual([65535, 65535, 2]);
    expect(() => dispatchGrid(65535 ** 3 + 1, 65535)).toThrow(/TNS0611/);
  });

  it("pools intermediates and outputs that are never live at the same dispatch into shared GPU buffers", () => {
    const chain = plan(`input X: f32[64]
A: f32[64] = [i:64] exp(X[i]) + X[i] * X[i]
B: f32[64] = [i:64] max(A[i], 0.5) * sum(j:64) A[j]
C: f32[64] = [i:64] tanh(B[i]) + B[0] * A[3]
D: f32[64] = [i:64] sqrt(abs(C[i])) * sum(j:64) C[j]
output Y: f32[64] = [i:64] D[i] * D[0]`);
    expect(chain.storage.length).toBeLessThan(chain.buffers.length);
    expect(chain.home["X"]).toBe("X");
    // The output shares a pool with an intermediate dead before it is written (A, B or C).
    expect(chain.home["Y"]).toMatch(/^#pool/);
    expect(["A", "B", "C"].map((t) => chain.home[t])).toContain(chain.home["Y"]);
    for (const text of [...Object.values(CORPUS), ""]) {
      if (text === "" || parseProgramText(text).tensors.some((t) => t.dtype === "f64")) continue;
      const p = plan(text);
      // Two buffers in one GPU buffer are never bound by overlapping ranges of dispatches.
      const span = (name: string): [number, number] => {
        const at = p.dispatches.flatMap((d, n) => (d.bindings.some((b) => b.buffer === name) || d.pack?.parts.some((x) => x.buffer === name) ? [n] : []));
        // An output is read back after the last dispatch.
        return [Math.min(...at), p.outputs.includes(name) ? p.dispatches.length : Math.max(...at)];
      };
      for (const a of p.buffers) {
        for (const b of p.buffers) {
          if (a.name >= b.name || p.home[a.name] !== p.home[b.name]) continue;
          const [a0, a1] = span(a.name);
          const [b0, b1] = span(b.name);
          expect(a1 < b0 || b1 < a0, `${a.name} and ${b.name} share ${p.home[a.name]}`).toBe(true);
        }
      }
      for (const b of p.buffers) expect(p.storage.find((s) => s.name === p.home[b.name])!.bytes).toBeGreaterThanOrEqual(b.size * 4);
    }
  });

  it("lowers a def with its output loops outermost when asked", () => {
    const p = parseProgramText(`input A: f32[4, 8]\ninput B: f32[8, 3]\noutput C: f32[4, 3] = [i:4, j:3] sum(k:8) A[i, k] * B[k, j]`);
    const def = p.tensors[2] as DefNode;
    const shapes = new Map([["A", [4, 8]], ["B", [8, 3]]]);
    expect(lowerDef(def, shapes).loopOrder).toEqual(["i", "k", "j"]);
    const outer = lowerDef(def, shapes, { outputsOuter: true });
    expect(outer.loopOrder).toEqual(["i", "j", "k"]);
    expect(outer.body.some((s) => s.kind === "fill")).toBe(false);
  });
});

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { jsBackend } from "../../src/backends/backend.js";
import { loadBackend } from "../../src/backends/index.js";
import { matchContraction } from "../../src/backends/kernel/contraction.js";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { emitWasm, loadBinaryen } from "../../src/backends/wasm/index.js";
import { compile } from "../../src/compiler.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import type { DefNode, Program } from "../../src/ir/types.js";
import { expectMatchesInterpreter, inputsFor } from "./support.js";

const wasm = await loadBackend("wasm");
const binaryen = await loadBinaryen();

/** Programs whose product carries constant factors; odd sizes cover every tile edge (4 rows; 8, 4 and 1 columns). */
const SCALED: readonly (readonly [string, string, number])[] = [
  ["times 0.125", `
input A: f32[17, 9]
input B: f32[9, 13]
output C: f32[17, 13] = [i:17, j:13] sum(k:9) A[i, k] * B[k, j] * 0.125
`, 0.125],
  ["divided by 3", `
input A: f32[7, 11]
input B: f32[11, 15]
output C: f32[7, 15] = [i:7, j:15] sum(k:11) A[i, k] * B[k, j] / 3
`, 1 / 3],
  ["a negative scale written first", `
input A: f32[5, 3]
input B: f32[3, 21]
output C: f32[5, 21] = [i:5, j:21] sum(k:3) -2.5 * A[i, k] * B[k, j]
`, -2.5],
  ["transposed B divided by sqrt(8)", `
input Q: f32[19, 8]
input K: f32[13, 8]
output S: f32[19, 13] = [i:19, j:13] sum(k:8) Q[i, k] * K[j, k] / sqrt(8)
`, 1 / Math.sqrt(8)],
  ["batched, several constants in order", `
input A: f32[3, 7, 5]
input B: f32[3, 5, 13]
output C: f32[3, 7, 13] = [b:3, i:7, j:13] sum(k:5) 0.1 * A[b, i, k] * 0.2 * B[b, k, j] / 0.3
`, ((1 * 0.1) * 0.2) / 0.3],
];

const lastDef = (p: Program): DefNode => p.tensors.filter((t): t is DefNode => t.role === "def").at(-1)!;
const shapesOf = (p: Program): Map<string, readonly number[]> => new Map(p.tensors.map((t) => [t.name, t.shape]));
const scaleOf = (text: string): number | undefined | null => {
  const p = parseProgramText(text);
  const c = matchContraction(lastDef(p), shapesOf(p));
  return c === null ? null : c.scale;
};

describe("contractions with a constant scale", () => {
  for (const [name, text, scale] of SCALED) {
    it(`folds the constants of ${name} into one scale`, () => expect(scaleOf(text)).toBe(scale));

    it(`matches the interpreter on the js backend: ${name}`, () => {
      const p = parseProgramText(text);
      const { executable, code } = jsBackend.compile(p);
      expect(code, "packed panel").toContain("const P = new Float64Array(");
      expect(code, "scaled store").toContain(`s00 * ${scale < 0 ? `(${scale})` : scale}`);
      expectMatchesInterpreter(p, (x) => executable.run(x), inputsFor(p, 7));
    });

    it(`matches the interpreter on the wasm backend: ${name}`, () => {
      const p = parseProgramText(text);
      const wat = emitWasm(binaryen, lowerToKernels(p), { optimize: false }).text;
      expect(wat, "SIMD micro-kernel").toContain("f32x4.mul");
      // The dot form of a skinny product (emit-skinny.ts) scales each sum once it is a scalar; the others splat the scale.
      if (/\(func \$k0_\w+_dot /.test(wat)) expect(wat, "scalar scale").toMatch(/f32\.mul/);
      else expect(wat, "scale splat").toContain("f32x4.splat");
      const { executable } = wasm.compile(p);
      expectMatchesInterpreter(p, (x) => executable.run(x), inputsFor(p, 7));
    });
  }

  it("scales f64 products on both backends (js blocked, wasm scalar loop nest)", () => {
    const p = parseProgramText(`
input A: f64[9, 6]
input B: f64[6, 11]
output C: f64[9, 11] = [i:9, j:11] sum(k:6) A[i, k] * B[k, j] / -7
`);
    expect(lowerToKernels(p).kernels[0]!.contraction?.scale).toBe(1 / -7);
    expectMatchesInterpreter(p, (x) => jsBackend.compile(p).executable.run(x), inputsFor(p, 2), 1e-12);
    expectMatchesInterpreter(p, (x) => wasm.compile(p).executable.run(x), inputsFor(p, 2), 1e-12);
  });

  it("leaves the scale out when the constants multiply to 1, and keeps the emitted code unscaled", () => {
    const text = `
input A: f32[5, 6]
input B: f32[6, 7]
output C: f32[5, 7] = [i:5, j:7] sum(k:6) 2 * A[i, k] * B[k, j] * 0.5
`;
    expect(scaleOf(text)).toBeUndefined();
    expect(jsBackend.compile(parseProgramText(text)).code).not.toMatch(/s00 \*/);
  });

  it("leaves a scale float32 cannot hold to the wasm scalar path", () => {
    const p = parseProgramText(`
input A: f32[5, 6]
input B: f32[6, 9]
output C: f32[5, 9] = [i:5, j:9] sum(k:6) A[i, k] * B[k, j] * 1e30 * 1e30
`);
    expect(lowerToKernels(p).kernels[0]!.contraction?.scale).toBe(1e30 * 1e30);
    // No panel function of the SIMD micro-kernel (`k0_C_p8`); the scalar loops may still be vectorised.
    expect(emitWasm(binaryen, lowerToKernels(p), { optimize: false }).text).not.toMatch(/\(func \$k\d+_\w*_(p[48]|axpy|dot) /);
  });

  it("refuses a divided access, a third access and a division by zero", () => {
    const head = "input A: f32[5, 6]\ninput B: f32[6, 7]\ninput D: f32[6]\n";
    expect(scaleOf(`${head}output C: f32[5, 7] = [i:5, j:7] sum(k:6) A[i, k] / B[k, j]`)).toBeNull();
    expect(scaleOf(`${head}output C: f32[5, 7] = [i:5, j:7] sum(k:6) A[i, k] * B[k, j] * D[k]`)).toBeNull();
    expect(scaleOf(`${head}output C: f32[5, 7] = [i:5, j:7] sum(k:6) A[i, k] * B[k, j] / 0`)).toBeNull();
  });

  it("recognises the scores of examples/attention.tns as a scaled contraction", async () => {
    const source = readFileSync(new URL("../../examples/attention.tns", import.meta.url), "utf8");
    for (const backend of ["js", "wasm"] as const) {
      const compiled = compile(source, { file: "examples/attention.tns", backend });
      expect(compiled.ok, compiled.formatDiagnostics()).toBe(true);
      const ir = compiled.ir!;
      const s = lowerToKernels(ir).kernels.find((k) => k.target === "S")!;
      expect(s.contraction).toMatchObject({ m: 256, n: 256, k: 64, scale: 0.125 });
      expectMatchesInterpreter(ir, (x) => compiled.run(x), inputsFor(ir, 3));
    }
  });
});

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadBackend } from "../../src/backends/index.js";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { emitWasm, hostRunsRelaxedSimd, loadBinaryen, moduleCacheKey, RELAXED_SIMD_PROBE } from "../../src/backends/wasm/index.js";
import { interpret } from "../../src/interpret.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { inputsFor, relativeError } from "./support.js";

const binaryen = await loadBinaryen();
const validate = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate;

// 37 rows: 4-row blocks and a 1-row edge; 45 columns: 8-wide panels, a 4-wide one and a scalar column.
const MATMUL = parseProgramText(`
input A: f32[37, 29]
input B: f32[29, 45]
output C: f32[37, 45] = [i:37, j:45] sum(k:29) A[i, k] * B[k, j]
`);

const FLAG = "--experimental-wasm-relaxed-simd";
/** Whether this Node accepts the flag at all (Node 20 does; a Node that dropped it exits with an error). */
const flagAccepted = spawnSync(process.execPath, [FLAG, "-e", "0"]).status === 0;

describe("relaxed SIMD in the matrix-product micro-kernel", () => {
  it("detects the host's support once, from the probe module", () => {
    const answer = hostRunsRelaxedSimd();
    expect(answer).toBe(validate(RELAXED_SIMD_PROBE));
    expect(hostRunsRelaxedSimd()).toBe(answer);
    // Node 20 runs relaxed SIMD only behind the flag; later engines always.
    const major = Number(process.versions.node.split(".")[0]);
    if (major === 20 && !process.execArgv.includes(FLAG)) expect(answer).toBe(false);
  });

  it("emits relaxed_madd only when asked, and both modules validate in binaryen", () => {
    const kp = lowerToKernels(MATMUL);
    const relaxed = emitWasm(binaryen, kp, { optimize: false, relaxedSimd: true });
    const plain = emitWasm(binaryen, kp, { optimize: false });
    expect(relaxed.text).toContain("f32x4.relaxed_madd");
    expect(relaxed.text).not.toContain("f32x4.mul");
    expect(plain.text).toContain("f32x4.mul");
    expect(plain.text).not.toContain("relaxed");
    // The optimizer keeps the fused form (and validates again).
    expect(emitWasm(binaryen, kp, { relaxedSimd: true }).binary.length).toBeGreaterThan(0);
    expect(validate(relaxed.binary)).toBe(hostRunsRelaxedSimd());
    expect(validate(plain.binary)).toBe(true);
    expect(moduleCacheKey(kp, { optimize: true, relaxedSimd: true })).not.toBe(moduleCacheKey(kp, { optimize: true, relaxedSimd: false }));
  });

  it("the backend picks the emission the host runs, and its result matches the interpreter", async () => {
    const { executable, code } = (await loadBackend("wasm")).compile(MATMUL);
    expect(code.includes("f32x4.relaxed_madd")).toBe(hostRunsRelaxedSimd());
    expect(code.includes("f32x4.mul")).toBe(!hostRunsRelaxedSimd());
    const inputs = inputsFor(MATMUL, 5);
    expect(relativeError(executable.run(inputs)["C"]!.data, interpret(MATMUL, inputs)["C"]!.data)).toBeLessThanOrEqual(1e-5);
  });

  // The micro-kernel, and the two skinny kernels (emit-skinny.ts): axpy (1 row: 6 rows of B per pass and 5 left
  // over; 3 and 7 rows: pairs and a last row) and dot (W·x).
  const RELAXED_CASES: readonly (readonly [string, ReturnType<typeof parseProgramText>])[] = [
    ["the micro-kernel", MATMUL],
    ["the skinny axpy kernel", parseProgramText("input A: f32[3, 29]\ninput B: f32[29, 45]\noutput C: f32[3, 45] = [i:3, j:45] sum(k:29) A[i, k] * B[k, j]\n")],
    ["the skinny axpy kernel with one row", parseProgramText("input A: f32[1, 29]\ninput B: f32[29, 45]\noutput C: f32[1, 45] = [i:1, j:45] sum(k:29) A[i, k] * B[k, j]\n")],
    ["the skinny axpy kernel with 7 rows", parseProgramText("input A: f32[7, 29]\ninput B: f32[29, 45]\noutput C: f32[7, 45] = [i:7, j:45] sum(k:29) A[i, k] * B[k, j]\n")],
    ["the skinny dot kernel", parseProgramText("input A: f32[45, 29]\ninput B: f32[29, 1]\noutput C: f32[45, 1] = [i:45, j:1] sum(k:29) A[i, k] * B[k, j]\n")],
  ];
  for (const [label, program] of RELAXED_CASES) {
    it.skipIf(!flagAccepted)(`runs ${label} with relaxed_madd under node ${FLAG} and matches the interpreter`, () => {
      const kp = lowerToKernels(program);
      const art = emitWasm(binaryen, kp, { relaxedSimd: true });
      expect(emitWasm(binaryen, kp, { optimize: false, relaxedSimd: true }).text).toContain("f32x4.relaxed_madd");
      const inputs = inputsFor(program, 7);
      const size = (name: string): number => kp.buffers.find((b) => b.name === name)!.size;
      const at = (name: string): number => art.layout.offsets.get(name)!;
      const dir = mkdtempSync(join(tmpdir(), "tns-relaxed-"));
      try {
        writeFileSync(join(dir, "m.wasm"), art.binary);
        writeFileSync(join(dir, "run.mjs"), `
import { readFileSync } from "node:fs";
const memory = new WebAssembly.Memory({ initial: ${art.pages}, maximum: 65536 });
const { exports } = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(${JSON.stringify(join(dir, "m.wasm"))})), { env: { memory } });
new Float32Array(memory.buffer, ${at("A")}, ${size("A")}).set(${JSON.stringify(Array.from(inputs["A"]!.data))});
new Float32Array(memory.buffer, ${at("B")}, ${size("B")}).set(${JSON.stringify(Array.from(inputs["B"]!.data))});
exports.run();
process.stdout.write(JSON.stringify(Array.from(new Float32Array(memory.buffer, ${at("C")}, ${size("C")}))));
`);
        const child = spawnSync(process.execPath, [FLAG, join(dir, "run.mjs")], { encoding: "utf8" });
        expect(child.stderr).toBe("");
        expect(child.status).toBe(0);
        const got = JSON.parse(child.stdout) as number[];
        expect(relativeError(got, interpret(program, inputs)["C"]!.data)).toBeLessThanOrEqual(1e-5);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

});

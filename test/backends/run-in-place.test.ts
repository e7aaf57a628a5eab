/**
 * Inputs written in place (`inputBuffer`) and outputs returned as views
 * (`run(inputs, { outputs: "view" })`) on every backend: the same bits as a
 * run that copies, nothing copied where the backend has storage of its own,
 * and views that the next run overwrites.
 */
import { describe, expect, it } from "vitest";
import { jsBackend } from "../../src/backends/backend.js";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { wasmBackendFactory } from "../../src/backends/wasm/index.js";
import { compileAsync } from "../../src/compiler.js";
import { CompileError } from "../../src/diagnostics/diagnostic.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import type { Executable } from "../../src/runtime/executable.js";
import { parallelKernels } from "../../src/backends/wasm/parallel.js";
import { expectSameBits, inputsFor } from "./support.js";

const make = await wasmBackendFactory();

/** A product with an elementwise tail (two kernels, a temporary between them) and a second output. */
const PROGRAM = parseProgramText(`
input A: f32[33, 40]
input B: f32[40, 27]
output C: f32[33, 27] = [i:33, j:27] sum(k:40) A[i, k] * B[k, j]
output D: f32[33, 27] = [i:33, j:27] exp(C[i, j] * 0.01)
`);

const BACKENDS: readonly (readonly [string, () => Executable])[] = [
  ["js", () => jsBackend.compile(PROGRAM).executable],
  ["wasm, one thread", () => make({ threads: 1 }).compile(PROGRAM).executable],
  ["wasm, two threads", () => make({ threads: 2, parallelMinFlops: 0 }).compile(PROGRAM).executable],
];

it("the two-thread module splits the product (so the threaded path is the one tested)", () => {
  expect(parallelKernels(lowerToKernels(PROGRAM), 0).length).toBeGreaterThan(0);
});

describe.each(BACKENDS)("%s", (_, build) => {
  it("inputs written in place give the bits of inputs passed in", () => {
    const exe = build();
    const given = inputsFor(PROGRAM, 5);
    const want = build().run(given);
    const A = exe.inputBuffer!("A");
    const B = exe.inputBuffer!("B");
    expect(A.shape).toEqual([33, 40]);
    expect(A.dtype).toBe("f32");
    expect(exe.inputBuffer!("A")).toBe(A);
    A.data.set(given["A"]!.data);
    B.data.set(given["B"]!.data);
    // Twice: what was written stays for the next run.
    for (let run = 0; run < 2; run++) expectSameBits(exe.run({ A, B }), want);
    // One input in place, one passed in.
    expectSameBits(exe.run({ A, B: given["B"]! }), want);
    exe.dispose?.();
  });

  it("outputs as views hold one run's values until the next run overwrites them", () => {
    const exe = build();
    const first = inputsFor(PROGRAM, 1);
    const second = inputsFor(PROGRAM, 2);
    const want1 = build().run(first);
    const want2 = build().run(second);
    const view1 = exe.run(first, { outputs: "view" });
    expectSameBits(view1, want1);
    const copied = exe.run(first);
    const view2 = exe.run(second, { outputs: "view" });
    expectSameBits(view2, want2);
    // The same storage: the first views now show the second run; the copy does not.
    expect(view2["C"]!.data).toBe(view1["C"]!.data);
    expectSameBits(view1, want2);
    expectSameBits(copied, want1);
    exe.dispose?.();
  });

  it("an unknown input name is a TNS0606 diagnostic", () => {
    const exe = build();
    expect(() => exe.inputBuffer!("Z")).toThrow(CompileError);
    try {
      exe.inputBuffer!("Z");
    } catch (e) {
      expect((e as CompileError).diagnostics[0]!.code).toBe("TNS0606");
      expect((e as CompileError).diagnostics[0]!.hint).toContain("A, B");
    }
  });
});

describe("wasm storage", () => {
  for (const threads of [1, 2]) {
    it(`input buffers and output views are views of the module's memory (${threads} thread(s))`, () => {
      const exe = make({ threads, parallelMinFlops: 0 }).compile(PROGRAM).executable;
      const A = exe.inputBuffer!("A");
      const out = exe.run({ A, B: exe.inputBuffer!("B") }, { outputs: "view" });
      expect(out["C"]!.data.buffer).toBe(A.data.buffer);
      expect(out["D"]!.data.buffer).toBe(A.data.buffer);
      exe.dispose?.();
    });
  }
});

describe("the compiler API", () => {
  for (const backend of ["js", "wasm", "reference"] as const) {
    it(`CompiledProgram.inputBuffer and view outputs (${backend})`, async () => {
      const source = "size n = 5\ninput A[n, n], x[n]\noutput y[i] = A[i, j] * x[j]\n";
      const prog = await compileAsync(source, { backend, threads: 1 });
      const A = prog.inputBuffer("A");
      const x = prog.inputBuffer("x");
      expect(prog.inputBuffer("A")).toBe(A);
      A.data.set(Array.from({ length: 25 }, (_, k) => (k % 5 === Math.floor(k / 5) ? 2 : 0)));
      x.data.set([1, 2, 3, 4, 5]);
      expect(Array.from(prog.run({ A, x }, { outputs: "view" })["y"]!.data)).toEqual([2, 4, 6, 8, 10]);
      expect(() => prog.inputBuffer("B")).toThrow(CompileError);
      prog.dispose();
    });
  }
});

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CompileError } from "../../src/diagnostics/diagnostic.js";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import type { KernelProgram } from "../../src/backends/kernel/types.js";
import { emitWasm, layoutArena, loadBinaryen, loadWasm } from "../../src/backends/wasm/index.js";
import { BYTES } from "../../src/backends/wasm/layout.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { arbProgram } from "../../src/ir/random-program.js";
import { inlineCalls } from "../../src/passes/index.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { UPDATING_GOLDEN } from "../golden.js";
import { CORPUS } from "./corpus.js";
import { expectMatchesInterpreter, inputsFor } from "./support.js";

const binaryen = await loadBinaryen();

/** Compares `text` with `golden/<name>.wat` next to this file (rewritten with TNS_UPDATE_GOLDEN=1). */
function expectWatGolden(name: string, text: string): void {
  const file = join(dirname(expect.getState().testPath!), "golden", `${name}.wat`);
  if (UPDATING_GOLDEN) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    return;
  }
  expect(existsSync(file), `${file} is missing; run with TNS_UPDATE_GOLDEN=1`).toBe(true);
  expect(text, `golden ${name}.wat (rerun with TNS_UPDATE_GOLDEN=1 to update)`).toBe(readFileSync(file, "utf8"));
}

/** Byte ranges of two buffers overlap. */
function overlaps(kp: KernelProgram, offsets: ReadonlyMap<string, number>, a: string, b: string): boolean {
  const size = (n: string): number => {
    const buf = kp.buffers.find((x) => x.name === n)!;
    return buf.size * BYTES[buf.dtype];
  };
  const lo = offsets.get(a)!;
  const hi = offsets.get(b)!;
  return lo < hi + size(b) && hi < lo + size(a);
}

describe("emitWasm", () => {
  it("emits readable, deterministic module text (golden)", () => {
    for (const name of ["matmul", "layernorm", "causal-mask"]) {
      const kp = lowerToKernels(parseProgramText(CORPUS[name]!));
      const text = emitWasm(binaryen, kp, { optimize: false }).text;
      expect(emitWasm(binaryen, kp, { optimize: false }).text).toBe(text);
      expectWatGolden(`wasm-${name}`, text);
    }
  });

  it("validates every corpus module, optimized or not, and imports only the Math functions used", () => {
    for (const [name, text] of Object.entries(CORPUS)) {
      const kp = lowerToKernels(parseProgramText(text));
      for (const optimize of [false, true]) {
        const art = emitWasm(binaryen, kp, { optimize });
        expect(art.binary.length, name).toBeGreaterThan(8);
        expect(art.text).toContain('(import "env" "memory"');
      }
    }
    const art = emitWasm(binaryen, lowerToKernels(parseProgramText(CORPUS["elementwise-ops"]!)));
    // A float32 kernel computes exp (here inside sigmoid) and tanh inline; the others stay host calls.
    expect(art.imports).toEqual(["log", "pow"]);
    expect(emitWasm(binaryen, lowerToKernels(parseProgramText(CORPUS["matmul"]!))).imports).toEqual([]);
  });

  it("runs f64 and i32 programs, including an i32 output", () => {
    const p = parseProgramText(`
input ids: i32[5]
input w: f64[3]
output Y: f64[5, 3] = [i:5, j:3] ids[i] * w[j] - j
output Z: i32[5] = [i:5] ids[i] * 3 - 1
`);
    const kp = lowerToKernels(p);
    const exe = loadWasm(emitWasm(binaryen, kp), kp);
    const ids = Tensor.fromArray([4, -3, 0, 7, 2], "i32");
    const w = Tensor.fromArray([0.5, -1.25, 3], "f64");
    expectMatchesInterpreter(p, (x) => exe.run(x), { ids, w });
    expect(Array.from(exe.run({ ids, w })["Z"]!.data)).toEqual([11, -10, -1, 20, 5]);
  });

  it("copies weights in once and reports missing inputs like the js backend", () => {
    const p = parseProgramText(CORPUS["attention"]!);
    const kp = lowerToKernels(p);
    const exe = loadWasm(emitWasm(binaryen, kp), kp);
    const inputs = inputsFor(p, 5);
    expectMatchesInterpreter(p, (x) => exe.run(x), inputs);
    expectMatchesInterpreter(p, (x) => exe.run(x), inputs);
    expect(() => exe.run({})).toThrow(/TNS0601/);
  });

  it("refuses a program that needs more than 4 GiB with a diagnostic", () => {
    const kp = lowerToKernels(parseProgramText(`
input A: f32[40000, 40000]
output B: f32[40000, 40000] = [i:40000, j:40000] A[i, j] * 2
`));
    let error: unknown;
    try { emitWasm(binaryen, kp); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(CompileError);
    expect((error as CompileError).diagnostics[0]!.code).toBe("TNS0901");
    expect((error as CompileError).message).toMatch(/11\.92 GiB.*4 GiB \(wasm32\)/);
  });
});

describe("layoutArena", () => {
  it("aligns buffers to 16 bytes, updates elementwise defs in place and reuses a temporary's space after its last reader", () => {
    const kp = lowerToKernels(parseProgramText(`
input X: f32[3, 5]
S: f32[3, 5] = [i:3, j:5] X[i, j] * 2
E: f32[3, 5] = [i:3, j:5] S[i, j] + 1
T: f32[3, 5] = [i:3, j:5] E[j, i] * E[i, j]
U: f32[5, 3] = [i:5, j:3] T[j, i] * 2
output O: f32[3] = [i:3] sum(j:5) U[j, i]
`));
    const layout = layoutArena(kp);
    const { offsets, bytes } = layout;
    for (const off of offsets.values()) expect(off % 16).toBe(0);
    expect(bytes % 16).toBe(0);
    // E reads S only at the element it writes: in place. T reads E transposed: not in place, and U reuses S's (= E's) space.
    expect(layout.inPlace).toEqual([{ kernel: 1, target: "E", over: "S" }]);
    expect(offsets.get("E")).toBe(offsets.get("S"));
    expect(offsets.get("T")).not.toBe(offsets.get("E"));
    expect(offsets.get("U")).toBe(offsets.get("S"));
    expect(overlaps(kp, offsets, "X", "O")).toBe(false);
    expect(bytes).toBeLessThan(layout.unplannedBytes);
  });

  it("never overlaps a kernel's target with anything it reads (but an in-place operand) or anything still live (random programs)", () => {
    fc.assert(
      fc.property(arbProgram(), (program) => {
        const kp = lowerToKernels(inlineCalls.run(program));
        const layout = layoutArena(kp, () => 64);
        const { offsets } = layout;
        const inPlace = new Set(layout.inPlace.map((u) => `${u.target} ${u.over}`));
        const lastRead = new Map<string, number>();
        kp.kernels.forEach((k, n) => k.reads.forEach((r) => lastRead.set(r, n)));
        const kept = new Set(kp.buffers.filter((b) => b.role === "input" || b.role === "weight").map((b) => b.name));
        const outputs = new Set(kp.outputs);
        kp.kernels.forEach((k, n) => {
          for (const b of kp.buffers) {
            if (b.name === k.target || inPlace.has(`${k.target} ${b.name}`)) continue;
            const written = kp.kernels.findIndex((x) => x.target === b.name);
            const live = kept.has(b.name) || (written < n && (outputs.has(b.name) || (lastRead.get(b.name) ?? -1) >= n)) || k.reads.includes(b.name);
            if (live) expect(overlaps(kp, offsets, k.target, b.name), `${k.target} vs ${b.name}`).toBe(false);
          }
          const scratch = layout.scratch.get(n)!;
          for (const b of kp.buffers) {
            const live = kept.has(b.name) || b.name === k.target || k.reads.includes(b.name);
            const lo = offsets.get(b.name)!;
            const size = b.size * BYTES[b.dtype];
            if (live) expect(lo < scratch + 64 && scratch < lo + size, `scratch ${n} vs ${b.name}`).toBe(false);
          }
        });
        const fixed = [...kept];
        for (const a of fixed) for (const b of fixed) if (a !== b) expect(overlaps(kp, offsets, a, b)).toBe(false);
      }),
      { numRuns: 200, seed: 20240601 },
    );
  });
});

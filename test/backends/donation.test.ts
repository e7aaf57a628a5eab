/**
 * Donated inputs (the `donate` compile option): the memory planner frees a
 * donated input after its last reader and writes an elementwise update of it
 * in place where that is legal; runs give the same bits as without donation.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { jsBackend } from "../../src/backends/backend.js";
import { loadBackend } from "../../src/backends/index.js";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { bufferLifetimes, planMemory } from "../../src/backends/kernel/memory-plan.js";
import { skinnyPlan } from "../../src/backends/kernel/skinny.js";
import { compile, CompileError, loadMilpSolver, Tensor } from "../../src/index.js";
import type { Program } from "../../src/ir/types.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { arbProgram, randomInputs } from "../../src/ir/random-program.js";
import { randomTensor } from "../../src/runtime/random.js";
import { wasmBackendFactory } from "../../src/backends/wasm/index.js";
import { verifyProgramErrors } from "../../src/ir/verify.js";
import { expectGolden } from "../golden.js";

beforeAll(async () => {
  await Promise.all([loadBackend("wasm"), loadMilpSolver()]);
});

const donating = (text: string, donated: string[]): Program => ({ ...parseProgramText(text), donated });

/** An SGD step of a layer (`rows` examples, 24 → 40): G is the gradient at the layer's output, W_next the update of W. */
const sgd = (rows: number): string => `
input X: f32[${rows}, 24]
input W: f32[24, 40]
input D: f32[${rows}, 40]
H: f32[${rows}, 40] = [i:${rows}, j:40] relu(sum(k:24) X[i, k] * W[k, j])
G: f32[${rows}, 40] = [i:${rows}, j:40] H[i, j] * D[i, j]
output W_next: f32[24, 40] = [k:24, j:40] W[k, j] - 0.1 * sum(i:${rows}) X[i, k] * G[i, j]
`;
const SGD = sgd(32);

describe("memory plan with donated inputs", () => {
  it("frees a donated input after its last reader and writes the update over it", () => {
    const kp = lowerToKernels(donating(SGD, ["X", "W", "D"]));
    const life = new Map(bufferLifetimes(kp).map((l) => [l.name, l]));
    expect(life.get("W")).toMatchObject({ first: -1, last: 2, persistent: false, donated: true });
    expect(life.get("D")).toMatchObject({ first: -1, last: 1, persistent: false, donated: true });
    const plan = planMemory(kp);
    expect(plan.persistentBytes).toBe(0);
    // The product's epilogue reads W only at the element it stores: W_next takes W's bytes.
    expect(plan.inPlace).toContainEqual({ kernel: 2, target: "W_next", over: "W" });
    expect(plan.offsets.get("W_next")).toBe(plan.offsets.get("W"));
    const kept = planMemory(lowerToKernels(parseProgramText(SGD)));
    expect(kept.inPlace.some((u) => u.over === "W")).toBe(false);
    expect(plan.bytes).toBeLessThan(kept.bytes);
  });

  it("does not update over an operand of a product's epilogue when the product may run as a skinny kernel", () => {
    // The wasm backend stores a skinny product's sums first and runs the epilogue over them afterwards (24 x 40 x 8 here):
    // it would read W where the sums already are.
    const kp = lowerToKernels(donating(`
input X: f32[8, 4]
input W: f32[4, 40]
input G: f32[8, 40]
output W_next: f32[4, 40] = [k:4, j:40] W[k, j] - 0.1 * sum(i:8) X[i, k] * G[i, j]
`, ["X", "W", "G"]));
    expect(skinnyPlan(kp.kernels[0]!.epilogueContraction!.contraction)).not.toBeNull();
    expect(planMemory(kp).inPlace).toEqual([]);
  });

  it("keeps the input where the update is not legal", () => {
    // W is read after the update: it must survive it (the later reader, elementwise, may take its bytes).
    const after = lowerToKernels(donating(`
input W: f32[4, 4]
input G: f32[4, 4]
output W_next: f32[4, 4] = [i:4, j:4] W[i, j] - 0.1 * G[i, j]
output Y: f32[4, 4] = [i:4, j:4] W[i, j] * 2
`, ["W", "G"]));
    expect(planMemory(after).inPlace).toEqual([{ kernel: 0, target: "W_next", over: "G" }, { kernel: 1, target: "Y", over: "W" }]);
    // A transpose reads another element than the one it stores.
    const transposed = lowerToKernels(donating(`
input W: f32[4, 4]
input G: f32[4, 4]
output W_next: f32[4, 4] = [i:4, j:4] W[j, i] - 0.1 * G[i, j]
`, ["W"]));
    expect(planMemory(transposed).inPlace).toEqual([]);
    // W is an operand of the product, read at many elements.
    const product = lowerToKernels(donating(`
input W: f32[4, 4]
input G: f32[4, 4]
output W_next: f32[4, 4] = [k:4, j:4] W[k, j] - 0.1 * sum(i:4) W[i, k] * G[i, j]
`, ["W"]));
    expect(planMemory(product).inPlace).toEqual([]);
    // Not donated: never written.
    expect(planMemory(lowerToKernels(parseProgramText(SGD))).inPlace.some((u) => ["X", "W", "D"].includes(u.over))).toBe(false);
  });

  it("never lets two live buffers share a byte, and runs random programs with donated inputs as without (js, wasm)", async () => {
    const wasm = (await wasmBackendFactory())({ threads: 1 });
    fc.assert(
      fc.property(arbProgram({ calls: false }), fc.integer({ min: 0, max: 1000 }), (plain, seed) => {
        const inputs = plain.tensors.filter((t) => t.role === "input").map((t) => t.name);
        const program = { ...plain, donated: inputs };
        const kp = lowerToKernels(program);
        const plan = planMemory(kp);
        const lives = bufferLifetimes(kp);
        const inPlace = new Set(plan.inPlace.map((u) => `${u.target}/${u.over}`));
        for (const a of lives) {
          for (const b of lives) {
            if (a.name >= b.name || a.first > b.last || b.first > a.last) continue;
            if (inPlace.has(`${a.name}/${b.name}`) || inPlace.has(`${b.name}/${a.name}`)) continue;
            const [oa, ob] = [plan.offsets.get(a.name)!, plan.offsets.get(b.name)!];
            expect(oa + a.bytes <= ob || ob + b.bytes <= oa, `${a.name} and ${b.name}`).toBe(true);
          }
        }
        const data = randomInputs(program, seed);
        const snapshot = Object.fromEntries(Object.entries(data).map(([n, t]) => [n, t.data.slice()]));
        for (const backend of [jsBackend, wasm]) {
          const want = backend.compile(plain).executable.run(data);
          const exe = backend.compile(program).executable;
          const got = exe.run(data, { measureMemory: true });
          expect(exe.measuredPeakBytes!()).toBeLessThanOrEqual(plan.bytes + (backend === wasm ? 1 << 20 : 0));
          for (const [name, t] of Object.entries(want)) expect(got[name]!.data, `${backend.name} ${name}`).toEqual(t.data);
        }
        // The caller's arrays are copied in, never written.
        for (const [name, t] of Object.entries(data)) expect(t.data, name).toEqual(snapshot[name]);
      }),
      { numRuns: 60, seed: 777 },
    );
  });
});

describe("the memory plan of a training step with donated inputs (golden)", () => {
  it("frees X and T after their last readers and writes each parameter's update over the parameter", () => {
    const source = readFileSync(new URL("../../examples/train_mlp.tns", import.meta.url), "utf8");
    const ir = compile(source, { donate: "all" }).ir!;
    const kp = lowerToKernels(ir);
    const plan = planMemory(kp);
    const lines = [`arena ${plan.bytes} bytes (kept inputs and weights ${plan.persistentBytes})`];
    for (const l of bufferLifetimes(kp)) {
      const over = plan.inPlace.find((u) => u.target === l.name);
      const span = `${l.first < 0 ? "start" : kp.kernels[l.first]!.target}..${l.last >= kp.kernels.length ? "end" : l.last < 0 ? "start" : kp.kernels[l.last]!.target}`;
      lines.push(`${l.name.padEnd(16)} @${String(plan.offsets.get(l.name)).padStart(6)} ${String(l.bytes).padStart(6)} B  ${span}${l.donated ? "  donated" : ""}${over ? `  over ${over.over}` : ""}`);
    }
    expectGolden("donation/train_mlp-plan", lines.join("\n") + "\n");
    // (b1_next and b2_next take the bytes of the bias gradients, which die at the same kernel.)
    for (const p of ["W1", "W2"]) expect(plan.inPlace.some((u) => u.target === `${p}_next` && u.over === p), p).toBe(true);
  });

  it("is an IR invariant that only run-time inputs are donated", () => {
    const program = donating(SGD, ["W", "H"]);
    expect(verifyProgramErrors(program)).toEqual(["donated 'H' is not a run-time input"]);
  });
});

describe("the donate option", () => {
  const source = readFileSync(new URL("../../examples/train_mlp.tns", import.meta.url), "utf8");
  const inputs = (): Record<string, Tensor> => {
    const prog = compile(source);
    return Object.fromEntries(prog.inputs.map((info, k) => [info.name, randomTensor(info.shape, info.dtype, 31 + k)]));
  };

  it("lowers the planned peak of a training step and keeps its outputs bit for bit (js, wasm)", () => {
    const data = inputs();
    for (const backend of ["js", "wasm"] as const) {
      const kept = compile(source, { backend });
      const donated = compile(source, { backend, donate: "all" });
      expect(donated.ok).toBe(true);
      expect(donated.memory!.peakBytes).toBeLessThan(kept.memory!.peakBytes);
      expect(donated.memory!.donated).toEqual(["X", "T", "W1", "b1", "W2", "b2"]);
      expect(kept.memory!.donated).toBeUndefined();
      const want = kept.run(data);
      const got = donated.run(data, { measureMemory: true });
      expect(donated.measuredPeakBytes()).toBeLessThanOrEqual(donated.memory!.peakBytes);
      for (const [name, t] of Object.entries(want)) expect(got[name]!.data, `${backend} ${name}`).toEqual(t.data);
      // A second run gives the same: each run copies the donated inputs in again.
      const again = donated.run(data);
      for (const [name, t] of Object.entries(want)) expect(again[name]!.data, `${backend} ${name}`).toEqual(t.data);
    }
  });

  it("refuses an input buffer of a donated input (TNS0702) and a name that is not an input (TNS0703)", () => {
    for (const backend of ["js", "wasm"] as const) {
      const prog = compile(source, { backend, donate: ["W1"] });
      expect(() => prog.inputBuffer("W1")).toThrow(CompileError);
      try {
        prog.inputBuffer("W1");
      } catch (e) {
        expect((e as CompileError).diagnostics[0]!.code).toBe("TNS0702");
      }
      expect(prog.inputBuffer("X").shape).toEqual([512, 64]);
    }
    const bad = compile(source, { donate: ["W1", "H"] });
    expect(bad.ok).toBe(false);
    expect(bad.diagnostics[0]!.code).toBe("TNS0703");
    expect(bad.diagnostics[0]!.message).toContain("'H'");
    expect(() => compile(source, { donate: "some" as unknown as "all" })).toThrow(TypeError);
  });

  it("lets the reference backend keep every input", () => {
    const prog = compile(source, { backend: "reference", donate: "all" });
    expect(prog.ok).toBe(true);
    expect(prog.ir!.donated).toBeUndefined();
  });
});

/**
 * The WebGPU backend against the reference interpreter on real programs:
 * every example, every stdlib function, the NumPy einsum corpus, random
 * programs, and the shapes that stress the kernels (sizes off the tiles, a
 * reduction longer than one workgroup holds, more workgroups than one grid
 * dimension holds, more buffers than a shader stage binds). Runs on this
 * host's WebGPU: Dawn on Mesa's llvmpipe on a machine without a GPU.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadBackend } from "../../src/backends/index.js";
import { createWgslRunner, defaultWgslDevice, emitWgsl } from "../../src/backends/wgsl/index.js";
import { check, compileAsync } from "../../src/compiler.js";
import { einsumAsync } from "../../src/einsum/index.js";
import { interpret } from "../../src/interpret.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { arbProgram, randomInputs as arbInputsFor } from "../../src/ir/random-program.js";
import type { Program } from "../../src/ir/types.js";
import { inlineCalls } from "../../src/passes/index.js";
import { randomTensor } from "../../src/runtime/random.js";
import type { Tensor } from "../../src/runtime/tensor.js";
import { EINSUM_CORPUS } from "../einsum/corpus.js";
import { EXAMPLE_FILES, EXAMPLES_DIR, randomInputs, runReference, SMALL_SIZES } from "../examples/harness.js";
import { CASES, FILE } from "../examples/stdlib-cases.js";
import { numpyEinsum, numpyPython } from "../support/numpy.js";
import { CORPUS } from "./corpus.js";
import { inputsFor, relativeError } from "./support.js";

const wgsl = await loadBackend("wgsl");
const TOLERANCE = 1e-4;

async function expectWgslMatches(p: Program, inputs: Record<string, Tensor>, tol = TOLERANCE): Promise<void> {
  const { executable } = wgsl.compile(p);
  try {
    const want = interpret(p, inputs);
    const got = await executable.runAsync!(inputs);
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const [name, w] of Object.entries(want)) {
      expect(got[name]!.shape, name).toEqual(w.shape);
      expect(got[name]!.dtype, name).toBe(p.tensors.find((t) => t.name === name)!.dtype);
      expect(relativeError(got[name]!.data, w.data), name).toBeLessThanOrEqual(tol);
    }
  } finally {
    executable.dispose?.();
  }
}

describe("wgsl backend: examples", () => {
  for (const name of EXAMPLE_FILES) {
    it(`${name} agrees with the interpreter`, async () => {
      const file = join(EXAMPLES_DIR, name);
      const source = readFileSync(file, "utf8");
      const sizes = { ...(SMALL_SIZES[name] ?? {}) };
      // Weights without data (lowrank_mlp.tns) get random data, bound at compile time.
      const lowered = check(source, { file, sizes }).program!;
      const inputs = randomInputs(lowered, 1234);
      const isWeight = (n: string): boolean => lowered.tensors.some((t) => t.name === n && t.role === "weight");
      const weights = Object.fromEntries(Object.entries(inputs).filter(([n]) => isWeight(n)));
      const compiled = await compileAsync(source, { file, sizes, weights, backend: "wgsl", verify: true });
      expect(compiled.ok, compiled.formatDiagnostics()).toBe(true);
      const want = runReference(lowered, inputs);
      const got = await compiled.runAsync(Object.fromEntries(Object.entries(inputs).filter(([n]) => !isWeight(n))));
      for (const [out, w] of Object.entries(want)) expect(relativeError(got[out]!.data, w.data), out).toBeLessThanOrEqual(TOLERANCE);
      compiled.dispose();
    });
  }
});

describe("wgsl backend: stdlib", () => {
  for (const c of CASES) {
    it(`${c.module}.${c.fn} (${c.label}) agrees with the formula`, async () => {
      const source = `import ${c.fn} from "${c.module}"\n${c.body}\n`;
      const compiled = await compileAsync(source, { file: FILE, backend: "wgsl" });
      expect(compiled.ok, compiled.formatDiagnostics()).toBe(true);
      const inputs = randomInputs(compiled.loweredIr!, 99);
      const got = await compiled.runAsync(inputs);
      const want = c.expected(inputs);
      expect(got["Y"]!.shape).toEqual(want.shape);
      expect(relativeError(got["Y"]!.data, want.data)).toBeLessThanOrEqual(TOLERANCE);
      compiled.dispose();
    });
  }
});

const python = numpyPython();
// CI installs python3-numpy; a developer machine without it skips this oracle.
const describeNumpy = python || process.env["CI"] ? describe : describe.skip;

describeNumpy("wgsl backend: the NumPy einsum oracle", () => {
  it("agrees with numpy.einsum on every expression of the corpus", async () => {
    const cases = EINSUM_CORPUS.map((c, k) => ({ ...c, tensors: c.shapes.map((shape, j) => randomTensor(shape, "f32", 1000 * k + j)) }));
    const expected = numpyEinsum(python!, cases.map((c) => ({ spec: c.spec, arrays: c.tensors.map((t) => ({ shape: t.shape, data: t.data })) })));
    for (const [k, c] of cases.entries()) {
      const got = await einsumAsync(c.spec, c.tensors, { backend: "wgsl" });
      expect([...got.shape], c.spec).toEqual(expected[k]!.shape);
      expect(relativeError(got.data, expected[k]!.data), c.spec).toBeLessThanOrEqual(TOLERANCE);
    }
  });
});

describe("wgsl backend: random programs", () => {
  it("agrees with the interpreter, and refuses float64 with TNS0902", async () => {
    await fc.assert(
      fc.asyncProperty(arbProgram({ maxExtent: 7 }), fc.integer({ min: 0, max: 1000 }), async (program, seed) => {
        const p = inlineCalls.run(program);
        if (p.tensors.some((t) => t.dtype === "f64")) {
          expect(() => wgsl.compile(p)).toThrow(/TNS0902/);
          return;
        }
        await expectWgslMatches(p, arbInputsFor(p, seed));
      }),
      { numRuns: 60, seed: 20261207 },
    );
  });
});

describe("wgsl backend: kernel shapes", () => {
  const run = async (text: string, tol = TOLERANCE): Promise<void> => {
    const p = parseProgramText(text);
    for (const seed of [1, 2]) await expectWgslMatches(p, inputsFor(p, seed), tol);
  };

  it("tiles matrix products whose sizes divide no tile (both tilings, vec4 and scalar reads)", async () => {
    for (const [m, n, k] of [[37, 53, 29], [3, 70, 33], [64, 128, 48], [33, 65, 17]] as const) {
      await run(`input A: f32[${m}, ${k}]\ninput B: f32[${k}, ${n}]\noutput C: f32[${m}, ${n}] = [i:${m}, j:${n}] sum(k:${k}) A[i, k] * B[k, j]`);
      await run(`input A: f32[${k}, ${m}]\ninput B: f32[${n}, ${k}]\noutput C: f32[${m}, ${n}] = [i:${m}, j:${n}] sum(k:${k}) A[k, i] * B[j, k] * 0.5`);
    }
  });

  it("runs batched products and products with an epilogue", async () => {
    await run(`input A: f32[3, 9, 20]\ninput B: f32[3, 20, 12]\noutput C: f32[3, 9, 12] = [b:3, i:9, j:12] sum(k:20) A[b, i, k] * B[b, k, j]`);
    await run(`input X: f32[19, 24]\ninput W: f32[24, 40]\ninput b: f32[40]\noutput H: f32[19, 40] = [i:19, j:40] relu(sum(k:24) X[i, k] * W[k, j] + b[j])`);
  });

  it("reduces in two passes when one workgroup would hold too much (100,003 elements)", async () => {
    const p = parseProgramText(`input x: f32[3, 100003]\noutput s: f32[3] = [i:3] sum(j:100003) x[i, j] * x[i, j]\noutput m: f32[3] = [i:3] max(j:100003) x[i, j]`);
    expect(emitWgsl(p).dispatches.map((d) => d.form)).toEqual(["reduce-partials", "reduce-final", "reduce-partials", "reduce-final"]);
    await expectWgslMatches(p, inputsFor(p, 1), 1e-5);
  });

  it("shares a long reduction across a workgroup, with the rest of the def after it", async () => {
    const p = parseProgramText(`input x: f32[5, 700]\noutput y: f32[5] = [i:5] sqrt(sum(j:700) x[i, j] * x[i, j]) + prod(j_1:700) (1 + x[i, j_1] * 0.001)`);
    expect(emitWgsl(p).dispatches.map((d) => d.form)).toEqual(["workgroup-reduce"]);
    await expectWgslMatches(p, inputsFor(p, 3));
  });

  it("spreads more than 65,535 workgroups over a second grid dimension", async () => {
    // 2,100,000 rows, 32 per tile: 65,625 workgroups for the product.
    const rows = 2100000;
    const p = parseProgramText(`input A: f32[${rows}, 1]\ninput B: f32[1, 1]\noutput C: f32[${rows}, 1] = [i:${rows}, j:1] sum(k:1) A[i, k] * B[k, j]`);
    const [d] = emitWgsl(p).dispatches;
    expect(d!.form).toBe("tiled-matmul");
    expect(d!.workgroups[1]).toBeGreaterThan(1);
    await expectWgslMatches(p, inputsFor(p, 1));
  });

  it("reads more buffers than a shader stage binds through one packed binding", async () => {
    const names = Array.from({ length: 11 }, (_, k) => `x${k}`);
    const text = [
      ...names.map((n, k) => `input ${n}: ${k % 3 === 0 ? "i32" : "f32"}[6]`),
      `output y: f32[6] = [i:6] ${names.map((n) => `${n}[i]`).join(" + ")}`,
    ].join("\n");
    const p = parseProgramText(text);
    // Planned for the compatibility limits (this device may bind more), run on this device.
    const plan = emitWgsl(p);
    const [d] = plan.dispatches;
    expect(d!.pack?.parts.length).toBeGreaterThan(0);
    expect(d!.bindings.length).toBeLessThanOrEqual(8);
    const runner = await createWgslRunner((await defaultWgslDevice()).device, plan, {});
    const inputs = inputsFor(p, 5);
    const data = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, t.dtype === "i32" ? Int32Array.from(t.data) : Float32Array.from(t.data)]));
    const { outputs } = await runner.run(data);
    runner.destroy();
    expect(relativeError(outputs["y"]!, interpret(p, inputs)["y"]!.data)).toBeLessThanOrEqual(TOLERANCE);
  });

  it("runs an expression nested deeper than WGSL parsers accept, through lets", async () => {
    const depth = 300;
    let expr = "x[i]";
    for (let k = 0; k < depth; k++) expr = k % 2 === 0 ? `(${expr} * 0.5 + x[i])` : `tanh(${expr})`;
    const p = parseProgramText(`input x: f32[70]\noutput y: f32[70] = [i:70] ${expr}`);
    const code = emitWgsl(p).dispatches[0]!.code;
    let deepest = 0;
    let open = 0;
    for (const ch of code) {
      open += ch === "(" ? 1 : ch === ")" ? -1 : 0;
      deepest = Math.max(deepest, open);
    }
    expect(deepest).toBeLessThanOrEqual(40);
    expect(code).toContain("let x0 = ");
    await expectWgslMatches(p, inputsFor(p, 1));
  });

  it("holds a memory budget on the device: the GPU buffers a run allocates are the plan's, under the budget", async () => {
    // train_rnn: its backward pass holds intermediates the schedule can drop and compute again (train_mlp's plan on
    // the device is already at its floor since its gradients share their terms).
    const source = readFileSync(join(EXAMPLES_DIR, "train_rnn.tns"), "utf8");
    const free = await compileAsync(source, { backend: "wgsl" });
    const inputs = randomInputs(free.loweredIr!, 7);
    const want = await free.runAsync(inputs);
    const peak = free.measuredPeakBytes()!;
    expect(peak).toBe(free.memory!.peakBytes);
    free.dispose();
    // A budget below the unbudgeted plan: the program is rescheduled (outputs stored late, intermediates computed
    // again where that is not enough), and the device holds no more than planned.
    const budget = peak - 16;
    const held = await compileAsync(source, { backend: "wgsl", memoryBudget: budget });
    expect(held.ok, held.formatDiagnostics()).toBe(true);
    expect(held.passLog.at(-1)).toMatchObject({ pass: "rematerialize", changed: true });
    expect(held.memory!.peakBytes).toBeLessThan(peak);
    const got = await held.runAsync(inputs);
    expect(held.measuredPeakBytes()!).toBe(held.memory!.peakBytes);
    expect(held.measuredPeakBytes()!).toBeLessThanOrEqual(budget);
    for (const [name, t] of Object.entries(want)) expect(Array.from(got[name]!.data), name).toEqual(Array.from(t.data));
    held.dispose();
    const tight = await compileAsync(source, { backend: "wgsl", memoryBudget: 1024 });
    expect(tight.ok).toBe(false);
    expect(tight.diagnostics.map((d) => d.code)).toEqual(["TNS0701"]);
  });

  it("stores i32 results", async () => {
    await run(`input a: i32[7]\ninput b: i32[7]\noutput c: i32[7] = [i:7] a[i] * b[i] - 3`);
  });

  it("reports a shader that does not compile with its line quoted", async () => {
    const p = parseProgramText(`input x: f32[4]\noutput y: f32[4] = [i:4] exp(x[i])`);
    const plan = emitWgsl(p);
    const broken = { ...plan, dispatches: plan.dispatches.map((d) => ({ ...d, code: d.code.replace("exp(", "exq(") })) };
    const { device } = await defaultWgslDevice();
    const error = await createWgslRunner(device, broken, {}).catch((e: unknown) => e);
    expect(String(error)).toMatch(/the WGSL of k0_y does not compile/);
    expect(String(error)).toMatch(/error at \d+:\d+: .*exq/);
    expect(String(error)).toMatch(/\| +b_y\[v_i\] = exq\(b_x\[v_i\]\);/);
  });

  it("compiles every shader of the corpus without an error or a warning", async () => {
    const { device } = await defaultWgslDevice();
    for (const [name, text] of Object.entries(CORPUS)) {
      const p = parseProgramText(text);
      if (p.tensors.some((t) => t.dtype === "f64")) continue;
      const plan = emitWgsl(p);
      const weights = Object.fromEntries(p.tensors.flatMap((t) => (t.role === "weight" && t.data ? [[t.name, t.data]] : [])));
      const runner = await createWgslRunner(device, plan, weights);
      expect(runner.warnings, name).toEqual([]);
      runner.destroy();
    }
  });
});

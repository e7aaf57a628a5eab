/**
 * Helpers for backend tests: random inputs for a program and a comparison
 * of backend outputs with the reference interpreter.
 */
import { expect } from "vitest";
import type { Program } from "../../src/ir/types.js";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import type { Binaryen } from "../../src/backends/wasm/binaryen.js";
import type { ThreadHost } from "../../src/backends/wasm/threads.js";
import { emitWasm, hostRunsRelaxedSimd, loadWasm } from "../../src/backends/wasm/index.js";
import { programCost } from "../../src/passes/cost.js";
import type { WasmArtifact } from "../../src/backends/wasm/emit.js";
import type { KernelProgram } from "../../src/backends/kernel/types.js";
import { WA } from "../support/webassembly.js";
import { interpret } from "../../src/interpret.js";
import { randomTensor } from "../../src/runtime/random.js";
import type { Executable } from "../../src/runtime/executable.js";
import type { Tensor } from "../../src/runtime/tensor.js";

/** Seeded random values for every input of a program. */
export function inputsFor(p: Program, seed = 1): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  p.tensors.forEach((t, k) => {
    if (t.role === "input") out[t.name] = randomTensor(t.shape, t.dtype, seed * 1000 + k);
  });
  return out;
}

/**
 * Largest error of `actual` against `expected`, relative to the largest
 * finite magnitude of `expected`; non-finite expected values must match exactly.
 */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 0;
  for (let k = 0; k < expected.length; k++) if (Number.isFinite(expected[k]!)) scale = Math.max(scale, Math.abs(expected[k]!));
  let worst = 0;
  for (let k = 0; k < expected.length; k++) {
    const e = expected[k]!;
    const a = actual[k]!;
    if (!Number.isFinite(e)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) return Infinity;
    } else {
      worst = Math.max(worst, Math.abs(a - e) / Math.max(scale, 1e-30));
    }
  }
  return worst;
}

/** Asserts that outputs agree with the interpreter on the same inputs within `tol`. */
export function expectMatchesInterpreter(p: Program, run: (inputs: Record<string, Tensor>) => Record<string, Tensor>, inputs: Record<string, Tensor>, tol = 1e-4): void {
  const want = interpret(p, inputs);
  const got = run(inputs);
  for (const name of Object.keys(want)) {
    const g = got[name];
    expect(g, `output ${name}`).toBeDefined();
    expect(g!.shape).toEqual(want[name]!.shape);
    const node = p.tensors.find((t) => t.name === name)!;
    expect(g!.dtype).toBe(node.dtype);
    expect(relativeError(g!.data, want[name]!.data), `output ${name}`).toBeLessThanOrEqual(tol);
  }
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
}

/** Asserts that two runs' outputs have the same names, shapes and bits (threads against one thread). */
export function expectSameBits(got: Record<string, Tensor>, want: Record<string, Tensor>): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const [name, t] of Object.entries(want)) {
    const g = got[name]!;
    expect(g.shape, name).toEqual(t.shape);
    const differ = t.data.findIndex((x, k) => !Object.is(x, g.data[k]));
    expect(differ, `${name}: first element that differs`).toBe(-1);
  }
}

/** IR text of a dense layer `relu(sum_k X[i, k] * W[k, j] + b[j])`: a matrix product with a per-column epilogue operand. */
export const denseLayer = (m: number, n: number, k: number, dtype = "f32", biasType = dtype): string => `
input X: ${dtype}[${m}, ${k}]
input W: ${dtype}[${k}, ${n}]
input b: ${biasType}[${n}]
output H: ${dtype}[${m}, ${n}] = [i:${m}, j:${n}] relu(sum(k:${k}) X[i, k] * W[k, j] + b[j])
`;

/**
 * Runs `exe` and `reference` on seeded inputs of `p` and asserts the same
 * bits every time; disposes `exe` (its worker threads) afterwards.
 */
export function expectSameBitsAs(p: Program, exe: Executable, reference: Executable, seeds: readonly number[] = [1, 2]): void {
  try {
    for (const seed of seeds) {
      const inputs = inputsFor(p, seed);
      expectSameBits(exe.run(inputs), reference.run(inputs));
    }
  } finally {
    exe.dispose?.();
  }
}

/**
 * A product and a row softmax after it, at sizes off every tile: with threads
 * (and `parallelMinFlops: 0`) a split product and split loop kernels back to
 * back. The thread tests run it on each kind of host.
 */
export const PRODUCT_THEN_SOFTMAX = `
input A: f32[45, 70]
input B: f32[70, 61]
output S: f32[45, 61] = [i:45, j:61] sum(k:70) A[i, k] * B[k, j]
output M: f32[45] = [i:45] max(j:61) S[i, j]
output E: f32[45, 61] = [i:45, j:61] exp(S[i, j] - M[i])
`;

/** The skinny function a wasm module holds for kernel 0 (`axpy`, `dot`, `panels`), or null when the micro-kernel or a loop runs it. */
export function skinnyForm(text: string): string | null {
  return /\(func \$k0_\w+?_(axpy|dot|panels) /.exec(text)?.[1] ?? null;
}

/**
 * Emits `p` for wasm with and without relaxed SIMD (running each module
 * where the engine accepts it) and checks the skinny form of kernel 0, the
 * values against the interpreter, and that the cost model names the same
 * kernel for the output `C` or `y`.
 */
export function checkSkinny(binaryen: Binaryen, host: ThreadHost | null, p: Program, form: string | null): void {
  const kp = lowerToKernels(p);
  for (const relaxedSimd of [false, true]) {
    const art = emitWasm(binaryen, kp, { relaxedSimd });
    expect(skinnyForm(art.text), "kernel form").toBe(form);
    if (relaxedSimd && !hostRunsRelaxedSimd()) continue;
    const exe = loadWasm(art, kp, host);
    expectMatchesInterpreter(p, (x) => exe.run(x), inputsFor(p, 5));
  }
  const c = programCost(p).tensors.find((t) => t.name === "C" || t.name === "y")!;
  expect(c.wasmKernel).toBe(form === null ? c.wasmKernel : `skinny-${form}`);
}

/**
 * Runs the first split kernel of a module built for `threads` threads unit
 * by unit, the last unit first, unit `u` on thread `u mod threads`, after
 * `fill(view)` has written its operands into a fresh shared memory; returns
 * `view` (a float32 view of a buffer by name) to read the result. The
 * module's `parallel[0]` must exist and have at least 2 units.
 */
export function runUnitsBackwards(
  art: WasmArtifact, kp: KernelProgram, threads: number, fill: (view: (name: string) => Float32Array) => void,
): (name: string) => Float32Array {
  const [job] = art.parallel;
  expect(job!.units).toBeGreaterThanOrEqual(2);
  const memory = new WA.Memory({ initial: art.pages, maximum: art.pages, shared: true });
  const instance = new WA.Instance(new WA.Module(art.binary), { env: { memory } });
  const unit = instance.exports[job!.entry] as (u: number, thread: number) => void;
  const view = (name: string): Float32Array => new Float32Array(memory.buffer, art.layout.offsets.get(name)!, kp.buffers.find((x) => x.name === name)!.size);
  fill(view);
  for (let u = job!.units - 1; u >= 0; u--) unit(u, u % threads);
  return view;
}

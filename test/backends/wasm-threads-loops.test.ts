import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import type { KExpr, Kernel, Stmt } from "../../src/backends/kernel/types.js";
import { emitWasm, loadBinaryen, loadThreadHost, wasmBackendFactory } from "../../src/backends/wasm/index.js";
import { LOOP_OP_FLOPS, loopSplit, loopWork, PARALLEL_MIN_FLOPS, splitKernels } from "../../src/backends/wasm/parallel.js";
import { compile } from "../../src/compiler.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import type { Affine, Program } from "../../src/ir/types.js";
import { defaultPipeline } from "../../src/passes/index.js";
import type { Pass } from "../../src/passes/pass.js";
import { expectSameBits, inputsFor } from "./support.js";
import { WA } from "../support/webassembly.js";

const binaryen = await loadBinaryen();
const host = await loadThreadHost();
const make = await wasmBackendFactory();
/** Every legal loop kernel split, however small, on two threads; and the single-threaded backend. */
const split = make({ threads: 2, parallelMinFlops: 0 });
const single = make({ threads: 1 });

const f32 = (): "f32" => "f32";
const ctx2 = { dtypeOf: f32, inlineMath: true, threads: 2 };

const affine = (terms: Record<string, number>, constant = 0): Affine => ({
  terms: Object.entries(terms).sort(([a], [b]) => (a < b ? -1 : 1)).map(([v, coef]) => ({ var: v, coef })),
  constant,
});
const load = (buffer: string, terms: Record<string, number>, constant = 0): KExpr => ({ kind: "load", buffer, offset: affine(terms, constant) });
const loop = (v: string, extent: number, body: Stmt[]): Stmt => ({ kind: "loop", var: v, extent, body });
const store = (buffer: string, terms: Record<string, number>, value: KExpr, op?: "sum"): Stmt => ({ kind: "store", buffer, offset: affine(terms), value, ...(op ? { op } : {}) });
const kernel = (target: string, body: Stmt[]): Kernel => ({ target, reads: [], loopOrder: [], body });

/** The last kernel of a tns program. */
const kernelOf = (source: string): Kernel => lowerToKernels(irOf(source)).kernels.at(-1)!;

/** The one kernel of a program in the IR text form. */
const onlyKernel = (text: string): Kernel => lowerToKernels(parseProgramText(text)).kernels[0]!;

const rowMax = (r: number, c: number): string => `input X: f32[${r}, ${c}]\noutput Y: f32[${r}] = [i:${r}] max(j:${c}) X[i, j]\n`;
const expRows = (r: number, c: number): string =>
  `input X: f32[${r}, ${c}]\ninput M: f32[${r}]\noutput Y: f32[${r}, ${c}] = [i:${r}, j:${c}] exp(X[i, j] - M[i])\n`;
const exp1d = (n: number): string => `input X: f32[${n}]\noutput Y: f32[${n}] = [i:${n}] exp(X[i])\n`;
const softmax = (r: number, c: number): string => `import softmax, logsumexp from "nn"\nsize n = ${r}, m = ${c}\ninput S[n, m]\noutput P = softmax(S)\noutput L[i] = logsumexp(S)[i]\n`;

/** Runs a program on `threaded` (twice per seed: workers start on the second run) and on one thread; asserts equal bits. */
function expectSplitEqualsSingle(p: Program, threaded = split): void {
  const exe = threaded.compile(p).executable;
  const reference = single.compile(p).executable;
  try {
    for (const seed of [1, 2]) {
      const inputs = inputsFor(p, seed);
      const want = reference.run(inputs);
      expectSameBits(exe.run(inputs), want);
      expectSameBits(exe.run(inputs), want);
    }
  } finally {
    exe.dispose?.();
  }
}

/** The IR of a tns source file or text, with sizes. */
function irOf(source: string, sizes: Record<string, number> = {}, passes?: Pass[]): Program {
  const compiled = compile(source, { backend: "js", sizes, ...(passes === undefined ? {} : { passes }) });
  expect(compiled.ok).toBe(true);
  return compiled.ir!;
}

const example = (name: string): string => readFileSync(new URL(`../../examples/${name}`, import.meta.url), "utf8");

describe("which loop kernels split (loopSplit)", () => {
  it("splits a row reduction and a row-wise elementwise kernel by ranges of rows", () => {
    const max = loopSplit(onlyKernel(rowMax(256, 64)), ctx2);
    expect(max).toEqual({ ok: true, plan: expect.objectContaining({ loop: 0, chunk: 16, units: 16, vector: false }) });
    const exp = loopSplit(onlyKernel(expRows(1000, 33)), ctx2);
    // 1000 rows over 2 threads × 8 units: chunks of 63, the last one shorter.
    expect(exp).toEqual({ ok: true, plan: expect.objectContaining({ chunk: 63, units: 16, vector: false }) });
  });

  it("a one-dimensional vector loop splits at multiples of 4", () => {
    const d = loopSplit(onlyKernel(exp1d(1001)), ctx2);
    expect(d).toEqual({ ok: true, plan: expect.objectContaining({ chunk: 64, units: 16, vector: true }) });
  });

  it("counts the work of a kernel in operations", () => {
    // Per row: the max's declare is free, 64 updates of 2 nodes each (update + load), one store of 2.
    expect(loopWork(onlyKernel(rowMax(256, 64)).body)).toBe(256 * (64 * 2 + 2));
  });

  const refusals: [string, Kernel, RegExp][] = [
    ["a full reduction (one accumulator across every row)", kernelOf("input X[16, 8]\noutput T = sum(i, j) X[i, j]\n"), /does not start with a loop/],
    ["a transposed write (iterations interleave: T[i + 16*j] with i outside)",
      kernel("T", [loop("i", 16, [loop("j", 32, [store("T", { i: 1, j: 16 }, load("X", { i: 32, j: 1 }))])])]), /overlap the next iteration's/],
    ["a single row", onlyKernel(rowMax(1, 64)), /single iteration/],
    ["an accumulator across rows (y[j] += u[i] * v[i, j])",
      kernel("y", [{ kind: "fill", buffer: "y", value: 0 }, loop("i", 16, [loop("j", 32, [store("y", { j: 1 }, load("v", { i: 32, j: 1 }), "sum")])])]),
      /not written at a positive stride/],
    ["a read of another row of the target",
      kernel("Y", [loop("i", 8, [loop("j", 4, [store("Y", { i: 4, j: 1 }, load("Y", { i: 4, j: 1 }, -4))])])]),
      /read outside the elements/],
    ["a local flowing between iterations",
      kernel("Y", [{ kind: "declare", name: "t0", op: "sum" }, loop("i", 8, [{ kind: "update", name: "t0", op: "sum", value: load("X", { i: 1 }) }, store("Y", { i: 1 }, { kind: "local", name: "t0" })])]),
      /does not start with a loop/],
    ["a local defined outside the loop",
      kernel("Y", [loop("i", 8, [{ kind: "update", name: "t0", op: "sum", value: load("X", { i: 1 }) }, store("Y", { i: 1 }, { kind: "local", name: "t0" })])]),
      /local t0 flows between iterations/],
    ["a fill inside the loop", kernel("Y", [loop("i", 8, [{ kind: "fill", buffer: "Y", value: 0 }, store("Y", { i: 1 }, load("X", { i: 1 }))])]), /filled inside the loop/],
    ["a statement after the loop", kernel("Y", [loop("i", 8, [store("Y", { i: 1 }, load("X", { i: 1 }))]), store("Y", {}, { kind: "const", value: 0 })]), /follow the outermost loop/],
    ["a vector loop reading its variable's value",
      kernel("Y", [loop("i", 64, [store("Y", { i: 1 }, { kind: "binary", op: "mul", lhs: { kind: "index", var: "i" }, rhs: load("X", { i: 1 }) })])]),
      /reads the value of i/],
  ];
  for (const [what, k, reason] of refusals) {
    it(`refuses ${what}`, () => {
      const d = loopSplit(k, ctx2);
      expect(d.ok).toBe(false);
      if (!d.ok) expect(d.reason).toMatch(reason);
    });
  }

  it("keeps small kernels on one thread, splits large ones", () => {
    expect(splitKernels(lowerToKernels(irOf(example("softmax_stdlib.tns"))), { threads: 2 }).size).toBe(0);
    const large = lowerToKernels(irOf(example("softmax_stdlib.tns"), { n: 1000, m: 1000 }));
    expect([...splitKernels(large, { threads: 2 }).keys()]).toEqual([0, 1, 2, 3]);
    for (const k of large.kernels) expect(loopWork(k.body) * LOOP_OP_FLOPS).toBeGreaterThanOrEqual(PARALLEL_MIN_FLOPS);
  });
});

describe("units of a split loop", () => {
  for (const [name, text] of [["row max 37x29", rowMax(37, 29)], ["exp rows 19x45", expRows(19, 45)], ["1-D exp of 1001", exp1d(1001)]] as const) {
    it(`${name}: units run in reverse order give the whole kernel's bits`, () => {
      const p = parseProgramText(text);
      const kp = lowerToKernels(p);
      const art = emitWasm(binaryen, kp, { threads: 2, parallelMinFlops: 0 });
      const [job] = art.parallel;
      expect(job).toEqual(expect.objectContaining({ kernel: 0, entry: "k0_Y_unit" }));
      const memory = new WA.Memory({ initial: art.pages, maximum: art.pages, shared: true });
      const exports = new WA.Instance(new WA.Module(art.binary), { env: { memory } }).exports;
      const inputs = inputsFor(p, 3);
      const view = (b: string): Float32Array => {
        const spec = kp.buffers.find((x) => x.name === b)!;
        return new Float32Array(memory.buffer, art.layout.offsets.get(b)!, spec.size);
      };
      for (const [b, t] of Object.entries(inputs)) view(b).set(t.data);
      (exports["run"] as () => void)();
      const whole = view("Y").slice();
      view("Y").fill(Number.NaN);
      for (let u = job!.units - 1; u >= 0; u--) (exports[job!.entry] as (u: number, s: number) => void)(u, 0);
      const got = view("Y");
      expect(whole.findIndex((x, k) => !Object.is(x, got[k]))).toBe(-1);
    });
  }
});

describe.skipIf(host === null)("loop kernels on two threads", () => {
  for (const rows of [1, 3, 17, 1000]) {
    it(`${rows} rows: row max, exp rows and softmax equal one thread bit for bit`, () => {
      expectSplitEqualsSingle(parseProgramText(rowMax(rows, 33)));
      expectSplitEqualsSingle(parseProgramText(expRows(rows, 33)));
      expectSplitEqualsSingle(irOf(softmax(rows, 33)));
    });
    it(`1-D exp of ${rows} and ${rows + 2} elements equals one thread bit for bit`, () => {
      expectSplitEqualsSingle(parseProgramText(exp1d(rows)));
      expectSplitEqualsSingle(parseProgramText(exp1d(rows + 2)));
    });
  }

  it("a kernel with fills before its loop runs them first (tensor_train's y_p2)", () => {
    const p = irOf(example("tensor_train.tns"));
    const art = emitWasm(binaryen, lowerToKernels(p), { threads: 2, parallelMinFlops: 0 });
    expect(art.parallel.some((j) => j.prologue !== undefined)).toBe(true);
    expectSplitEqualsSingle(p);
  });

  it("attention at n = 512 mixes split products, split loops and kernels left whole", () => {
    // Unfused: the online softmax would make the scores, E and O one kernel (see wasm-attention.test.ts).
    const p = irOf(example("attention.tns"), { n: 512 }, defaultPipeline().filter((q) => q.name !== "fuse-online-softmax"));
    const kp = lowerToKernels(p);
    // At 2^24 operations: the products (33.5 M) and E (21 M counted) split, M and O_r (8.4 M) stay whole.
    const minFlops = 2 ** 24;
    const art = emitWasm(binaryen, kp, { threads: 2, parallelMinFlops: minFlops });
    expect(art.parallel.map((j) => kp.kernels[j.kernel]!.target)).toEqual(["S", "E", "O"]);
    expectSplitEqualsSingle(p, make({ threads: 2, parallelMinFlops: minFlops }));
    // With the default threshold every kernel splits.
    expect(emitWasm(binaryen, kp, { threads: 2 }).parallel).toHaveLength(5);
    expectSplitEqualsSingle(p, make({ threads: 2 }));
  });

  it("softmax_stdlib: whole at its own size (single-threaded module), split at 1000 x 1000", () => {
    const small = irOf(example("softmax_stdlib.tns"));
    const code = make({ threads: 2 }).compile(small).code;
    expect(code).not.toContain("_unit");
    expectSplitEqualsSingle(irOf(example("softmax_stdlib.tns"), { n: 1000, m: 1000 }), make({ threads: 2 }));
  });
});

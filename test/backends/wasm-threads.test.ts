import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import {
  emitWasm, loadBinaryen, loadThreadHost, loadWasm, parallelKernels, PARALLEL_MIN_FLOPS, splitFlops, wasmBackendFactory, type ThreadHost,
} from "../../src/backends/wasm/index.js";
import { contractionScratchBytes, FIXED_PANEL_THREADS } from "../../src/backends/wasm/emit-contraction.js";
import { START_AT_ONCE_FLOPS } from "../../src/backends/wasm/load.js";
import { WorkerPool } from "../../src/backends/wasm/threads.js";
import { compileAsync } from "../../src/compiler.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import type { Program } from "../../src/ir/types.js";
import { sizeTriples, transposedB, TRANSPOSED_CASES } from "./contraction-cases.js";
import { CORPUS } from "./corpus.js";
import { expectMatchesInterpreter, expectSameBits, expectSameBitsAs, inputsFor } from "./support.js";
import { countingHost } from "../support/thread-hosts.js";
import { WA } from "../support/webassembly.js";

const binaryen = await loadBinaryen();
const host = await loadThreadHost();
const make = await wasmBackendFactory();
/** Every SIMD contraction split, however small, on two threads; and the single-threaded backend. */
const split = make({ threads: 2, parallelMinFlops: 0 });
const single = make({ threads: 1 });

/** A square matmul in the tns language (the IR text below is what the backend tests parse). */
const tnsMatmul = (n: number): string => `size n = ${n}\ninput A[n, n], B[n, n]\noutput C[i, j] = A[i, l] * B[l, j]\n`;

const matmul = (m: number, n: number, k: number): string => `
input A: f32[${m}, ${k}]
input B: f32[${k}, ${n}]
output C: f32[${m}, ${n}] = [i:${m}, j:${n}] sum(k:${k}) A[i, k] * B[k, j]
`;

/**
 * Runs a program split on two threads and on one and checks that both agree
 * bit for bit; returns whether the threaded module split a kernel (checked
 * against the module's entry points).
 */
function expectThreadedEqualsSingle(p: Program): boolean {
  const splits = parallelKernels(lowerToKernels(p), 0).length > 0;
  const threaded = split.compile(p);
  expect(threaded.code.includes("_unit"), "threaded entry points").toBe(splits);
  expectSameBitsAs(p, threaded.executable, single.compile(p).executable);
  return splits;
}

describe.skipIf(host === null)("threads on the wasm backend", () => {
  it("builds the threaded module only when a kernel is worth splitting", () => {
    const small = lowerToKernels(parseProgramText(matmul(16, 16, 16)));
    const large = lowerToKernels(parseProgramText(matmul(128, 128, 128)));
    expect(parallelKernels(small)).toEqual([]);
    expect(parallelKernels(large)).toEqual([0]);
    expect(2 * 128 ** 3).toBeGreaterThanOrEqual(PARALLEL_MIN_FLOPS);
    const plain = emitWasm(binaryen, small, { optimize: false, threads: 2 });
    expect(plain.threads).toBe(1);
    expect(plain.text).toBe(emitWasm(binaryen, small, { optimize: false }).text);
    const threaded = emitWasm(binaryen, large, { optimize: false, threads: 2 });
    expect(threaded.threads).toBe(2);
    expect(threaded.text).toMatch(/\(import "env" "memory" \(memory \$arena \d+ 65536 shared\)\)/);
    // 128 columns: 8 units of 16 (a pair of 8-wide panels each).
    expect(threaded.parallel).toEqual([expect.objectContaining({ kernel: 0, entry: "k0_C_unit", units: 8 })]);
    // Two panels of scratch, one per thread, and each thread's copy of the panel functions packs into its own.
    const c = large.kernels[0]!.contraction!;
    expect(threaded.layout.bytes).toBeGreaterThanOrEqual(threaded.layout.scratch.get(0)! + 2 * contractionScratchBytes(c));
    expect(threaded.text).toContain("(func $k0_C_pair_p8 ");
    expect(threaded.text).toContain("(func $k0_C_t1_pair_p8 ");
    expect(threaded.text).not.toContain("_tn_");
  });

  // Threads 0-3 have panel functions of their own, later ones share a copy that takes the panel's address.
  for (const threads of [3, FIXED_PANEL_THREADS + 2]) {
    it(`every thread's copy of the panel functions (${threads} threads) computes its units as one thread does`, () => {
      const p = parseProgramText(matmul(37, 75, 29)); // column groups: 4 pairs, an 8-wide, no 4-wide, a 3-wide edge
      const kp = lowerToKernels(p);
      const art = emitWasm(binaryen, kp, { threads, parallelMinFlops: 0 });
      expect(art.text.includes("_tn_")).toBe(threads > FIXED_PANEL_THREADS);
      const memory = new WA.Memory({ initial: art.pages, maximum: art.pages, shared: true });
      const instance = new WA.Instance(new WA.Module(art.binary), { env: { memory } });
      const [job] = art.parallel;
      const unit = instance.exports[job!.entry] as (u: number, thread: number) => void;
      const inputs = inputsFor(p, 7);
      const reference = single.compile(p).executable.run(inputs)["C"]!;
      const view = (name: string): Float32Array => {
        const b = kp.buffers.find((x) => x.name === name)!;
        return new Float32Array(memory.buffer, art.layout.offsets.get(name)!, b.size);
      };
      view("A").set(inputs["A"]!.data);
      view("B").set(inputs["B"]!.data);
      // Each thread runs every unit in turn (the output is overwritten alike each time).
      for (let t = 0; t < threads; t++) {
        view("C").fill(Number.NaN);
        for (let u = 0; u < job!.units; u++) unit(u, t);
        expect(Array.from(view("C")).every((x, k) => Object.is(x, reference.data[k])), `thread ${t}`).toBe(true);
      }
    });
  }

  it("a program run once gets the threaded module only when its first run would start the workers", () => {
    const once = make({ threads: 2, runOnce: true });
    // 2·128³ operations: split by a backend that runs programs many times, not by one that runs them once.
    expect(once.compile(parseProgramText(matmul(128, 128, 128))).code).not.toContain("_unit");
    expect(split.compile(parseProgramText(matmul(128, 128, 128))).code).toContain("_unit");
    // 2·1300³ ≥ START_AT_ONCE_FLOPS: the first run starts the workers, so the module is built for them.
    const large = lowerToKernels(parseProgramText(matmul(1300, 1300, 1300)));
    expect(splitFlops(large, { threads: 2 })).toBeGreaterThanOrEqual(START_AT_ONCE_FLOPS);
    expect(once.compile(parseProgramText(matmul(1300, 1300, 1300))).code).toContain("_unit");
  });

  it("a single-threaded backend (threads: 1) builds the unshared module", () => {
    const code = single.compile(parseProgramText(matmul(128, 128, 128))).code;
    expect(code).not.toContain("shared");
    expect(code).not.toContain("_unit");
  });

  // Sizes at the edges of the work units (8-wide, 4-wide and scalar column panels) and of the row blocks.
  // Up to 8 columns (n ≤ 4, n = 8) are one work unit: nothing to split.
  for (const [m, n, k] of [[1, 1, 1], [3, 3, 3], [17, 17, 17], [1, 17, 3], [17, 3, 1], [3, 1000, 17], [1000, 17, 3], [1000, 12, 1]] as const) {
    it(`matmul ${m}x${n}x${k} split equals one thread bit for bit`, () => {
      expect(expectThreadedEqualsSingle(parseProgramText(matmul(m, n, k)))).toBe(n > 8);
    });
  }

  it("a large matmul (100x1000x50) split equals one thread and the interpreter", () => {
    const p = parseProgramText(matmul(100, 1000, 50));
    expect(expectThreadedEqualsSingle(p)).toBe(true);
    const exe = split.compile(p).executable;
    expectMatchesInterpreter(p, (x) => exe.run(x), inputsFor(p, 3));
    exe.dispose?.();
  });

  for (const [m, n, k] of sizeTriples().filter(([, n]) => n >= 17)) {
    it(`transposed-B matmul ${m}x${n}x${k} split equals one thread`, () => {
      expect(expectThreadedEqualsSingle(parseProgramText(transposedB(m, n, k)))).toBe(true);
    });
  }

  for (const [name, text] of TRANSPOSED_CASES) {
    it(`batched or transposed: ${name}`, () => {
      expectThreadedEqualsSingle(parseProgramText(text));
    });
  }

  it("batched matmul with a shared B (batch x panels units)", () => {
    expect(expectThreadedEqualsSingle(parseProgramText(`
input A: f32[2, 3, 9, 17]
input B: f32[17, 20]
output C: f32[2, 3, 9, 20] = [a:2, b:3, i:9, j:20] sum(k:17) A[a, b, i, k] * B[k, j]
`))).toBe(true);
  });

  for (const [name, text] of Object.entries(CORPUS)) {
    it(`corpus ${name}: every contraction split, agrees with one thread and the interpreter`, () => {
      const p = parseProgramText(text);
      expectThreadedEqualsSingle(p);
      const exe = split.compile(p).executable;
      expectMatchesInterpreter(p, (x) => exe.run(x), inputsFor(p, 1));
      exe.dispose?.();
    });
  }

  it("starts workers lazily (second run of a mid-sized product), once, and not at all for threads: 1", () => {
    const kp = lowerToKernels(parseProgramText(matmul(64, 64, 64)));
    expect(2 * 64 ** 3).toBeLessThan(START_AT_ONCE_FLOPS);
    const counting = countingHost(host!);
    const threaded = loadWasm(emitWasm(binaryen, kp, { threads: 3, parallelMinFlops: 0 }), kp, counting);
    expect(counting.spawned).toBe(0);
    const inputs = inputsFor(parseProgramText(matmul(64, 64, 64)));
    const first = threaded.run(inputs);
    expect(counting.spawned).toBe(0);
    expectSameBits(threaded.run(inputs), first);
    expect(counting.spawned).toBe(2);
    threaded.run(inputs);
    expect(counting.spawned).toBe(2);
    threaded.dispose!();
    expect(counting.terminated).toBe(2);
    threaded.run(inputs);
    expect(counting.spawned).toBe(4);
    threaded.dispose!();

    const unsplit = loadWasm(emitWasm(binaryen, kp, { threads: 1 }), kp, counting);
    unsplit.run(inputs);
    unsplit.dispose!();
    expect(counting.spawned).toBe(4);
  });

  it("starts workers on the first run of a product above the start-at-once size", () => {
    const p = parseProgramText(matmul(64, 64, 64));
    const kp = lowerToKernels(p);
    const counting = countingHost(host!);
    const exe = loadWasm(emitWasm(binaryen, kp, { threads: 2, parallelMinFlops: 0 }), kp, counting, 2 * 64 ** 3);
    exe.run(inputsFor(p));
    expect(counting.spawned).toBe(1);
    exe.dispose!();
  });

  it("runs every unit on the calling thread when the workers never start", () => {
    const p = parseProgramText(matmul(33, 45, 29));
    const kp = lowerToKernels(p);
    const idle: ThreadHost = { parallelism: 2, blocking: true, spawn: () => ({ terminate: () => undefined }) };
    const exe = loadWasm(emitWasm(binaryen, kp, { threads: 2, parallelMinFlops: 0 }), kp, idle);
    const inputs = inputsFor(p, 4);
    const reference = single.compile(p).executable;
    for (let run = 0; run < 2; run++) expectSameBits(exe.run(inputs), reference.run(inputs));
  });

  it("workers take units of a job (the calling thread does not run them all)", () => {
    const kp = lowerToKernels(parseProgramText(matmul(256, 256, 256)));
    const art = emitWasm(binaryen, kp, { threads: 2 });
    const memory = new WA.Memory({ initial: art.pages, maximum: art.pages, shared: true });
    const module = new WA.Module(art.binary);
    const instance = new WA.Instance(module, { env: { memory } });
    const [p] = art.parallel;
    const unit = instance.exports[p!.entry] as (u: number, thread: number) => void;
    const pool = new WorkerPool(host!, { module, memory, imports: [], entries: [p!.entry] }, 2);
    let mine = p!.units;
    // The worker starts while the jobs run. No bound on the jobs: how long a
    // thread takes to start depends on the machine's load, and a bound made
    // this test fail now and then on a busy machine; the test's timeout is the bound.
    while (mine === p!.units) {
      mine = 0;
      pool.run({ entry: 0, units: p!.units }, (u, t) => {
        mine++;
        unit(u, t);
      });
    }
    pool.dispose();
    expect(mine).toBeLessThan(p!.units);
  });

  it("rejects a thread count that is not a positive integer", async () => {
    expect(() => make({ threads: 0 })).toThrow(RangeError);
    expect(() => make({ threads: 1.5 })).toThrow(RangeError);
    const prog = await compileAsync(tnsMatmul(4), { backend: "wasm", threads: 1 });
    expect(prog.ok).toBe(true);
    prog.dispose();
  });

  // Synchronous runs, and asynchronous ones awaited at the top level: Node does not count a pending
  // Atomics.waitAsync as work, so without a timer of ours the process exited (code 13) in the middle of a run.
  for (const [how, call] of [["run", "prog.run({ A, B: A })"], ["runAsync", "await prog.runAsync({ A, B: A })"]] as const) {
    it(`a process that runs a threaded program (${how}) exits on its own once done (workers are unref'd)`, () => {
      expectScriptPrintsDone(`
import { compileAsync } from ${JSON.stringify(pathToFileURL(join(ROOT, "dist/index.js")).href)};
import { randomTensor } from ${JSON.stringify(pathToFileURL(join(ROOT, "dist/runtime/random.js")).href)};
const prog = await compileAsync(${JSON.stringify(tnsMatmul(1024))}, { backend: "wasm", threads: 2 });
if (!prog.code.includes("_unit")) throw new Error("not the threaded module");
const A = randomTensor([1024, 1024], "f32", 1);
// Units of about a millisecond: the caller's last wait outlasts its polling, in most runs.
for (let k = 0; k < 12; k++) ${call};
console.log("done");
`);
    });
  }
});

const ROOT = resolve(import.meta.dirname, "../..");

/** Runs an ES module script in a fresh Node process and expects it to print "done" and exit 0 with nothing on stderr. */
function expectScriptPrintsDone(source: string): void {
  const dir = mkdtempSync(join(tmpdir(), "tns-threads-"));
  const script = join(dir, "run.mjs");
  writeFileSync(script, source);
  try {
    const r = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 120_000 });
    expect(r.stderr).toBe("");
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe("done");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

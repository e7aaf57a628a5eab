/**
 * Threads where the calling thread may not block (a browser page's main
 * thread) and on Web Workers: `runAsync` runs split kernels on the workers
 * and awaits them, `run` keeps to the calling thread there, and the Web
 * Worker host (on a Web Worker made of a `worker_threads` worker, with the
 * host's own Blob URL) computes the same bits as one thread.
 */
import { afterEach, describe, expect, it } from "vitest";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { emitWasm, loadBinaryen, loadThreadHost, loadWasm, wasmBackendFactory, webThreadHost } from "../../src/backends/wasm/index.js";
import { WorkerPool } from "../../src/backends/wasm/threads.js";
import { compileAsync } from "../../src/compiler.js";
import { CompileError } from "../../src/diagnostics/diagnostic.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import type { Executable } from "../../src/runtime/executable.js";
import { countingHost, NODE_BACKED_WEB_WORKER, NodeBackedWebWorker } from "../support/thread-hosts.js";
import { WA } from "../support/webassembly.js";
import { expectSameBits, inputsFor, PRODUCT_THEN_SOFTMAX } from "./support.js";

const binaryen = await loadBinaryen();
const host = await loadThreadHost();
const make = await wasmBackendFactory();
const single = make({ threads: 1 });

const PROGRAM = parseProgramText(PRODUCT_THEN_SOFTMAX);
const KP = lowerToKernels(PROGRAM);
const ART = emitWasm(binaryen, KP, { threads: 3, parallelMinFlops: 0 });

/** Runs `exe` asynchronously on seeds 1..runs and checks each against one thread. */
async function expectAsyncRunsMatch(exe: Executable, runs = 3): Promise<void> {
  const reference = single.compile(PROGRAM).executable;
  for (let seed = 1; seed <= runs; seed++) {
    const inputs = inputsFor(PROGRAM, seed);
    expectSameBits(await exe.runAsync!(inputs), reference.run(inputs));
  }
}

afterEach(() => {
  for (const w of NodeBackedWebWorker.started) w.terminate();
  NodeBackedWebWorker.started = [];
});

it("the module splits the product and the loops (three jobs or more)", () => {
  expect(ART.threads).toBe(3);
  expect(ART.parallel.length).toBeGreaterThanOrEqual(3);
});

describe.skipIf(host === null)("asynchronous runs", () => {
  it("runAsync starts the workers (from the second run) and gives the bits of one thread", async () => {
    const counting = countingHost(host!);
    const exe = loadWasm(ART, KP, counting);
    await expectAsyncRunsMatch(exe);
    expect(counting.spawned).toBe(2);
    exe.dispose!();
  });

  it("on a thread that may not block, run keeps to it and runAsync uses the workers", async () => {
    const counting = countingHost(host!, false);
    const exe = loadWasm(ART, KP, counting);
    const reference = single.compile(PROGRAM).executable;
    for (let seed = 1; seed <= 3; seed++) {
      const inputs = inputsFor(PROGRAM, seed);
      expectSameBits(exe.run(inputs), reference.run(inputs));
    }
    expect(counting.spawned).toBe(0);
    await expectAsyncRunsMatch(exe);
    expect(counting.spawned).toBe(2);
    exe.dispose!();
  });

  it("without Atomics.waitAsync the caller polls from timers, with the same bits", async () => {
    const atomics = Atomics as unknown as { waitAsync?: unknown };
    const saved = atomics.waitAsync;
    delete atomics.waitAsync;
    try {
      const exe = loadWasm(ART, KP, countingHost(host!, false));
      await expectAsyncRunsMatch(exe);
      exe.dispose!();
    } finally {
      atomics.waitAsync = saved;
    }
  });

  it("a run while an asynchronous run is in flight is refused (TNS0607), and the executable works after", async () => {
    const exe = loadWasm(ART, KP, countingHost(host!, false));
    const inputs = inputsFor(PROGRAM, 4);
    await exe.runAsync!(inputs); // the workers start on the second run
    const pending = exe.runAsync!(inputs);
    const codes = (f: () => unknown): string[] => {
      try {
        f();
      } catch (e) {
        return (e as CompileError).diagnostics.map((d) => d.code);
      }
      return [];
    };
    expect(codes(() => exe.run(inputs))).toEqual(["TNS0607"]);
    await expect(exe.runAsync!(inputs)).rejects.toThrow(CompileError);
    const first = await pending;
    expectSameBits(await exe.runAsync!(inputs), first);
    exe.dispose!();
  });

  it("dispose() during an asynchronous run stops the workers once the run has settled", async () => {
    const counting = countingHost(host!, false);
    const exe = loadWasm(ART, KP, counting);
    const inputs = inputsFor(PROGRAM, 6);
    const want = await exe.runAsync!(inputs);
    const pending = exe.runAsync!(inputs);
    exe.dispose!();
    expect(counting.terminated).toBe(0);
    expectSameBits(await pending, want);
    expect(counting.terminated).toBe(2);
    // A later run starts them again.
    expectSameBits(await exe.runAsync!(inputs), want);
    expect(counting.spawned).toBe(4);
    exe.dispose!();
  });

  it("CompiledProgram.runAsync on the wasm and js backends", async () => {
    const source = "size n = 96\ninput A[n, n], B[n, n]\noutput C[i, j] = A[i, l] * B[l, j]\n";
    const wasm = await compileAsync(source, { backend: "wasm", threads: 2 });
    const js = await compileAsync(source, { backend: "js" });
    const A = wasm.inputBuffer("A");
    const B = wasm.inputBuffer("B");
    A.data.set(Array.from({ length: 96 * 96 }, (_, k) => (k % 7) - 3));
    B.data.set(Array.from({ length: 96 * 96 }, (_, k) => (k % 5) - 2));
    const want = js.run({ A, B });
    for (let run = 0; run < 3; run++) expectSameBits(await wasm.runAsync({ A, B }), want);
    expectSameBits(await js.runAsync({ A, B }), want);
    wasm.dispose();
  });
});

describe("the Web Worker host", () => {
  it("is absent without a Worker constructor (Node has none) or without cross-origin isolation", () => {
    expect(webThreadHost()).toBeNull();
    const g = globalThis as { crossOriginIsolated?: boolean };
    g.crossOriginIsolated = false;
    try {
      expect(webThreadHost({ Worker: NODE_BACKED_WEB_WORKER })).toBeNull();
    } finally {
      delete g.crossOriginIsolated;
    }
  });

  it("starts workers from one Blob URL, which take units of a job", async () => {
    const web = webThreadHost({ Worker: NODE_BACKED_WEB_WORKER, parallelism: 3 })!;
    expect(web.parallelism).toBe(3);
    const [job] = ART.parallel;
    const memory = new WA.Memory({ initial: ART.pages, maximum: ART.pages, shared: true });
    const module = new WA.Module(ART.binary);
    const unit = new WA.Instance(module, { env: { memory } }).exports[job!.entry] as (u: number, t: number) => void;
    const pool = new WorkerPool(web, { module, memory, imports: ART.imports, entries: [job!.entry] }, 3);
    expect(NodeBackedWebWorker.started.map((w) => w.options.name)).toEqual(["tns-1", "tns-2"]);
    expect(new Set(NodeBackedWebWorker.started.map((w) => w.url)).size).toBe(1);
    let mine = job!.units;
    // The workers load their script asynchronously. No bound on the rounds:
    // how long that takes depends on the machine's load (the test's timeout is the bound).
    while (mine === job!.units) {
      mine = 0;
      await pool.runAsync({ entry: 0, units: job!.units }, (u, t) => {
        mine++;
        unit(u, t);
      });
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    pool.dispose();
    expect(mine).toBeLessThan(job!.units);
    expect(NodeBackedWebWorker.started.flatMap((w) => w.errors)).toEqual([]);
  });

  it("runs a threaded program with the bits of one thread, synchronously and not", async () => {
    const web = webThreadHost({ Worker: NODE_BACKED_WEB_WORKER, parallelism: 3 })!;
    const exe = make({ threads: 3, parallelMinFlops: 0, threadHost: web }).compile(PROGRAM).executable;
    const reference = single.compile(PROGRAM).executable;
    for (let seed = 1; seed <= 3; seed++) {
      const inputs = inputsFor(PROGRAM, seed);
      expectSameBits(exe.run(inputs), reference.run(inputs));
    }
    await expectAsyncRunsMatch(exe);
    expect(NodeBackedWebWorker.started.length).toBe(2);
    exe.dispose!();
  });
});

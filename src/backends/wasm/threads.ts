/**
 * Threads for the WebAssembly backend: workers that instantiate the same
 * module on the same shared memory, and the protocol by which the calling
 * thread hands them a kernel and waits for it, synchronously.
 *
 * The control block is an `Int32Array` over its own `SharedArrayBuffer`
 * (slot names below). A job is one split kernel: an entry point and a count
 * of work units. The units are cut into one contiguous range per
 * participant (the calling thread is participant 0, worker w is participant
 * w), each with its own counter `NEXT + t`. A participant claims units of
 * its own range with `Atomics.add(NEXT + t, 1)`, then those left in the
 * other ranges the same way, and counts each finished unit in `DONE`; so a
 * late or busy worker simply runs fewer units, and one still starting up
 * runs none. Contiguous ranges keep the participants on distant column
 * panels, so they do not write the same cache lines of the output:
 *
 * Every wait polls the slot for {@link SPIN_MS} before it blocks.
 *
 *     caller                                   worker w
 *     write ENTRY, UNITS; NEXT + t = first unit of range t; DONE = 0
 *     STATE = 2g+1 (open); notify STATE  ───▶  wakes: s = STATE, odd
 *     claim units, run them                    INSIDE += 1; STATE still s? claim units, run them
 *     wait until DONE == UNITS          ◀───   notify DONE when it finishes the last unit
 *     STATE = 2g+2 (closed)                    INSIDE -= 1 (notify INSIDE)
 *     wait until INSIDE == 0                   wait while STATE == s
 *
 * Closing the job and then waiting for INSIDE to drain is what makes reusing
 * the slots for the next job safe: a worker increments INSIDE before it
 * re-reads STATE, the caller stores STATE before it reads INSIDE (all
 * sequentially consistent atomics), so either the caller sees the worker
 * inside and waits for it, or the worker sees the job closed and claims
 * nothing.
 *
 * Workers leave their loop when EXIT is set. Two hosts run them:
 *
 * - Node's `worker_threads` ({@link loadThreadHost} in Node): workers are
 *   unref()'d, so they never keep a process alive, and any thread may block
 *   in `Atomics.wait`, the main thread included.
 * - Web Workers ({@link webThreadHost}: browsers, and other runtimes with a
 *   global `Worker`): the worker script comes from a Blob URL and gets its
 *   data by `postMessage`. Shared memory needs a cross-origin isolated page.
 *   A page's main thread may not block in `Atomics.wait`, so there the host
 *   says `blocking: false` and only {@link WorkerPool.runAsync} uses the
 *   workers: it runs its share of the units, then awaits the rest with
 *   `Atomics.waitAsync` (or, where that is missing, by polling from timers).
 *   Inside a dedicated worker the page may block, and `run()` uses them too.
 */
import { InternalCompilerError } from "../../diagnostics/diagnostic.js";

/** Slots of the control block. */
const STATE = 0;
const ENTRY = 1;
const UNITS = 2;
const DONE = 3;
const INSIDE = 4;
const FAILED = 5;
const EXIT = 6;
/** Participants (threads); `NEXT + t`, for t < THREADS, is the next unclaimed unit of range t. */
const THREADS = 7;
const NEXT = 8;

/** Slots of a control block for `threads` participants. */
const slots = (threads: number): number => NEXT + threads;

/** The last unit (exclusive) of range `t` of `units` split over `threads`; range t starts where range t-1 ends. */
const rangeEnd = (units: number, t: number, threads: number): number => Math.floor((units * (t + 1)) / threads);

/**
 * Milliseconds a thread polls a slot before it blocks in `Atomics.wait`.
 * Waking a blocked thread (a futex wake, then the scheduler) took about 50 µs
 * on the 2-core AMD EPYC development machine and milliseconds when its cores
 * were busy; a program's split kernels come back to back, so a worker that
 * just finished a job usually sees the next one within this time, and the
 * calling thread usually sees the last unit finish.
 */
export const SPIN_MS = 0.2;

/**
 * Waits while `c[slot] === value`: polls for `spinMs` milliseconds, then
 * blocks in `Atomics.wait` (woken by an `Atomics.notify` on the slot).
 * Returns the slot's new value. (The worker's script has a copy.)
 */
function waitWhile(c: Int32Array, slot: number, value: number, spinMs: number): number {
  if (poll(c, slot, value, spinMs) === value) Atomics.wait(c, slot, value);
  return Atomics.load(c, slot);
}

/** Reads `c[slot]` until it differs from `value` or `spinMs` milliseconds have passed; returns the last value read. */
function poll(c: Int32Array, slot: number, value: number, spinMs: number): number {
  const until = performance.now() + spinMs;
  let now = Atomics.load(c, slot);
  while (now === value && performance.now() < until) now = Atomics.load(c, slot);
  return now;
}

/** The most threads used by default (each worker is a JavaScript isolate of its own: about 9 MB of memory on Node 20). */
export const MAX_DEFAULT_THREADS = 4;

/**
 * Waits, without blocking, while `c[slot] === value`: polls for {@link
 * SPIN_MS}, then awaits `Atomics.waitAsync` where the engine has it, else
 * rechecks from a timer. Returns the slot's new value.
 */
async function waitWhileAsync(c: Int32Array, slot: number, value: number): Promise<number> {
  const now = poll(c, slot, value, SPIN_MS);
  if (now !== value) return now;
  const waitAsync = asyncWaiter();
  if (waitAsync !== null) {
    const result = waitAsync(c, slot, value);
    if (result.async) {
      // Node does not count a pending Atomics.waitAsync as work: with nothing else to do (the workers are
      // unref'd) the process would exit in the middle of the run. A timer keeps it alive until the wait ends.
      const alive = setTimeout(() => undefined, 2 ** 31 - 1);
      try {
        await result.value;
      } finally {
        clearTimeout(alive);
      }
    }
  } else {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return Atomics.load(c, slot);
}

/** `Atomics.waitAsync` (ES2024: Chromium, Safari, Node 16+), or null where the engine lacks it. */
type WaitAsync = (c: Int32Array, slot: number, value: number) => { async: boolean; value: Promise<string> | string };
function asyncWaiter(): WaitAsync | null {
  const f = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
  return typeof f === "function" ? f.bind(Atomics) : null;
}

/** A worker as the pool needs it. */
export interface HostWorker {
  /** Stops the thread (it may still be finishing; nothing waits for it). */
  terminate(): void;
}

/** What a host offers for threads. */
export interface ThreadHost {
  /** Threads the host can run at once. */
  readonly parallelism: number;
  /**
   * Whether the calling thread may block in `Atomics.wait` (false on a
   * browser's main thread): if not, only asynchronous runs use workers.
   */
  readonly blocking: boolean;
  /**
   * Starts a worker that runs `script` (a classic script that defines
   * `function participate(data)` and uses nothing but the language,
   * `Atomics`, `WebAssembly`, `Math` and `performance`) and calls
   * `participate(data)` in it.
   */
  spawn(script: string, data: WorkerData): HostWorker;
}

/** What a worker receives. */
export interface WorkerData {
  /** The compiled module (posted to the worker, not recompiled). */
  readonly module: object;
  /** The shared `WebAssembly.Memory`. */
  readonly memory: object;
  readonly control: SharedArrayBuffer;
  /** Names of the host `Math` functions the module imports. */
  readonly imports: readonly string[];
  /** Exported entry points, by job number. */
  readonly entries: readonly string[];
  /** This worker's participant number (1 and up). */
  readonly participant: number;
}

/** Whether this thread may block in `Atomics.wait` (not on a browser's main thread). */
function atomicsWaitAllowed(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The thread host of this process: Node's `worker_threads` where they load
 * (Node, and runtimes that provide that module), else Web Workers
 * ({@link webThreadHost}); null without `SharedArrayBuffer` and `Atomics`
 * (a page that is not cross-origin isolated) or without workers.
 *
 * @example
 * ```ts
 * const host = await loadThreadHost();
 * defaultThreads(host); // 2 on a 2-core machine, 1 without a host
 * ```
 */
export async function loadThreadHost(): Promise<ThreadHost | null> {
  if (typeof SharedArrayBuffer === "undefined" || typeof Atomics === "undefined") return null;
  return (await nodeThreadHost()) ?? webThreadHost();
}

/** Node's `worker_threads` as a host, or null where that module does not load. */
async function nodeThreadHost(): Promise<ThreadHost | null> {
  try {
    const { Worker } = await import("node:worker_threads");
    const os = await import("node:os");
    const parallelism = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
    return {
      parallelism: Math.max(1, parallelism),
      blocking: atomicsWaitAllowed(),
      spawn(script, data) {
        const worker = new Worker(`${script}\nparticipate(require("node:worker_threads").workerData);\n`, { eval: true, workerData: data });
        worker.unref();
        // A worker that fails to start claims no units: the others, the caller
        // included, run them all, so the error changes nothing but speed.
        worker.on("error", () => undefined);
        return { terminate: () => void worker.terminate() };
      },
    };
  } catch {
    return null;
  }
}

/** The constructor of a Web Worker, as {@link webThreadHost} uses it. */
export interface WebWorkerConstructor {
  new (url: string | URL, options?: { type?: "classic" | "module"; name?: string }): {
    postMessage(message: unknown): void;
    terminate(): void;
    addEventListener(type: "error", listener: (event: { preventDefault(): void }) => void): void;
  };
}

/** Options of {@link webThreadHost}; each defaults to the global of that name. */
export interface WebThreadHostOptions {
  readonly Worker?: WebWorkerConstructor;
  /** Threads to offer (default `navigator.hardwareConcurrency`, else 1). */
  readonly parallelism?: number;
  /** Turns the worker script into a URL the constructor loads (default a Blob URL). */
  readonly scriptUrl?: (script: string) => string;
}

/**
 * Web Workers as a thread host: each worker loads the worker script from a
 * Blob URL (made once per host) and receives the module, the shared memory
 * and the control block in one `postMessage`. Null without a `Worker`
 * constructor or shared memory (a browser page must be cross-origin
 * isolated: `Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Embedder-Policy: require-corp`). `blocking` is false on a
 * thread that may not block (a page's main thread), so there only
 * asynchronous runs use the workers.
 *
 * @example
 * ```ts
 * // In a cross-origin isolated page:
 * const host = webThreadHost();            // null where threads are unavailable
 * const prog = await compileAsync(source, { backend: "wasm" });
 * await prog.runAsync({ A, B });           // the main thread awaits the workers
 * ```
 */
export function webThreadHost(options: WebThreadHostOptions = {}): ThreadHost | null {
  const g = globalThis as unknown as { Worker?: WebWorkerConstructor; navigator?: { hardwareConcurrency?: number }; crossOriginIsolated?: boolean };
  const Worker = options.Worker ?? g.Worker;
  if (typeof Worker !== "function" || typeof SharedArrayBuffer === "undefined" || g.crossOriginIsolated === false) return null;
  const parallelism = options.parallelism ?? g.navigator?.hardwareConcurrency ?? 1;
  const scriptUrl = options.scriptUrl ?? ((script: string) => URL.createObjectURL(new Blob([script], { type: "text/javascript" })));
  const urls = new Map<string, string>();
  return {
    parallelism: Math.max(1, parallelism),
    blocking: atomicsWaitAllowed(),
    spawn(script, data) {
      const body = `${script}\nself.onmessage = (event) => { self.onmessage = null; participate(event.data); };\n`;
      let url = urls.get(body);
      if (url === undefined) {
        url = scriptUrl(body);
        urls.set(body, url);
      }
      const worker = new Worker(url, { name: `tns-${data.participant}` });
      // As in Node: a worker that fails claims no units, and the others run them.
      worker.addEventListener("error", (event) => event.preventDefault());
      worker.postMessage(data);
      return { terminate: () => worker.terminate() };
    },
  };
}

/**
 * The default thread count on a host: its parallelism, at most
 * {@link MAX_DEFAULT_THREADS}; 1 (threads off) without a host.
 *
 * @example
 * ```ts
 * defaultThreads(null); // 1
 * ```
 */
export function defaultThreads(host: ThreadHost | null): number {
  return host === null ? 1 : Math.min(host.parallelism, MAX_DEFAULT_THREADS);
}

/**
 * The worker's script, for every host: `participate(data)` instantiates the
 * module on the shared memory, then takes part in jobs until EXIT (the
 * protocol of the header). Hosts append the call.
 */
const WORKER_SCRIPT = `"use strict";
function participate({ module, memory, control, imports, entries, participant }) {
const env = { memory };
for (const f of imports) env[f] = Math[f];
const exports = new WebAssembly.Instance(module, { env }).exports;
const units = entries.map((e) => exports[e]);
const c = new Int32Array(control);
function waitWhile(slot, value, spinMs) { // waitWhile of threads.ts
  const until = performance.now() + spinMs;
  let now = Atomics.load(c, slot);
  while (now === value && performance.now() < until) now = Atomics.load(c, slot);
  if (now === value) Atomics.wait(c, slot, value);
  return Atomics.load(c, slot);
}
let seen = 0;
for (;;) {
  const s = waitWhile(${STATE}, seen, ${SPIN_MS});
  if (Atomics.load(c, ${EXIT}) !== 0) break;
  if (s === seen) continue;
  seen = s;
  if ((s & 1) === 0) continue;
  Atomics.add(c, ${INSIDE}, 1);
  if (Atomics.load(c, ${STATE}) === s) {
    const run = units[Atomics.load(c, ${ENTRY})];
    const count = Atomics.load(c, ${UNITS});
    const threads = Atomics.load(c, ${THREADS});
    for (let k = 0; k < threads; k++) {
      const t = (participant + k) % threads;
      const end = Math.floor((count * (t + 1)) / threads); // rangeEnd
      for (let u = Atomics.add(c, ${NEXT} + t, 1); u < end; u = Atomics.add(c, ${NEXT} + t, 1)) {
        try { run(u, participant); } catch { Atomics.add(c, ${FAILED}, 1); }
        if (Atomics.add(c, ${DONE}, 1) === count - 1) Atomics.notify(c, ${DONE});
      }
    }
  }
  if (Atomics.sub(c, ${INSIDE}, 1) === 1) Atomics.notify(c, ${INSIDE});
}
}
`;

/** One job for {@link WorkerPool.run}. */
export interface Job {
  /** Index of the entry point in the pool's `entries`. */
  readonly entry: number;
  readonly units: number;
}

/**
 * `threads - 1` workers sharing one instance's memory; the calling thread is
 * the last participant. Workers start when the pool is made and take part
 * in jobs as soon as they are up.
 *
 * @example
 * ```ts
 * const pool = new WorkerPool(host, { module, memory, imports: [], entries: ["k0_C_unit"] }, 2);
 * pool.run({ entry: 0, units: 128 }, (u, t) => unit(u, t));
 * pool.dispose();
 * ```
 */
export class WorkerPool {
  private readonly control: Int32Array;
  private readonly workers: HostWorker[] = [];
  private generation = 0;

  constructor(host: ThreadHost, shared: Omit<WorkerData, "control" | "participant">, private readonly threads: number) {
    this.control = new Int32Array(new SharedArrayBuffer(slots(threads) * 4));
    Atomics.store(this.control, THREADS, threads);
    for (let w = 1; w < threads; w++) {
      this.workers.push(host.spawn(WORKER_SCRIPT, { ...shared, control: this.control.buffer as SharedArrayBuffer, participant: w }));
    }
  }

  /**
   * Runs every unit of a job on the workers and this thread (`unit(u, 0)`
   * here; worker w calls its entry with `(u, w)`) and returns when all are
   * done.
   *
   * @throws InternalCompilerError when a unit failed on a worker
   */
  run(job: Job, unit: (u: number, thread: number) => void): void {
    const { open, error } = this.openAndTakePart(job, unit);
    const c = this.control;
    for (let d = Atomics.load(c, DONE); d < job.units;) d = waitWhile(c, DONE, d, SPIN_MS);
    Atomics.store(c, STATE, open + 1);
    for (let i = Atomics.load(c, INSIDE); i > 0;) i = waitWhile(c, INSIDE, i, SPIN_MS);
    this.finish(error);
  }

  /**
   * {@link run} for a thread that may not block (a page's main thread): it
   * runs its share of the units the same way, then awaits the workers
   * instead of blocking. One job at a time: the caller awaits each before
   * the next.
   *
   * @throws InternalCompilerError when a unit failed on a worker
   */
  async runAsync(job: Job, unit: (u: number, thread: number) => void): Promise<void> {
    const { open, error } = this.openAndTakePart(job, unit);
    const c = this.control;
    for (let d = Atomics.load(c, DONE); d < job.units;) d = await waitWhileAsync(c, DONE, d);
    Atomics.store(c, STATE, open + 1);
    for (let i = Atomics.load(c, INSIDE); i > 0;) i = await waitWhileAsync(c, INSIDE, i);
    this.finish(error);
  }

  /** Writes and opens a job, runs units on this thread until none is left to claim; returns the open state and the first error here. */
  private openAndTakePart(job: Job, unit: (u: number, thread: number) => void): { open: number; error: unknown } {
    const c = this.control;
    Atomics.store(c, ENTRY, job.entry);
    Atomics.store(c, UNITS, job.units);
    for (let t = 0; t < this.threads; t++) Atomics.store(c, NEXT + t, t === 0 ? 0 : rangeEnd(job.units, t - 1, this.threads));
    Atomics.store(c, DONE, 0);
    Atomics.store(c, FAILED, 0);
    const open = 2 * ++this.generation + 1;
    Atomics.store(c, STATE, open);
    Atomics.notify(c, STATE);
    let error: unknown = null;
    for (let t = 0; t < this.threads; t++) {
      const end = rangeEnd(job.units, t, this.threads);
      for (let u = Atomics.add(c, NEXT + t, 1); u < end; u = Atomics.add(c, NEXT + t, 1)) {
        try {
          unit(u, 0);
        } catch (e) {
          error ??= e;
        }
        Atomics.add(c, DONE, 1);
      }
    }
    return { open, error };
  }

  /** Throws what failed in a closed job: the error on this thread, else a count of units that failed on workers. */
  private finish(error: unknown): void {
    if (error !== null) throw error;
    const failed = Atomics.load(this.control, FAILED);
    if (failed > 0) throw new InternalCompilerError(`${failed} work unit(s) of a threaded kernel failed on a worker`);
  }

  /** Workers started (threads − 1). */
  get size(): number {
    return this.workers.length;
  }

  /** Asks the workers to leave and stops them. */
  dispose(): void {
    const c = this.control;
    Atomics.store(c, EXIT, 1);
    Atomics.add(c, STATE, 2);
    Atomics.notify(c, STATE);
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}

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
 * Workers are unref()'d (they never keep a process alive) and leave their
 * loop when EXIT is set. Hosts: Node's `worker_threads`; a thread may block
 * in `Atomics.wait` there, the main thread included. Browsers forbid
 * `Atomics.wait` on their main thread, so no thread host is offered there.
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
  const until = performance.now() + spinMs;
  let now = Atomics.load(c, slot);
  while (now === value && performance.now() < until) now = Atomics.load(c, slot);
  if (now === value) Atomics.wait(c, slot, value);
  return Atomics.load(c, slot);
}

/** The most threads used by default (each worker is a JavaScript isolate of its own: about 9 MB of memory on Node 20). */
export const MAX_DEFAULT_THREADS = 4;

/** A worker as the pool needs it. */
export interface HostWorker {
  /** Stops the thread (it may still be finishing; nothing waits for it). */
  terminate(): void;
}

/** What a host offers for threads. */
export interface ThreadHost {
  /** Threads the host can run at once. */
  readonly parallelism: number;
  /** Starts a worker running `source` (a CommonJS script) with `data` as its `workerData`. */
  spawn(source: string, data: WorkerData): HostWorker;
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
 * The thread host of this process: Node's `worker_threads`, when
 * `SharedArrayBuffer`, `Atomics` (with a thread that may wait) and
 * `worker_threads` are all available; null otherwise.
 *
 * @example
 * ```ts
 * const host = await loadThreadHost();
 * defaultThreads(host); // 2 on a 2-core machine, 1 without a host
 * ```
 */
export async function loadThreadHost(): Promise<ThreadHost | null> {
  if (typeof SharedArrayBuffer === "undefined" || typeof Atomics === "undefined" || !atomicsWaitAllowed()) return null;
  try {
    const { Worker } = await import("node:worker_threads");
    const os = await import("node:os");
    const parallelism = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
    return {
      parallelism: Math.max(1, parallelism),
      spawn(source, data) {
        const worker = new Worker(source, { eval: true, workerData: data });
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
 * The worker's script: instantiate the module on the shared memory, then
 * take part in jobs until EXIT (the protocol of the header).
 */
const WORKER_SOURCE = `"use strict";
const { workerData } = require("node:worker_threads");
const { module, memory, control, imports, entries, participant } = workerData;
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
      this.workers.push(host.spawn(WORKER_SOURCE, { ...shared, control: this.control.buffer as SharedArrayBuffer, participant: w }));
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
    for (let d = Atomics.load(c, DONE); d < job.units;) d = waitWhile(c, DONE, d, SPIN_MS);
    Atomics.store(c, STATE, open + 1);
    for (let i = Atomics.load(c, INSIDE); i > 0;) i = waitWhile(c, INSIDE, i, SPIN_MS);
    if (error !== null) throw error;
    const failed = Atomics.load(c, FAILED);
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

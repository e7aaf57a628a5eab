/**
 * Thread hosts for tests: one that counts the workers it starts (and may
 * claim that the calling thread cannot block, as on a page's main thread),
 * and a Web Worker constructor built on Node's `worker_threads`, so the Web
 * Worker host runs its real code path here: it loads the worker script from
 * a Blob URL and posts the data, and the worker sees `self.onmessage`.
 */
import { resolveObjectURL } from "node:buffer";
import { Worker as NodeWorker } from "node:worker_threads";
import type { ThreadHost, WebWorkerConstructor } from "../../src/backends/wasm/threads.js";

/** A host that counts the workers it starts and stops (and may say that this thread cannot block). */
export function countingHost(real: ThreadHost, blocking = real.blocking): ThreadHost & { spawned: number; terminated: number } {
  const counting = {
    parallelism: real.parallelism,
    blocking,
    spawned: 0,
    terminated: 0,
    spawn(script: string, data: Parameters<ThreadHost["spawn"]>[1]) {
      counting.spawned++;
      const worker = real.spawn(script, data);
      return {
        terminate() {
          counting.terminated++;
          worker.terminate();
        },
      };
    },
  };
  return counting;
}

/** What a Web Worker's global scope offers the script, on a `worker_threads` worker. */
const WEB_WORKER_SCOPE = `const { parentPort } = require("node:worker_threads");
globalThis.self = globalThis;
parentPort.once("message", (data) => self.onmessage({ data }));
`;

/**
 * A Web Worker made of a `worker_threads` worker: the constructor reads the
 * script behind a Blob URL (Node's `URL.createObjectURL`), messages posted
 * before the script has loaded wait for it, and errors reach the `error`
 * listeners. Every instance is recorded in `NodeBackedWebWorker.started`.
 */
export class NodeBackedWebWorker {
  static started: NodeBackedWebWorker[] = [];
  readonly errors: unknown[] = [];
  private readonly worker: Promise<NodeWorker>;
  private readonly errorListeners: ((event: { preventDefault(): void }) => void)[] = [];

  readonly url: string;

  constructor(url: string | URL, readonly options: { type?: "classic" | "module"; name?: string } = {}) {
    this.url = String(url);
    const blob = resolveObjectURL(this.url);
    if (blob === undefined) throw new Error(`no Blob behind ${String(url)}`);
    this.worker = blob.text().then((script) => {
      const worker = new NodeWorker(WEB_WORKER_SCOPE + script, { eval: true });
      worker.unref();
      worker.on("error", (e) => {
        this.errors.push(e);
        for (const listener of this.errorListeners) listener({ preventDefault: () => undefined });
      });
      return worker;
    });
    NodeBackedWebWorker.started.push(this);
  }

  postMessage(message: unknown): void {
    void this.worker.then((w) => w.postMessage(message));
  }

  terminate(): void {
    void this.worker.then((w) => w.terminate());
  }

  addEventListener(type: "error", listener: (event: { preventDefault(): void }) => void): void {
    if (type === "error") this.errorListeners.push(listener);
  }
}

/** The class as the Web Worker host's option wants it. */
export const NODE_BACKED_WEB_WORKER: WebWorkerConstructor = NodeBackedWebWorker;

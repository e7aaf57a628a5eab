/**
 * The playground's Web Worker. The compiler loads asynchronously (its
 * modules use top-level await), and a worker drops messages that arrive
 * before it has a handler, so this entry takes messages at once and hands
 * them, in order, to the compiler side (compiler.ts) once it has loaded.
 */
import type { Request } from "./protocol.js";

const early: Request[] = [];
self.onmessage = (e: MessageEvent<Request>) => void early.push(e.data);

const { handle } = await import("./compiler.js");
self.onmessage = (e: MessageEvent<Request>) => handle(e.data);
for (const m of early.splice(0)) handle(m);

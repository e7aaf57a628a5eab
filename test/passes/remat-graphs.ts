/** Graphs for the rematerialization tests: training chains, diamonds, U-nets. */
import type { RematGraph, RematNode } from "../../src/passes/remat/schedule.js";

export type Spec = { name: string; preds: string[]; output?: boolean; bytes?: number; flops?: number };

/** A graph from defs in program order (operands by name). */
export function graphOf(specs: readonly Spec[], persistentBytes = 0): RematGraph {
  const pos = new Map(specs.map((s, k) => [s.name, k]));
  const nodes: RematNode[] = specs.map((s, k) => ({
    name: s.name, pos: k, bytes: s.bytes ?? 1024, flops: s.flops ?? 100, cost: s.flops ?? 100, scratch: 0,
    preds: s.preds.map((p) => pos.get(p)!).sort((a, b) => a - b),
    succs: specs.flatMap((c, j) => (c.preds.includes(s.name) ? [j] : [])),
    output: s.output ?? false,
  }));
  return { nodes, persistentBytes, donated: [] };
}

/** Forward layers f0..f(L-1), a loss, and the backward b(L-1)..b0: b_k reads b_(k+1), f_(k-1) and f_k. */
export function trainingChain(layers: number, bytes = 1024): RematGraph {
  const specs: Spec[] = [];
  for (let k = 0; k < layers; k++) specs.push({ name: `f${k}`, preds: k ? [`f${k - 1}`] : [], bytes });
  specs.push({ name: "loss", preds: [`f${layers - 1}`], bytes: 16 });
  for (let k = layers - 1; k >= 0; k--) {
    const grad = k === layers - 1 ? "loss" : `b${k + 1}`;
    specs.push({ name: `b${k}`, preds: k ? [grad, `f${k - 1}`, `f${k}`] : [grad, `f${k}`], bytes, output: k === 0 });
  }
  return graphOf(specs);
}

/** A U-net: encoder e1..e3, bottom m, decoder d3..d1 each reading the encoder level as a skip connection. */
export function unet(): RematGraph {
  return graphOf([
    { name: "e1", preds: [], bytes: 4096 },
    { name: "e2", preds: ["e1"], bytes: 4096 },
    { name: "e3", preds: ["e2"], bytes: 2048 },
    { name: "m", preds: ["e3"], bytes: 2048 },
    { name: "d3", preds: ["m", "e3"], bytes: 2048 },
    { name: "d2", preds: ["d3", "e2"], bytes: 1024 },
    { name: "d1", preds: ["d2", "e1"], bytes: 1024, output: true },
  ]);
}

/** Two diamonds in a row, the wide value of each read again at the end. */
export function diamonds(): RematGraph {
  return graphOf([
    { name: "a", preds: [], bytes: 2048 },
    { name: "b", preds: ["a"] },
    { name: "c", preds: ["a"] },
    { name: "d", preds: ["b", "c"] },
    { name: "e", preds: ["d"] },
    { name: "f", preds: ["d"] },
    { name: "g", preds: ["e", "f"] },
    { name: "h", preds: ["g", "a"], output: true },
  ]);
}


/** A chain whose first, wide value is read again at the end (a residual connection around three layers). */
export function skipChain(): RematGraph {
  return graphOf([
    { name: "a", preds: [], bytes: 4096 },
    { name: "b", preds: ["a"], bytes: 4096 },
    { name: "c", preds: ["b"] },
    { name: "d", preds: ["c"] },
    { name: "y", preds: ["d", "a"], output: true },
  ]);
}

/** One diamond whose wide top is read again at the end. */
export function diamond(): RematGraph {
  return graphOf([
    { name: "a", preds: [], bytes: 4096 },
    { name: "b", preds: ["a"], bytes: 2048 },
    { name: "c", preds: ["a"], bytes: 2048 },
    { name: "d", preds: ["b", "c"] },
    { name: "y", preds: ["d", "a"], output: true },
  ]);
}

/** A two-level U-net. */
export function smallUnet(): RematGraph {
  return graphOf([
    { name: "e1", preds: [], bytes: 4096 },
    { name: "e2", preds: ["e1"], bytes: 2048 },
    { name: "m", preds: ["e2"], bytes: 2048 },
    { name: "d2", preds: ["m", "e2"], bytes: 2048 },
    { name: "d1", preds: ["d2", "e1"], bytes: 1024, output: true },
  ]);
}

/**
 * A schedule made IR: every computation of a def beyond the first becomes a
 * copy of the def under a fresh name (`h_r1`, `h_r2`, ...), placed where the
 * schedule runs it, and each computation reads the latest version of each
 * operand. Inputs and weights come first, in their order; then the defs,
 * stage by stage, in program order within a stage. An output keeps its name
 * on its last version (the one alive at the end), any other def on its
 * first; a version that nothing reads is dropped.
 *
 *     before: h = f(x); g = k(h); y = m(g, h)            schedule: h@0, g@1, h@2, y@2
 *     after:  h = f(x); g = k(h); h_r1 = f(x); y = m(g, h_r1)
 */
import type { DefNode, Program, TensorNode } from "../../ir/types.js";
import { renameTensors } from "../../ir/walk.js";
import type { RematGraph, Schedule } from "./schedule.js";

/** One def that the realized program computes again. */
export interface Recomputation {
  /** The def, by its name in the program before the pass. */
  readonly tensor: string;
  /** The name of the copy. */
  readonly copy: string;
  /** The defs (by their names in the new program) that read the copy. */
  readonly before: readonly string[];
}

/**
 * The program that runs `schedule`.
 *
 * @example
 * ```ts
 * realizeSchedule(program, graph, baselineSchedule(graph)).program; // the defs as before
 * ```
 */
export function realizeSchedule(program: Program, graph: RematGraph, schedule: Schedule): { program: Program; recomputed: Recomputation[] } {
  const n = graph.nodes.length;
  const defs = program.tensors.filter((t): t is DefNode => t.role === "def");
  // Computations in run order, each (def, stage).
  const runs: { v: number; t: number }[] = [];
  for (let t = 0; t < n; t++) for (let v = 0; v <= t; v++) if (schedule[v]!.includes(t)) runs.push({ v, t });
  // Which version each computation reads, and which versions are needed (walking back from the outputs' last versions).
  const versionRead = (p: number, t: number): number => {
    let best = -1;
    for (const s of schedule[p]!) if (s <= t) best = s;
    return best;
  };
  const key = (v: number, t: number): string => `${v}@${t}`;
  const needed = new Set<string>();
  const pending: string[] = graph.nodes.filter((x) => x.output).map((x) => key(x.pos, schedule[x.pos]!.at(-1)!));
  while (pending.length > 0) {
    const k = pending.pop()!;
    if (needed.has(k)) continue;
    needed.add(k);
    const [v, t] = k.split("@").map(Number) as [number, number];
    for (const p of graph.nodes[v]!.preds) pending.push(key(p, versionRead(p, t)));
  }
  const kept = runs.filter((r) => needed.has(key(r.v, r.t)));
  // Names: the original name on an output's last version, on any other def's first; copies get fresh names.
  const taken = new Set(program.tensors.map((t) => t.name));
  const nameOf = new Map<string, string>();
  const copies = new Map<number, number>();
  for (const node of graph.nodes) {
    const versions = kept.filter((r) => r.v === node.pos);
    const home = node.output ? versions.at(-1) : versions[0];
    for (const r of versions) {
      if (r === home) {
        nameOf.set(key(r.v, r.t), node.name);
        continue;
      }
      let c = copies.get(node.pos) ?? 0;
      let name: string;
      do name = `${node.name}_r${++c}`; while (taken.has(name));
      copies.set(node.pos, c);
      taken.add(name);
      nameOf.set(key(r.v, r.t), name);
    }
  }
  const recomputed = new Map<string, { tensor: string; copy: string; before: string[] }>();
  const ordered: TensorNode[] = program.tensors.filter((t) => t.role !== "def");
  for (const r of kept) {
    const node = graph.nodes[r.v]!;
    const def = defs[r.v]!;
    const rename = new Map<string, string>();
    for (const p of node.preds) {
      const name = nameOf.get(key(p, versionRead(p, r.t)))!;
      rename.set(graph.nodes[p]!.name, name);
    }
    const name = nameOf.get(key(r.v, r.t))!;
    // A copy of a recurrence reads itself under its new name.
    if (def.recurrence !== undefined) rename.set(def.name, name);
    const body = renameTensors({ ...def, name: def.name }, rename) as DefNode;
    ordered.push({ ...body, name, output: def.output && name === def.name });
    for (const p of node.preds) {
      const read = rename.get(graph.nodes[p]!.name)!;
      if (read !== graph.nodes[p]!.name) {
        const entry = recomputed.get(read) ?? { tensor: graph.nodes[p]!.name, copy: read, before: [] };
        entry.before.push(name);
        recomputed.set(read, entry);
      }
    }
  }
  return { program: { ...program, tensors: ordered }, recomputed: [...recomputed.values()] };
}

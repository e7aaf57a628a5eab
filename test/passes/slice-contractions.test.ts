/**
 * Slicing inside a program: order-contractions under maxIntermediateBytes
 * (the chunked slicing chosen by `sliceInChunks`, the defs written by
 * `buildSlicedChain`). Goldens a reviewer can read, the reference
 * interpreter's values before and after, the verifier, the limit on every
 * tensor the contraction forms, and the FLOPs the report gives against the
 * cost model's count of the sliced program.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printProgram } from "../../src/ir/print.js";
import { numel, type DefNode, type Program } from "../../src/ir/types.js";
import { verifyProgram } from "../../src/ir/verify.js";
import { auto } from "../../src/passes/contraction-path/auto.js";
import { internNetwork } from "../../src/passes/contraction-path/network.js";
import type { ChunkedSlicing } from "../../src/passes/contraction-path/slicing.js";
import { programCost } from "../../src/passes/cost.js";
import { runPasses, type PassLogEntry } from "../../src/passes/manager.js";
import { matchSumOfProducts, MAX_PROGRAM_SLICES, orderContractions, orderContractionsWithin } from "../../src/passes/order-contractions.js";
import { buildSlicedChain } from "../../src/passes/sliced-chain.js";
import { expectGolden } from "../golden.js";
import { expectSameValues, networkProgram } from "./support.js";

/** A def of four 3-index tensors on the edges of a tetrahedron, one output index: its best tree forms an n⁴ intermediate from n³ operands. */
function tetrahedron(n: number, dtype = "f32"): Program {
  return parseProgramText(`
input A: ${dtype}[${n}, ${n}, ${n}]
input B: ${dtype}[${n}, ${n}, ${n}]
input C: ${dtype}[${n}, ${n}, ${n}]
input D: ${dtype}[${n}, ${n}, ${n}]
output O: ${dtype}[${n}] = [f:${n}] sum(a:${n}, b:${n}, c:${n}, d:${n}, e:${n}) A[a, b, c] * B[a, d, e] * C[b, d, f] * D[c, e, f]
`);
}

function sliced(program: Program, maxIntermediateBytes: number): { program: Program; log: readonly PassLogEntry[] } {
  return runPasses(program, [orderContractionsWithin({ maxIntermediateBytes })], { verify: true });
}

function slicingOf(log: readonly PassLogEntry[]) {
  return log.flatMap((e) => e.notes ?? []).find((n) => n.slicing !== undefined)?.slicing;
}

/** The defs the pass added (every def but the original outputs). */
function formed(before: Program, after: Program): DefNode[] {
  const old = new Set(before.tensors.map((t) => t.name));
  return after.tensors.filter((t): t is DefNode => t.role === "def" && !old.has(t.name));
}

describe("slicing in order-contractions", () => {
  it("slices a summed index one value at a time (golden)", () => {
    const before = tetrahedron(4);
    const { program: after, log } = sliced(before, 512);
    expectGolden("slice-contractions/summed", `${printProgram(before)}\n# after order-contractions, maxIntermediateBytes 512\n${printProgram(after)}`);
    expectSameValues(before, after);
    const s = slicingOf(log)!;
    expect(s.refused).toBeNull();
    expect(s.slices).toBeGreaterThan(1);
    expect(s.largestIntermediate * 4).toBeLessThanOrEqual(512);
    for (const d of formed(before, after)) expect(numel(d.shape) * 4, d.name).toBeLessThanOrEqual(512);
  });

  it("leaves a path within the limit as the unsliced pass does", () => {
    const before = tetrahedron(4);
    expect(printProgram(sliced(before, 1 << 20).program)).toBe(printProgram(runPasses(before, [orderContractions]).program));
    expect(slicingOf(sliced(before, 1 << 20).log)).toBeUndefined();
  });

  it("regroups a sliced output index as (chunk, value), with factors and grouping (golden)", () => {
    const before = parseProgramText(`
input A: f64[6, 5]
input B: f64[5, 2]
input C: f64[2, 4]
input V: f64[6]
output Y: f64[24] = [(i:6, l:4)] V[i] * sum(j:5, k:2) 0.5 * A[i, j] * B[j, k] * C[k, l]
`);
    const def = before.tensors.at(-1) as DefNode;
    const m = matchSumOfProducts(def)!;
    const net = internNetwork({ inputs: m.operands.map((a) => a.index.map((x) => x.terms[0]!.var)), output: ["i", "l"], extents: def.ranges });
    const path = auto.find(net, {});
    // Slice the output index i in chunks of 3 and the summed index k one value at a time.
    const slicing: ChunkedSlicing = { labels: ["i", "k"], chunks: [3, 1], slices: 4, flops: 0, extraFlops: 0, largestIntermediate: 0 };
    const defs = buildSlicedChain(def, m, net, path, slicing, new Set(before.tensors.map((t) => t.name)), "f64");
    const after: Program = { ...before, tensors: [...before.tensors.slice(0, -1), ...defs] };
    verifyProgram(after);
    expectGolden("slice-contractions/output-chunks", `${printProgram(before)}\n# sliced: i in chunks of 3, k one value at a time\n${printProgram(after)}`);
    expectSameValues(before, after);
    const y = after.tensors.at(-1) as DefNode;
    expect(after.tensors.filter((t) => t.role === "def")).toHaveLength(4 * 2 + 2 + 1);
    expect(y.indices).toEqual(["i_s", "i", "l"]);
    expect(y.groups).toEqual([3]);
    expect(y.shape).toEqual([24]);
  });

  it("reports exactly the FLOPs the sliced program costs", () => {
    for (const [n, limit] of [[4, 64], [6, 256], [8, 1024], [8, 300]] as const) {
      const before = tetrahedron(n);
      const { program: after, log } = sliced(before, limit);
      const s = slicingOf(log)!;
      expect(s.refused).toBeNull();
      expect(s.flops).toBe(programCost(after).flops);
      expect(s.extraFlops).toBe(programCost(after).flops - programCost(runPasses(before, [orderContractions]).program).flops);
      for (const [k, l] of s.labels.entries()) expect(n % s.chunks[k]!, l).toBe(0);
    }
  });

  it("keeps every tensor of random networks within the limit and their values (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 7 }), fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 1, max: 64 }), fc.boolean(), (n, seed, divisor, factor) => {
        const before = networkProgram(n, seed, seed % 3 === 0, factor);
        const plain = runPasses(before, [orderContractions]).program;
        const largest = Math.max(0, ...formed(before, plain).map((d) => numel(d.shape)));
        if (largest < 2) return;
        const limitBytes = Math.max(8, Math.floor((largest * 8) / divisor));
        const { program: after, log } = sliced(before, limitBytes);
        expectSameValues(before, after);
        const s = slicingOf(log);
        if (s === undefined || s.refused !== null) return;
        expect(s.largestIntermediate * 8).toBeLessThanOrEqual(limitBytes);
        expect(s.slices).toBeLessThanOrEqual(MAX_PROGRAM_SLICES);
        const out = after.tensors.at(-1)!;
        for (const d of formed(before, after)) {
          if (d.name !== out.name) expect(numel(d.shape) * 8, d.name).toBeLessThanOrEqual(limitBytes);
        }
      }),
      { seed: 18, numRuns: 60 },
    );
  });

  it("refuses a limit that needs more slices than a program runs, leaving the def unsliced", () => {
    const before = tetrahedron(16);
    const { program: after, log } = sliced(before, 256);
    const s = slicingOf(log)!;
    expect(s.refused).toMatch(/slices, more than the 256/);
    expect(printProgram(after)).toBe(printProgram(runPasses(before, [orderContractions]).program));
  });
});

/**
 * The public contractPath (opt_einsum's contract_path) and `tns path`.
 */
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { contractPath } from "../../src/index.js";
import { internNetwork, networkOfSpec, pathFlops } from "../../src/passes/contraction-path/index.js";

const ROOT = resolve(import.meta.dirname, "../..");

function tns(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/tns.js"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe("contractPath", () => {
  it("returns opt_einsum's path, opt_cost and largest intermediate for a matrix chain", () => {
    const r = contractPath("ij,jk,kl->il", [[64, 64], [64, 64], [64, 8]], { optimize: "dp" });
    expect(r.path).toEqual([[1, 2], [0, 1]]);
    // Two steps of 64·64·8 multiply-adds, each counted twice (opt_einsum's flop_count with a summed index).
    expect(r.flops).toBe(2 * 2 * 64 * 64 * 8);
    expect(r.largestIntermediate).toBe(64 * 8);
    expect(r.report()).toContain("Optimized FLOP count:  1.311e+05");
  });

  it("takes the implicit output (labels appearing once, sorted) and any letters", () => {
    const r = contractPath("jÀ,Ài", [[3, 5], [5, 2]]);
    expect(networkOfSpec("jÀ,Ài", [[3, 5], [5, 2]]).output).toEqual(["i", "j"]);
    expect(r.info.legend).toEqual({ j: "a", "À": "b", i: "c" });
    expect(r.flops).toBe(2 * 3 * 5 * 2);
  });

  it("every finder gives a valid path, and the exact ones agree", () => {
    const spec = "ea,fb,abcd,gc,hd->efgh";
    const shapes = [[4, 2], [5, 3], [2, 3, 4, 5], [6, 4], [7, 5]];
    const costs = Object.fromEntries(["optimal", "dp", "greedy", "random-greedy", "hyper", "auto"].map((o) => [o, contractPath(spec, shapes, { optimize: o as never }).flops]));
    expect(costs["dp"]).toBe(costs["optimal"]);
    expect(costs["auto"]).toBe(costs["optimal"]);
    for (const c of Object.values(costs)) expect(c).toBeGreaterThanOrEqual(costs["optimal"]!);
  });

  it("keeps intermediates within memoryLimit", () => {
    const spec = "ab,bc,cd,de->ae";
    const shapes = [[2, 30], [30, 30], [30, 30], [30, 2]];
    const free = contractPath(spec, shapes, { optimize: "optimal" });
    const tight = contractPath(spec, shapes, { optimize: "optimal", memoryLimit: 60 });
    expect(tight.largestIntermediate).toBeLessThanOrEqual(60);
    expect(tight.flops).toBeGreaterThanOrEqual(free.flops);
  });

  it("rejects shapes that do not match the specification", () => {
    expect(() => contractPath("ij,jk->ik", [[2, 3]])).toThrow(/2 operand\(s\) but 1 shape/);
    expect(() => contractPath("ij,jk->ik", [[2, 3], [4, 5]])).toThrow(/label 'j' has extent 3 and 4/);
    expect(() => contractPath("ij,jk->ik", [[2, 3], [3]])).toThrow(/operand 1 \('jk'\) has 2 label/);
    expect(() => contractPath("...ij->ij", [[2, 3]])).toThrow(/not supported/);
    expect(() => contractPath("ij->ij", [[2, 3]], { optimize: "best" as never })).toThrow(/unknown optimize 'best'/);
  });
});

describe("tns path", () => {
  it("prints the path and the report", () => {
    const r = tns(["path", "ij,jk,kl->il", "--shapes", "64x64,64x64,64x8", "--optimize", "dp"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Path: [[1,2],[0,1]]");
    expect(r.stdout).toContain("Path finder:  dp");
  });

  it("prints JSON and honours --max-intermediate", () => {
    const r = tns(["path", "ab,bc,cd,de->ae", "--shapes", "2x30,30x30,30x30,30x2", "--optimize", "optimal", "--max-intermediate", "480B", "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.largestIntermediate).toBeLessThanOrEqual(60);
    expect(out.path.length).toBeGreaterThan(0);
  });

  it("has help, and reports usage errors with exit code 2", () => {
    expect(tns(["path", "--help"]).stdout).toContain("Usage: tns path SPEC --shapes");
    expect(tns(["--help"]).stdout).toMatch(/path\s+the contraction path/);
    const bad = tns(["path", "ij,jk", "--shapes", "2x3,4x4"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("label 'j' has extent 3 and 4");
    expect(tns(["path", "ij,jk", "--shapes", "2x3,3xq"]).stderr).toContain("--shapes expects");
    expect(tns(["path", "ij,jk", "--shapes", "2x3,3x4", "--max-intermediate", "lots"]).stderr).toContain("--max-intermediate expects");
    expect(tns(["path", "ij,jk"]).code).toBe(2);
  });
});

describe("slicing under maxIntermediateBytes", () => {
  it("slices a label so that every tensor of a slice fits, and says what it costs", () => {
    // The best path forms 64×64 intermediates; a limit 16× under forces slicing.
    const spec = "ab,bc,cd,da->";
    const shapes = [[64, 64], [64, 64], [64, 64], [64, 64]];
    const plain = contractPath(spec, shapes, { optimize: "optimal" });
    expect(plain.largestIntermediate).toBe(64 * 64);
    const limitBytes = (64 * 64 * 8) / 16;
    const r = contractPath(spec, shapes, { optimize: "optimal", maxIntermediateBytes: limitBytes });
    expect(r.path).toEqual(plain.path);
    expect(r.slicing.labels.length).toBeGreaterThan(0);
    expect(r.slicing.largestIntermediate * 8).toBeLessThanOrEqual(limitBytes);
    expect(r.slicing.slices).toBeGreaterThanOrEqual(16);
    expect(r.slicing.flops).toBe(r.flops + r.slicing.extraFlops);
    expect(r.slicing.extraFlops).toBeGreaterThanOrEqual(0);
    expect(r.report()).toMatch(/Sliced labels: {2}\S+.*\(\d+ slices\)/);
    expect(r.report()).toMatch(/FLOPs when sliced: {2}\d\.\d{3}e\+\d\d \(\d\.\d{3}e\+\d\d added/);
  });

  it("slices nothing when the path fits, and refuses a limit under one element", () => {
    const r = contractPath("ij,jk->ik", [[4, 4], [4, 4]], { maxIntermediateBytes: 1 << 20 });
    expect(r.slicing).toEqual({ labels: [], slices: 1, flops: r.flops, extraFlops: 0, largestIntermediate: 16 });
    expect(() => contractPath("ij,jk->ik", [[4, 4], [4, 4]], { maxIntermediateBytes: 4 })).toThrow(/at least one element/);
  });

  it("the sliced FLOPs are the sum over the slices of the path on the sliced shapes", () => {
    const spec = "ab,bc,cd,de->ae";
    const shapes = [[2, 30], [30, 30], [30, 30], [30, 2]];
    for (const optimize of ["dp", "auto"] as const) {
      const r = contractPath(spec, shapes, { optimize, maxIntermediateBytes: 80 });
      const sliced = new Set(r.slicing.labels);
      expect(sliced.size).toBeGreaterThan(0);
      const terms = spec.split("->")[0]!.split(",");
      // Each slice runs the same path with the sliced labels of extent 1.
      const sliceShapes = shapes.map((s, k) => s.map((n, j) => (sliced.has(terms[k]![j]!) ? 1 : n)));
      const summed = [...sliced].some((l) => !"ae".includes(l));
      // A slice's result (the output with the sliced output labels at 1) is added into the output when a summed label is sliced.
      const sliceOutput = (sliced.has("a") ? 1 : 2) * (sliced.has("e") ? 1 : 2);
      expect(r.slicing.flops).toBe(r.slicing.slices * pathCost(spec, sliceShapes, r.path) + (summed ? r.slicing.slices * sliceOutput : 0));
      expect(r.slicing.slices).toBe([...sliced].reduce((a, l) => a * (l === "a" || l === "e" ? 2 : 30), 1));
    }
  });
});

function pathCost(spec: string, shapes: number[][], path: readonly (readonly number[])[]): number {
  const net = internNetwork(networkOfSpec(spec, shapes));
  return pathFlops(net, path);
}

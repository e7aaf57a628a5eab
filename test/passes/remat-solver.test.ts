/**
 * The rematerialization model on graphs: chains with their backward pass,
 * diamonds and U-nets. The MILP's schedules fit the budget by the model's own
 * count, never recompute more than the heuristics, and on graphs small
 * enough to enumerate, recompute exactly as little as the best schedule an
 * exhaustive search finds.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { bestHeuristic, checkpointSchedule, greedyMinPeak, greedyRemat } from "../../src/passes/remat/heuristic.js";
import { rematModel, rematWindows, withinWindows } from "../../src/passes/remat/milp.js";
import { baselineSchedule, type RematGraph, type Schedule, scheduleMemory } from "../../src/passes/remat/schedule.js";
import { diamond, diamonds, skipChain, smallUnet, trainingChain, unet } from "./remat-graphs.js";
import { loadMilpSolver, solveMilp } from "../../src/passes/remat/solver.js";

beforeAll(async () => {
  await loadMilpSolver();
});

/** Solves the budget model, started from the heuristics. */
function solve(graph: RematGraph, budget: number, timeLimitMs = 10_000): { schedule: Schedule | null; status: string } {
  const start = bestHeuristic(graph, budget);
  const model = rematModel(graph, { budgetBytes: budget });
  const result = solveMilp(model.problem, { timeLimitMs, start: start.fits ? model.startFrom(start.schedule) ?? undefined : undefined });
  return { schedule: result.values ? model.readSchedule(result.values) : null, status: result.status };
}

/**
 * The least extra cost of any just-in-time schedule within the budget, by
 * enumeration: each def computed at a subset of its own stage and the stages
 * its readers may run at (what the model allows).
 */
function bruteForce(graph: RematGraph, budget: number): number {
  const { computeUntil } = rematWindows(graph);
  const choices = graph.nodes.map((v) => {
    const stages = [v.pos];
    for (let t = v.pos + 1; t <= computeUntil[v.pos]!; t++) if (v.succs.some((c) => c <= t && t <= computeUntil[c]!)) stages.push(t);
    const subsets: number[][] = [];
    for (let mask = 1; mask < 1 << stages.length; mask++) subsets.push(stages.filter((_, k) => mask & (1 << k)));
    return subsets;
  });
  const combinations = choices.reduce((a, c) => a * c.length, 1);
  if (combinations > 100_000) throw new Error(`${combinations} schedules: too many to enumerate`);
  let best = Infinity;
  const pick: number[][] = [];
  const walk = (v: number): void => {
    if (v === graph.nodes.length) {
      const schedule = pick.map((s) => s);
      try {
        const m = scheduleMemory(graph, schedule);
        if (m.peak <= budget) best = Math.min(best, m.extraCost);
      } catch {
        // an operand without a version: not a schedule
      }
      return;
    }
    for (const s of choices[v]!) {
      pick[v] = s;
      walk(v + 1);
    }
  };
  walk(0);
  return best;
}

describe("the rematerialization model", () => {
  it("needs no recomputation when the budget holds the program as written", () => {
    const g = trainingChain(4);
    const peak = scheduleMemory(g, baselineSchedule(g)).peak;
    const { schedule, status } = solve(g, peak);
    expect(status).toBe("optimal");
    expect(scheduleMemory(g, schedule!).extraCost).toBe(0);
  });

  it("finds the least recomputation an exhaustive search finds, on small chains, diamonds and U-nets", () => {
    const cases: [string, RematGraph][] = [["chain", skipChain()], ["diamond", diamond()], ["unet", smallUnet()]];
    for (const [name, g] of cases) {
      const peak = scheduleMemory(g, baselineSchedule(g)).peak;
      const least = greedyMinPeak(g, baselineSchedule(g)).peak;
      const budgets = [...new Set([peak - 16, Math.floor((peak + least) / 2 / 16) * 16, least])].filter((b) => b >= least && b < peak);
      expect(budgets.length, name).toBeGreaterThan(0);
      for (const budget of budgets) {
        const exact = bruteForce(g, budget);
        const { schedule, status } = solve(g, budget);
        if (exact === Infinity) {
          expect(status, `${name} at ${budget}`).toBe("infeasible");
          continue;
        }
        expect(status, `${name} at ${budget}`).toBe("optimal");
        expect(withinWindows(g, schedule!)).toBe(true);
        const m = scheduleMemory(g, schedule!);
        expect(m.peak, `${name} at ${budget}`).toBeLessThanOrEqual(budget);
        expect(m.extraCost, `${name} at ${budget}`).toBe(exact);
        expect(m.extraCost).toBeGreaterThan(0);
      }
    }
  });

  it("on larger diamonds and U-nets, fits every budget the heuristics fit, recomputing no more", () => {
    for (const [name, g] of [["diamonds", diamonds()], ["unet", unet()]] as const) {
      const peak = scheduleMemory(g, baselineSchedule(g)).peak;
      const least = greedyMinPeak(g, baselineSchedule(g)).peak;
      expect(least, name).toBeLessThan(peak);
      for (const budget of [least, Math.ceil((least + peak) / 32) * 16]) {
        const { schedule } = solve(g, budget, 3000);
        const m = scheduleMemory(g, schedule!);
        expect(m.peak, `${name} at ${budget}`).toBeLessThanOrEqual(budget);
        expect(m.extraCost).toBeLessThanOrEqual(scheduleMemory(g, bestHeuristic(g, budget).schedule).extraCost);
      }
    }
  });

  it("says a budget below every schedule's peak is infeasible", () => {
    const g = unet();
    expect(solve(g, 6144).status).toBe("infeasible");
  });

  it("on a 16-layer training chain, fits the budget with no more recomputation than the heuristics or √n checkpointing", () => {
    const g = trainingChain(16);
    const keep = new Set(g.nodes.filter((v) => v.name.startsWith("f") && Number(v.name.slice(1)) % 4 === 3).map((v) => v.pos));
    const chen = scheduleMemory(g, checkpointSchedule(g, keep));
    const base = scheduleMemory(g, baselineSchedule(g));
    expect(chen.peak).toBeLessThan(base.peak);
    expect(chen.recomputedFlops).toBeGreaterThan(0);
    const { schedule } = solve(g, chen.peak, 3000);
    const m = scheduleMemory(g, schedule!);
    expect(m.peak).toBeLessThanOrEqual(chen.peak);
    expect(m.recomputedFlops).toBeLessThanOrEqual(chen.recomputedFlops);
    expect(m.extraCost).toBeLessThanOrEqual(scheduleMemory(g, bestHeuristic(g, chen.peak).schedule).extraCost);
  });
});

describe("the heuristics", () => {
  it("greedy recomputation fits a budget the program as written exceeds, and refuses one below its reach", () => {
    const g = trainingChain(8);
    const base = scheduleMemory(g, baselineSchedule(g)).peak;
    const budget = base - 2 * 1024;
    const fit = greedyRemat(g, baselineSchedule(g), budget);
    expect(fit.fits).toBe(true);
    expect(scheduleMemory(g, fit.schedule).peak).toBeLessThanOrEqual(budget);
    expect(scheduleMemory(g, fit.schedule).recomputedFlops).toBeGreaterThan(0);
    expect(greedyRemat(g, baselineSchedule(g), 2048).fits).toBe(false);
  });

  it("√n checkpointing recomputes each forward layer but the kept ones once", () => {
    const g = trainingChain(16);
    const keep = new Set(g.nodes.filter((v) => /^f(3|7|11|15)$/.test(v.name)).map((v) => v.pos));
    const s = checkpointSchedule(g, keep);
    for (const v of g.nodes) {
      const recomputed = v.name.startsWith("f") && !keep.has(v.pos) && v.name !== "f15";
      expect(s[v.pos]!.length, v.name).toBe(recomputed ? 2 : 1);
    }
  });
});

/**
 * The bounded search behind every rewrite: best-first over states (an
 * expression, a whole program), cheapest first, duplicates pruned by a
 * structural key. It stops when nothing new is reachable (`saturated`) or
 * at the first limit it reaches, and says which; the result is the
 * cheapest state seen, with the rules that led to it. The engine knows
 * states only through a {@link SearchSpace}: rules, keys and the cost
 * function are passed in, so extraction is separate from exploration.
 *
 * Deterministic: ties in cost are broken by discovery order, and the time
 * limit is the only input from outside (tests pass their own clock).
 */

/** Why a search ended. */
export type StopReason = "saturated" | "iteration-limit" | "node-limit" | "time-limit";

/** Bounds of a search. */
export interface SearchLimits {
  /** Most states expanded (default 200). */
  readonly maxIterations?: number;
  /** Most distinct states kept (default 2000). */
  readonly maxNodes?: number;
  /** Most milliseconds (default 1000). */
  readonly timeLimitMs?: number;
  /** Milliseconds since some origin; default `Date.now` (tests inject a fake). */
  readonly clock?: () => number;
}

/** One rewrite step: the rule's name and the state it leads to. */
export interface Step<S> {
  readonly rule: string;
  readonly state: S;
}

/** What the engine needs to know about states. */
export interface SearchSpace<S> {
  /** Equal keys mean the same state (e.g. `exprKey`). */
  key(state: S): string;
  /** Lower is better; the result is the cheapest state seen. */
  cost(state: S): number;
  /** Every one-step rewrite of a state. */
  successors(state: S): Step<S>[];
}

/** The outcome of {@link search}. */
export interface SearchResult<S> {
  readonly best: S;
  readonly bestCost: number;
  readonly startCost: number;
  /** Rule names along the path from the start to `best`. */
  readonly derivation: readonly string[];
  readonly stopReason: StopReason;
  /** States expanded. */
  readonly iterations: number;
  /** Distinct states seen. */
  readonly nodes: number;
  /** How many new states each rule produced during the search. */
  readonly fired: Readonly<Record<string, number>>;
}

interface Entry<S> {
  readonly state: S;
  readonly cost: number;
  readonly order: number;
  readonly parent: Entry<S> | null;
  readonly rule: string | null;
}

/** A binary min-heap on (cost, discovery order). */
class Frontier<S> {
  private readonly items: Entry<S>[] = [];

  get size(): number {
    return this.items.length;
  }

  push(e: Entry<S>): void {
    const a = this.items;
    a.push(e);
    let k = a.length - 1;
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (!before(a[k]!, a[p]!)) break;
      [a[k], a[p]] = [a[p]!, a[k]!];
      k = p;
    }
  }

  pop(): Entry<S> | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let k = 0;
      for (;;) {
        const l = 2 * k + 1;
        const r = l + 1;
        let m = k;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === k) break;
        [a[k], a[m]] = [a[m]!, a[k]!];
        k = m;
      }
    }
    return top;
  }
}

function before<S>(x: Entry<S>, y: Entry<S>): boolean {
  return x.cost < y.cost || (x.cost === y.cost && x.order < y.order);
}

function derivationOf<S>(e: Entry<S>): string[] {
  const out: string[] = [];
  for (let x: Entry<S> | null = e; x !== null && x.rule !== null; x = x.parent) out.push(x.rule);
  return out.reverse();
}

/**
 * Explores rewrites of `start` cheapest-first within `limits` and returns
 * the cheapest state seen (the start itself when nothing is cheaper).
 *
 * @example
 * ```ts
 * const r = search(expr, { key: exprKey, cost: (e) => exprSize(e), successors: (e) => expressionRewrites(e, rules, ctx) }, { maxNodes: 100 });
 * r.stopReason; // "saturated" when every reachable form was seen
 * ```
 */
export function search<S>(start: S, space: SearchSpace<S>, limits: SearchLimits = {}): SearchResult<S> {
  const maxIterations = limits.maxIterations ?? 200;
  const maxNodes = limits.maxNodes ?? 2000;
  const timeLimitMs = limits.timeLimitMs ?? 1000;
  const clock = limits.clock ?? Date.now;
  const t0 = clock();
  const fired: Record<string, number> = {};
  const seen = new Set<string>([space.key(start)]);
  const root: Entry<S> = { state: start, cost: space.cost(start), order: 0, parent: null, rule: null };
  const frontier = new Frontier<S>();
  frontier.push(root);
  let best = root;
  let iterations = 0;
  let order = 1;
  const finish = (stopReason: StopReason): SearchResult<S> => ({
    best: best.state, bestCost: best.cost, startCost: root.cost, derivation: derivationOf(best),
    stopReason, iterations, nodes: seen.size, fired,
  });
  for (;;) {
    if (frontier.size === 0) return finish("saturated");
    if (iterations >= maxIterations) return finish("iteration-limit");
    if (clock() - t0 > timeLimitMs) return finish("time-limit");
    const current = frontier.pop()!;
    iterations++;
    for (const step of space.successors(current.state)) {
      const key = space.key(step.state);
      if (seen.has(key)) continue;
      if (seen.size >= maxNodes) return finish("node-limit");
      seen.add(key);
      fired[step.rule] = (fired[step.rule] ?? 0) + 1;
      const entry: Entry<S> = { state: step.state, cost: space.cost(step.state), order: order++, parent: current, rule: step.rule };
      if (entry.cost < best.cost) best = entry;
      frontier.push(entry);
    }
  }
}

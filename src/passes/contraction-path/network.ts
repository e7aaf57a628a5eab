/**
 * The abstract tensor network the path finders search over, and the one
 * step every finder and the cost model share: contracting some operands of
 * the current list into one.
 *
 * A network is a list of operands, each a list of index labels (a label may
 * repeat within an operand: `ii` is a diagonal), the output labels, and an
 * extent for every label. A path is a list of steps in opt_einsum's form:
 * each step lists positions in the *current* operand list; those operands
 * are removed and their contraction is appended at the end.
 *
 * Internally labels are small integers and an operand is the sorted set of
 * its labels: repeated labels cost nothing extra (NumPy and opt_einsum treat
 * operands as label sets the same way).
 */

/**
 * A tensor network: operands as label lists, output labels, extents.
 *
 * @example
 * ```ts
 * const chain: TensorNetwork = {
 *   inputs: [["i", "j"], ["j", "k"], ["k", "l"]],
 *   output: ["i", "l"],
 *   extents: { i: 10, j: 20, k: 30, l: 40 },
 * };
 * ```
 */
export interface TensorNetwork {
  readonly inputs: readonly (readonly string[])[];
  readonly output: readonly string[];
  readonly extents: Readonly<Record<string, number>>;
}

/**
 * One step of a path: positions in the current operand list (two, or all
 * remaining operands when a memory limit leaves no pair to contract).
 *
 * @example
 * ```ts
 * const step: ContractionStep = [0, 2];
 * ```
 */
export type ContractionStep = readonly number[];

/**
 * A contraction path, e.g. `[[0, 2], [0, 1]]` (opt_einsum's form).
 *
 * @example
 * ```ts
 * const path: ContractionPath = [[1, 2], [0, 1]]; // (B C) first, then A with it
 * ```
 */
export type ContractionPath = readonly ContractionStep[];

/** A label set: sorted, distinct label ids. */
export type LabelSet = readonly number[];

/**
 * A network with interned labels, ready for searching.
 *
 * @example
 * ```ts
 * const net = internNetwork({ inputs: [["i", "j"], ["j"]], output: ["i"], extents: { i: 2, j: 3 } });
 * net.sets; // [[0, 1], [1]]
 * ```
 */
export interface InternedNetwork {
  readonly source: TensorNetwork;
  /** Label names by id. */
  readonly labels: readonly string[];
  /** Extent by label id. */
  readonly extent: readonly number[];
  /** Label set of each input operand. */
  readonly sets: readonly LabelSet[];
  /** Whether each label id is an output label. */
  readonly inOutput: readonly boolean[];
}

/**
 * Interns the labels of `network` and checks it: every label has a positive
 * extent, and output labels are distinct and appear in some operand.
 *
 * @example
 * ```ts
 * internNetwork({ inputs: [["i"]], output: ["j"], extents: { i: 2, j: 2 } }); // throws RangeError
 * ```
 */
export function internNetwork(network: TensorNetwork): InternedNetwork {
  const ids = new Map<string, number>();
  const labels: string[] = [];
  const idOf = (l: string): number => {
    let id = ids.get(l);
    if (id === undefined) {
      const n = network.extents[l];
      if (n === undefined || !(n > 0)) throw new RangeError(`label '${l}' has no positive extent`);
      id = labels.length;
      ids.set(l, id);
      labels.push(l);
    }
    return id;
  };
  const sets = network.inputs.map((ls) => toSet(ls.map(idOf)));
  if (new Set(network.output).size !== network.output.length) throw new RangeError(`output labels repeat: ${network.output.join("")}`);
  const inOutput = labels.map(() => false);
  for (const l of network.output) {
    const id = ids.get(l);
    if (id === undefined) throw new RangeError(`output label '${l}' appears in no operand`);
    inOutput[id] = true;
  }
  return { source: network, labels, extent: labels.map((l) => network.extents[l]!), sets, inOutput };
}

function toSet(ids: readonly number[]): LabelSet {
  return [...new Set(ids)].sort((a, b) => a - b);
}

/**
 * The number of elements of a tensor over `set`.
 *
 * @example
 * ```ts
 * setSize(net, [0, 1]); // extent of label 0 times extent of label 1
 * ```
 */
export function setSize(net: InternedNetwork, set: LabelSet): number {
  let n = 1;
  for (const l of set) n *= net.extent[l]!;
  return n;
}

/**
 * The union of label sets, sorted.
 *
 * @example
 * ```ts
 * unionOf([[0, 2], [1, 2]]); // [0, 1, 2]
 * ```
 */
export function unionOf(sets: readonly LabelSet[]): LabelSet {
  if (sets.length === 1) return sets[0]!;
  return toSet(sets.flat());
}

/**
 * The FLOP count of contracting `numTerms` operands over `contracted` labels,
 * NumPy's `_flop_count`: the product of the extents of every label involved,
 * times `max(numTerms - 1, 1)` multiplications, plus one more per point when
 * a label is summed away (`inner`).
 *
 * @example
 * ```ts
 * flopCount(60, true, 2);  // 120: a pairwise step that sums an index
 * flopCount(60, false, 2); // 60: an outer or Hadamard product
 * ```
 */
export function flopCount(contractedSize: number, inner: boolean, numTerms: number): number {
  return contractedSize * (Math.max(numTerms - 1, 1) + (inner ? 1 : 0));
}

/** What one step does: the labels involved, the result's labels, whether it sums, its cost. */
export interface StepOutcome {
  readonly contracted: LabelSet;
  readonly result: LabelSet;
  /** Whether some label is summed away in this step. */
  readonly inner: boolean;
  readonly flops: number;
  readonly resultSize: number;
}

/**
 * Contracts the operands at `positions` of `current` (label sets): a label of
 * theirs survives when it is an output label or another operand still has it.
 *
 * @example
 * ```ts
 * contractStep(net, net.sets, [0, 1]).result; // the labels the intermediate keeps
 * ```
 */
export function contractStep(net: InternedNetwork, current: readonly LabelSet[], positions: readonly number[]): StepOutcome {
  const chosen = new Set(positions);
  const elsewhere = new Set<number>();
  current.forEach((s, k) => {
    if (!chosen.has(k)) for (const l of s) elsewhere.add(l);
  });
  const contracted = unionOf(positions.map((p) => current[p]!));
  const result = contracted.filter((l) => net.inOutput[l] || elsewhere.has(l));
  const inner = result.length < contracted.length;
  const flops = flopCount(setSize(net, contracted), inner, positions.length);
  return { contracted, result, inner, flops, resultSize: setSize(net, result) };
}

/**
 * Applies a step to the operand list: removes `positions`, appends `result`.
 *
 * @example
 * ```ts
 * applyStep([[0], [1], [2]], [0, 2], [0, 2]); // [[1], [0, 2]]
 * ```
 */
export function applyStep<T>(current: readonly T[], positions: readonly number[], result: T): T[] {
  const chosen = new Set(positions);
  return [...current.filter((_, k) => !chosen.has(k)), result];
}

/**
 * Checks that `path` is a valid path for `count` operands (each step names
 * two or more distinct positions in range, and one operand remains).
 *
 * @example
 * ```ts
 * checkPath([[0, 1], [0, 1]], 3); // ok
 * checkPath([[0, 3]], 3);         // throws RangeError
 * ```
 */
export function checkPath(path: ContractionPath, count: number): void {
  let n = count;
  for (const step of path) {
    if (step.length < 2 || new Set(step).size !== step.length || step.some((p) => !Number.isInteger(p) || p < 0 || p >= n)) {
      throw new RangeError(`step [${step.join(", ")}] is not valid for ${n} operand(s)`);
    }
    n -= step.length - 1;
  }
  if (n !== 1) throw new RangeError(`the path leaves ${n} operands, not 1`);
}

/**
 * PathInfo: what a contraction path does and costs, step by step, in
 * opt_einsum's and NumPy's terms, and its text form for `tns explain`.
 *
 * Costs follow `numpy.einsum_path` (NumPy 1.24) exactly; see
 * docs/optimizer.md, "Contraction ordering":
 * - a step over the labels `C` of its operands costs
 *   `prod(extent(C)) * (max(terms - 1, 1) + (1 if it sums a label away))`;
 * - the naive count is the same formula over all labels and all operands,
 *   where "sums" means: some label appears in two or more operands;
 * - NumPy prints the optimized count plus one; `optimizedFlops` here is the
 *   plain sum of the steps.
 */
import { applyStep, contractStep, type ContractionPath, type InternedNetwork, type LabelSet, flopCount, setSize } from "./network.js";

/** One step of a path, described. */
export interface PathStepInfo {
  /** Positions in the operand list before the step. */
  readonly positions: readonly number[];
  /** The step as einsum text, operands in NumPy's order, e.g. `kl,ik->il`. */
  readonly einsum: string;
  readonly flops: number;
  /** How many distinct labels the step loops over. */
  readonly scaling: number;
  /** Elements of the step's result. */
  readonly resultSize: number;
  /** The operand list after the step, as einsum text. */
  readonly remaining: string;
}

/** A path with its costs (opt_einsum's PathInfo). */
export interface PathInfo {
  readonly finder: string;
  /** The whole contraction as einsum text, e.g. `ij,jk,kl->il`. */
  readonly equation: string;
  /** Letters used in the einsum text, by original label, when labels are not single letters. */
  readonly legend: Readonly<Record<string, string>> | null;
  readonly path: ContractionPath;
  readonly steps: readonly PathStepInfo[];
  readonly naiveFlops: number;
  readonly optimizedFlops: number;
  /** `naiveFlops / optimizedFlops`. */
  readonly speedup: number;
  readonly naiveScaling: number;
  readonly optimizedScaling: number;
  /** The largest step result in elements (the final result included, as NumPy counts). */
  readonly largestIntermediate: number;
  /** Total bytes of every intermediate (not the final result) at `bytesPerElement`. */
  readonly intermediateBytes: number;
}

const SYMBOLS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/**
 * NumPy's naive FLOP count of `net`: one loop nest over every label.
 *
 * @example
 * ```ts
 * naiveFlops(internNetwork({ inputs: [["i", "j"], ["j", "k"], ["k", "l"]], output: ["i", "l"], extents: { i: 2, j: 2, k: 2, l: 2 } })); // 48
 * ```
 */
export function naiveFlops(net: InternedNetwork): number {
  const all = [...new Set(net.sets.flat())];
  const shared = net.sets.reduce((a, s) => a + s.length, 0) > all.length;
  return flopCount(setSize(net, all), shared, net.sets.length);
}

/**
 * Describes `path` on `net`.
 *
 * @example
 * ```ts
 * const info = describePath(net, [[1, 2], [0, 1]], "optimal");
 * info.steps[0]!.einsum; // "kl,jk->jl"
 * ```
 */
export function describePath(net: InternedNetwork, path: ContractionPath, finder: string, bytesPerElement = 8): PathInfo {
  const letter = letters(net);
  const text = (set: LabelSet): string => set.map((l) => letter[l]).join("");
  const output = net.source.output.map((l) => letter[net.labels.indexOf(l)]).join("");
  let terms = net.source.inputs.map((ls) => ls.map((l) => letter[net.labels.indexOf(l)]).join(""));
  let sets: readonly LabelSet[] = net.sets;
  const steps: PathStepInfo[] = [];
  path.forEach((positions, k) => {
    const s = contractStep(net, sets, positions);
    const last = k === path.length - 1;
    const resultText = last ? output : text([...s.result].sort((a, b) => net.extent[a]! - net.extent[b]! || cmp(letter[a]!, letter[b]!)));
    const descending = [...positions].sort((a, b) => b - a);
    const einsum = `${descending.map((p) => terms[p]).join(",")}->${resultText}`;
    sets = applyStep(sets, positions, s.result);
    terms = applyStep(terms, positions, resultText);
    steps.push({ positions, einsum, flops: s.flops, scaling: s.contracted.length, resultSize: s.resultSize, remaining: `${terms.join(",")}->${output}` });
  });
  const naive = naiveFlops(net);
  const optimized = steps.reduce((a, s) => a + s.flops, 0);
  const legendNeeded = net.labels.some((l, k) => l !== letter[k]);
  return {
    finder,
    equation: `${net.source.inputs.map((ls) => ls.map((l) => letter[net.labels.indexOf(l)]).join("")).join(",")}->${output}`,
    legend: legendNeeded ? Object.fromEntries(net.labels.map((l, k) => [l, letter[k]!])) : null,
    path,
    steps,
    naiveFlops: naive,
    optimizedFlops: optimized,
    speedup: optimized === 0 ? 1 : naive / optimized,
    naiveScaling: net.labels.length,
    optimizedScaling: steps.reduce((a, s) => Math.max(a, s.scaling), 0),
    largestIntermediate: steps.reduce((a, s) => Math.max(a, s.resultSize), 0),
    intermediateBytes: steps.slice(0, -1).reduce((a, s) => a + s.resultSize, 0) * bytesPerElement,
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One letter per label: the label itself when every label is a single letter, else a, b, ... in order. */
function letters(net: InternedNetwork): string[] {
  if (net.labels.every((l) => /^[A-Za-z]$/.test(l))) return [...net.labels];
  return net.labels.map((_, k) => (k < SYMBOLS.length ? SYMBOLS[k]! : String.fromCodePoint(192 + k)));
}

/**
 * Python's `%.3e`: three decimals, a signed exponent of at least two digits.
 *
 * @example
 * ```ts
 * sci(7440); // "7.440e+03"
 * ```
 */
export function sci(x: number): string {
  const [m, e] = x.toExponential(3).split("e");
  const exp = Number(e);
  return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
}

/**
 * The report as text, laid out like `numpy.einsum_path`'s, with each step's FLOPs.
 *
 * @example
 * ```ts
 * console.log(printPathInfo(describePath(net, path, "auto")));
 * //   Complete contraction:  ij,jk,kl->il
 * //          Naive scaling:  4
 * // ...
 * ```
 */
export function printPathInfo(info: PathInfo): string {
  const lines = [
    `  Complete contraction:  ${info.equation}`,
    `           Path finder:  ${info.finder}`,
    `         Naive scaling:  ${info.naiveScaling}`,
    `     Optimized scaling:  ${info.optimizedScaling}`,
    `      Naive FLOP count:  ${sci(info.naiveFlops)}`,
    `  Optimized FLOP count:  ${sci(info.optimizedFlops)}`,
    `   Theoretical speedup:  ${info.speedup.toFixed(3)}`,
    `  Largest intermediate:  ${sci(info.largestIntermediate)} elements`,
    `   Intermediate memory:  ${info.intermediateBytes} bytes`,
  ];
  if (info.legend !== null) lines.push(`                Labels:  ${Object.entries(info.legend).map(([l, c]) => `${c}=${l}`).join(" ")}`);
  const rule = "-".repeat(84);
  lines.push(rule, `${"scaling".padStart(7)} ${"FLOPs".padStart(10)} ${"current".padStart(24)} ${"remaining".padStart(40)}`, rule);
  for (const s of info.steps) {
    lines.push(`${String(s.scaling).padStart(5)}   ${sci(s.flops).padStart(10)} ${s.einsum.padStart(24)} ${s.remaining.padStart(40)}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * The public `contractPath`, opt_einsum's `contract_path` for tns: an einsum
 * specification and the operands' shapes in, the contraction path (in
 * opt_einsum's format), its FLOPs (opt_einsum's `opt_cost`), its largest
 * intermediate and a printable report out.
 */
import type { PathOptions } from "./finder.js";
import { PATH_FINDERS } from "./registry.js";
import { checkPath, internNetwork, type ContractionPath, type TensorNetwork } from "./network.js";
import { describePath, printPathInfo, sci, type PathInfo } from "./path-info.js";
import { sliceForLimit, type Slicing } from "./slicing.js";

/** The path finders `contractPath` accepts. */
export type OptimizeName = "auto" | "optimal" | "dp" | "greedy" | "random-greedy" | "hyper";

/**
 * Options of {@link contractPath}.
 *
 * @example
 * ```ts
 * const options: ContractPathOptions = { optimize: "hyper", memoryLimit: 1 << 20, pathTimeMs: 500 };
 * ```
 */
export interface ContractPathOptions {
  /** The path finder (default `auto`). */
  readonly optimize?: OptimizeName;
  /**
   * Largest intermediate allowed, in elements (opt_einsum's `memory_limit`);
   * the search only forms intermediates within it.
   */
  readonly memoryLimit?: number;
  /** Seed of the randomized finders (default 0). */
  readonly seed?: number;
  /** Time budget of `dp` (inside `auto`) and `hyper`, in milliseconds. */
  readonly pathTimeMs?: number;
  /** Bytes per element for the report's memory figures and `maxIntermediateBytes` (default 8, float64). */
  readonly bytesPerElement?: number;
  /**
   * Largest tensor a step may form, in bytes: when the path's largest is
   * over it, labels are sliced (see `slicing`) so that every tensor one
   * slice forms fits.
   */
  readonly maxIntermediateBytes?: number;
}

/**
 * What {@link contractPath} returns.
 *
 * @example
 * ```ts
 * const r: ContractPathResult = contractPath("ij,jk->ik", [[2, 3], [3, 4]]);
 * r.path; // [[0, 1]]
 * ```
 */
export interface ContractPathResult {
  /** opt_einsum's path: each step lists positions in the current operand list. */
  readonly path: ContractionPath;
  /** FLOPs of the path, opt_einsum's `opt_cost`. */
  readonly flops: number;
  /** FLOPs of one loop nest over everything, opt_einsum's `naive_cost`. */
  readonly naiveFlops: number;
  /** Elements of the largest tensor a step forms (the result included), opt_einsum's `largest_intermediate`. */
  readonly largestIntermediate: number;
  /** The slicing that meets `maxIntermediateBytes` (no labels when none was asked or the path fits). */
  readonly slicing: Slicing;
  /** The steps and costs. */
  readonly info: PathInfo;
  /** The report as text, laid out like opt_einsum's PathInfo. */
  report(): string;
}

/**
 * The network of an einsum specification over operands of `shapes`. Labels
 * are single characters (any letter, as opt_einsum's `rand_equation`
 * writes); without `->` the output is the labels appearing once, sorted.
 *
 * @example
 * ```ts
 * networkOfSpec("ij,jk", [[2, 3], [3, 4]]).output; // ["i", "k"]
 * ```
 */
export function networkOfSpec(spec: string, shapes: readonly (readonly number[])[]): TensorNetwork {
  if (typeof spec !== "string") throw new TypeError("contractPath: the specification must be a string");
  if (spec.includes("...")) throw new RangeError(`contractPath: '...' (broadcast dimensions) is not supported in "${spec}"; name the dimensions`);
  const text = spec.replace(/\s+/g, "");
  const arrow = text.indexOf("->");
  const lhs = arrow < 0 ? text : text.slice(0, arrow);
  const inputs = lhs.split(",").map((t) => [...t]);
  if (!Array.isArray(shapes) || shapes.length !== inputs.length) {
    throw new RangeError(`contractPath: "${spec}" has ${inputs.length} operand(s) but ${Array.isArray(shapes) ? shapes.length : "no"} shape(s) were given`);
  }
  const extents: Record<string, number> = {};
  inputs.forEach((term, k) => {
    const shape = shapes[k]!;
    if (!Array.isArray(shape) || shape.length !== term.length) {
      throw new RangeError(`contractPath: operand ${k} ('${term.join("")}') has ${term.length} label(s) but its shape is [${String(shape)}]`);
    }
    term.forEach((l, j) => {
      const n = shape[j]!;
      if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`contractPath: operand ${k} has extent ${n} for '${l}'; extents are positive integers`);
      if (extents[l] !== undefined && extents[l] !== n) throw new RangeError(`contractPath: label '${l}' has extent ${extents[l]} and ${n}`);
      extents[l] = n;
    });
  });
  let output: string[];
  if (arrow < 0) {
    const count = new Map<string, number>();
    for (const l of inputs.flat()) count.set(l, (count.get(l) ?? 0) + 1);
    output = [...count].filter(([, c]) => c === 1).map(([l]) => l).sort();
  } else output = [...text.slice(arrow + 2)];
  return { inputs, output, extents };
}

/**
 * The contraction path of an einsum over operands of the given shapes, as
 * opt_einsum's `contract_path(spec, *shapes, shapes=True, optimize=...)`.
 *
 * @example
 * ```ts
 * const r = contractPath("ij,jk,kl->il", [[64, 64], [64, 64], [64, 8]], { optimize: "dp" });
 * r.path;             // [[1, 2], [0, 1]]
 * r.flops;            // 131072
 * console.log(r.report());
 * ```
 */
export function contractPath(spec: string, shapes: readonly (readonly number[])[], options: ContractPathOptions = {}): ContractPathResult {
  const network = networkOfSpec(spec, shapes);
  const name = options.optimize ?? "auto";
  const finder = PATH_FINDERS[name];
  if (finder === undefined) throw new RangeError(`contractPath: unknown optimize '${String(name)}' (known: ${Object.keys(PATH_FINDERS).join(", ")})`);
  const net = internNetwork(network);
  const pathOptions: PathOptions = { memoryLimit: options.memoryLimit, seed: options.seed, pathTimeMs: options.pathTimeMs };
  const path = finder.find(net, pathOptions);
  checkPath(path, net.sets.length);
  const bytesPerElement = options.bytesPerElement ?? 8;
  const info = describePath(net, path, name, bytesPerElement);
  const unsliced: Slicing = { labels: [], slices: 1, flops: info.optimizedFlops, extraFlops: 0, largestIntermediate: info.largestIntermediate };
  const maxBytes = options.maxIntermediateBytes;
  const slicing = maxBytes === undefined || info.largestIntermediate * bytesPerElement <= maxBytes
    ? unsliced
    : sliceForLimit(net, path, Math.floor(maxBytes / bytesPerElement));
  return {
    path,
    flops: info.optimizedFlops,
    naiveFlops: info.naiveFlops,
    largestIntermediate: info.largestIntermediate,
    slicing,
    info,
    report: () => printPathInfo(info) + printSlicing(slicing, info, bytesPerElement),
  };
}

/** The report's lines on slicing (none when nothing is sliced). */
function printSlicing(slicing: Slicing, info: PathInfo, bytesPerElement: number): string {
  if (slicing.labels.length === 0) return "";
  const legend = info.legend;
  const names = slicing.labels.map((l) => (legend === null ? l : `${legend[l]}=${l}`));
  return [
    `         Sliced labels:  ${names.join(" ")} (${slicing.slices} slices)`,
    `  Largest when sliced:  ${slicing.largestIntermediate} elements (${slicing.largestIntermediate * bytesPerElement} bytes)`,
    `    FLOPs when sliced:  ${sci(slicing.flops)} (${sci(slicing.extraFlops)} added, ${((100 * slicing.extraFlops) / Math.max(1, info.optimizedFlops)).toFixed(1)}%)`,
  ].join("\n") + "\n";
}

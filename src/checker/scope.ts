/**
 * What names mean while checking: the tensors defined so far in a graph (the
 * program, or one function instance), the functions a module can call, and
 * the "did you mean" suggestion for a misspelt name.
 *
 *     input Q[n, d]          tensors: { Q: f32 [256, 64] }
 *     S[i, j] = Q[i, k] ...  tensors: { Q, S }   (S pending until its def is lowered)
 */
import type { Span } from "../diagnostics/diagnostic.js";
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { Call, FnDecl } from "../parser/ast.js";
import type { DType, TensorNode } from "../ir/types.js";
import type { SourceLoader } from "./loader.js";

/** A tensor visible in a graph: its concrete shape and element type. */
export interface TensorInfo {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly span?: Span;
  /**
   * Per dimension, the factors of its declaration when it was written as a
   * product of sizes (`C * R * R`), else null; for group inference.
   */
  readonly factors?: readonly (readonly number[] | null)[];
}

/** A user function as seen from one module: its declaration and the functions its body can call. */
export interface FnInfo {
  /** Unique identity (`file#name`), so two modules' helpers of one name stay apart. */
  readonly key: string;
  readonly decl: FnDecl;
  /** Functions visible inside the body (its own module's). Filled after loading. */
  readonly fns: Map<string, FnInfo>;
  /** Module-level sizes visible inside the body (only for functions of the main file). */
  readonly sizes: ReadonlyMap<string, number>;
}

/** The outcome of lowering a user-function call: the instance to call, its arguments and result. */
export interface LoweredCall {
  readonly fn: string;
  readonly args: readonly string[];
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** Lowers a user-function call inside a graph (nested calls become temporaries of that graph). */
export type CallLowerer = (call: Call, graph: Graph) => LoweredCall | null;

/**
 * One tensor graph being built: the program's top level or a function body.
 *
 * @example
 * ```ts
 * const g = newGraph(new Map([["n", 4]]), new Map(), lowerCall, ["S"]);
 * g.tensors.set("X", { name: "X", shape: [4], dtype: "f32" });
 * ```
 */
export interface Graph {
  readonly sizes: ReadonlyMap<string, number>;
  readonly fns: ReadonlyMap<string, FnInfo>;
  /** Tensors defined so far, by name. */
  readonly tensors: Map<string, TensorInfo>;
  /** Names defined later in this graph, with where (for "used before it is defined"). */
  readonly pending: Map<string, Span>;
  /** The nodes built so far, in topological order. */
  readonly nodes: TensorNode[];
  /** Tensors whose declaration or definition failed: uses stay quiet instead of cascading. */
  readonly broken: Set<string>;
  /** Tensors read by any def or call (for the unused-input warning). */
  readonly reads: Set<string>;
  /** Every name in use, so temporaries get fresh ones. */
  readonly taken: Set<string>;
  readonly lowerCall: CallLowerer;
  /** Where imports come from; lets an unknown function's hint name the stdlib module defining it. */
  readonly loader?: SourceLoader;
  /** The names each definition of this graph reads (to report a recurrence through a second tensor, TNS0243). */
  readsOf?: Map<string, ReadonlySet<string>>;
}

/**
 * A new empty graph.
 *
 * @example
 * ```ts
 * const g = newGraph(new Map(), new Map(), () => null, []);
 * g.nodes.length; // 0
 * ```
 */
export function newGraph(
  sizes: ReadonlyMap<string, number>,
  fns: ReadonlyMap<string, FnInfo>,
  lowerCall: CallLowerer,
  reserved: Iterable<string>,
  loader?: SourceLoader,
): Graph {
  return {
    ...(loader === undefined ? {} : { loader }),
    sizes,
    fns,
    tensors: new Map(),
    pending: new Map(),
    broken: new Set(),
    nodes: [],
    reads: new Set(),
    taken: new Set(reserved),
    lowerCall,
  };
}

/**
 * A fresh tensor name for a temporary (`_t1`, `_t2`, ...), unique in the graph.
 *
 * @example
 * ```ts
 * freshTensorName(g); // "_t1"
 * ```
 */
export function freshTensorName(graph: Graph): string {
  for (let k = 1; ; k++) {
    const name = `_t${k}`;
    if (!graph.taken.has(name)) {
      graph.taken.add(name);
      return name;
    }
  }
}

/**
 * Looks a tensor up for reading, reporting TNS0112 (defined later) or
 * TNS0101 (unknown, with a suggestion) when it is not available.
 *
 * @example
 * ```ts
 * const q = lookupTensor(g, { name: "Q", span }, diags); // TensorInfo or null
 * ```
 */
export function lookupTensor(graph: Graph, ref: { name: string; span: Span }, diags: DiagnosticBag): TensorInfo | null {
  const t = graph.tensors.get(ref.name);
  if (t !== undefined) {
    graph.reads.add(ref.name);
    return t;
  }
  if (graph.broken.has(ref.name)) return null;
  const later = graph.pending.get(ref.name);
  if (later !== undefined) {
    diags.error("TNS0112", `tensor '${ref.name}' is used before it is defined`, ref.span, {
      notes: [{ message: `'${ref.name}' is defined here`, span: later }],
      hint: "move the definition above its first use",
    });
    return null;
  }
  const hint = suggestion(ref.name, graph.tensors.keys());
  const extra = hint === null ? {} : { hint: `did you mean '${hint}'?` };
  if (graph.sizes.has(ref.name)) {
    diags.error("TNS0109", `'${ref.name}' is a size, not a tensor`, ref.span, extra);
  } else {
    diags.error("TNS0101", `unknown tensor '${ref.name}'`, ref.span, extra);
  }
  return null;
}

/**
 * Levenshtein edit distance between two names.
 *
 * @example
 * ```ts
 * editDistance("softmax", "sofmax"); // 1
 * ```
 */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, k) => k);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, sub));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The closest known name to a misspelt one, if it is close enough to be a
 * likely typo (at most a third of the name's letters differ, and at most 2).
 * A name with no letter in common is never suggested: `q` for `n` would be
 * a guess, not a typo.
 *
 * @example
 * ```ts
 * suggestion("Qx", ["Q", "K", "V"]); // "Q"
 * suggestion("q", ["n", "Q"]);       // "Q"
 * suggestion("zzz", ["Q"]);          // null
 * ```
 */
export function suggestion(name: string, known: Iterable<string>): string | null {
  let best: string | null = null;
  let bestDist = Math.min(2, Math.max(1, Math.floor(name.length / 3)));
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d >= Math.max(name.length, k.length)) continue;
    if (d <= bestDist && (best === null || d < bestDist)) {
      best = k;
      bestDist = d;
    }
  }
  return best;
}

/**
 * A count with its noun, singular or plural as the count needs; `many` is
 * the plural when it is not the noun plus "s". A range such as "1 to 2"
 * takes the plural.
 *
 * @example
 * ```ts
 * plural(1, "argument");           // "1 argument"
 * plural(3, "dimension");          // "3 dimensions"
 * plural(2, "index", "indices");   // "2 indices"
 * ```
 */
export function plural(n: number | string, noun: string, many = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : many}`;
}

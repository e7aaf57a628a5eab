/**
 * The checker: resolves names, imports, sizes, index ranges and types of a
 * parsed module and lowers it to the IR. Returns null when any error was
 * reported; never throws on user input.
 *
 *     size n = 4
 *     input X[n]
 *     output Y[i] = 2 * X[i]
 *     ->  Program { sizes: { n: 4 },
 *                   tensors: [input X f32 [4], def Y f32 [4] (output) = 2 * X[i]],
 *                   functions: {} }
 */
import { DiagnosticBag, type Span } from "../diagnostics/diagnostic.js";
import type * as ast from "../parser/ast.js";
import type * as ir from "../ir/types.js";
import type { Tensor } from "../runtime/tensor.js";
import { Monomorphizer } from "./functions.js";
import { nodeLoader, type SourceLoader } from "./loader.js";
import { lowerDef } from "./lower-def.js";
import { loadFunctions } from "./modules.js";
import { tensorReads } from "./recurrence.js";
import { newGraph, suggestion, type Graph } from "./scope.js";
import { bindSizes, checkElementCount, evalPositiveSize } from "./sizes.js";
import { warnUnusedInputs } from "./unused.js";
import { declareStructured, factorNames } from "./structure.js";

export type { SourceLoader } from "./loader.js";
export { nodeLoader, defaultStdlibDir, importTarget, importKey, diskPath, STDLIB_KEY } from "./loader.js";

/** Options of {@link checkProgram}. */
export interface CheckOptions {
  /** Overrides of size defaults (an unknown name is error TNS0303). */
  sizes?: Record<string, number>;
  /** Data for `weight` declarations; shapes must match (TNS0602). */
  weights?: Record<string, Tensor>;
  /** Import resolution; default: the file system, with stdlib modules from the package's `stdlib/` folder. */
  loader?: SourceLoader;
}

/**
 * Checks a parsed module and lowers it to an IR program.
 *
 * @example
 * ```ts
 * const diags = new DiagnosticBag();
 * const module = parseModule("size n = 4\ninput X[n]\noutput Y[i] = 2 * X[i]\n", "y.tns", diags);
 * const program = checkProgram(module, {}, diags);
 * program?.tensors.map((t) => t.name); // ["X", "Y"]
 * ```
 */
export function checkProgram(module: ast.Module, options: CheckOptions, diags: DiagnosticBag, sources?: Map<string, string>): ir.Program | null {
  const sizeEntries = module.items.flatMap((i) => (i.kind === "size" ? i.entries : []));
  const sizes = bindSizes(sizeEntries, options.sizes ?? {}, diags);
  const loader = options.loader ?? defaultLoader();
  const mono = new Monomorphizer(diags, loader);
  const fns = loadFunctions(module, {
    loader,
    diags,
    sources: sources ?? new Map(),
    mainSizes: sizes,
  });

  const decls = module.items.filter((i): i is ast.TensorDecl => i.kind === "tensor");
  const defs = module.items.filter((i): i is ast.Def => i.kind === "def");
  const names = new Map<string, Span>();
  const unique = (n: ast.Name): boolean => {
    const first = names.get(n.name);
    if (first !== undefined) {
      diags.error("TNS0103", `'${n.name}' is defined twice`, n.span, { notes: [{ message: "first defined here", span: first }] });
      return false;
    }
    if (sizes.has(n.name) || sizeEntries.some((e) => e.name.name === n.name)) {
      diags.error("TNS0103", `'${n.name}' is already a size`, n.span);
      return false;
    }
    names.set(n.name, n.span);
    return true;
  };
  const graph = newGraph(sizes, fns, mono.lowerCall, [
    ...decls.map((d) => d.name.name), ...defs.flatMap((d) => (d.second === undefined ? [d.name.name] : [d.name.name, d.second.name.name])),
  ], loader);

  // Inputs and weights first, in declaration order.
  for (const d of decls) {
    if (!unique(d.name)) continue;
    if (!declareTensor(d, graph, options.weights ?? {}, diags)) graph.broken.add(d.name.name);
  }
  const liveDefs = defs.filter((d) => unique(d.name) && (d.second === undefined || unique(d.second.name)));
  graph.readsOf = new Map(liveDefs.map((d) => [d.name.name, new Set(tensorReads(d.rhs).keys())]));
  for (const d of liveDefs) {
    graph.pending.set(d.name.name, d.name.span);
    if (d.second !== undefined) graph.pending.set(d.second.name.name, d.second.name.span);
  }
  for (const d of liveDefs) {
    graph.pending.delete(d.name.name);
    if (d.second !== undefined) graph.pending.delete(d.second.name.name);
    lowerDef(d, graph, diags, { inFunction: false });
  }

  const factorData = new Set(decls.filter((d) => d.role === "weight").flatMap((d) => factorNames(d, sizes)));
  for (const name of Object.keys(options.weights ?? {})) {
    if (!decls.some((d) => d.role === "weight" && d.name.name === name) && !factorData.has(name)) {
      const near = suggestion(name, decls.filter((d) => d.role === "weight").map((d) => d.name.name));
      diags.error("TNS0606", `weight data given for '${name}', which is not a weight of the program`, undefined,
        near === null ? {} : { hint: `did you mean '${near}'?` });
    }
  }
  warnUnusedInputs(module, (name) => graph.reads.has(name) || graph.broken.has(name), diags);
  if (!defs.some((d) => d.output)) {
    diags.warning("TNS0110", "the program has no outputs", module.span, { hint: "mark a definition with `output`" });
  }
  if (diags.hasErrors) return null;
  return { sizes: Object.fromEntries(sizes), tensors: graph.nodes, functions: mono.functions };
}

let sharedLoader: SourceLoader | null = null;

/** One file-system loader for every check, so the stdlib function index behind hints is built once. */
function defaultLoader(): SourceLoader {
  sharedLoader ??= nodeLoader();
  return sharedLoader;
}

/** The values of the factors of a dimension written as a product (`C * R * R`), or null. */
function productFactors(dim: ast.Expr, sizes: ReadonlyMap<string, number>): number[] | null {
  const parts: ast.Expr[] = [];
  const flatten = (e: ast.Expr): void => {
    if (e.kind === "binary" && e.op === "*") {
      flatten(e.lhs);
      flatten(e.rhs);
    } else parts.push(e);
  };
  flatten(dim);
  if (parts.length < 2) return null;
  const quiet = new DiagnosticBag();
  const values = parts.map((p) => evalPositiveSize(p, sizes, quiet, "factor"));
  return values.every((v) => v !== null) ? (values as number[]) : null;
}

/** Evaluates an input or weight declaration and adds its node; false when its shape failed. */
function declareTensor(d: ast.TensorDecl, graph: Graph, weights: Readonly<Record<string, Tensor>>, diags: DiagnosticBag): boolean {
  const shape: number[] = [];
  for (const dim of d.dims) {
    const v = evalPositiveSize(dim, graph.sizes, diags, `dimension of '${d.name.name}'`);
    if (v === null) return false;
    shape.push(v);
  }
  if (!checkElementCount(shape, d.name.name, d.name.span, diags)) return false;
  if (d.structure) return declareStructured({ ...d, structure: d.structure }, shape, graph, weights, diags);
  const factors = d.dims.map((dim) => productFactors(dim, graph.sizes));
  graph.tensors.set(d.name.name, {
    name: d.name.name, shape, dtype: d.dtype, span: d.name.span,
    ...(factors.some((f) => f !== null) ? { factors } : {}),
  });
  const base = { name: d.name.name, dtype: d.dtype, shape, output: false };
  if (d.role === "input") {
    graph.nodes.push({ ...base, role: "input" });
    return true;
  }
  const given = weights[d.name.name];
  let data: Float64Array | null = null;
  if (given !== undefined) {
    if (given.shape.length !== shape.length || given.shape.some((n, k) => n !== shape[k])) {
      diags.error("TNS0602", `weight '${d.name.name}' is declared [${shape.join(", ")}] but its data has shape [${given.shape.join(", ")}]`, d.name.span);
    } else if (d.dtype === "i32" && given.dtype !== "i32") {
      // Float data is accepted for float weights whatever its precision (NumPy saves f64 by default).
      diags.error("TNS0502", `weight '${d.name.name}' is declared i32 but its data is ${given.dtype}`, d.name.span);
    } else {
      data = Float64Array.from(given.data);
    }
  }
  graph.nodes.push({ ...base, role: "weight", data });
  return true;
}

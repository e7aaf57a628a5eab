/**
 * User functions: each call is matched against the parameters, its size
 * symbols are bound from the argument shapes, and each distinct binding is
 * monomorphized once into an IR function `<fn>_<k>`.
 *
 *     fn softmax(X[n, m]) -> Y[n, m] { ... }
 *     P = softmax(S)       S: f32 [4, 8]
 *     ->  functions.softmax_1 (params X: f32 [4, 8]; body with n=4, m=8)
 *         call P = softmax_1(S)
 */
import { tensorReads } from "./recurrence.js";
import { DiagnosticBag, type Diagnostic, type Span } from "../diagnostics/diagnostic.js";
import type * as ast from "../parser/ast.js";
import type * as ir from "../ir/types.js";
import { BUILTINS } from "./lower-expr.js";
import { lowerDef } from "./lower-def.js";
import { isGradCall, lowerGrad } from "./grad.js";
import { freshTensorName, lookupTensor, newGraph, plural, type FnInfo, type Graph, type LoweredCall, type TensorInfo } from "./scope.js";
import { evalPositiveSize, evalSize } from "./sizes.js";
import { unknownFunctionHint } from "./stdlib-index.js";
import type { SourceLoader } from "./loader.js";

interface Instance {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: ir.DType;
}

/**
 * Lowers user-function calls and owns the monomorphized functions of a
 * program. Pass {@link Monomorphizer.lowerCall} to every graph.
 *
 * @example
 * ```ts
 * const mono = new Monomorphizer(diags);
 * const graph = newGraph(sizes, fns, mono.lowerCall, names);
 * // ... lowering calls mono.lowerCall(call, graph) ...
 * mono.functions; // { softmax_1: { name: "softmax_1", params: [...], tensors: [...], result: "Y" } }
 * ```
 */
export class Monomorphizer {
  /** The monomorphized functions, in order of first instantiation. */
  readonly functions: Record<string, ir.IRFunction> = {};
  private readonly instances = new Map<string, Instance | null>();
  private readonly names = new Set<string>();
  private readonly stack: { fn: FnInfo; span: Span }[] = [];
  /** Body diagnostics already reported, so a second instance does not repeat them. */
  private readonly reported = new Set<string>();

  /** `loader` lets an unknown function's hint name the stdlib module defining it. */
  constructor(private diags: DiagnosticBag, private loader?: SourceLoader) {}

  /** Lowers `f(args)` in `graph`: nested calls become temporaries there. */
  readonly lowerCall = (call: ast.Call, graph: Graph): LoweredCall | null => {
    const diags = this.diags;
    const fn = graph.fns.get(call.callee.name);
    if (fn === undefined) {
      if (BUILTINS.has(call.callee.name)) {
        diags.error("TNS0407", `builtin '${call.callee.name}' is elementwise: apply it inside an indexed definition`, call.span, {
          hint: `T[i, ...] = ${call.callee.name}(X[i, ...])`,
        });
      } else {
        diags.error("TNS0104", `unknown function '${call.callee.name}'`, call.callee.span, {
          hint: unknownFunctionHint(call.callee.name, graph.fns.keys(), this.loader),
        });
      }
      return null;
    }
    const params = fn.decl.params;
    const required = params.filter((p) => p.kind === "tensor" || p.value === null).length;
    if (call.args.length > params.length || call.args.length < countLeadingRequired(params)) {
      diags.error("TNS0401", `'${fn.decl.name.name}' takes ${plural(required === params.length ? params.length : `${required} to ${params.length}`, "argument")}, got ${call.args.length}`, call.span, {
        notes: [{ message: `'${fn.decl.name.name}' is declared here`, span: fn.decl.name.span }],
      });
      return null;
    }

    // Arguments in the caller's graph.
    const tensors: (TensorInfo | null)[] = [];
    const sizeArgs: (number | null | undefined)[] = [];
    let ok = true;
    params.forEach((p, k) => {
      const arg = call.args[k];
      if (p.kind === "tensor") {
        const t = arg === undefined ? null : this.tensorArgument(arg, p, graph);
        if (t === null) ok = false;
        tensors.push(t);
      } else if (arg === undefined) {
        sizeArgs.push(undefined);
      } else if (arg.kind === "ident" && (graph.tensors.has(arg.name) || graph.pending.has(arg.name))) {
        diags.error("TNS0402", `parameter '${p.name.name}' of '${fn.decl.name.name}' is a size, but '${arg.name}' is a tensor`, arg.span);
        ok = false;
      } else {
        const v = evalPositiveSize(arg, graph.sizes, diags, `size argument '${p.name.name}'`);
        if (v === null) ok = false;
        sizeArgs.push(v);
      }
    });
    if (!ok) return null;

    // Bind the function's size symbols from the argument shapes.
    const local = new Map(fn.sizes);
    const bound = new Map<string, { span: Span; value: number }>();
    let ti = 0;
    let si = 0;
    const sizeValues: number[] = [];
    for (const p of params) {
      if (p.kind === "size") {
        let v = sizeArgs[si++];
        if (v === undefined) v = p.value === null ? null : evalPositiveSize(p.value, local, diags, `default of '${p.name.name}'`);
        if (v === null || v === undefined) return null;
        local.set(p.name.name, v);
        bound.set(p.name.name, { span: p.name.span, value: v });
        sizeValues.push(v);
        continue;
      }
      const t = tensors[ti]!;
      const argSpan = call.args[params.indexOf(p)]!.span;
      ti++;
      if (p.dims.length !== t.shape.length) {
        diags.error("TNS0402", `parameter '${p.name.name}' of '${fn.decl.name.name}' has ${plural(p.dims.length, "dimension")}, but '${t.name}' has shape [${t.shape.join(", ")}]`, argSpan, {
          notes: [{ message: "parameter declared here", span: p.span }],
        });
        return null;
      }
      for (let d = 0; d < p.dims.length; d++) {
        const dim = p.dims[d]!;
        const extent = t.shape[d]!;
        if (dim.kind === "ident" && !bound.has(dim.name)) {
          local.set(dim.name, extent);
          bound.set(dim.name, { span: dim.span, value: extent });
          continue;
        }
        const want = evalSize(dim, local, diags);
        if (want === null) return null;
        if (want !== extent) {
          const name = dim.kind === "ident" ? `'${dim.name}'` : "this dimension";
          diags.error("TNS0202", `dimension ${d + 1} of '${t.name}' is ${extent}, but ${name} of parameter '${p.name.name}' is ${want}`, argSpan, {
            notes: [{ message: `${name} of '${fn.decl.name.name}'`, span: dim.span }],
          });
          return null;
        }
      }
    }

    const argNames = tensors.map((t) => t!.name);
    for (const a of argNames) graph.reads.add(a);
    const key = `${fn.key}(${tensors.map((t) => `${t!.dtype}[${t!.shape.join(",")}]`).join(";")}|${sizeValues.join(",")})`;
    let inst = this.instances.get(key);
    if (inst === undefined) {
      inst = this.instantiate(fn, tensors as TensorInfo[], local, call.span);
      this.instances.set(key, inst);
    }
    return inst === null ? null : { fn: inst.name, args: argNames, shape: inst.shape, dtype: inst.dtype };
  };

  /** A tensor argument: a tensor name or a nested call (which becomes a temporary). */
  private tensorArgument(arg: ast.Expr, p: ast.Param, graph: Graph): TensorInfo | null {
    if (arg.kind === "ident" && !graph.sizes.has(arg.name)) return lookupTensor(graph, arg, this.diags);
    if (arg.kind === "call" && graph.fns.has(arg.callee.name)) {
      const lowered = this.lowerCall(arg, graph);
      if (lowered === null) return null;
      const name = freshTensorName(graph);
      graph.nodes.push({ role: "call", name, dtype: lowered.dtype, shape: lowered.shape, output: false, fn: lowered.fn, args: lowered.args });
      const info = { name, shape: lowered.shape, dtype: lowered.dtype, span: arg.span };
      graph.tensors.set(name, info);
      return info;
    }
    if (arg.kind === "call" && isGradCall(arg, graph)) {
      const node = lowerGrad(arg, graph, this.diags, null, false);
      return node === null ? null : { name: node.name, shape: node.shape, dtype: node.dtype, span: arg.span };
    }
    this.diags.error("TNS0402", `parameter '${p.name.name}' takes a tensor (a tensor name or a function call)`, arg.span, {
      hint: "to pass an expression, define it first: T[i, ...] = ...",
    });
    return null;
  }

  /** Lowers a function body for one binding; null when it has errors. */
  private instantiate(fn: FnInfo, args: readonly TensorInfo[], sizes: ReadonlyMap<string, number>, callSpan: Span): Instance | null {
    const fname = fn.decl.name.name;
    const open = this.stack.findIndex((s) => s.fn.key === fn.key);
    if (open >= 0) {
      this.diags.error("TNS0405", `function '${fname}' calls itself`, callSpan, {
        notes: this.stack.slice(open).map((s) => ({ message: `'${s.fn.decl.name.name}' is called here`, span: s.span })),
        hint: "functions cannot be recursive: every call is expanded at compile time",
      });
      return null;
    }
    if (fn.decl.results.length !== 1) {
      this.diags.error(fn.decl.results.length > 1 ? "TNS0901" : "TNS0403",
        fn.decl.results.length > 1 ? `function '${fname}' returns several results; only one is supported` : `function '${fname}' declares no result`,
        fn.decl.results[1]?.span ?? fn.decl.name.span);
      return null;
    }
    const result = fn.decl.results[0]!;
    const body = new DiagnosticBag();
    const params = fn.decl.params.filter((p) => p.kind === "tensor");
    const graph = newGraph(sizes, fn.fns, this.lowerCall, [...params.map((p) => p.name.name), ...fn.decl.body.map((d) => d.name.name)], this.loader);
    const paramNodes: ir.InputNode[] = params.map((p, k) => ({ role: "input", name: p.name.name, dtype: args[k]!.dtype, shape: args[k]!.shape, output: false }));
    for (const p of paramNodes) graph.tensors.set(p.name, { name: p.name, shape: p.shape, dtype: p.dtype });
    const defined = new Map<string, Span>(params.map((p) => [p.name.name, p.name.span]));
    const defs: ast.Def[] = [];
    for (const d of fn.decl.body) {
      const first = defined.get(d.name.name);
      if (first !== undefined) {
        body.error("TNS0103", `'${d.name.name}' is defined twice in '${fname}'`, d.name.span, { notes: [{ message: "first defined here", span: first }] });
        continue;
      }
      defined.set(d.name.name, d.name.span);
      graph.pending.set(d.name.name, d.name.span);
      defs.push(d);
    }
    graph.readsOf = new Map(defs.map((d) => [d.name.name, new Set(tensorReads(d.rhs).keys())]));
    this.stack.push({ fn, span: callSpan });
    let ok = !body.hasErrors;
    // Swap the bag so diagnostics inside the body carry a note about the call site.
    const outer = this.diags;
    this.diags = body;
    try {
      for (const d of defs) {
        graph.pending.delete(d.name.name);
        if (!lowerDef(d, graph, body, { inFunction: true })) ok = false;
      }
    } finally {
      this.diags = outer;
      this.stack.pop();
    }
    const res = graph.tensors.get(result.name.name);
    if (ok && (res === undefined || params.some((p) => p.name.name === result.name.name))) {
      body.error("TNS0403", `the result '${result.name.name}' of '${fname}' is not defined in its body`, result.span, {
        hint: `define it: ${result.name.name}[...] = ...`,
      });
      ok = false;
    }
    if (ok && res !== undefined && result.dims !== null) ok = this.checkResultShape(result, res, sizes, body);
    this.forward(body, callSpan, fname);
    if (!ok || res === undefined) return null;
    let name = "";
    for (let k = 1; name === "" || this.names.has(name); k++) name = `${fname}_${k}`;
    this.names.add(name);
    this.functions[name] = { name, params: paramNodes, tensors: graph.nodes, result: res.name };
    return { name, shape: res.shape, dtype: res.dtype };
  }

  private checkResultShape(result: ast.ResultDecl, res: TensorInfo, sizes: ReadonlyMap<string, number>, bag: DiagnosticBag): boolean {
    const dims = result.dims!;
    const want: number[] = [];
    for (const d of dims) {
      const v = evalSize(d, sizes, bag);
      if (v === null) return false;
      want.push(v);
    }
    if (want.length !== res.shape.length || want.some((v, k) => v !== res.shape[k])) {
      bag.error("TNS0404", `the result '${res.name}' has shape [${res.shape.join(", ")}] but is declared [${want.join(", ")}]`, result.span, {
        notes: res.span === undefined ? [] : [{ message: "defined here", span: res.span }],
      });
      return false;
    }
    return true;
  }

  /** Moves a body's diagnostics to the outer bag once each, noting the call site. */
  private forward(body: DiagnosticBag, callSpan: Span, fname: string): void {
    for (const d of body.items) {
      const key = `${d.code}|${d.message}|${d.span?.file}:${d.span?.start.offset}:${d.span?.start.line}:${d.span?.start.column}`;
      // Dedupe only into the top-level bag: nested instances forward through their caller's bag.
      if (this.stack.length === 0) {
        if (this.reported.has(key)) continue;
        this.reported.add(key);
      }
      const withNote: Diagnostic = { ...d, notes: [...d.notes, { message: `in '${fname}' as called here`, span: callSpan }] };
      this.diags.push(withNote);
    }
  }
}

/** How many arguments a call needs at least: up to the last parameter without a default. */
function countLeadingRequired(params: readonly ast.Param[]): number {
  let n = 0;
  params.forEach((p, k) => {
    if (p.kind === "tensor" || p.value === null) n = k + 1;
  });
  return n;
}

/**
 * Checks and lowers `grad(L, W)`: the derivative of the rank-0 tensor `L`
 * with respect to the input or weight `W`, a tensor of W's shape. It
 * becomes a grad node of the IR, which the `differentiate` pass expands.
 *
 *     input W[4, 3]
 *     L = sum(i, j) W[i, j] * W[i, j]
 *     output dW = grad(L, W)          ->  dW: f32[4, 3] = grad(L, W)
 *
 * A loss that does not depend on W gives a zero gradient and a warning
 * (TNS0803).
 */
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type * as ast from "../parser/ast.js";
import type * as ir from "../ir/types.js";
import { accessedTensors } from "../ir/walk.js";
import { freshTensorName, lookupTensor, type Graph } from "./scope.js";

/** The name `grad` means the builtin unless the module defines a function of that name. */
export function isGradCall(e: ast.Expr, graph: Graph): boolean {
  return e.kind === "call" && e.callee.name === "grad" && !graph.fns.has("grad");
}

/**
 * Checks a `grad(L, W)` call and adds its node to `graph` under `name` (a
 * fresh temporary when null). Returns the node, or null after reporting.
 *
 * @example
 * ```ts
 * lowerGrad(call, graph, diags, "dW", true); // graph.nodes gains `output dW: f32[4, 3] = grad(L, W)`
 * ```
 */
export function lowerGrad(call: ast.Call, graph: Graph, diags: DiagnosticBag, name: string | null, output: boolean): ir.GradNode | null {
  if (call.args.length !== 2 || call.args.some((a) => a.kind !== "ident")) {
    diags.error("TNS0401", `grad takes two tensor names, the loss and the tensor to differentiate by; got ${call.args.length} argument${call.args.length === 1 ? "" : "s"}`, call.span, {
      hint: "write grad(L, W) with L a scalar tensor defined in the program and W an input or weight",
    });
    return null;
  }
  const [lossName, wrtName] = call.args as [ast.Ident, ast.Ident];
  const loss = lookupTensor(graph, lossName, diags);
  const wrt = lookupTensor(graph, wrtName, diags);
  if (loss === null || wrt === null) return null;
  const lossNode = graph.nodes.find((t) => t.name === loss.name);
  const wrtNode = graph.nodes.find((t) => t.name === wrt.name);
  let ok = true;
  if (loss.shape.length !== 0 || lossNode === undefined || (lossNode.role !== "def" && lossNode.role !== "call")) {
    diags.error("TNS0801", loss.shape.length !== 0
      ? `the loss '${loss.name}' of grad has shape [${loss.shape.join(", ")}]; it must be a scalar`
      : `the loss '${loss.name}' of grad is not a tensor defined in the program`, lossName.span, {
      hint: loss.shape.length !== 0 ? `reduce it to a scalar first, e.g. L = sum(...) ${loss.name}[...]` : "define the loss from the inputs, e.g. L = sum(i) (Y[i] - T[i])^2",
    });
    ok = false;
  }
  if (wrtNode !== undefined && wrt.dtype === "i32") {
    diags.error("TNS0802", `grad differentiates by a floating-point input or weight; '${wrt.name}' holds integers (i32)`, wrtName.span, {
      hint: `declare '${wrt.name}' as f32 or f64`,
    });
    ok = false;
  } else if (wrtNode === undefined || (wrtNode.role !== "input" && wrtNode.role !== "weight")) {
    diags.error("TNS0802", `grad differentiates by an input or weight of the program; '${wrt.name}' is ${wrtNode === undefined ? "not one" : "a defined tensor"}`, wrtName.span, {
      hint: "differentiate by the inputs or weights it is computed from; grad is only available at the top level of a program",
    });
    ok = false;
  }
  if (!ok) return null;
  if (!dependsOn(graph.nodes, loss.name, wrt.name)) {
    diags.warning("TNS0803", `'${loss.name}' does not depend on '${wrt.name}': its gradient is zero`, call.span, {
      hint: `check that '${loss.name}' is computed from '${wrt.name}'`,
    });
  }
  graph.reads.add(loss.name).add(wrt.name);
  const node: ir.GradNode = {
    role: "grad", name: name ?? freshTensorName(graph), dtype: wrt.dtype, shape: wrt.shape, output, loss: loss.name, wrt: wrt.name,
  };
  graph.nodes.push(node);
  graph.tensors.set(node.name, { name: node.name, shape: node.shape, dtype: node.dtype, span: call.span });
  return node;
}

/** Whether `from` reads `target`, directly or through other tensors of `nodes`. */
function dependsOn(nodes: readonly ir.TensorNode[], from: string, target: string): boolean {
  const byName = new Map(nodes.map((t) => [t.name, t]));
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (name === target) return true;
    if (seen.has(name)) continue;
    seen.add(name);
    const t = byName.get(name);
    if (t === undefined) continue;
    if (t.role === "def") stack.push(...accessedTensors(t.body));
    else if (t.role === "call") stack.push(...t.args);
  }
  return false;
}

/**
 * Adds an output `grad_<W>` (a grad node) for each name in `wrt` to a
 * checked program: the API's form of `output grad_W = grad(L, W)`. Mistakes
 * are reported into `diags` (TNS0801, TNS0802, TNS0101; TNS0803 as a
 * warning) and give null.
 *
 * @example
 * ```ts
 * addGradients(program, "L", ["W1", "W2"], diags); // outputs grad_W1, grad_W2
 * ```
 */
export function addGradients(program: ir.Program, loss: string, wrt: readonly string[], diags: DiagnosticBag): ir.Program | null {
  const byName = new Map(program.tensors.map((t) => [t.name, t]));
  const lossNode = byName.get(loss);
  let ok = true;
  if (lossNode === undefined) {
    diags.error("TNS0101", `the loss '${loss}' is not a tensor of the program`);
    ok = false;
  } else if (lossNode.shape.length !== 0 || (lossNode.role !== "def" && lossNode.role !== "call")) {
    diags.error("TNS0801", lossNode.shape.length !== 0
      ? `the loss '${loss}' has shape [${lossNode.shape.join(", ")}]; it must be a scalar`
      : `the loss '${loss}' is not a tensor defined in the program`);
    ok = false;
  }
  const taken = new Set(byName.keys());
  const grads: ir.GradNode[] = [];
  for (const w of wrt) {
    const node = byName.get(w);
    if (node === undefined) {
      diags.error("TNS0101", `'${w}' is not a tensor of the program`);
      ok = false;
      continue;
    }
    if ((node.role !== "input" && node.role !== "weight") || node.dtype === "i32") {
      diags.error("TNS0802", `grad differentiates by a floating-point input or weight of the program; '${w}' is ${node.dtype === "i32" ? "an i32 tensor" : "a defined tensor"}`);
      ok = false;
      continue;
    }
    if (lossNode !== undefined && !dependsOn(program.tensors, loss, w)) {
      diags.warning("TNS0803", `'${loss}' does not depend on '${w}': its gradient is zero`);
    }
    let name = `grad_${w}`;
    for (let k = 2; taken.has(name); k++) name = `grad_${w}_${k}`;
    taken.add(name);
    grads.push({ role: "grad", name, dtype: node.dtype, shape: node.shape, output: true, loss, wrt: w });
  }
  return ok ? { ...program, tensors: [...program.tensors, ...grads] } : null;
}

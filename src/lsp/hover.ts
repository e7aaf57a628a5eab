/**
 * Hover: what a name is, from the checked program. A tensor shows its
 * element type, shape and role; a definition also its indices with their
 * extents, its FLOPs (the cost model's count) and what the optimizer did to
 * it (the rules `tns explain` lists for it, a contraction path, or that it
 * was fused or inlined away); an index its range; a size its value; a
 * function its signature and doc comment.
 *
 *     **S**: f32[256, 256] (definition)
 *     indices: i < 256, j < 256; summed: k < 64
 *     FLOPs: 8,388,608 (before optimization)
 *     optimizer: inline-products applied sum-factor-out
 */
import type { Hover } from "vscode-languageserver";
import type * as ast from "../parser/ast.js";
import type { DefNode, TensorNode } from "../ir/types.js";
import { defFlops } from "../backends/kernel/flops.js";
import { type Analysis, defNamed } from "./analysis.js";
import { describeFunction } from "./imports.js";
import { rangeOf } from "./locations.js";
import { type Binding, occurrenceAt } from "./symbols.js";

/** The hover at a source offset, or null when there is no name there. */
export function hoverAt(analysis: Analysis, offset: number): Hover | null {
  const occurrence = occurrenceAt(analysis.symbols, offset);
  if (!occurrence) return null;
  const text = describeBinding(analysis, occurrence.binding);
  return text === null ? null : { contents: { kind: "markdown", value: text }, range: rangeOf(occurrence.span) };
}

/** Markdown describing a binding. */
export function describeBinding(analysis: Analysis, b: Binding): string | null {
  switch (b.kind) {
    case "tensor":
      return describeTensor(analysis, b);
    case "size":
      return describeSize(analysis, b);
    case "index":
      return describeIndex(analysis, b);
    case "function":
      return describeFunctionBinding(analysis, b);
  }
}

const fmt = (n: number): string => n.toLocaleString("en-US");
const typeOf = (t: TensorNode): string => `${t.dtype}[${t.shape.join(", ")}]`;

function describeTensor(analysis: Analysis, b: Binding): string {
  if (b.fn !== null) {
    const source = sourceOfDecl(analysis, b);
    return `**${b.name}**: tensor of function \`${b.fn}\`${source ? `, \`${source}\`` : ""}\n\nits shape is bound at each call`;
  }
  const node = analysis.program?.tensors.find((t) => t.name === b.name);
  if (!node) return `**${b.name}**: tensor (its shape is known once the program checks)`;
  const role = node.role === "def" || node.role === "call" || node.role === "grad" ? (node.output ? "output" : "definition") : node.role;
  const lines = [`**${b.name}**: \`${typeOf(node)}\` (${role})`];
  if (node.role === "def") lines.push(...describeDef(analysis, node));
  else if (node.role === "grad") lines.push(`the gradient of \`${node.loss}\` by \`${node.wrt}\``);
  else if (node.role === "call") lines.push(`the result of \`${node.fn}(${node.args.join(", ")})\``);
  return lines.join("\n\n");
}

function describeDef(analysis: Analysis, def: DefNode): string[] {
  const own = new Set(def.indices);
  const extents = (vars: readonly string[]): string => vars.map((v) => `${v} < ${def.ranges[v]}`).join(", ");
  const summed = Object.keys(def.ranges).filter((v) => !own.has(v));
  const lines = [`indices: ${extents(def.indices) || "none (a scalar)"}${summed.length > 0 ? `; summed: ${extents(summed)}` : ""}`];
  lines.push(`FLOPs: ${fmt(defFlops(def))} (as written)`);
  lines.push(...optimizerFate(analysis, def.name));
  return lines;
}

/** What the passes did to one def, from the explain report. */
function optimizerFate(analysis: Analysis, name: string): string[] {
  const report = analysis.explain();
  if (!report) return [];
  const done: string[] = [];
  for (const p of report.passes) {
    const rules = p.derivations.filter((d) => d.tensor === name).map((d) => d.rule + (d.detail ? ` (${d.detail})` : ""));
    if (rules.length > 0) done.push(`${p.pass} applied ${[...new Set(rules)].join(", ")}`);
    else if (p.diff.some((l) => defLine(l.line, name))) {
      const kept = p.diff.some((l) => l.op === "+" && defLine(l.line, name));
      done.push(kept ? `${p.pass} rewrote it` : `${p.pass} removed it (${removalReason(p.pass)})`);
    }
  }
  for (const c of report.contractions.filter((x) => x.tensor === name)) {
    done.push(`contracted along \`${c.info.equation}\` through ${c.intermediates.join(", ") || "no intermediate"}`);
  }
  const final = (report.passes.at(-1)?.ir ?? "").split("\n").find((l) => defLine(l, name));
  const lines = [`optimizer: ${done.length > 0 ? done.join("; ") : "left it as written"}`];
  if (final) lines.push("after optimization:\n```\n" + final + "\n```");
  return lines;
}

function removalReason(pass: string): string {
  if (pass === "fuse-elementwise") return "fused into its consumers";
  if (pass === "eliminate-dead-code") return "unused";
  if (pass === "eliminate-common-subexpressions") return "the same as another definition";
  return "inlined";
}

/** Whether an IR text line defines `name`. */
function defLine(line: string, name: string): boolean {
  return line.startsWith(`${name}:`) || line.startsWith(`output ${name}:`);
}

function describeSize(analysis: Analysis, b: Binding): string {
  if (b.fn !== null) return `**${b.name}**: size of function \`${b.fn}\`, bound from the arguments at each call`;
  const value = analysis.program?.sizes[b.name];
  return `**${b.name}**: size${value === undefined ? "" : ` = ${fmt(value)}`}`;
}

function describeIndex(analysis: Analysis, b: Binding): string {
  const role = b.indexRole === "left" ? "index" : b.indexRole === "summed" ? "index summed by the Einstein rule" : "index of a reduction";
  const of = b.def ? ` of \`${b.def}\`` : "";
  const def = b.fn === null && b.def ? defNamed(analysis.program, b.def) : null;
  const extent = def ? extentOf(def, b.name) : undefined;
  return `**${b.name}**: ${role}${of}${extent === undefined ? "" : `, 0 ≤ ${b.name} < ${fmt(extent)}`}`;
}

/** A variable's extent; reduction variables may have been renamed apart (`j` to `j_1`). */
function extentOf(def: DefNode, name: string): number | undefined {
  if (def.ranges[name] !== undefined) return def.ranges[name];
  const renamed = Object.keys(def.ranges).find((v) => v.startsWith(`${name}_`) && /^\d+$/.test(v.slice(name.length + 1)));
  return renamed === undefined ? undefined : def.ranges[renamed];
}

function describeFunctionBinding(analysis: Analysis, b: Binding): string {
  const imported = analysis.imports.get(b.name);
  if (b.importPath !== undefined && imported) return functionText(imported.signature, imported.doc, `from "${imported.importPath}"`);
  const fn = analysis.module.items.find((i): i is ast.FnDecl => i.kind === "fn" && i.name.name === b.name);
  if (!fn) return `**${b.name}**: function`;
  const { signature, doc } = describeFunction(fn, analysis.text);
  return functionText(signature, doc, "");
}

function functionText(signature: string, doc: string, from: string): string {
  return ["```tns\n" + signature + "\n```", from, doc].filter((s) => s !== "").join("\n\n");
}

/** The declaration of a function-local tensor as written (`X[n, m]`). */
function sourceOfDecl(analysis: Analysis, b: Binding): string | null {
  for (const item of analysis.module.items) {
    if (item.kind !== "fn" || item.name.name !== b.fn) continue;
    const p = [...item.params, ...item.results].find((x) => x.name.span.start.offset === b.span.start.offset);
    if (p) return analysis.text.slice(p.span.start.offset, p.span.end.offset);
  }
  return null;
}

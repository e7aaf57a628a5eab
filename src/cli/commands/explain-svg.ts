/**
 * `tns explain --svg FILE`: the program after optimization as a picture.
 * The dataflow graph: one node per tensor in columns by depth (inputs and
 * weights on the left), a def's box sized by its FLOPs, each edge labelled
 * with the elements it carries; defs a fusion extracted and defs the memory
 * planner computes again are marked. Then each contraction tree as
 * cotengra draws them: leaves are the operands, each internal node a
 * pairwise contraction, coloured from pale (cheap) to dark (the costliest
 * step of that tree).
 *
 *     [Q]--16,384-->[S  8.4 MFLOP]-->[E]-->[O]
 *     [K]--16,384--/                       ^
 *     [V]--------------16,384-------------/
 *
 * Rendered by hand as plain SVG text: no layout library, deterministic.
 */
import type { Program, TensorNode } from "../../ir/types.js";
import { parseProgramText } from "../../ir/parse-text.js";
import { defFlops } from "../../backends/kernel/flops.js";
import type { ExplainReport, ExplainedContraction } from "../../explain-report.js";

const NODE_H = 34;
const COLUMN = 200;
const ROW = 70;
const MIN_W = 70;
const MAX_W = 170;

/** The SVG drawing of an explain report (the program is its last pass's IR). */
export function explainSvg(report: ExplainReport): string {
  const ir = report.passes.at(-1)?.ir ?? "";
  const program = parseProgramText(ir);
  const graph = dataflow(program, report);
  const trees = report.contractions.map((c) => contractionTree(c));
  const width = Math.max(graph.width, ...trees.map((t) => t.width), 400) + 40;
  let y = 20;
  const parts: string[] = [];
  parts.push(text(20, y + 14, "dataflow after optimization (box width: FLOPs; edges: elements)", "title"));
  y += 30;
  parts.push(`<g transform="translate(20, ${y})">${graph.svg}</g>`);
  y += graph.height + 30;
  for (const t of trees) {
    parts.push(`<g transform="translate(20, ${y})">${t.svg}</g>`);
    y += t.height + 30;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif" font-size="12">`,
    "<style>.title{font-weight:bold} .edge{fill:#555;font-size:10px} .def{fill:#dbe8f6;stroke:#3b6ea5} .input{fill:#eee;stroke:#777}",
    " .fused{stroke:#c07000;stroke-width:2.5} .recomputed{stroke-dasharray:5 3} .leaf{fill:#eee;stroke:#777}</style>",
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}

interface Drawing { readonly svg: string; readonly width: number; readonly height: number }

function dataflow(program: Program, report: ExplainReport): Drawing {
  const fused = new Set(report.passes.flatMap((p) => p.derivations.flatMap((d) => extracted(d.detail))));
  const recomputed = new Set(report.memory.recomputed.flatMap((r) => [r.tensor, r.copy]));
  const depth = new Map<string, number>();
  const reads = new Map<string, string[]>();
  for (const t of program.tensors) {
    const from = readsOf(t);
    reads.set(t.name, from);
    depth.set(t.name, from.length === 0 ? 0 : Math.max(...from.map((f) => depth.get(f) ?? 0)) + 1);
  }
  const maxFlops = Math.max(1, ...program.tensors.map((t) => (t.role === "def" ? defFlops(t) : 0)));
  const rows = new Map<number, number>();
  const place = new Map<string, { x: number; y: number; w: number }>();
  for (const t of program.tensors) {
    const col = depth.get(t.name)!;
    const row = rows.get(col) ?? 0;
    rows.set(col, row + 1);
    const flops = t.role === "def" ? defFlops(t) : 0;
    const w = t.role === "def" ? MIN_W + (MAX_W - MIN_W) * Math.sqrt(flops / maxFlops) : MIN_W;
    place.set(t.name, { x: col * COLUMN, y: row * ROW, w });
  }
  const edges: string[] = [];
  const nodes: string[] = [];
  for (const t of program.tensors) {
    const to = place.get(t.name)!;
    for (const f of reads.get(t.name)!) {
      const from = place.get(f)!;
      const size = program.tensors.find((x) => x.name === f)!.shape.reduce((a, b) => a * b, 1);
      const [x1, y1, x2, y2] = [from.x + from.w, from.y + NODE_H / 2, to.x, to.y + NODE_H / 2];
      edges.push(`<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="#555" marker-end="url(#arrow)"/>`);
      edges.push(text((x1 + x2) / 2, (y1 + y2) / 2 - 3, size.toLocaleString("en-US"), "edge", "middle"));
    }
    const cls = [t.role === "def" ? "def" : "input", fused.has(t.name) ? "fused" : "", recomputed.has(t.name) ? "recomputed" : ""].filter(Boolean).join(" ");
    const flops = t.role === "def" ? defFlops(t) : null;
    const label = `${t.output ? "output " : ""}${t.name}`;
    const detail = `${t.dtype}[${t.shape.join(", ")}]${flops === null ? ` ${t.role}` : ` ${flopsText(flops)}`}`;
    nodes.push(`<g class="node" data-name="${esc(t.name)}"><title>${esc(`${label}: ${detail}`)}</title>`
      + `<rect class="${cls}" x="${to.x}" y="${to.y}" width="${to.w.toFixed(1)}" height="${NODE_H}" rx="5"/>`
      + text(to.x + 6, to.y + 14, label) + text(to.x + 6, to.y + 28, detail, "edge") + "</g>");
  }
  const width = Math.max(...[...place.values()].map((p) => p.x + p.w), 0);
  const height = Math.max(...[...place.values()].map((p) => p.y + NODE_H), 0);
  return { svg: [...edges, ...nodes].join("\n"), width, height };
}

/** The tensors a fusion's derivation says it extracted (`extracted O_r`). */
function extracted(detail: string | undefined): string[] {
  const m = /extracted ([A-Za-z_][A-Za-z0-9_]*(?:, [A-Za-z_][A-Za-z0-9_]*)*)/.exec(detail ?? "");
  return m ? m[1]!.split(", ") : [];
}

function readsOf(t: TensorNode): string[] {
  if (t.role === "call") return [...new Set(t.args)];
  if (t.role === "grad") return [t.loss, t.wrt];
  if (t.role !== "def") return [];
  const out = new Set<string>();
  const visit = (e: import("../../ir/types.js").Expr): void => {
    if (e.kind === "access") out.add(e.tensor);
    else if (e.kind === "unary") visit(e.arg);
    else if (e.kind === "binary") (visit(e.lhs), visit(e.rhs));
    else if (e.kind === "select") (visit(e.cond), visit(e.then), visit(e.else));
    else if (e.kind === "reduce") visit(e.body);
  };
  visit(t.body);
  return [...out];
}

/** One contraction's path as a tree: operands at the bottom, the result at the top. */
function contractionTree(c: ExplainedContraction): Drawing {
  const { info } = c;
  const [lhs] = info.equation.split("->");
  const operands = lhs!.split(",");
  interface TreeNode { label: string; x: number; y: number; flops: number | null }
  const nodes: TreeNode[] = operands.map((op, k) => ({ label: op, x: k * 90, y: 0, flops: null }));
  let live: number[] = nodes.map((_, k) => k);
  const links: [number, number][] = [];
  const maxFlops = Math.max(1, ...info.steps.map((s) => s.flops));
  info.steps.forEach((step, k) => {
    const children = step.positions.map((p) => live[p]!);
    const out = step.einsum.split("->")[1] ?? "";
    const xs = children.map((i) => nodes[i]!.x);
    const node: TreeNode = { label: k === info.steps.length - 1 ? `${out} = ${c.tensor}` : out, x: xs.reduce((a, b) => a + b, 0) / xs.length, y: (k + 1) * 60, flops: step.flops };
    nodes.push(node);
    for (const child of children) links.push([child, nodes.length - 1]);
    live = live.filter((_, p) => !step.positions.includes(p));
    live.push(nodes.length - 1);
  });
  const height = info.steps.length * 60 + NODE_H + 24;
  const flip = (y: number): number => height - NODE_H - y;
  const parts = [text(0, 12, `contraction of ${c.tensor}: ${info.equation} (${info.finder}, ${flopsText(info.optimizedFlops)}, ${info.speedup.toFixed(1)}x fewer than naive)`, "title")];
  for (const [a, b] of links) {
    const [p, q] = [nodes[a]!, nodes[b]!];
    parts.push(`<line x1="${p.x + 35}" y1="${flip(p.y)}" x2="${q.x + 35}" y2="${flip(q.y) + NODE_H}" stroke="#555"/>`);
  }
  for (const n of nodes) {
    const shade = n.flops === null ? null : Math.round(235 - 110 * (n.flops / maxFlops));
    const fill = shade === null ? "" : ` style="fill:rgb(${shade},${shade + 15},255)"`;
    parts.push(`<g><title>${esc(n.flops === null ? `operand ${n.label}` : `${n.label}: ${flopsText(n.flops)}`)}</title>`
      + `<rect class="${n.flops === null ? "leaf" : "def"}"${fill} x="${n.x}" y="${flip(n.y)}" width="70" height="${NODE_H}" rx="5"/>`
      + text(n.x + 6, flip(n.y) + 14, n.label) + (n.flops === null ? "" : text(n.x + 6, flip(n.y) + 28, flopsText(n.flops), "edge")) + "</g>");
  }
  const width = Math.max(...nodes.map((n) => n.x + 70), 400);
  return { svg: parts.join("\n"), width, height };
}

function flopsText(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GFLOP`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MFLOP`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kFLOP`;
  return `${n} FLOP`;
}

function text(x: number, y: number, s: string, cls = "", anchor = "start"): string {
  return `<text x="${typeof x === "number" ? +x.toFixed(1) : x}" y="${+y.toFixed(1)}"${cls ? ` class="${cls}"` : ""}${anchor === "start" ? "" : ` text-anchor="${anchor}"`}>${esc(s)}</text>`;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Writes the drawing of `report` to `path` (atomically, like every output of the CLI). */
export async function writeExplainSvg(path: string, report: ExplainReport): Promise<void> {
  const { writeFileAtomic } = await import("../io.js");
  writeFileAtomic(path, explainSvg(report));
}

/**
 * `tns explain FILE`: what the optimizer did and what it bought. For each
 * pass in order: changed or not, its time, the cost before → after (FLOPs,
 * bytes moved, largest intermediate, peak memory; see passes/cost.ts) and
 * the IR lines it changed; then the PathInfo of every contraction that
 * order-contractions split; then the totals before and after.
 *
 *     order-contractions               changed    7.76 ms
 *         FLOPs                 6,291,456 -> 131,072
 *         bytes moved           36.0 KiB -> 40.0 KiB
 *         largest intermediate  none -> D_p1 (512 elements, 2.0 KiB)
 *         peak memory           36.0 KiB -> 38.0 KiB
 *       - output D: f32[64, 8] = [i:64, l:8] sum(j:64, k:64) A[i, j] * B[j, k] * C[k, l]
 *       + D_p1: f32[8, 64] = [l:8, j:64] sum(k:64) B[j, k] * C[k, l]
 *       + output D: f32[64, 8] = [i:64, l:8] sum(j:64) A[i, j] * D_p1[l, j]
 */
import { approximate, check, parse } from "../../compiler.js";
import type { Approximation } from "../../passes/approximate/index.js";
import { calibrationInputs, outputErrors } from "../../passes/approximate/output-error.js";
import { approximationLines } from "./approx-report.js";
import { printPathInfo, sci, type PathInfo } from "../../passes/contraction-path/path-info.js";
import type { ProgramSlicing } from "../../passes/manager.js";
import { type IntermediateSize, type ProgramCost, WASM_RATES, wasmSecondsOf } from "../../passes/cost.js";
import { loadMilpSolver, type MemoryReport } from "../../passes/rematerialize.js";
import type { Terminal } from "./common.js";
import { explainWgsl, printWgslDispatches } from "./explain-wgsl.js";
import type { CostSummary, ExplainReport, IrMode } from "../../explain-report.js";
import { explainWithin, summarizeCost } from "../../explain.js";
import { writeExplainSvg } from "./explain-svg.js";

/** Help text of `tns explain`. */
export const EXPLAIN_HELP = `Usage: tns explain FILE [options]

Show what each optimizing pass did to a .tns program and what it cost: for
each pass, changed or unchanged, its time, the cost before -> after (FLOPs,
bytes moved, largest intermediate, peak live memory) and the IR lines it
changed; then the path of every contraction order-contractions chose
(as numpy.einsum_path reports it); then the totals before and after; then
the kernel the wasm backend runs each def with (gemm, skinny-axpy,
skinny-dot, skinny-panels, online-softmax, loop-nest, recurrence, ...) and the cost model's estimate of it on one
thread (FLOPs, bytes, arithmetic intensity, time, memory- or compute-bound).
The cost model is described in docs/optimizer.md ("Cost model").

Options:
  --size NAME=N       override a size default (repeatable)
  --weights FILE      weight data from a .npz file
  -O0, --no-optimize  run only function inlining and gradient expansion
  --ir MODE           diff (default): changed IR lines; full: the whole IR
                      after each changed pass; none
  --memory-budget B   fit the program into B bytes (64KiB, 10MiB, ...): intermediates are
                      computed again rather than held; the memory section says which
  --donate            plan as if every input were donated, as tns run does by default: an
                      input's memory is reused after its last reader, and an output that
                      updates it elementwise is written over it (the memory section shows
                      the effect; without it, inputs are held for the whole run)
  --max-intermediate B
                      the most memory one tensor a contraction forms may take (64KiB,
                      64MiB, or bytes): larger contractions run slice by slice; the
                      contraction section names the sliced indices and the FLOPs added
  --backend wgsl      also show the WebGPU kernels: each dispatch's kind, workgroup
                      size, grid of workgroups and bindings (planned for WebGPU's
                      compatibility limits; no GPU needed)
  --approx SPEC       approximate weights bound at compile time (repeatable): lowrank:tol=EPS,
                      lowrank:rank=R, lowrank:W:tol=EPS, kron:tol=EPS, kron:W:shape=M1xN1,M2xN2,
                      tucker:tol=EPS, tt:tol=EPS (weights of order 3 or more);
                      the report then starts with each weight's factoring (rank or factor
                      shapes, relative error, FLOPs and bytes before and after, applied or
                      why not) and each output's relative error, exact vs approximated
  --calibration FILE  with --approx: the inputs (.npz) the output error is measured on
                      (default: seeded random inputs)
  --json              print the report as one JSON document
  --svg FILE          also draw the optimized dataflow graph (defs sized by FLOPs, edges
                      labelled with elements) and each contraction tree, as SVG
  -h, --help          show this help`;

export type { CostSummary, DiffLine, ExplainedContraction, ExplainedPass, ExplainReport, IrMode } from "../../explain-report.js";
export { diffLines, explainProgram, explainWithin, type ExplainOptions } from "../../explain.js";

/**
 * The report as text lines.
 *
 * @example
 * ```ts
 * printExplainReport(explainProgram(program), "diff").join("\n");
 * ```
 */
export function printExplainReport(report: ExplainReport, ir: IrMode): string[] {
  const lines: string[] = [];
  const sizes = Object.entries(report.sizes).map(([k, v]) => `${k}=${v}`).join(", ");
  lines.push(`sizes: ${sizes || "none"}${report.optimize ? "" : "  (-O0: inlining and gradients only)"}`);
  lines.push(costLine("before any pass", summarizeCost(report.costBefore)));
  const width = Math.max(...report.passes.map((p) => p.pass.length), 0);
  lines.push("");
  for (const p of report.passes) {
    lines.push(`${p.pass.padEnd(width)}  ${p.changed ? "changed  " : "unchanged"}  ${p.ms.toFixed(2)} ms`);
    if (!p.changed) continue;
    lines.push(...p.derivations.map((d) => `  rule ${d.rule}${d.tensor === null ? "" : ` on ${d.tensor}`}${d.detail ? ` (${d.detail})` : ""}`));
    lines.push(...compareLines(p.before, p.after).map((l) => `    ${l}`));
    if (ir === "diff") lines.push(...p.diff.map((d) => `  ${d.op} ${d.line}`));
    if (ir === "full") lines.push(...p.ir.trimEnd().split("\n").map((l) => `    ${l}`));
    lines.push("");
  }
  if (lines.at(-1) === "") lines.pop();
  for (const c of report.contractions) {
    const shown = c.intermediates.length > 8 ? [...c.intermediates.slice(0, 3), `... (${c.intermediates.length} defs)`, c.intermediates.at(-1)!] : c.intermediates;
    const chain = [...shown, c.tensor].join(", ");
    lines.push("", `contraction of ${c.tensor} (${c.pass}), now ${chain}:`);
    lines.push(...printPathInfo(c.info).trimEnd().split("\n").map((l) => `  ${l}`));
    if (c.slicing !== null && c.slicing.refused === null) lines.push(...slicingLines(c.slicing, c.info).map((l) => `  ${l}`));
  }
  const before = summarizeCost(report.costBefore);
  const after = summarizeCost(report.costAfter);
  const ratio = report.speedup === null ? "no FLOPs left" : `${report.speedup.toFixed(2)}x fewer FLOPs`;
  lines.push("", `summary (${ratio}):`, ...compareLines(before, after).map((l) => `    ${l}`));
  lines.push(...printWasmKernels(report.costAfter));
  lines.push("", ...memoryLines(report.memory));
  return lines;
}

/**
 * What slicing a contraction did, for the report: the limit, the sliced
 * indices and their chunks, the slices, the most elements the contraction's
 * own tensors hold at once when sliced, and the FLOPs slicing added.
 *
 * @example
 * ```ts
 * slicingLines(slicing, info); // ["         Sliced under:  16384 bytes (4096 elements)", "        Sliced labels:  c, e (chunks of 8): 32 slices", ...]
 * ```
 */
export function slicingLines(s: ProgramSlicing, info: PathInfo): string[] {
  const labels = s.labels.map((l, k) => {
    const name = info.legend?.[l] ?? l;
    return s.chunks[k] === 1 ? name : `${name} (chunks of ${s.chunks[k]})`;
  });
  const pct = ((100 * s.extraFlops) / Math.max(1, info.optimizedFlops)).toFixed(1);
  return [
    `         Sliced under:  ${s.limitBytes} bytes (${Math.floor(s.limitBytes / s.elementBytes)} elements)`,
    `        Sliced labels:  ${labels.join(", ")}: ${s.slices} slices`,
    `     Peak when sliced:  ${s.largestIntermediate} elements (${s.largestIntermediate * s.elementBytes} bytes) held at once`,
    `    FLOPs when sliced:  ${sci(s.flops)} (${sci(s.extraFlops)} added, ${pct}%)`,
  ];
}

/**
 * The memory section of the report.
 *
 * @example
 * ```ts
 * memoryLines(report.memory); // ["memory:", "    planned peak          112.0 KiB (budget 120.0 KiB)", ...]
 * ```
 */
export function memoryLines(m: MemoryReport): string[] {
  const budget = m.budgetBytes === null ? "no budget" : `budget ${bytes(m.budgetBytes)}`;
  const gap = (m.solver.gap === undefined ? "" : `, gap ${(m.solver.gap * 100).toFixed(1)}%`)
    + (m.solver.improvedOnStart === undefined ? "" : m.solver.improvedOnStart ? ", improved on the heuristics" : ", the heuristics' schedule");
  const lines = [
    "memory:",
    `    planned peak          ${bytes(m.peakBytes)} (${budget})`,
    `    before planning       ${bytes(m.unplannedPeakBytes)} (every buffer its own space)`,
  ];
  if (m.donated !== undefined) lines.push(`    donated inputs        ${m.donated.join(", ")} (their storage is reused after their last reader)`);
  if (m.budgetBytes !== null) {
    lines.push(
      `    before remat          ${bytes(m.plannedPeakBeforeBytes)}`,
      `    recomputed FLOPs      ${count(m.recomputedFlops)}`,
      `    solver                ${m.solver.name} ${m.solver.status} in ${m.solver.ms.toFixed(1)} ms${gap}`,
    );
  }
  for (const r of m.recomputed) lines.push(`    recompute ${r.tensor} as ${r.copy} before ${r.before.join(", ")}`);
  const sb = m.slicedBatch;
  if (sb !== undefined) {
    lines.push(`    sliced batch          ${sb.slices} slices of ${sb.rows} rows of ${sb.input} (dimension ${sb.dim + 1}); sums resumed slice by slice: ${sb.resumed.join(", ")}` +
      (sb.whole.length > 0 ? `; concatenated: ${sb.whole.join(", ")}` : ""));
  }
  return lines;
}

/**
 * The kernel the WASM backend runs for each def of the optimized program,
 * and the cost model's estimate of it on one thread: FLOPs, bytes read and
 * written, arithmetic intensity, time and what bounds it.
 *
 *     wasm kernels (one thread, estimated):
 *       C  skinny-axpy  33,554,432 FLOPs  64.0 MiB  0.50 FLOP/B  4.19 ms  memory-bound
 */
function printWasmKernels(cost: ProgramCost): string[] {
  if (cost.tensors.length === 0) return [];
  const nameWidth = Math.max(...cost.tensors.map((t) => t.name.length));
  const kernelWidth = Math.max(...cost.tensors.map((t) => t.wasmKernel.length));
  const rows = cost.tensors.map((t) => {
    const moved = t.bytesRead + t.bytesWritten;
    const intensity = moved > 0 ? (t.flops / moved).toFixed(2) : "-";
    const memoryBound = moved / WASM_RATES.readBytes > wasmSecondsOf(t.wasmKernel, t.flops, 0);
    const bound = t.wasmKernel === "call" ? "" : memoryBound ? "  memory-bound" : "  compute-bound";
    return `  ${t.name.padEnd(nameWidth)}  ${t.wasmKernel.padEnd(kernelWidth)}  ${count(t.flops)} FLOPs  ${bytes(moved)}  ${intensity} FLOP/B  ${ms(t.wasmSeconds)}${bound}`;
  });
  return ["", `wasm kernels (one thread, estimated; total ${ms(cost.wasmSeconds)}):`, ...rows];
}

function ms(seconds: number): string {
  return `${(seconds * 1e3).toFixed(seconds < 1e-3 ? 4 : 2)} ms`;
}

function costLine(label: string, c: CostSummary): string {
  return `${label}: FLOPs ${count(c.flops)}, moved ${bytes(c.bytesMoved)}, largest intermediate ${largest(c.largestIntermediate)}, peak memory ${bytes(c.peakMemoryBytes)}`;
}

function compareLines(a: CostSummary, b: CostSummary): string[] {
  return [
    `FLOPs                 ${count(a.flops)} -> ${count(b.flops)}`,
    `bytes moved           ${bytes(a.bytesMoved)} -> ${bytes(b.bytesMoved)}`,
    `largest intermediate  ${largest(a.largestIntermediate)} -> ${largest(b.largestIntermediate)}`,
    `peak memory           ${bytes(a.peakMemoryBytes)} -> ${bytes(b.peakMemoryBytes)}`,
  ];
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

function largest(l: IntermediateSize | null): string {
  return l === null ? "none" : `${l.name} (${count(l.elements)} elements, ${bytes(l.bytes)})`;
}

/** The report as JSON data: `ir` kept per pass only for `--ir full`, `diff` dropped for `--ir none`. */
function reportJson(report: ExplainReport, ir: IrMode): unknown {
  return {
    ...report,
    passes: report.passes.map(({ ir: text, diff, ...rest }) => ({
      ...rest,
      ...(ir === "none" ? {} : { diff }),
      ...(ir === "full" ? { ir: text } : {}),
    })),
  };
}

/** What `--approx` adds to the report (JSON: top-level `approximations`, `outputError`, `calibration`). */
export interface ApproximationSection {
  readonly approximations: readonly Approximation[];
  /** Each output's relative Frobenius error, exact vs approximated program, on the calibration inputs. */
  readonly outputError: Readonly<Record<string, number>>;
  /** The calibration file, or `"random"` for seeded random inputs. */
  readonly calibration: string;
}

function approximationSection(a: ApproximationSection): string[] {
  const on = a.calibration === "random" ? "seeded random inputs" : a.calibration;
  return [
    "approximations:", ...approximationLines(a.approximations),
    `output error (relative Frobenius, exact vs approximated, on ${on}):`,
    ...Object.entries(a.outputError).map(([name, e]) => `  ${name}  ${e.toExponential(2)}`),
    "",
  ];
}

export { explainWgsl, printWgslDispatches, type ExplainedDispatch, type ExplainedWgsl } from "./explain-wgsl.js";

/** Runs `tns explain`. */
export async function explainCommand(argv: string[], term: Terminal): Promise<number> {
  // The command's Node-only parts (arguments, files) load here, so that the report
  // builders above stay importable in a browser page (the playground uses them).
  const { parseCommandArgs, parseMemoryBudget, parseSizeOptions, UsageError } = await import("../args.js");
  const { readText, readTensorArchive } = await import("../io.js");
  const { EXIT, parseMaxIntermediate, reportDiagnostics, sourceFileArg } = await import("./common.js");
  const { values, positionals } = parseCommandArgs("explain", argv, {
    size: { type: "string", multiple: true },
    weights: { type: "string" },
    "no-optimize": { type: "boolean" },
    O0: { type: "boolean" },
    ir: { type: "string" },
    json: { type: "boolean" },
    backend: { type: "string" },
    help: { type: "boolean", short: "h" },
    "memory-budget": { type: "string" },
    "max-intermediate": { type: "string" },
    svg: { type: "string" },
    approx: { type: "string", multiple: true },
    calibration: { type: "string" },
    donate: { type: "boolean" },
  });
  if (values["help"]) {
    term.out(EXPLAIN_HELP);
    return EXIT.ok;
  }
  const file = sourceFileArg(positionals, "explain");
  const ir = (values["ir"] as string | undefined) ?? "diff";
  if (ir !== "full" && ir !== "diff" && ir !== "none") throw new UsageError(`--ir expects full, diff or none, got '${ir}'`, "explain");
  const backend = values["backend"] as string | undefined;
  if (backend !== undefined && backend !== "wgsl") throw new UsageError(`--backend: explain shows the kernels of wgsl only, got '${backend}'`, "explain");
  const sizes = parseSizeOptions(values["size"] as string[] | undefined, "explain");
  const memoryBudget = parseMemoryBudget(values["memory-budget"] as string | undefined, "explain");
  if (memoryBudget !== undefined) await loadMilpSolver();
  const maxIntermediateBytes = parseMaxIntermediate(values["max-intermediate"] as string | undefined, "explain");
  const weights = values["weights"] ? readTensorArchive(values["weights"] as string) : {};
  const source = readText(file);
  const { program: exact, diagnostics, sources } = check(source, { file, sizes, weights });
  reportDiagnostics(term, diagnostics, sources);
  if (!exact) return EXIT.diagnostics;
  const approx = values["approx"] as string[] | undefined;
  if (values["calibration"] !== undefined && approx === undefined) throw new UsageError("--calibration needs --approx", "explain");
  let program = exact;
  let approximated: ApproximationSection | null = null;
  if (approx !== undefined) {
    const { module } = parse(source, file);
    const spans = new Map(module.items.flatMap((it) => (it.kind === "tensor" ? [[it.name.name, it.name.span] as const] : [])));
    const outcome = approximate(exact, approx, (w) => spans.get(w));
    reportDiagnostics(term, outcome.diagnostics, sources);
    if (outcome.program === null) return EXIT.diagnostics;
    program = outcome.program;
    const calibration = values["calibration"] ? readTensorArchive(values["calibration"] as string) : {};
    const inputs = calibrationInputs(exact, calibration);
    approximated = {
      approximations: outcome.approximations,
      outputError: outputErrors(exact, program, inputs),
      calibration: values["calibration"] ? (values["calibration"] as string) : "random",
    };
  }
  const optimize = !(values["O0"] || values["no-optimize"]);
  const explained = explainWithin(program, {
    optimize, ...(backend === undefined ? {} : { backend }), ...(memoryBudget === undefined ? {} : { memoryBudget }),
    ...(maxIntermediateBytes === undefined ? {} : { maxIntermediateBytes }), ...(values["donate"] ? { donate: "all" as const } : {}),
  });
  if (!explained.ok) {
    reportDiagnostics(term, [explained.diagnostic], sources);
    return EXIT.diagnostics;
  }
  const report = explained.report;
  const wgsl = backend === "wgsl" ? explainWgsl(explained.program) : null;
  if (values["json"]) term.out(JSON.stringify({ file, ...(approximated ?? {}), ...(reportJson(report, ir) as object), ...(wgsl ? { wgsl } : {}) }, null, 2));
  else term.out([...(approximated ? approximationSection(approximated) : []), ...printExplainReport(report, ir), ...(wgsl ? printWgslDispatches(wgsl) : [])].join("\n"));
  if (values["svg"] !== undefined) await writeExplainSvg(values["svg"] as string, report);
  return EXIT.ok;
}

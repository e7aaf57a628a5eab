/**
 * The tns playground: an editor with the compiler's diagnostics as the user
 * types, and next to it what the compiler made of the program (shapes,
 * optimized IR, the explain report and its drawing, the emitted JS, WASM
 * text and WGSL), and a run on WASM (and WebGPU where the browser has an
 * adapter) with random or uploaded .npy inputs.
 *
 * Everything runs in the page through the compiler's public API; nothing is
 * sent anywhere. State the browser test reads: `body[data-analysis]` counts
 * finished analyses, `body[data-run]` is "running", "done" or "failed",
 * each output card has `data-output` and its summary as JSON in
 * `data-summary`.
 */
import { defaultKeymap, history as editHistory, historyKeymap, indentWithTab } from "@codemirror/commands";
import { bracketMatching, HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { lintGutter, setDiagnostics, type Diagnostic as LintDiagnostic } from "@codemirror/lint";
import { EditorState } from "@codemirror/state";
import { drawSelection, EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from "@codemirror/view";
import { tags } from "@lezer/highlight";
import {
  check, compileAsync, emitWgsl, explainSvg, explainWithin, loadBackend, printExplainReport, printProgram, randomTensor, readNpy,
  type Backend, type CompiledProgram, type Diagnostic, type Program, type Tensor, type TensorInfo,
} from "../../src/index.js";
import { readFragment, sourceFragment } from "./share.js";
import { EXAMPLES, stdlibLoader } from "./sources.js";
import { drawHeatmap } from "./heatmap.js";
import { formatNumber, summarize } from "./summary.js";
import { tnsLanguage } from "./tns-language.js";

/** The file name the compiler reports the editor's text under. */
const FILE = "main.tns";
const DEFAULT_EXAMPLE = "attention";
/** Milliseconds of quiet typing before the program is checked again. */
const DEBOUNCE_MS = 250;

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

// ---------------------------------------------------------------- editor

const highlight = HighlightStyle.define([
  { tag: tags.comment, color: "#6a737d", fontStyle: "italic" },
  { tag: tags.keyword, color: "#8250df", fontWeight: "bold" },
  { tag: tags.controlKeyword, color: "#cf222e", fontWeight: "bold" },
  { tag: tags.string, color: "#0a3069" },
  { tag: tags.number, color: "#0550ae" },
  { tag: tags.atom, color: "#0550ae" },
  { tag: tags.typeName, color: "#953800" },
  { tag: tags.function(tags.variableName), color: "#6639ba" },
  { tag: tags.standard(tags.function(tags.variableName)), color: "#116329" },
  { tag: tags.constant(tags.variableName), color: "#953800" },
  { tag: tags.definition(tags.variableName), color: "#0b5394", fontWeight: "bold" },
  { tag: tags.variableName, color: "#1f2328" },
  { tag: tags.special(tags.variableName), color: "#bc4c00" },
  { tag: tags.operator, color: "#57606a" },
]);

const view = new EditorView({
  parent: $("editor"),
  state: EditorState.create({
    doc: initialSource(),
    extensions: [
      lineNumbers(), highlightActiveLineGutter(), editHistory(), drawSelection(), highlightActiveLine(), bracketMatching(),
      tnsLanguage, syntaxHighlighting(highlight), lintGutter(),
      keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) scheduleAnalysis();
      }),
      EditorView.theme({ "&": { height: "100%" }, ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace" } }),
    ],
  }),
});

/** The source the page opens with: the fragment's, else the attention example. */
function initialSource(): string {
  const named = readFragment(location.hash);
  if (named && "source" in named) return named.source;
  const example = named && "example" in named && EXAMPLES.has(named.example) ? named.example : DEFAULT_EXAMPLE;
  return EXAMPLES.get(example) ?? "";
}

function setSource(text: string): void {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

// ---------------------------------------------------------------- examples and sharing

const examples = $<HTMLSelectElement>("examples");
for (const name of EXAMPLES.keys()) examples.add(new Option(name, name));
{
  const named = readFragment(location.hash);
  examples.value = named && "example" in named && EXAMPLES.has(named.example) ? named.example : named ? "" : DEFAULT_EXAMPLE;
}
examples.addEventListener("change", () => {
  const text = EXAMPLES.get(examples.value);
  if (text === undefined) return;
  history.replaceState(null, "", `#example=${examples.value}`);
  setSource(text);
});

$("share").addEventListener("click", async () => {
  const url = `${location.origin}${location.pathname}${sourceFragment(view.state.doc.toString())}`;
  history.replaceState(null, "", url);
  let copied = false;
  try {
    await navigator.clipboard.writeText(url);
    copied = true;
  } catch {
    // No clipboard permission (an insecure origin, a headless browser): the address bar has it.
  }
  $("status").textContent = copied ? "link copied" : "link in the address bar";
});

window.addEventListener("hashchange", () => {
  const named = readFragment(location.hash);
  if (named && "source" in named && named.source !== view.state.doc.toString()) setSource(named.source);
  if (named && "example" in named && EXAMPLES.has(named.example)) {
    examples.value = named.example;
    setSource(EXAMPLES.get(named.example)!);
  }
});

// ---------------------------------------------------------------- analysis

/** What the last analysis found, for the views computed on demand. */
interface Analysis {
  readonly version: number;
  readonly source: string;
  readonly program: Program | null;
  readonly optimized: Program | null;
  /** Emitted code by view (filled on demand). */
  readonly code: Map<string, string>;
}

let analysis: Analysis = { version: 0, source: "", program: null, optimized: null, code: new Map() };
let timer: ReturnType<typeof setTimeout> | undefined;
let jsBackend: Backend | null = null;
const wasmBackend: Promise<Backend> = loadBackend("wasm");

function scheduleAnalysis(): void {
  clearTimeout(timer);
  timer = setTimeout(analyze, DEBOUNCE_MS);
}

/** Checks the editor's text, shows its diagnostics and shapes, and what the optimizer made of it. */
function analyze(): void {
  const source = view.state.doc.toString();
  const version = analysis.version + 1;
  let diagnostics: readonly Diagnostic[] = [];
  let program: Program | null = null;
  let optimized: Program | null = null;
  let failure: string | null = null;
  let report: ReturnType<typeof explainWithin> | null = null;
  try {
    ({ program, diagnostics } = check(source, { file: FILE, loader: stdlibLoader }));
    if (program) {
      report = explainWithin(program);
      if (report.ok) optimized = report.program;
      else diagnostics = [...diagnostics, report.diagnostic];
    }
  } catch (e) {
    // A broken invariant inside the compiler (a bug in tns): say so rather than go blank.
    failure = `internal compiler error: ${e instanceof Error ? e.message : String(e)}`;
  }
  analysis = { version, source, program, optimized, code: new Map() };
  view.dispatch(setDiagnostics(view.state, diagnostics.map(lintDiagnostic)));
  showProblems(diagnostics, failure);
  showShapes(program);
  $("ir").textContent = optimized ? printProgram(optimized) : "(no IR: the program has errors)";
  if (report?.ok) {
    $("explain").textContent = printExplainReport(report.report, "diff").join("\n");
    $("graph").innerHTML = explainSvg(report.report);
  } else {
    $("explain").textContent = "(nothing to explain: the program has errors)";
    $("graph").textContent = "";
  }
  void showCode();
  document.body.dataset["analysis"] = String(version);
}

/** A compiler diagnostic as a CodeMirror lint marker: in the editor's text, or at its start for one in an imported file. */
function lintDiagnostic(d: Diagnostic): LintDiagnostic {
  const length = view.state.doc.length;
  const here = d.span && d.span.file === FILE;
  const from = here ? Math.min(d.span!.start.offset, length) : 0;
  const to = here ? Math.min(Math.max(d.span!.end.offset, from), length) : Math.min(1, length);
  const where = d.span && !here ? ` (in ${d.span.file}:${d.span.start.line}:${d.span.start.column})` : "";
  const lines = [`${d.code}: ${d.message}${where}`, ...d.notes.map((n) => `note: ${n.message}`), ...(d.hint ? [`hint: ${d.hint}`] : [])];
  return { from, to, severity: d.severity, source: d.code, message: lines.join("\n") };
}

function showProblems(diagnostics: readonly Diagnostic[], failure: string | null): void {
  const list = $("problems");
  list.replaceChildren();
  if (failure) list.append(item("problem error", failure));
  for (const d of diagnostics) {
    const at = d.span ? `${d.span.file === FILE ? "" : `${d.span.file}:`}${d.span.start.line}:${d.span.start.column}` : "";
    const li = item(`problem ${d.severity}`, "");
    li.dataset["code"] = d.code;
    li.dataset["line"] = String(d.span?.start.line ?? 0);
    li.dataset["column"] = String(d.span?.start.column ?? 0);
    li.append(span("where", at), span("code", d.code), span("message", d.message));
    if (d.hint) li.append(span("hint", `hint: ${d.hint}`));
    if (d.span?.file === FILE) {
      const offset = d.span.start.offset;
      li.addEventListener("click", () => view.dispatch({ selection: { anchor: Math.min(offset, view.state.doc.length) }, scrollIntoView: true }));
    }
    list.append(li);
  }
  $("problems-title").textContent = diagnostics.length === 0 && !failure ? "no problems" : `problems (${diagnostics.length + (failure ? 1 : 0)})`;
}

function showShapes(program: Program | null): void {
  const body = $("shapes-body");
  body.replaceChildren();
  for (const t of program?.tensors ?? []) {
    const tr = document.createElement("tr");
    const role = t.role === "def" ? (t.output ? "output" : "def") : t.role;
    const dims = t.shape.length === 0 ? "scalar" : `[${t.shape.join(", ")}]`;
    for (const text of [t.name, role, t.dtype, dims]) tr.append(cell(text));
    body.append(tr);
  }
}

// ---------------------------------------------------------------- tabs and emitted code

const TABS = ["ir", "explain", "graph", "js", "wasm", "wgsl"] as const;
type Tab = (typeof TABS)[number];
let tab: Tab = "ir";

for (const b of document.querySelectorAll<HTMLButtonElement>("#tabs button")) {
  b.addEventListener("click", () => {
    tab = b.dataset["tab"] as Tab;
    for (const other of document.querySelectorAll<HTMLButtonElement>("#tabs button")) other.classList.toggle("active", other === b);
    for (const t of TABS) $(t).hidden = t !== tab;
    void showCode();
  });
}

/** Fills the open code tab (JS, WASM text or WGSL) for the current analysis, once per analysis. */
async function showCode(): Promise<void> {
  if (tab !== "js" && tab !== "wasm" && tab !== "wgsl") return;
  const a = analysis;
  const into = $(tab);
  if (!a.optimized) {
    into.textContent = "(no code: the program has errors)";
    return;
  }
  let code = a.code.get(tab);
  if (code === undefined) {
    into.textContent = "compiling...";
    try {
      if (tab === "js") code = (jsBackend ??= await loadBackend("js")).compile(a.optimized).code;
      else if (tab === "wasm") code = (await wasmBackend).compile(a.optimized).code;
      else code = emitWgsl(a.optimized).dispatches.map((d) => `// ${d.name}: ${d.form}, workgroup ${d.workgroupSize.join(" x ")}, grid ${d.workgroups.join(" x ")}\n${d.code}`).join("\n\n");
    } catch (e) {
      code = `(the ${tab} backend cannot compile this program: ${e instanceof Error ? e.message : String(e)})`;
    }
    a.code.set(tab, code);
  }
  if (analysis === a && tab === into.id) into.textContent = code;
}

// ---------------------------------------------------------------- running

const gpuToggle = $<HTMLInputElement>("run-webgpu");
const gpuAdapter: Promise<GPUAdapter | null> = (async () => {
  try {
    return (await navigator.gpu?.requestAdapter()) ?? null;
  } catch {
    return null;
  }
})();
void gpuAdapter.then((adapter) => {
  gpuToggle.disabled = adapter === null;
  gpuToggle.checked = adapter !== null;
  $("webgpu-label").title = adapter ? "this browser offers a WebGPU adapter" : "this browser offers no WebGPU adapter";
  $("webgpu-label").classList.toggle("unavailable", adapter === null);
});

/** Uploaded .npy files by input name (the file name without `.npy`). */
const uploads = new Map<string, Tensor>();
$<HTMLInputElement>("npy").addEventListener("change", async (e) => {
  const files = [...((e.target as HTMLInputElement).files ?? [])];
  uploads.clear();
  const notes: string[] = [];
  for (const f of files) {
    const name = f.name.replace(/\.npy$/i, "");
    try {
      const t = readNpy(new Uint8Array(await f.arrayBuffer()));
      uploads.set(name, t);
      notes.push(`${name}: ${t.dtype}[${t.shape.join(", ")}]`);
    } catch (err) {
      notes.push(`${f.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  $("uploads").textContent = notes.join("; ");
});

/**
 * The inputs of a run: an uploaded .npy file named after the input when
 * there is one, else `randomTensor(shape, dtype, seed + k)` for the k-th
 * input or weight in the order of `program.inputs`.
 */
function inputsFor(inputs: readonly TensorInfo[], seed: number): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  inputs.forEach((info, k) => {
    const uploaded = uploads.get(info.name);
    if (uploaded) {
      const same = uploaded.shape.length === info.shape.length && uploaded.shape.every((n, d) => n === info.shape[d]);
      if (!same || uploaded.dtype !== info.dtype) {
        throw new Error(`${info.name}.npy holds ${uploaded.dtype}[${uploaded.shape.join(", ")}], the program wants ${info.dtype}[${info.shape.join(", ")}]`);
      }
      out[info.name] = uploaded;
    } else {
      out[info.name] = randomTensor(info.shape, info.dtype, seed + k);
    }
  });
  return out;
}

interface BackendRun {
  readonly backend: "wasm" | "wgsl";
  readonly compileMs: number;
  readonly firstMs: number;
  readonly bestMs: number;
  readonly outputs: Record<string, Tensor>;
}

/** Runs of the timing: the first, then this many more, of which the best is shown. */
const TIMED_RUNS = 3;

async function runOn(backend: "wasm" | "wgsl", source: string, seed: number): Promise<BackendRun> {
  const t0 = performance.now();
  const compiled: CompiledProgram = await compileAsync(source, { file: FILE, loader: stdlibLoader, backend });
  const compileMs = performance.now() - t0;
  try {
    if (!compiled.ok) throw new Error(compiled.formatDiagnostics());
    const inputs = inputsFor(compiled.inputs, seed);
    const t1 = performance.now();
    const outputs = await compiled.runAsync(inputs);
    const firstMs = performance.now() - t1;
    let bestMs = Infinity;
    for (let r = 0; r < TIMED_RUNS; r++) {
      const t = performance.now();
      await compiled.runAsync(inputs, { outputs: "view" });
      bestMs = Math.min(bestMs, performance.now() - t);
    }
    return { backend, compileMs, firstMs, bestMs, outputs };
  } finally {
    compiled.dispose();
  }
}

$("run").addEventListener("click", () => void run());

async function run(): Promise<void> {
  const source = view.state.doc.toString();
  const seed = Number($<HTMLInputElement>("seed").value) || 0;
  const backends: ("wasm" | "wgsl")[] = [];
  if ($<HTMLInputElement>("run-wasm").checked) backends.push("wasm");
  if (gpuToggle.checked && !gpuToggle.disabled) backends.push("wgsl");
  const timings = $("timings");
  const outputs = $("outputs");
  document.body.dataset["run"] = "running";
  $<HTMLButtonElement>("run").disabled = true;
  timings.textContent = backends.length ? `running on ${backends.join(", ")}...` : "choose a backend";
  outputs.replaceChildren();
  const runs: BackendRun[] = [];
  const errors: string[] = [];
  for (const b of backends) {
    try {
      runs.push(await runOn(b, source, seed));
    } catch (e) {
      errors.push(`${label(b)}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  timings.replaceChildren(...runs.map((r) => {
    const row = item("timing", "");
    row.dataset["backend"] = r.backend;
    row.append(span("backend", label(r.backend)), span("ms", `compile ${r.compileMs.toFixed(1)} ms`),
      span("ms", `first run ${r.firstMs.toFixed(2)} ms`), span("ms", `best of ${TIMED_RUNS} ${r.bestMs.toFixed(2)} ms`));
    return row;
  }), ...errors.map((e) => item("problem error", e)));
  if (runs.length > 0) showOutputs(runs);
  document.body.dataset["run"] = errors.length === 0 && runs.length > 0 ? "done" : "failed";
  $<HTMLButtonElement>("run").disabled = false;
}

function showOutputs(runs: readonly BackendRun[]): void {
  const first = runs[0]!;
  for (const [name, t] of Object.entries(first.outputs)) {
    const s = summarize(t);
    const card = document.createElement("div");
    card.className = "output";
    card.dataset["output"] = name;
    card.dataset["summary"] = JSON.stringify(s);
    const text = document.createElement("div");
    text.className = "summary";
    text.append(
      line(`${name}: ${s.dtype}[${s.shape.join(", ")}] on ${label(first.backend)}`, "title"),
      line(`min ${formatNumber(s.min)}   max ${formatNumber(s.max)}   mean ${formatNumber(s.mean)}${s.nans ? `   NaN ${s.nans}` : ""}`),
      line(`first ${s.first.map(formatNumber).join(", ")}${t.data.length > s.first.length ? ", ..." : ""}`),
    );
    for (const other of runs.slice(1)) {
      const o = other.outputs[name];
      if (o) text.append(line(`${label(other.backend)} differs by at most ${formatNumber(maxDifference(t, o))}`));
    }
    card.append(text);
    if (t.shape.length === 2) {
      const canvas = document.createElement("canvas");
      canvas.className = "heatmap";
      canvas.title = `${name} as a heat map (min dark, max bright)`;
      drawHeatmap(canvas, t);
      card.append(canvas);
    }
    $("outputs").append(card);
  }
}

function maxDifference(a: Tensor, b: Tensor): number {
  let worst = 0;
  for (let k = 0; k < a.data.length; k++) worst = Math.max(worst, Math.abs(Number(a.data[k]) - Number(b.data[k])));
  return worst;
}

const label = (b: "wasm" | "wgsl"): string => (b === "wasm" ? "WASM" : "WebGPU");

// ---------------------------------------------------------------- DOM helpers

function item(className: string, text: string): HTMLLIElement {
  const li = document.createElement("li");
  li.className = className;
  li.textContent = text;
  return li;
}

function span(className: string, text: string): HTMLSpanElement {
  const s = document.createElement("span");
  s.className = className;
  s.textContent = text;
  return s;
}

function cell(text: string): HTMLTableCellElement {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function line(text: string, className = ""): HTMLDivElement {
  const d = document.createElement("div");
  d.textContent = text;
  if (className) d.className = className;
  return d;
}

analyze();

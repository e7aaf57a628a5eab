/**
 * The tns playground: an editor with the compiler's diagnostics as the user
 * types, and next to it what the compiler made of the program (shapes,
 * optimized IR, the explain report and its drawing, the emitted JS, WASM
 * text and WGSL), and a run on WASM (and WebGPU where the browser has an
 * adapter) with random or uploaded .npy inputs.
 *
 * Everything runs in the page: the compiler, through its public API, in a
 * Web Worker of the page (worker.ts), so that typing never waits for it;
 * nothing is sent anywhere. State the browser test reads: `body[data-analysis]` counts
 * finished analyses, `body[data-run]` is "running", "done" or "failed",
 * each output card has `data-output` and its summary as JSON in
 * `data-summary`.
 */
import { defaultKeymap, history as editHistory, historyKeymap, indentWithTab } from "@codemirror/commands";
import { bracketMatching, HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { lintGutter, setDiagnostics, type Diagnostic as LintDiagnostic } from "@codemirror/lint";
import { EditorState, Transaction } from "@codemirror/state";
import { drawSelection, EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from "@codemirror/view";
import { tags } from "@lezer/highlight";
import type { Diagnostic } from "../../src/index.js";
import { drawHeatmap } from "./heatmap.js";
import { FILE, TIMED_RUNS, type BackendRun, type CodeView, type Reply, type Request, type RunBackend, type ShapeRow, type TensorData } from "./protocol.js";
import { readFragment, sourceFragment } from "./share.js";
import { EXAMPLES } from "./sources.js";
import { formatNumber, summarize } from "./summary.js";
import { tnsLanguage } from "./tns-language.js";

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
        if (!u.docChanged) return;
        // An edit of the user's own makes the program theirs, no longer the example the menu names.
        if (u.transactions.some((tr) => tr.annotation(Transaction.userEvent) !== undefined)) examples.value = "";
        scheduleAnalysis();
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

// ---------------------------------------------------------------- the compiler, in a worker

const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
const ask = (request: Request, transfer: Transferable[] = []): void => worker.postMessage(request, transfer);

worker.addEventListener("message", (e: MessageEvent<Reply>) => {
  const m = e.data;
  if (m.type === "diagnostics" && m.version === version) showDiagnostics(m.diagnostics, m.shapes, m.failure);
  else if (m.type === "analysis" && m.version === version) showAnalysis(m);
  else if (m.type === "code" && m.version === version) showCode(m.view, m.text);
  else if (m.type === "ran" && m.id === runId) showRun(m.runs, m.errors);
  else if (m.type === "gpu") showGpu(m.adapter);
});
worker.addEventListener("error", (e) => {
  showProblems([], `the compiler's worker failed: ${e.message}`);
});

// ---------------------------------------------------------------- analysis

/** The version of the text last sent to be analyzed: answers for older ones are dropped. */
let version = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
/** Code views already filled for this version. */
const codeShown = new Set<CodeView>();

function scheduleAnalysis(): void {
  clearTimeout(timer);
  timer = setTimeout(analyze, DEBOUNCE_MS);
}

function analyze(): void {
  version++;
  codeShown.clear();
  ask({ type: "analyze", version, source: view.state.doc.toString() });
}

/** The compiler's diagnostics as lint markers and a list, and the shapes: right after checking. */
function showDiagnostics(diagnostics: readonly Diagnostic[], shapes: readonly ShapeRow[], failure: string | null): void {
  view.dispatch(setDiagnostics(view.state, diagnostics.map(lintDiagnostic)));
  showProblems(diagnostics, failure);
  showShapes(shapes);
}

/** The optimized IR, the explain report and its drawing: after the passes. */
function showAnalysis(m: Extract<Reply, { type: "analysis" }>): void {
  if (m.failure) showProblems([], m.failure);
  $("ir").textContent = m.ir ?? "(no IR: the program has errors)";
  $("explain").textContent = m.explain ?? "(nothing to explain: the program has errors)";
  // The drawing is the compiler's own SVG text (names and numbers only).
  $("graph").innerHTML = m.svg ?? "";
  requestCode();
  document.body.dataset["analysis"] = String(m.version);
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

function showShapes(shapes: readonly ShapeRow[]): void {
  const body = $("shapes-body");
  body.replaceChildren();
  for (const t of shapes) {
    const tr = document.createElement("tr");
    const dims = t.shape.length === 0 ? "scalar" : `[${t.shape.join(", ")}]`;
    for (const text of [t.name, t.role, t.dtype, dims]) tr.append(cell(text));
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
    requestCode();
  });
}

/** Asks for the open code view's text (JS, WASM text or WGSL), once per version. */
function requestCode(): void {
  if (tab !== "js" && tab !== "wasm" && tab !== "wgsl") return;
  if (codeShown.has(tab)) return;
  codeShown.add(tab);
  $(tab).textContent = "compiling...";
  ask({ type: "code", version, view: tab });
}

function showCode(codeView: CodeView, text: string): void {
  $(codeView).textContent = text;
}

// ---------------------------------------------------------------- running

const gpuToggle = $<HTMLInputElement>("run-webgpu");
ask({ type: "gpu" });

function showGpu(adapter: boolean): void {
  gpuToggle.disabled = !adapter;
  gpuToggle.checked = adapter;
  $("webgpu-label").title = adapter ? "this browser offers a WebGPU adapter" : "this browser offers no WebGPU adapter";
  $("webgpu-label").classList.toggle("unavailable", !adapter);
}

/** Picked .npy files: a file NAME.npy is the input NAME (the worker reads them at the run). */
let uploads: { name: string; file: File }[] = [];
$<HTMLInputElement>("npy").addEventListener("change", (e) => {
  uploads = [...((e.target as HTMLInputElement).files ?? [])].map((file) => ({ name: file.name.replace(/\.npy$/i, ""), file }));
  $("uploads").textContent = uploads.map((u) => `${u.name} (${u.file.size.toLocaleString("en-US")} bytes)`).join(", ");
});

let runId = 0;

$("run").addEventListener("click", () => void run());

async function run(): Promise<void> {
  const backends: RunBackend[] = [];
  if ($<HTMLInputElement>("run-wasm").checked) backends.push("wasm");
  if (gpuToggle.checked && !gpuToggle.disabled) backends.push("wgsl");
  document.body.dataset["run"] = "running";
  $<HTMLButtonElement>("run").disabled = true;
  $("timings").textContent = backends.length ? `running on ${backends.map(label).join(", ")}...` : "choose a backend";
  $("outputs").replaceChildren();
  const files = await Promise.all(uploads.map(async (u) => ({ name: u.name, bytes: await u.file.arrayBuffer() })));
  ask({
    type: "run", id: ++runId, source: view.state.doc.toString(), seed: Number($<HTMLInputElement>("seed").value) || 0, backends, uploads: files,
  }, files.map((f) => f.bytes));
}

function showRun(runs: readonly BackendRun[], errors: readonly string[]): void {
  $("timings").replaceChildren(...runs.map((r) => {
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

function maxDifference(a: TensorData, b: TensorData): number {
  let worst = 0;
  for (let k = 0; k < a.data.length; k++) worst = Math.max(worst, Math.abs(Number(a.data[k]) - Number(b.data[k])));
  return worst;
}

const label = (b: RunBackend): string => (b === "wasm" ? "WASM" : "WebGPU");

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

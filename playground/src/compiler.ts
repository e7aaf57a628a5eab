/**
 * The playground's compiler side, loaded by its Web Worker (worker.ts):
 * checks the editor's text, runs the passes and `explain`, emits code for
 * the code views and runs programs on WASM and WebGPU, through the
 * compiler's public API. See protocol.ts for the messages.
 */
import {
  check, compileAsync, emitWgsl, explainSvg, explainWithin, loadBackend, printExplainReport, printProgram, randomTensor, readNpy,
  type Backend, type CompiledProgram, type Diagnostic, type Program, type Tensor, type TensorInfo,
} from "../../src/index.js";
import { FILE, TIMED_RUNS, type BackendRun, type CodeView, type Reply, type Request, type RunBackend, type ShapeRow, type TensorData } from "./protocol.js";
import { stdlibLoader } from "./sources.js";

const post = (reply: Reply, transfer: Transferable[] = []): void => (self as unknown as Worker).postMessage(reply, transfer);

/** The newest analysis asked for and not yet done. */
let pending: Extract<Request, { type: "analyze" }> | null = null;
/** The optimized program of the last analysis, for the code views. */
let current: { version: number; optimized: Program | null } = { version: 0, optimized: null };
let scheduled = false;

/** Answers one request of the page. */
export function handle(m: Request): void {
  if (m.type === "analyze") {
    // Requests that arrived while an analysis ran replace each other: only the newest is done.
    pending = m;
    if (!scheduled) {
      scheduled = true;
      setTimeout(() => {
        scheduled = false;
        const next = pending;
        pending = null;
        if (next) analyze(next.version, next.source);
      }, 0);
    }
  } else if (m.type === "code") {
    void code(m.version, m.view);
  } else if (m.type === "run") {
    void run(m);
  } else {
    void gpuAdapter.then((adapter) => post({ type: "gpu", adapter }));
  }
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function analyze(version: number, source: string): void {
  let program: Program | null = null;
  let diagnostics: readonly Diagnostic[] = [];
  try {
    ({ program, diagnostics } = check(source, { file: FILE, loader: stdlibLoader }));
  } catch (e) {
    // A broken invariant inside the compiler (a bug in tns): say so rather than go blank.
    current = { version, optimized: null };
    post({ type: "diagnostics", version, diagnostics: [], shapes: [], failure: `internal compiler error: ${message(e)}` });
    post({ type: "analysis", version, ir: null, explain: null, svg: null, failure: null });
    return;
  }
  post({ type: "diagnostics", version, diagnostics, shapes: program ? shapesOf(program) : [], failure: null });
  if (!program) {
    current = { version, optimized: null };
    post({ type: "analysis", version, ir: null, explain: null, svg: null, failure: null });
    return;
  }
  try {
    const explained = explainWithin(program);
    if (!explained.ok) throw new Error(explained.diagnostic.message);
    current = { version, optimized: explained.program };
    post({
      type: "analysis", version, ir: printProgram(explained.program), explain: printExplainReport(explained.report, "diff").join("\n"),
      svg: explainSvg(explained.report), failure: null,
    });
  } catch (e) {
    current = { version, optimized: null };
    post({ type: "analysis", version, ir: null, explain: null, svg: null, failure: `internal compiler error: ${message(e)}` });
  }
}

function shapesOf(program: Program): ShapeRow[] {
  return program.tensors.map((t) => ({
    name: t.name, role: t.role === "def" ? (t.output ? "output" : "def") : t.role, dtype: t.dtype, shape: t.shape,
  }));
}

let jsBackend: Backend | null = null;
let wasmBackend: Promise<Backend> | null = null;

/** The code a backend emits for the current analysis's optimized program. */
async function code(version: number, view: CodeView): Promise<void> {
  const { optimized } = current;
  if (version !== current.version) return;
  let text: string;
  if (!optimized) {
    text = "(no code: the program has errors)";
  } else {
    try {
      if (view === "js") text = (jsBackend ??= await loadBackend("js")).compile(optimized).code;
      else if (view === "wasm") text = (await (wasmBackend ??= loadBackend("wasm"))).compile(optimized).code;
      else {
        text = emitWgsl(optimized).dispatches
          .map((d) => `// ${d.name}: ${d.form}, workgroup ${d.workgroupSize.join(" x ")}, grid ${d.workgroups.join(" x ")}\n${d.code}`).join("\n\n");
      }
    } catch (e) {
      text = `(the ${view} backend cannot compile this program: ${message(e)})`;
    }
  }
  post({ type: "code", version, view, text });
}

const gpuAdapter: Promise<boolean> = (async () => {
  try {
    return ((await navigator.gpu?.requestAdapter()) ?? null) !== null;
  } catch {
    return false;
  }
})();

/**
 * The inputs of a run: an uploaded .npy file named after the input when
 * there is one, else `randomTensor(shape, dtype, seed + k)` for the k-th
 * input or weight in the order of `program.inputs`.
 */
function inputsFor(inputs: readonly TensorInfo[], seed: number, uploads: ReadonlyMap<string, Tensor>): Record<string, Tensor> {
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

async function runOn(backend: RunBackend, source: string, seed: number, uploads: ReadonlyMap<string, Tensor>): Promise<BackendRun> {
  const t0 = performance.now();
  const compiled: CompiledProgram = await compileAsync(source, { file: FILE, loader: stdlibLoader, backend });
  const compileMs = performance.now() - t0;
  try {
    if (!compiled.ok) throw new Error(compiled.formatDiagnostics());
    const inputs = inputsFor(compiled.inputs, seed, uploads);
    const t1 = performance.now();
    const outputs = await compiled.runAsync(inputs);
    const firstMs = performance.now() - t1;
    let bestMs = Infinity;
    for (let r = 0; r < TIMED_RUNS; r++) {
      const t = performance.now();
      await compiled.runAsync(inputs, { outputs: "view" });
      bestMs = Math.min(bestMs, performance.now() - t);
    }
    const data: Record<string, TensorData> = {};
    // Copies, each with a buffer of its own to hand over to the page.
    for (const [name, t] of Object.entries(outputs)) data[name] = { dtype: t.dtype, shape: [...t.shape], data: t.data.slice() as TensorData["data"] };
    return { backend, compileMs, firstMs, bestMs, outputs: data };
  } finally {
    compiled.dispose();
  }
}

async function run(m: Extract<Request, { type: "run" }>): Promise<void> {
  const runs: BackendRun[] = [];
  const errors: string[] = [];
  const uploads = new Map<string, Tensor>();
  for (const u of m.uploads) {
    try {
      uploads.set(u.name, readNpy(new Uint8Array(u.bytes)));
    } catch (e) {
      errors.push(`${u.name}.npy: ${message(e)}`);
    }
  }
  if (errors.length === 0) {
    for (const b of m.backends) {
      try {
        runs.push(await runOn(b, m.source, m.seed, uploads));
      } catch (e) {
        errors.push(`${b === "wasm" ? "WASM" : "WebGPU"}: ${message(e)}`);
      }
    }
  }
  post({ type: "ran", id: m.id, runs, errors }, runs.flatMap((r) => Object.values(r.outputs).map((t) => t.data.buffer as ArrayBuffer)));
}

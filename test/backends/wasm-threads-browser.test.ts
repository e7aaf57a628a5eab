/**
 * Threads in a real browser: headless Chromium loads a cross-origin
 * isolated page (COOP/COEP headers from a local server) that imports the
 * built loader (`dist/backends/wasm/load.js`, `threads.js`), runs a
 * threaded module compiled here on Web Workers ({@link webThreadHost}, from
 * the page's main thread, so through `runAsync`), and reports back. The
 * page checks the bits against one thread's, that its main thread may not
 * block (so `run()` keeps to it), and that the workers take units of a job.
 *
 * Skipped where no Chromium is installed, except under CI, which installs
 * one (`.ci/run`) and where a missing browser is a failure.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { emitWasm, loadBinaryen, loadWasm } from "../../src/backends/wasm/index.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { inputsFor, PRODUCT_THEN_SOFTMAX } from "./support.js";

const ROOT = resolve(import.meta.dirname, "../..");

/** A Chromium to run: TNS_CHROMIUM, else the first of the usual names on the PATH. */
function findChromium(): string | null {
  const candidates = [process.env["TNS_CHROMIUM"], "chromium", "chromium-browser", "google-chrome"].filter((c): c is string => !!c);
  for (const c of candidates) if (spawnSync(c, ["--version"], { stdio: "ignore" }).status === 0) return c;
  return null;
}

const CHROMIUM = findChromium();

const PROGRAM = parseProgramText(PRODUCT_THEN_SOFTMAX);

const base64 = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");

/** What the page needs: the threaded artifact and kernel buffers, inputs, and one thread's outputs. */
async function fixture(): Promise<string> {
  const kp = lowerToKernels(PROGRAM);
  const binaryen = await loadBinaryen();
  const art = emitWasm(binaryen, kp, { threads: 3, parallelMinFlops: 0 });
  const single = loadWasm(emitWasm(binaryen, kp), kp);
  const inputs = inputsFor(PROGRAM, 9);
  const want = single.run(inputs);
  return JSON.stringify({
    art: {
      ...art, text: "", binary: base64(art.binary),
      layout: { offsets: [...art.layout.offsets], scratch: [...art.layout.scratch], bytes: art.layout.bytes },
    },
    kp: { outputs: kp.outputs, buffers: kp.buffers.map(({ data: _, ...b }) => b) },
    inputs: Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape, data: base64(t.data) }])),
    want: Object.fromEntries(Object.entries(want).map(([k, t]) => [k, base64(t.data)])),
  });
}

/** The page's script: runs in the browser, reports a JSON result to /result. */
const PAGE_SCRIPT = `
import { loadWasm } from "/dist/backends/wasm/load.js";
import { webThreadHost, WorkerPool } from "/dist/backends/wasm/threads.js";
import { Tensor } from "/dist/runtime/tensor.js";
const bytes = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const report = (r) => fetch("/result", { method: "POST", body: JSON.stringify(r) });
try {
  const f = await (await fetch("/fixture.json")).json();
  const art = { ...f.art, binary: bytes(f.art.binary),
    layout: { offsets: new Map(f.art.layout.offsets), scratch: new Map(f.art.layout.scratch), bytes: f.art.layout.bytes } };
  const inputs = Object.fromEntries(Object.entries(f.inputs).map(([k, t]) => [k, new Tensor(t.dtype, t.shape, new Float32Array(bytes(t.data).buffer))]));
  const same = (out) => Object.entries(f.want).every(([k, w]) => {
    const got = new Uint8Array(out[k].data.buffer, out[k].data.byteOffset, out[k].data.byteLength);
    const want = bytes(w);
    return got.length === want.length && got.every((x, i) => x === want[i]);
  });
  const host = webThreadHost();
  const exe = loadWasm(art, f.kp, host);
  const asyncRuns = [];
  for (let run = 0; run < 4; run++) asyncRuns.push(same(await exe.runAsync(inputs)));
  const syncRun = same(exe.run(inputs));
  exe.dispose();
  // The workers of a pool take units of a job (they load asynchronously: some rounds may pass first).
  const job = art.parallel[0];
  const memory = new WebAssembly.Memory({ initial: art.pages, maximum: art.pages, shared: true });
  const module = new WebAssembly.Module(art.binary);
  const unit = new WebAssembly.Instance(module, { env: { memory } }).exports[job.entry];
  const pool = new WorkerPool(host, { module, memory, imports: art.imports, entries: [job.entry] }, 3);
  let mine = job.units, rounds = 0;
  // No bound on the rounds: the page's own timeout is the bound, whatever the machine's load.
  for (; mine === job.units; rounds++) {
    mine = 0;
    await pool.runAsync({ entry: 0, units: job.units }, (u, t) => { mine++; unit(u, t); });
    await new Promise((r) => setTimeout(r, 5));
  }
  pool.dispose();
  report({ crossOriginIsolated, blocking: host.blocking, waitAsync: typeof Atomics.waitAsync, asyncRuns, syncRun, mine, units: job.units, rounds });
} catch (e) {
  report({ error: String(e && e.stack || e) });
}
`;

const PAGE = `<!doctype html><meta charset="utf-8"><title>tns threads</title><script type="module" src="/page.js"></script>`;

/**
 * The second page compiles in the browser: the package's own entry (`dist/index.js`), with an import map
 * for the packages it loads (binaryen, Chevrotain's single-file bundle, fflate), from the page's main thread.
 */
const COMPILE_PAGE = `<!doctype html><meta charset="utf-8"><title>tns compile</title>
<script type="importmap">${JSON.stringify({
  imports: {
    binaryen: "/node_modules/binaryen/index.js",
    chevrotain: "/node_modules/chevrotain/lib/chevrotain.mjs",
    fflate: "/node_modules/fflate/esm/browser.js",
  },
})}</script>
<script type="module" src="/compile.js"></script>`;

/** A product and its row softmax numerator, large enough to split on threads. */
const COMPILED_IN_PAGE = "size n = 192\ninput A[n, n], B[n, n]\nS[i, j] = A[i, k] * B[k, j] / 8\nM[i] = max(j) S[i, j]\noutput E[i, j] = exp(S[i, j] - M[i])\n";

const COMPILE_SCRIPT = `
import { compileAsync, randomTensor } from "/dist/index.js";
const report = (r) => fetch("/result", { method: "POST", body: JSON.stringify(r) });
try {
  const source = ${JSON.stringify(COMPILED_IN_PAGE)};
  const wasm = await compileAsync(source, { backend: "wasm" });
  const js = await compileAsync(source, { backend: "js" });
  const inputs = { A: randomTensor([192, 192], "f32", 1), B: randomTensor([192, 192], "f32", 2) };
  const want = js.run(inputs).E.data;
  let worst = 0;
  for (let run = 0; run < 3; run++) {
    const got = (await wasm.runAsync(inputs)).E.data;
    for (let k = 0; k < got.length; k++) worst = Math.max(worst, Math.abs(got[k] - want[k]));
  }
  report({ ok: wasm.ok, threaded: wasm.code.includes("_unit"), worst, diagnostics: wasm.diagnostics.length });
  wasm.dispose();
} catch (e) {
  report({ error: String(e && e.stack || e) });
}
`;

const TYPES: Readonly<Record<string, string>> = { ".js": "text/javascript", ".mjs": "text/javascript", ".html": "text/html", ".json": "application/json" };

/** Serves the page, its script, the fixture and `dist/`, cross-origin isolated; resolves with what the page posts to /result. */
function serve(fixtureJson: string): { server: Server; ready: Promise<number>; result: Promise<Record<string, unknown>> } {
  let deliver!: (r: Record<string, unknown>) => void;
  const result = new Promise<Record<string, unknown>>((r) => (deliver = r));
  const server = createServer((req, res) => {
    const headers = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp", "Cache-Control": "no-store" };
    const url = new URL(req.url ?? "/", "http://localhost");
    const send = (status: number, type: string, body: string | Buffer): void => {
      res.writeHead(status, { ...headers, "Content-Type": type });
      res.end(body);
    };
    if (url.pathname === "/result") {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        deliver(JSON.parse(body) as Record<string, unknown>);
        send(204, "text/plain", "");
      });
      return;
    }
    if (url.pathname === "/") return send(200, TYPES[".html"]!, PAGE);
    if (url.pathname === "/page.js") return send(200, TYPES[".js"]!, PAGE_SCRIPT);
    if (url.pathname === "/compile") return send(200, TYPES[".html"]!, COMPILE_PAGE);
    if (url.pathname === "/compile.js") return send(200, TYPES[".js"]!, COMPILE_SCRIPT);
    if (url.pathname === "/fixture.json") return send(200, TYPES[".json"]!, fixtureJson);
    const file = normalize(join(ROOT, url.pathname));
    const served = ["dist", "node_modules/binaryen", "node_modules/chevrotain/lib", "node_modules/fflate/esm"].map((d) => join(ROOT, d));
    if (!served.some((d) => file.startsWith(d))) return send(404, "text/plain", "not found");
    try {
      send(200, TYPES[extname(file)] ?? "application/octet-stream", readFileSync(file));
    } catch {
      send(404, "text/plain", "not found");
    }
  });
  const ready = new Promise<number>((r) => server.listen(0, "127.0.0.1", () => r((server.address() as { port: number }).port)));
  return { server, ready, result };
}

/** Opens `path` of the local server in headless Chromium and returns what the page posts to /result (45 s at most). */
async function resultOfPage(path: string, fixtureJson: string): Promise<Record<string, unknown>> {
  const { server, ready, result } = serve(fixtureJson);
  const port = await ready;
  const profile = mkdtempSync(join(tmpdir(), "tns-chromium-"));
  const browser = spawn(CHROMIUM!, [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
    `--user-data-dir=${profile}`, `http://127.0.0.1:${port}${path}`,
  ], { stdio: "ignore", detached: true });
  const exited = new Promise((r) => browser.once("exit", r));
  try {
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no result from the page within 45 s")), 45_000));
    return await Promise.race([result, timeout]);
  } finally {
    // The whole process group: the browser and its renderer and utility processes.
    try {
      process.kill(-browser.pid!, "SIGKILL");
    } catch {
      browser.kill("SIGKILL");
    }
    await exited;
    server.close();
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

describe.skipIf(CHROMIUM === null && !process.env["CI"])("threads in headless Chromium", () => {
  it("a page's main thread runs a threaded module on Web Workers with the bits of one thread", async () => {
    expect(CHROMIUM, "CI installs chromium (.ci/run)").not.toBeNull();
    const r = await resultOfPage("/", await fixture());
    expect(r["error"]).toBeUndefined();
    expect(r).toMatchObject({ crossOriginIsolated: true, blocking: false, asyncRuns: [true, true, true, true], syncRun: true });
    expect(r["mine"] as number).toBeLessThan(r["units"] as number);
  }, 60_000);

  it("a page compiles a program with the package's entry (binaryen in the page) and runs it on threads, as the js backend computes", async () => {
    expect(CHROMIUM, "CI installs chromium (.ci/run)").not.toBeNull();
    const r = await resultOfPage("/compile", "{}");
    expect(r["error"]).toBeUndefined();
    expect(r).toMatchObject({ ok: true, threaded: true, diagnostics: 0 });
    expect(r["worst"] as number).toBeLessThan(1e-5);
  }, 60_000);
});

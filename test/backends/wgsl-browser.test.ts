/**
 * WebGPU in a real browser: each program is compiled as `tns compile
 * --target wgsl` compiles it ({@link emitWgslModule} on the optimized IR,
 * the files written to a folder), a local server serves that folder on
 * `http://localhost` (a secure context: pages elsewhere have no
 * `navigator.gpu`), and headless Chromium, driven by playwright-core, imports
 * the standalone loader in a page, gets a device from `navigator.gpu`, runs
 * the program on fixed inputs and hands the outputs back. They must agree
 * with the reference interpreter on the unoptimized program within float32
 * tolerance. The programs: attention, a long reduction (two passes, the last
 * chunk partial), a matrix product with an epilogue whose sizes do not
 * divide the tiles, and a kernel reading more buffers than a shader stage
 * binds (a packed binding, filled by copies before its dispatch).
 *
 * Chromium's WebGPU here is SwiftShader's (a CPU adapter) unless the machine
 * has a GPU; `--enable-unsafe-webgpu` is what turns it on under Linux.
 * Skipped where no Chromium is installed, except under CI, which installs
 * one (`.ci/run`) and where a missing browser is a failure.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emitWgslModule, type WgslModuleManifest } from "../../src/backends/wgsl/module.js";
import type { WgslKernelForm } from "../../src/backends/wgsl/types.js";
import { compile } from "../../src/compiler.js";
import { interpret } from "../../src/interpret.js";
import { randomTensor } from "../../src/runtime/random.js";
import type { Tensor } from "../../src/runtime/tensor.js";
import { relativeError } from "./support.js";

const ROOT = resolve(import.meta.dirname, "../..");

/** A Chromium to run: TNS_CHROMIUM, else the first of the usual names on the PATH. */
function findChromium(): string | null {
  const candidates = [process.env["TNS_CHROMIUM"], "chromium", "chromium-browser", "google-chrome"].filter((c): c is string => !!c);
  for (const c of candidates) if (spawnSync(c, ["--version"], { stdio: "ignore" }).status === 0) return c;
  return null;
}

/** An absolute path to a command on the PATH (playwright-core wants a path, not a name). */
function onPath(command: string): string {
  if (command.includes("/")) return command;
  const found = spawnSync("sh", ["-c", `command -v "$0"`, command], { encoding: "utf8" }).stdout.trim();
  return found || command;
}

const CHROMIUM = findChromium();

const ARGS = [
  "--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--enable-unsafe-webgpu",
];

/** The programs, each with sizes small enough for a CPU adapter. */
const PROGRAMS: readonly { name: string; source: string; sizes?: Record<string, number>; form: WgslKernelForm; packed?: boolean }[] = [
  { name: "attention", source: readFileSync(join(ROOT, "examples/attention.tns"), "utf8"), sizes: { n: 32, d: 16 }, form: "tiled-matmul" },
  {
    // 40000 per row: more than one workgroup's chunk (16384), so two passes, the last chunk partial.
    name: "logsumexp",
    source: "size m = 3, n = 40000\ninput X[m, n]\nM[i] = max(j) X[i, j]\noutput L[i] = log(sum(j) exp(X[i, j] - M[i])) + M[i]\n",
    form: "reduce-partials",
  },
  {
    // 67 × 93 outputs over 45: no extent a multiple of the 32 × 64 tiles, nor of their k step, nor of 4 (no vec4 reads).
    name: "dense",
    source: "size m = 67, k = 45, n = 93\ninput A[m, k], B[k, n], c[n]\nS[i, j] = A[i, p] * B[p, j]\noutput C[i, j] = relu(S[i, j] + c[j])\n",
    form: "tiled-matmul",
  },
  {
    // Eight inputs and the target: more than a compatibility-level shader stage binds, so some are read from a packed copy.
    name: "many-inputs",
    source: "size n = 1000\ninput A[n], B[n], C[n], D[n], E[n], F[n], G[n], H[n]\n"
      + "output O[i] = A[i] + 2 * B[i] + 3 * C[i] + 4 * D[i] + 5 * E[i] + 6 * F[i] + 7 * G[i] + 8 * H[i]\n",
    form: "elementwise",
    packed: true,
  },
];

/** What the page hands back: the adapter it ran on, and every output, or the error it met. */
interface PageResult {
  readonly adapter?: { fallback: boolean; description: string };
  readonly outputs?: Record<string, { shape: number[]; dtype: string; data: number[] }>;
  readonly error?: string;
}

/** The compiled files of every program, in one folder served as the site's root; returns each one's dispatches. */
function writeModules(dir: string): Map<string, WgslModuleManifest["dispatches"]> {
  const dispatches = new Map<string, WgslModuleManifest["dispatches"]>();
  for (const p of PROGRAMS) {
    const result = compile(p.source, { file: `${p.name}.tns`, ...(p.sizes ? { sizes: p.sizes } : {}) });
    if (!result.ok || !result.ir) throw new Error(result.diagnostics.map((d) => d.message).join("\n"));
    const { manifest, loader, shaders } = emitWgslModule(result.ir, p.name);
    const out = join(dir, p.name);
    mkdirSync(out);
    for (const [file, text] of shaders) writeFileSync(join(out, file), text);
    writeFileSync(join(out, `${p.name}.mjs`), loader);
    writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2));
    dispatches.set(p.name, manifest.dispatches);
  }
  return dispatches;
}

/** The page's function, as a string so that the test's bundler leaves its `import()` alone. */
type RunInPage = (name: string, given: Record<string, { shape: number[]; data: number[] }>) => Promise<PageResult>;

/** The page's script: defines `tnsRun(name, inputs)`, which runs `/NAME/NAME.mjs` on a device of `navigator.gpu`. */
const PAGE_SCRIPT = `
globalThis.tnsRun = async (name, given) => {
  try {
    if (!navigator.gpu) return { error: "no navigator.gpu (secure context: " + isSecureContext + ")" };
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return { error: "navigator.gpu.requestAdapter() gave no adapter" };
    const device = await adapter.requestDevice();
    const { load } = await import("/" + name + "/" + name + ".mjs");
    const program = await load(device);
    const inputs = Object.fromEntries(Object.entries(given).map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.data) }]));
    const outs = await program.run(inputs);
    program.destroy();
    device.destroy();
    const info = adapter.info;
    return {
      adapter: { fallback: info.isFallbackAdapter ?? false, description: [info.vendor, info.architecture, info.description].filter(Boolean).join(" ") },
      outputs: Object.fromEntries(Object.entries(outs).map(([k, o]) => [k, { shape: o.shape, dtype: o.dtype, data: Array.from(o.data) }])),
    };
  } catch (e) {
    return { error: String((e && e.stack) || e) };
  }
};
`;

const PAGE = `<!doctype html><meta charset="utf-8"><title>tns wgsl</title><script type="module" src="/page.js"></script>`;

const TYPES: Readonly<Record<string, string>> = { ".mjs": "text/javascript", ".json": "application/json", ".wgsl": "text/plain" };

/** Serves `dir`, and the page at `/`. */
function serve(dir: string): { server: Server; ready: Promise<number> } {
  const server = createServer((req, res) => {
    const send = (status: number, type: string, body: string | Buffer): void => {
      res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store" });
      res.end(body);
    };
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/") return send(200, "text/html", PAGE);
    if (url.pathname === "/page.js") return send(200, "text/javascript", PAGE_SCRIPT);
    const file = normalize(join(dir, url.pathname));
    if (!file.startsWith(dir)) return send(404, "text/plain", "not found");
    try {
      send(200, TYPES[extname(file)] ?? "application/octet-stream", readFileSync(file));
    } catch {
      send(404, "text/plain", "not found");
    }
  });
  const ready = new Promise<number>((r) => server.listen(0, "127.0.0.1", () => r((server.address() as { port: number }).port)));
  return { server, ready };
}

/** Seeded inputs of a compiled program, by name. */
function inputsOf(source: string, sizes: Record<string, number> | undefined): { program: NonNullable<ReturnType<typeof compile>["loweredIr"]>; inputs: Record<string, Tensor> } {
  const result = compile(source, sizes ? { sizes } : {});
  const program = result.loweredIr!;
  const inputs: Record<string, Tensor> = {};
  program.tensors.forEach((t, k) => {
    if (t.role === "input") inputs[t.name] = randomTensor(t.shape, t.dtype, 7000 + k);
  });
  return { program, inputs };
}

describe.skipIf(CHROMIUM === null && !process.env["CI"])("the wgsl module in headless Chromium", () => {
  let site = "";
  let server: Server | null = null;
  let context: BrowserContext | null = null;
  let profile = "";
  let dispatches = new Map<string, WgslModuleManifest["dispatches"]>();

  beforeAll(async () => {
    if (CHROMIUM === null) return;
    site = mkdtempSync(join(tmpdir(), "tns-wgsl-site-"));
    dispatches = writeModules(site);
    const served = serve(site);
    server = served.server;
    const port = await served.ready;
    profile = mkdtempSync(join(tmpdir(), "tns-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: onPath(CHROMIUM), headless: true, args: ARGS, baseURL: `http://localhost:${port}`,
    });
  });

  afterAll(async () => {
    await context?.close();
    server?.close();
    for (const dir of [site, profile]) if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  /** Opens the page, imports `/NAME/NAME.mjs` and runs it on `inputs` on the page's WebGPU device. */
  async function runInPage(name: string, inputs: Record<string, Tensor>): Promise<PageResult> {
    const page = await context!.newPage();
    try {
      await page.goto("/");
      const given = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, { shape: [...t.shape], data: Array.from(t.data) }]));
      await page.waitForFunction(() => "tnsRun" in globalThis);
      return await page.evaluate(([name, given]) => (globalThis as unknown as { tnsRun: RunInPage }).tnsRun(name, given), [name, given] as const);
    } finally {
      await page.close();
    }
  }

  for (const p of PROGRAMS) {
    it(`${p.name}: the compiled module runs in the page and agrees with the interpreter`, async () => {
      expect(CHROMIUM, "CI installs chromium (.ci/run)").not.toBeNull();
      // What the program is here to cover.
      expect(dispatches.get(p.name)!.map((d) => d.form)).toContain(p.form);
      if (p.packed) expect(dispatches.get(p.name)!.some((d) => d.pack)).toBe(true);
      const { program, inputs } = inputsOf(p.source, p.sizes);
      const r = await runInPage(p.name, inputs);
      expect(r.error).toBeUndefined();
      expect(r.adapter).toBeDefined();
      const want = interpret(program, inputs);
      expect(Object.keys(r.outputs!).sort()).toEqual(Object.keys(want).sort());
      for (const [k, w] of Object.entries(want)) {
        const got = r.outputs![k]!;
        expect(got.shape, k).toEqual(w.shape);
        expect(got.dtype, k).toBe("f32");
        expect(relativeError(got.data, w.data), k).toBeLessThanOrEqual(1e-4);
      }
    }, 60_000);
  }
});

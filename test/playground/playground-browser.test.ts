/**
 * The playground in a real browser: the static site is built once with
 * Vite (as `npm run build:playground` builds it, into a folder of the
 * test's own), served from `http://localhost`, and opened in headless
 * Chromium through playwright-core. The test picks the attention example
 * from the menu, breaks it by typing, checks that the compiler's diagnostic
 * shows where the compiler puts it (in the problems list and as a lint
 * marker on the right text), fixes it, runs it on WASM and checks the
 * output summary against the reference interpreter on the same inputs
 * (the page's rule: input k gets `randomTensor(shape, dtype, seed + k)`).
 * It saves screenshots to test-artifacts/ (playground.png: the editor, the
 * IR and the output; playground-diagnostic.png: the broken edit). A second
 * page opens a program shared by URL and runs it, one input from an
 * uploaded .npy file, on WASM and WebGPU (where
 * Chromium offers an adapter: SwiftShader's without a GPU; CI expects one).
 *
 * Skipped where no Chromium is installed, except under CI, which installs
 * one (`.ci/run`) and where a missing browser is a failure.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve, sep } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { check, compile } from "../../src/compiler.js";
import { interpret } from "../../src/interpret.js";
import { writeNpy } from "../../src/runtime/npy.js";
import { randomTensor } from "../../src/runtime/random.js";
import type { Tensor } from "../../src/runtime/tensor.js";
import { sourceFragment } from "../../playground/src/share.js";

const ROOT = resolve(import.meta.dirname, "../..");
const ARTIFACTS = join(ROOT, "test-artifacts");
const ATTENTION = readFileSync(join(ROOT, "examples/attention.tns"), "utf8");
/** The attention example's computation, its row sum a tensor of its own: what the interpreter can run in a second. */
const ATTENTION_ROW_SUM = `size n = 256, d = 64
input Q[n, d], K[n, d], V[n, d]
S[i, j] = Q[i, k] * K[j, k] / sqrt(d)
M[i] = max(j) S[i, j]
E[i, j] = exp(S[i, j] - M[i])
Z[i] = sum(j) E[i, j]
output O[i, e] = E[i, j] * V[j, e] / Z[i]
`;

/** A Chromium to run: TNS_CHROMIUM, else the first of the usual names on the PATH, as an absolute path. */
function findChromium(): string | null {
  const candidates = [process.env["TNS_CHROMIUM"], "chromium", "chromium-browser", "google-chrome"].filter((c): c is string => !!c);
  for (const c of candidates) {
    if (spawnSync(c, ["--version"], { stdio: "ignore" }).status !== 0) continue;
    if (c.includes("/")) return c;
    return spawnSync("sh", ["-c", `command -v "$0"`, c], { encoding: "utf8" }).stdout.trim() || c;
  }
  return null;
}

const CHROMIUM = findChromium();
const SKIP = CHROMIUM === null && !process.env["CI"];
const TITLE = SKIP
  ? "playground in headless Chromium (skipped: no chromium on the PATH; apt-get install chromium, or set TNS_CHROMIUM)"
  : "playground in headless Chromium";
if (SKIP) console.warn(`${TITLE.replace(" (skipped: ", ": skipped (")}`);

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm", ".svg": "image/svg+xml",
};

/** Builds the site into `outDir` with the playground's own Vite config (one build, a few seconds). */
async function buildSite(outDir: string): Promise<void> {
  const vite = join(ROOT, "node_modules/vite/bin/vite.js");
  const child = spawn(process.execPath, [vite, "build", "--config", "playground/vite.config.ts", "--outDir", outDir, "--emptyOutDir", "--logLevel", "error"], {
    cwd: ROOT, stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (c) => (log += c));
  child.stderr.on("data", (c) => (log += c));
  const status = await new Promise<number | null>((r) => child.once("exit", r));
  if (status !== 0) throw new Error(`vite build failed (${status}):\n${log}`);
}

/** Serves a folder over HTTP on localhost; resolves with the port. */
function serve(dir: string): { server: Server; ready: Promise<number> } {
  const server = createServer((req, res) => {
    let path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path === "/") path = "/index.html";
    const file = normalize(join(dir, decodeURIComponent(path)));
    if (!file.startsWith(dir + sep)) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = readFileSync(file);
      res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  const ready = new Promise<number>((r) => server.listen(0, "127.0.0.1", () => r((server.address() as { port: number }).port)));
  return { server, ready };
}

/** The editor's text, line by line as CodeMirror renders it (the examples are short enough to be rendered whole). */
async function editorText(page: Page): Promise<string> {
  return page.$$eval(".cm-content .cm-line", (lines) => lines.map((l) => l.textContent ?? "").join("\n"));
}

/** Waits until the page has finished an analysis after the `after`-th. */
async function analysisAfter(page: Page, after: number): Promise<number> {
  // (Strings: these run in the page, whose DOM types this project does not compile against.)
  await page.waitForFunction(`Number(document.body.dataset.analysis ?? 0) > ${after}`, undefined, { timeout: 30_000 });
  return Number(await page.getAttribute("body", "data-analysis"));
}

describe.skipIf(SKIP)(TITLE, () => {
  let site = "";
  let server: Server | null = null;
  let browser: Browser | null = null;
  let origin = "";

  beforeAll(async () => {
    expect(CHROMIUM, "CI installs chromium (.ci/run)").not.toBeNull();
    site = mkdtempSync(join(tmpdir(), "tns-playground-"));
    await buildSite(site);
    const served = serve(site);
    server = served.server;
    origin = `http://localhost:${await served.ready}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM!,
      // WebGPU on (SwiftShader's CPU adapter where there is no GPU), as in the wgsl module's browser test.
      args: ["--no-sandbox", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--enable-unsafe-webgpu"],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
    if (site) rmSync(site, { recursive: true, force: true });
  });

  it("loads attention from the menu, shows a typed mistake where the compiler puts it, and runs the fix on WASM as the interpreter computes", async () => {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    // Open on another example, so the attention program can only come from the menu.
    await page.goto(`${origin}/#example=matmul`);
    let seen = await analysisAfter(page, 0);
    expect(await editorText(page)).toContain("output C[i, j]");

    await page.selectOption("#examples", "attention");
    seen = await analysisAfter(page, seen);
    expect(await editorText(page)).toBe(ATTENTION);
    expect(await page.inputValue("#examples")).toBe("attention");
    expect(await page.textContent("#problems-title")).toBe("no problems");
    expect(await page.textContent("#ir")).toContain("output O: f32[256, 64]");
    expect(await page.$$eval("#shapes-body tr", (rows) => rows.map((r) => r.textContent))).toContain("Sdeff32[256, 256]");

    // The broken edit, typed: `M[i]` in `E[i, j] = exp(S[i, j] - M[i])` becomes `N[i]`, a tensor nobody defined.
    const lines = ATTENTION.split("\n");
    const row = lines.findIndex((l) => l.startsWith("E[i, j] = exp(S[i, j] - M[i])"));
    expect(row).toBeGreaterThan(0);
    await page.click(`.cm-content .cm-line >> nth=${row}`);
    await page.keyboard.press("End");
    for (let k = 0; k < "M[i])".length; k++) await page.keyboard.press("ArrowLeft");
    await page.keyboard.press("Shift+ArrowRight");
    await page.keyboard.type("N");
    const broken = [...lines.slice(0, row), lines[row]!.replace("- M[i]", "- N[i]"), ...lines.slice(row + 1)].join("\n");
    seen = await analysisAfter(page, seen);
    expect(await editorText(page)).toBe(broken);
    expect(await page.inputValue("#examples")).toBe("");

    // Where the compiler puts it, computed here.
    const want = check(broken, { file: "main.tns" }).diagnostics.filter((d) => d.severity === "error");
    expect(want.length).toBeGreaterThan(0);
    const first = want[0]!;
    const problems = await page.$$eval("#problems li.problem.error", (items) =>
      items.map((li) => ({ code: li.dataset["code"], line: Number(li.dataset["line"]), column: Number(li.dataset["column"]), text: li.textContent })));
    expect(problems.length).toBe(want.length);
    expect(problems[0]).toMatchObject({ code: first.code, line: first.span!.start.line, column: first.span!.start.column });
    expect(problems[0]!.text).toContain(first.message);
    // The lint marker covers the diagnostic's span, on its line.
    const marked = await page.$$eval(".cm-content .cm-line", (els) =>
      els.flatMap((el, i) => [...el.querySelectorAll(".cm-lintRange-error")].map((m) => ({ line: i + 1, text: m.textContent }))));
    expect(marked).toContainEqual({ line: first.span!.start.line, text: broken.slice(first.span!.start.offset, first.span!.end.offset) });
    expect(await page.textContent("#ir")).toContain("no IR");
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "playground-diagnostic.png") });

    // The fix, typed back.
    await page.keyboard.press("Shift+ArrowLeft");
    await page.keyboard.type("M");
    seen = await analysisAfter(page, seen);
    expect(await editorText(page)).toBe(ATTENTION);
    expect(await page.textContent("#problems-title")).toBe("no problems");
    expect(await page.$$(".cm-lintRange-error")).toHaveLength(0);

    // The other views of the fixed program: the explain report, its drawing, and the code of each backend.
    const views: Record<string, RegExp> = {
      explain: /changed[\s\S]*FLOPs +[\d,]+ -> [\d,]+[\s\S]*summary \(\d[\d.]*x fewer FLOPs\)/, js: /^"use strict";/, wasm: /^\(module/, wgsl: /@compute/,
    };
    for (const [tab, shows] of Object.entries(views)) {
      await page.click(`#tabs button[data-tab=${tab}]`);
      await page.waitForFunction(`!document.getElementById("${tab}").hidden && !document.getElementById("${tab}").textContent.startsWith("compiling")`);
      expect(await page.textContent(`#${tab}`)).toMatch(shows);
    }
    await page.click("#tabs button[data-tab=graph]");
    // Every tensor of the optimized program, as the compiler optimizes it here.
    const optimized = compile(ATTENTION);
    const drawn = await page.$$eval("#graph svg g.node", (nodes) => nodes.map((n) => n.getAttribute("data-name")));
    expect(drawn.sort()).toEqual(optimized.ir!.tensors.map((t) => t.name).sort());
    await page.click("#tabs button[data-tab=ir]");

    // Run on WASM only (WebGPU, where the browser offers it, is a separate checkbox).
    await page.waitForFunction('document.getElementById("webgpu-label").title !== ""');
    if (await page.isEnabled("#run-webgpu")) await page.uncheck("#run-webgpu");
    await page.check("#run-wasm");
    await page.fill("#seed", "3");
    await page.click("#run");
    await page.waitForFunction('["done", "failed"].includes(document.body.dataset.run)', undefined, { timeout: 90_000 });
    expect(await page.textContent("#timings")).toMatch(/WASM\s*compile [\d.]+ ms\s*first run [\d.]+ ms/);
    expect(await page.getAttribute("body", "data-run")).toBe("done");
    const summary = JSON.parse((await page.getAttribute("[data-output=O]", "data-summary"))!) as {
      shape: number[]; min: number; max: number; mean: number; nans: number; first: number[];
    };
    expect(await page.$$("[data-output=O] canvas.heatmap")).toHaveLength(1);

    // The reference: the interpreter (float64) on the same attention with the row sum as a tensor of its own
    // (as written, the example sums each row again for every output element: n^3 d steps, half a minute),
    // the inputs made as the page makes them.
    const inputs: Record<string, Tensor> = {};
    optimized.inputs.forEach((info, k) => (inputs[info.name] = randomTensor(info.shape, info.dtype, 3 + k)));
    const O = interpret(check(ATTENTION_ROW_SUM).program!, inputs)["O"]!;
    // (The same computation as the example: both agree at a size the example's own form runs at quickly.)
    const small = { n: 8, d: 4 };
    const smallInputs = Object.fromEntries(["Q", "K", "V"].map((name, k) => [name, randomTensor([8, 4], "f32", k)]));
    const asWritten = interpret(check(ATTENTION, { sizes: small }).program!, smallInputs)["O"]!.data;
    const rowSum = interpret(check(ATTENTION_ROW_SUM, { sizes: small }).program!, smallInputs)["O"]!.data;
    asWritten.forEach((v, k) => expect(Math.abs(v - rowSum[k]!)).toBeLessThan(1e-12));
    const values = Array.from(O.data, Number);
    const close = (got: number, want: number): void => expect(Math.abs(got - want)).toBeLessThan(1e-5 + 1e-4 * Math.abs(want));
    expect(summary.shape).toEqual([256, 64]);
    expect(summary.nans).toBe(0);
    close(summary.min, Math.min(...values));
    close(summary.max, Math.max(...values));
    close(summary.mean, values.reduce((a, b) => a + b, 0) / values.length);
    expect(summary.first).toHaveLength(8);
    summary.first.forEach((v, k) => close(v, values[k]!));

    await page.screenshot({ path: join(ARTIFACTS, "playground.png") });
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 150_000);

  it("opens a program shared by URL, runs it on WASM and WebGPU with an uploaded .npy input and the same results, and shares it back", async (ctx) => {
    const source = "size m = 48, k = 40, n = 24\ninput A[m, k], B[k, n], c[n]\nS[i, j] = A[i, p] * B[p, j]\noutput C[i, j] = relu(S[i, j] + c[j])\n";
    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(`${origin}/${sourceFragment(source)}`);
    await analysisAfter(page, 0);
    expect(await editorText(page)).toBe(source);
    expect(await page.inputValue("#examples")).toBe("");
    await page.waitForFunction('document.getElementById("webgpu-label").title !== ""');
    if (!(await page.isEnabled("#run-webgpu"))) {
      expect(process.env["CI"], "CI's Chromium offers a WebGPU adapter (SwiftShader)").toBeFalsy();
      await page.close();
      ctx.skip("this Chromium offers no WebGPU adapter");
    }
    // A is uploaded as A.npy; B and c are random (seeds 1 + 1 and 1 + 2: their places among the inputs).
    const uploadedA = randomTensor([48, 40], "f32", 99);
    await page.setInputFiles("#npy", { name: "A.npy", mimeType: "application/octet-stream", buffer: Buffer.from(writeNpy(uploadedA)) });
    expect(await page.textContent("#uploads")).toContain("A (");
    await page.check("#run-wasm");
    await page.check("#run-webgpu");
    await page.click("#run");
    await page.waitForFunction('["done", "failed"].includes(document.body.dataset.run)', undefined, { timeout: 90_000 });
    expect(await page.textContent("#timings")).toMatch(/WebGPU\s*compile [\d.]+ ms\s*first run [\d.]+ ms/);
    expect(await page.getAttribute("body", "data-run")).toBe("done");
    expect(await page.$$eval("#timings li.timing", (rows) => rows.map((r) => r.getAttribute("data-backend")))).toEqual(["wasm", "wgsl"]);
    const differs = /WebGPU differs by at most (\S+)/.exec((await page.textContent("[data-output=C]"))!);
    expect(Number(differs![1])).toBeLessThan(1e-4);

    const reference = compile(source);
    const inputs: Record<string, Tensor> = {};
    reference.inputs.forEach((info, k) => (inputs[info.name] = info.name === "A" ? uploadedA : randomTensor(info.shape, info.dtype, 1 + k)));
    const values = Array.from(interpret(check(source).program!, inputs)["C"]!.data, Number);
    const summary = JSON.parse((await page.getAttribute("[data-output=C]", "data-summary"))!) as { shape: number[]; max: number; first: number[] };
    expect(summary.shape).toEqual([48, 24]);
    expect(Math.abs(summary.max - Math.max(...values))).toBeLessThan(1e-4);
    summary.first.forEach((v, k) => expect(Math.abs(v - values[k]!)).toBeLessThan(1e-4));

    await page.click("#share");
    await page.waitForFunction(`location.hash === ${JSON.stringify(sourceFragment(source))}`);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 120_000);
});

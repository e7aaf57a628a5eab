/**
 * tns's WebGPU backend against jax-js (`@jax-js/jax`) on its WebGPU device,
 * same adapter, same process, same float32 data: matrix products at
 * n = 1024, 2048, 4096 and examples/attention.tns (softmax(Q Kᵀ / sqrt(d)) V,
 * n = 256 and 4096, d = 64). Where the adapter is a CPU emulation (Mesa's
 * llvmpipe or lavapipe, SwiftShader), the products run at n = 256 and 512
 * and attention at its declared size only, and the output says so: those
 * timings say nothing about GPU speed.
 *
 * The adapter is picked in the order tns picks it in Node (a GPU, else
 * OpenGL ES on llvmpipe, else SwiftShader's Vulkan driver) from the npm
 * package `webgpu` (Dawn), and both libraries get it through one
 * `navigator.gpu`: jax-js asks `navigator.gpu` for its device (Node 20 has
 * no `navigator`, so this script defines one, with a `userAgent` that jax-js
 * reads), and tns's device discovery uses `navigator.gpu` first. Each side
 * has a device of its own on that adapter.
 *
 * What is timed, on both sides: host arrays in, host arrays out. A tns run
 * (`runAsync`) writes the inputs, dispatches and reads the output back; a
 * jax-js run makes its arrays from the same Float32Arrays, calls a `jit`
 * function (warmed up, so tracing and shader compilation are not timed) and
 * awaits `data()`. The ratio tns / jax-js is of these wall times. Where the
 * adapter has timestamp queries, tns's GPU time (its compute passes only,
 * `CompiledProgram.lastRunGpuNanoseconds()`) is printed as well.
 *
 * Run `npm run build` first; then `node bench/wgsl.js` (or
 * `npm run bench -- wgsl`); `node bench/wgsl.js --adapter swiftshader`
 * (or `llvmpipe`, `gpu`) picks the adapter, and names of cases run only
 * those (`node bench/wgsl.js matmul-256`).
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { compileAsync } from "../dist/index.js";
import { randomTensor } from "../dist/runtime/random.js";
import { median } from "./util.js";

const ATTENTION = readFileSync(new URL("../examples/attention.tns", import.meta.url), "utf8");

/** SwiftShader's Vulkan driver as Debian's chromium package installs it. */
const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

/**
 * A case: a tns program (with sizes), its input shapes (by name, in order),
 * the FLOPs counted (2 per multiply-add of the contractions; attention's
 * softmax is not counted), and the same computation in jax-js.
 * @typedef {{ name: string, source: string, sizes?: Record<string, number>, shapes: [string, number[]][], flops: number,
 *   jax: (np: any, ...xs: any[]) => any }} Case
 */

/** @param {number} n @returns {Case} */
const matmulCase = (n) => ({
  name: `matmul-${n}`,
  source: `size n = ${n}\ninput A[n, n], B[n, n]\noutput C[i, j] = A[i, k] * B[k, j]\n`,
  shapes: [["A", [n, n]], ["B", [n, n]]],
  flops: 2 * n ** 3,
  jax: (np, a, b) => np.matmul(a, b),
});

/** @param {number} n @param {number} d @returns {Case} */
const attentionCase = (n, d) => ({
  name: `attention-${n}x${d}`,
  source: ATTENTION,
  sizes: { n, d },
  shapes: [["Q", [n, d]], ["K", [n, d]], ["V", [n, d]]],
  flops: 2 * 2 * n * n * d,
  jax: (np, q, k, v) => {
    const s = np.matmul(q, np.matrixTranspose(k)).div(Math.sqrt(d));
    const e = np.exp(s.ref.sub(np.max(s, -1, { keepdims: true })));
    return np.matmul(e.ref, v).div(np.sum(e, -1, { keepdims: true }));
  },
});

/**
 * The cases for an adapter: GPU sizes, or small ones on a CPU emulation.
 * @param {boolean} emulated
 * @returns {Case[]}
 */
export function wgslCases(emulated) {
  return emulated
    ? [matmulCase(256), matmulCase(512), attentionCase(256, 64)]
    : [matmulCase(1024), matmulCase(2048), matmulCase(4096), attentionCase(256, 64), attentionCase(4096, 64)];
}

/**
 * Whether an adapter is a CPU emulating a GPU, from what it says about itself.
 * @param {GPUAdapter} adapter
 * @returns {boolean}
 * @example isCpuEmulation(await navigator.gpu.requestAdapter()); // true on SwiftShader
 */
export function isCpuEmulation(adapter) {
  const info = adapter.info;
  const text = [info.vendor, info.architecture, info.device, info.description].join(" ").toLowerCase();
  return info.isFallbackAdapter === true || /llvmpipe|lavapipe|swiftshader|softpipe|software|warp/.test(text);
}

/** @param {GPUAdapter} adapter */
const describeAdapter = (adapter) => {
  const info = adapter.info;
  return [info.vendor, info.architecture, info.device, info.description].filter((p) => p).join(", ") || "unnamed adapter";
};

/**
 * This host's adapter, in the order tns's device discovery tries them in
 * Node (or only the kind asked for), and a `navigator.gpu` that hands out
 * adapters of the same kind.
 * @param {"gpu" | "llvmpipe" | "swiftshader" | undefined} kind
 * @returns {Promise<{ gpu: GPU, adapter: GPUAdapter, route: string } | { error: string }>}
 */
async function pickAdapter(kind) {
  let dawn;
  try {
    dawn = await import("webgpu");
  } catch (e) {
    return { error: `the optional dependency webgpu is not installed (${e instanceof Error ? e.message : e})` };
  }
  Object.assign(globalThis, dawn.globals);
  process.env["EGL_PLATFORM"] ??= "surfaceless";
  process.env["XDG_RUNTIME_DIR"] ??= (await import("node:os")).tmpdir();
  const { existsSync, readdirSync } = await import("node:fs");
  let gpuNodes = existsSync("/dev/nvidia0");
  try {
    gpuNodes ||= readdirSync("/dev/dri").some((f) => f.startsWith("renderD"));
  } catch {
    // No /dev/dri.
  }
  /** @type {{ kind: string, route: string, flags: string[], options: object, env?: Record<string, string> }[]} */
  const tries = [];
  if (process.platform !== "linux" || gpuNodes || kind === "gpu") tries.push({ kind: "gpu", route: "Dawn, default backend", flags: [], options: {} });
  tries.push({ kind: "llvmpipe", route: "Dawn, OpenGL ES, compatibility level", flags: ["backend=opengles"], options: { featureLevel: "compatibility" } });
  if (existsSync(SWIFTSHADER_ICD)) {
    tries.push({ kind: "swiftshader", route: "Dawn, Vulkan on SwiftShader", flags: ["backend=vulkan"], options: {}, env: { VK_ICD_FILENAMES: SWIFTSHADER_ICD } });
  }
  for (const t of tries.filter((x) => kind === undefined || x.kind === kind)) {
    // The environment stays set: both libraries' devices come from this instance later.
    if (t.env) Object.assign(process.env, t.env);
    try {
      const base = dawn.create(t.flags);
      const adapter = await base.requestAdapter(t.options);
      if (!adapter) continue;
      const gpu = /** @type {GPU} */ (/** @type {unknown} */ ({
        requestAdapter: (/** @type {GPURequestAdapterOptions | undefined} */ o) => base.requestAdapter({ ...o, ...t.options }),
        getPreferredCanvasFormat: () => "rgba8unorm",
        wgslLanguageFeatures: base.wgslLanguageFeatures,
      }));
      return { gpu, adapter, route: t.route };
    } catch {
      // Not available here; try the next.
    }
  }
  return { error: kind ? `Dawn found no adapter of the kind '${kind}'` : "Dawn found no GPU, no OpenGL ES driver and no SwiftShader" };
}

/**
 * Median wall milliseconds of async functions timed in turns (one call of
 * each per round, after `warmup` rounds), so load on the machine falls on
 * all alike, and the median GPU milliseconds each reported (null where any
 * call reported none).
 * @param {(() => Promise<number | null>)[]} fns each returns the GPU nanoseconds of its call, or null
 * @param {{ warmup: number, reps: number }} options
 * @returns {Promise<{ ms: number, gpuMs: number | null }[]>} in the order of `fns`
 */
async function timeInterleavedAsync(fns, { warmup, reps }) {
  for (let k = 0; k < warmup; k++) for (const f of fns) await f();
  const wall = fns.map(() => /** @type {number[]} */ ([]));
  const gpu = fns.map(() => /** @type {number[]} */ ([]));
  for (let k = 0; k < reps; k++) {
    for (const [j, f] of fns.entries()) {
      const t0 = performance.now();
      const ns = await f();
      wall[j].push(performance.now() - t0);
      if (ns !== null) gpu[j].push(ns / 1e6);
    }
  }
  return fns.map((_, j) => ({ ms: median(wall[j]), gpuMs: gpu[j].length === reps ? median(gpu[j]) : null }));
}

/**
 * Largest difference between two results.
 * @param {ArrayLike<number>} a
 * @param {ArrayLike<number>} b
 */
function maxDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]));
  return worst;
}

/**
 * jax-js with its WebGPU device as the default, or the reason it cannot start.
 * @returns {Promise<{ jax: any } | { error: string }>}
 */
async function startJax() {
  try {
    const jax = await import("@jax-js/jax");
    const devices = await jax.init("webgpu");
    if (!devices.includes("webgpu")) return { error: `jax-js initialized ${JSON.stringify(devices)}, no "webgpu" device` };
    jax.defaultDevice("webgpu");
    return { jax };
  } catch (e) {
    return { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

const fmt = (/** @type {number | null} */ x, digits = 2) => (x === null ? "-" : x.toFixed(digits));

/**
 * Times every case on tns's wgsl backend and on jax-js's WebGPU device,
 * checks they agree, prints a table (wall ms and GFLOP/s of each, tns's GPU
 * time where the adapter has timestamps) and the tns / jax-js ratios, and
 * returns the rows. Prints why and returns no rows when there is no
 * WebGPU adapter; keeps tns's numbers when jax-js cannot run.
 * @param {{ reps?: number, only?: string[], adapter?: "gpu" | "llvmpipe" | "swiftshader" }} [options] `adapter`: only that kind (default: the first there is)
 * @returns {Promise<{ bench: string, adapter: string, emulated: boolean, tnsMs: number, tnsGpuMs: number | null, jaxMs: number | null, flops: number }[]>}
 * @example const rows = await runWgslBench({ reps: 3, only: ["matmul-256"] });
 */
export async function runWgslBench({ reps, only, adapter: kind } = {}) {
  const picked = await pickAdapter(kind);
  if ("error" in picked) {
    console.log(`wgsl skipped: no WebGPU adapter (${picked.error})`);
    return [];
  }
  const { gpu, adapter, route } = picked;
  const emulated = isCpuEmulation(adapter);
  const adapterName = describeAdapter(adapter);
  const hadNavigator = "navigator" in globalThis;
  const savedNavigator = globalThis.navigator;
  Object.defineProperty(globalThis, "navigator", {
    value: { gpu, userAgent: `Node.js/${process.versions.node}` }, configurable: true, writable: true,
  });
  const rows = [];
  try {
    console.log(`adapter: ${adapterName} (${route})${adapter.features.has("timestamp-query") ? ", timestamp queries" : ", no timestamp queries: wall clock only"}`);
    if (emulated) {
      console.log("THIS ADAPTER IS A CPU EMULATING A GPU: the sizes are small, and these timings say nothing about GPU speed (they only show the code runs).");
    }
    const started = await startJax();
    const jax = "error" in started ? null : started.jax;
    if ("error" in started) console.log(`jax-js skipped: its WebGPU device does not start here (${started.error}); tns's numbers only`);
    const timing = { warmup: 2, reps: reps ?? (emulated ? 5 : 9) };
    const notes = [];
    for (const c of wgslCases(emulated)) {
      if (only && !only.includes(c.name)) continue;
      const prog = await compileAsync(c.source, { backend: "wgsl", file: `${c.name}.tns`, ...(c.sizes ? { sizes: c.sizes } : {}) });
      if (!prog.ok) throw new Error(prog.formatDiagnostics());
      const inputs = Object.fromEntries(c.shapes.map(([name, shape], k) => [name, randomTensor(shape, "f32", k + 1)]));
      const output = prog.outputs[0].name;
      /** @type {ArrayLike<number>} */
      let ours = [];
      const tnsRun = async () => {
        ours = (await prog.runAsync(inputs))[output].data;
        return prog.lastRunGpuNanoseconds();
      };
      /** @type {ArrayLike<number>} */
      let theirs = [];
      /** @type {(() => Promise<null>) | null} */
      let jaxRun = null;
      if (jax) {
        const np = jax.numpy;
        const fn = jax.jit((/** @type {any[]} */ ...xs) => c.jax(np, ...xs));
        // `jit` functions take ownership of their arguments: new arrays every call, from the same host data.
        jaxRun = async () => {
          theirs = await fn(...c.shapes.map(([name, shape]) => np.array(inputs[name].data).reshape(shape))).data();
          return null;
        };
        try {
          await jaxRun();
        } catch (e) {
          notes.push(`${c.name}: jax-js failed (${e instanceof Error ? e.message : e}); tns alone`);
          jaxRun = null;
        }
      }
      const [tns, other] = await timeInterleavedAsync(jaxRun ? [tnsRun, jaxRun] : [tnsRun], timing);
      prog.dispose();
      const jaxMs = other ? other.ms : null;
      if (jaxMs !== null) {
        const worst = maxDiff(ours, theirs);
        const scale = maxDiff(ours, new Float32Array(ours.length));
        if (!(worst <= 1e-4 * scale)) throw new Error(`${c.name}: tns-wgsl and jax-webgpu disagree by ${worst} (largest |value| ${scale})`);
        notes.push(`${c.name}: tns-wgsl / jax-webgpu = ${(jaxMs / tns.ms).toFixed(2)}x (wall clock, host arrays in and out; max |difference| ${worst.toExponential(2)})`);
      }
      rows.push({ bench: c.name, adapter: adapterName, emulated, tnsMs: tns.ms, tnsGpuMs: tns.gpuMs, jaxMs, flops: c.flops });
    }
    const g = (/** @type {number | null} */ ms, /** @type {number} */ flops) => (ms === null ? null : flops / (ms * 1e6));
    console.log(`${"bench".padEnd(18)} ${"tns ms".padStart(9)} ${"GFLOP/s".padStart(8)} ${"tns GPU ms".padStart(10)} ${"GFLOP/s".padStart(8)} ${"jax ms".padStart(9)} ${"GFLOP/s".padStart(8)}`);
    for (const r of rows) {
      console.log(`${r.bench.padEnd(18)} ${fmt(r.tnsMs).padStart(9)} ${fmt(g(r.tnsMs, r.flops)).padStart(8)} ${fmt(r.tnsGpuMs).padStart(10)} ${fmt(g(r.tnsGpuMs, r.flops)).padStart(8)} ${fmt(r.jaxMs).padStart(9)} ${fmt(g(r.jaxMs, r.flops)).padStart(8)}`);
    }
    for (const line of notes) console.log(line);
  } finally {
    if (hadNavigator) Object.defineProperty(globalThis, "navigator", { value: savedNavigator, configurable: true, writable: true });
    else delete globalThis.navigator;
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values, positionals } = parseArgs({ options: { adapter: { type: "string" } }, allowPositionals: true });
  const kind = values.adapter;
  if (kind !== undefined && kind !== "gpu" && kind !== "llvmpipe" && kind !== "swiftshader") {
    throw new Error(`--adapter ${kind}: one of gpu, llvmpipe, swiftshader`);
  }
  await runWgslBench({ adapter: /** @type {"gpu" | "llvmpipe" | "swiftshader" | undefined} */ (kind), only: positionals.length > 0 ? positionals : undefined });
  // The Dawn instances and the devices made from them keep Node's event loop alive.
  process.exit(0);
}

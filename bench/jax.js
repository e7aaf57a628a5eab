/**
 * tns's WebAssembly backend against jax-js (`@jax-js/jax`) on its Wasm
 * device, same ops, same process, same float32 data: matrix products at
 * n = 256, 512, 1024, a batched product (b = 8, 256³), the attention scores
 * 'bhqd,bhkd->bhqk' (b = 2, h = 8, q = k = 256, d = 64) and the whole of
 * examples/attention.tns (softmax(Q Kᵀ / sqrt(d)) V, n = 256, d = 64).
 *
 * jax-js arrays are lazy: an op only records work, so every timed jax-js
 * call ends with `dataSync()`, which dispatches the kernels, waits for them
 * and copies the result out (tns's `run` also copies its outputs out). Each
 * jax-js op is one `jit` function, warmed up first so that tracing and
 * kernel compilation (cached per shape) are not timed. Under Node 20 jax-js
 * runs one thread, like tns: its worker pool needs a global `Worker`, which
 * Node does not define. Its `np.einsum` needs iterator helpers (Node 22), so
 * the contractions are written as `np.matmul` (with `np.matrixTranspose` for
 * the scores), which is what its einsum lowers them to.
 *
 * Run `npm run build` first; then `node bench/jax.js`.
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { compileAsync } from "../dist/index.js";
import { randomTensor } from "../dist/runtime/random.js";
import { formatRows, gflops, timeMedian } from "./util.js";

/** @typedef {import("./util.js").Row} Row */

const ATTENTION = readFileSync(new URL("../examples/attention.tns", import.meta.url), "utf8");

/**
 * The cases: a tns program, its input shapes (by name, in order), the FLOPs
 * counted (2 per multiply-add of the contractions; attention's softmax is not
 * counted), and the same computation in jax-js.
 * @typedef {{ name: string, source: string, shapes: [string, number[]][], flops: number,
 *   jax: (np: any, ...xs: any[]) => any }} Case
 * @type {Case[]}
 */
const CASES = [
  ...[256, 512, 1024].map((n) => ({
    name: `matmul-${n}`,
    source: `size n = ${n}\ninput A[n, n], B[n, n]\noutput C[i, j] = A[i, k] * B[k, j]\n`,
    shapes: /** @type {[string, number[]][]} */ ([["A", [n, n]], ["B", [n, n]]]),
    flops: 2 * n ** 3,
    jax: (np, a, b) => np.matmul(a, b),
  })),
  // The two matrix-vector layouts (skinny kernels on tns's side, emit-skinny.ts), and a 1-row product.
  {
    name: "x·W 4096",
    source: "size M = 1, K = 4096, N = 4096\ninput x[M, K], W[K, N]\noutput y[i, j] = x[i, k] * W[k, j]\n",
    shapes: [["x", [1, 4096]], ["W", [4096, 4096]]],
    flops: 2 * 4096 * 4096,
    jax: (np, x, w) => np.matmul(x, w),
  },
  {
    name: "W·x 4096",
    source: "size M = 4096, K = 4096, N = 1\ninput W[M, K], x[K, N]\noutput y[i, j] = W[i, k] * x[k, j]\n",
    shapes: [["W", [4096, 4096]], ["x", [4096, 1]]],
    flops: 2 * 4096 * 4096,
    jax: (np, w, x) => np.matmul(w, x),
  },
  {
    name: "8x768x3072",
    source: "size M = 8, K = 768, N = 3072\ninput A[M, K], B[K, N]\noutput C[i, j] = A[i, k] * B[k, j]\n",
    shapes: [["A", [8, 768]], ["B", [768, 3072]]],
    flops: 2 * 8 * 768 * 3072,
    jax: (np, a, b) => np.matmul(a, b),
  },
  {
    name: "bmm-8x256",
    source: "size b = 8, n = 256\ninput A[b, n, n], B[b, n, n]\noutput C[z, i, j] = A[z, i, k] * B[z, k, j]\n",
    shapes: [["A", [8, 256, 256]], ["B", [8, 256, 256]]],
    flops: 2 * 8 * 256 ** 3,
    jax: (np, a, b) => np.matmul(a, b),
  },
  {
    name: "attn-qk",
    source: "size b = 2, h = 8, n = 256, d = 64\ninput Q[b, h, n, d], K[b, h, n, d]\noutput S[z, y, q, k] = Q[z, y, q, e] * K[z, y, k, e]\n",
    shapes: [["Q", [2, 8, 256, 64]], ["K", [2, 8, 256, 64]]],
    flops: 2 * 16 * 256 * 256 * 64,
    jax: (np, q, k) => np.matmul(q, np.matrixTranspose(k)),
  },
  {
    name: "attention",
    source: ATTENTION,
    shapes: [["Q", [256, 64]], ["K", [256, 64]], ["V", [256, 64]]],
    flops: 2 * 2 * 256 * 256 * 64,
    jax: (np, q, k, v) => {
      const s = np.matmul(q, np.matrixTranspose(k)).div(Math.sqrt(64));
      const e = np.exp(s.ref.sub(np.max(s, -1, { keepdims: true })));
      return np.matmul(e.ref, v).div(np.sum(e, -1, { keepdims: true }));
    },
  },
];

/**
 * Calls `fn` for at least `ms` milliseconds (and at least 3 times), so both
 * WebAssembly implementations reach V8's optimizing tier before timing (see
 * bench/matmul-wasm.js).
 * @param {() => void} fn
 * @param {number} ms
 */
function warmUp(fn, ms) {
  const t0 = performance.now();
  for (let k = 0; k < 3 || performance.now() - t0 < ms; k++) fn();
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
 * jax-js with its Wasm device as the default, or the reason it cannot start here.
 * @returns {Promise<{ jax: any } | { error: string }>}
 */
async function startJax() {
  try {
    const jax = await import("@jax-js/jax");
    // Only "wasm": initializing every device probes `navigator.gpu`, and Node 20 has no `navigator`.
    const devices = await jax.init("wasm");
    if (!devices.includes("wasm")) return { error: `jax-js initialized ${JSON.stringify(devices)}, no "wasm" device` };
    jax.defaultDevice("wasm");
    return { jax };
  } catch (e) {
    return { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

/**
 * Times every case on tns-wasm and jax-wasm, checks they agree, prints a
 * table with the largest difference and the tns/jax ratio per case, and
 * returns the rows (`n` is the case's position). Returns no rows, after
 * printing why, when jax-js cannot run.
 * @param {{ reps?: number, warmupMs?: number, only?: string[] }} [options]
 * @returns {Promise<Row[]>}
 * @example const rows = await runJaxBench({ reps: 3, only: ["matmul-256"] });
 */
export async function runJaxBench({ reps = 7, warmupMs = 3000, only } = {}) {
  const started = await startJax();
  if ("error" in started) {
    console.log(`jax-js skipped: its Wasm device does not start under node ${process.version} (${started.error})`);
    return [];
  }
  const { jax } = started;
  const np = jax.numpy;
  /** @type {Row[]} */
  const rows = [];
  const notes = [];
  for (const [index, c] of CASES.entries()) {
    if (only && !only.includes(c.name)) continue;
    // One thread, like jax-js here (`threads` is the wasm backend's thread count for large products).
    const prog = await compileAsync(c.source, { backend: "wasm", file: c.name, threads: 1 });
    if (!prog.ok) throw new Error(prog.formatDiagnostics());
    const inputs = Object.fromEntries(c.shapes.map(([name, shape], k) => [name, randomTensor(shape, "f32", k + 1)]));
    // Inputs written once into the module's memory, as jax-js keeps its arrays on its device: the runs copy nothing in.
    const bound = Object.fromEntries(Object.entries(inputs).map(([name, t]) => {
      const place = prog.inputBuffer(name);
      place.data.set(t.data);
      return [name, place];
    }));
    const output = prog.outputs[0].name;
    let ours = prog.run(bound)[output].data;
    warmUp(() => prog.run(bound), warmupMs);
    const tns = timeMedian(() => { ours = prog.run(bound)[output].data; }, { reps });

    const arrays = c.shapes.map(([name, shape]) => np.array(inputs[name].data).reshape(shape));
    const fn = jax.jit((/** @type {any[]} */ ...xs) => c.jax(np, ...xs));
    /** @type {ArrayLike<number>} */
    let theirs = [];
    // `jit` functions take ownership of their arguments: pass new references and keep the arrays.
    const jaxRun = () => { theirs = fn(...arrays.map((a) => a.ref)).dataSync(); };
    warmUp(jaxRun, warmupMs);
    const jaxMs = timeMedian(jaxRun, { reps });
    for (const a of arrays) a.dispose();

    const worst = maxDiff(ours, theirs);
    const scale = maxDiff(ours, new Float32Array(ours.length));
    if (!(worst <= 1e-4 * scale)) throw new Error(`${c.name}: tns-wasm and jax-wasm disagree by ${worst} (largest |value| ${scale})`);
    rows.push({ bench: c.name, impl: "tns-wasm", n: index, ms: tns, gflops: gflops(c.flops, tns) });
    rows.push({ bench: c.name, impl: "jax-wasm", n: index, ms: jaxMs, gflops: gflops(c.flops, jaxMs) });
    notes.push(`${c.name}: tns-wasm / jax-wasm = ${(jaxMs / tns).toFixed(2)}x (max |difference| ${worst.toExponential(2)})`);
  }
  console.log(formatRows(rows));
  for (const line of notes) console.log(line);
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runJaxBench({ only: process.argv.length > 2 ? process.argv.slice(2) : undefined });
}

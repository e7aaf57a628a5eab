/**
 * A tanh RNN over a sequence (a recurrence, docs/language.md "Recurrences"):
 * T = 256 steps, 256 inputs, 256 hidden units, float32,
 *   Hs[t] = tanh(X[t]·W + Hs[t-1]·U),  Hs[-1] = h0,
 * on tns's JS and WebAssembly backends (optimized: the input projection X·W
 * hoisted into one matrix product, each step a matrix-vector product; and
 * -O0, the recurrence as written) against peers in the same process, timed
 * in turns: a plain-JavaScript loop over Float32Arrays (the obvious
 * hand-written code), and TensorFlow.js's WebAssembly backend (XNNPACK,
 * SIMD, one thread) running X·W once and then one matMul + tanh per step.
 * Every run is checked against the plain loop. Run `npm run build` first;
 * then `node bench/rnn.js`.
 */
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { compile, loadBackend, randomTensor } from "../dist/index.js";
import { startTfjsWasm } from "./matmul-wasm.js";
import { timeInterleaved } from "./util.js";

const T = 256;
const D = 256;
const H = 256;

const SOURCE = `size T = ${T}, D = ${D}, H = ${H}
input X[T, D], W[D, H], U[H, H], h0[H]
output Hs[t, j] = tanh(sum(k) X[t, k] * W[k, j] + where(t > 0, sum(k) Hs[t - 1, k] * U[k, j], sum(k) h0[k] * U[k, j]))
`;

/** Inputs scaled so the recurrence is contracting (with weights of order one it is chaotic, and float32 runs cannot agree). */
function inputs() {
  const scale = (t, s) => { for (let q = 0; q < t.data.length; q++) t.data[q] *= s; return t; };
  return {
    X: randomTensor([T, D], "f32", 1),
    W: scale(randomTensor([D, H], "f32", 2), 1 / Math.sqrt(D)),
    U: scale(randomTensor([H, H], "f32", 3), 1 / Math.sqrt(H)),
    h0: randomTensor([H], "f32", 4),
  };
}

/** The obvious hand-written loop: per step, per unit, two dot products. */
function plainRnn(X, W, U, h0, out) {
  let prev = h0;
  for (let t = 0; t < T; t++) {
    const row = out.subarray(t * H, (t + 1) * H);
    for (let j = 0; j < H; j++) {
      let acc = 0;
      for (let k = 0; k < D; k++) acc += X[t * D + k] * W[k * H + j];
      for (let k = 0; k < H; k++) acc += prev[k] * U[k * H + j];
      row[j] = Math.tanh(acc);
    }
    prev = row;
  }
  return out;
}

function maxRelDiff(a, b) {
  let d = 0;
  let s = 0;
  for (let q = 0; q < b.length; q++) { d = Math.max(d, Math.abs(a[q] - b[q])); s = Math.max(s, Math.abs(b[q])); }
  return d / s;
}

/**
 * Times every implementation in turns and prints one table of medians with
 * ratios to the peers.
 * @param {{ reps?: number }} [options]
 */
export async function runRnnBench({ reps = 9 } = {}) {
  await loadBackend("wasm");
  const io = inputs();
  const want = plainRnn(io.X.data, io.W.data, io.U.data, io.h0.data, new Float32Array(T * H));
  const exes = {
    "tns-js": compile(SOURCE, { backend: "js" }),
    "tns-js -O0": compile(SOURCE, { backend: "js", optimize: false }),
    "tns-wasm": compile(SOURCE, { backend: "wasm", threads: 1 }),
    "tns-wasm -O0": compile(SOURCE, { backend: "wasm", threads: 1, optimize: false }),
  };
  for (const [name, c] of Object.entries(exes)) {
    if (!c.ok) throw new Error(c.formatDiagnostics());
    const err = maxRelDiff(c.run(io).Hs.data, want);
    if (!(err < 1e-4)) throw new Error(`${name} disagrees with the plain loop: ${err}`);
  }
  await startTfjsWasm();
  const tX = tf.tensor2d(io.X.data, [T, D]);
  const tW = tf.tensor2d(io.W.data, [D, H]);
  const tU = tf.tensor2d(io.U.data, [H, H]);
  const tH0 = tf.tensor2d(io.h0.data, [1, H]);
  const tfjsRnn = () => tf.tidy(() => {
    const xw = tf.matMul(tX, tW);
    let prev = tH0;
    const rows = [];
    for (let t = 0; t < T; t++) {
      prev = tf.tanh(tf.add(tf.slice(xw, [t, 0], [1, H]), tf.matMul(prev, tU)));
      rows.push(prev);
    }
    return tf.concat(rows, 0);
  });
  {
    const r = tfjsRnn();
    const err = maxRelDiff(r.dataSync(), want);
    r.dispose();
    if (!(err < 1e-4)) throw new Error(`tfjs-wasm disagrees with the plain loop: ${err}`);
  }
  const out = new Float32Array(T * H);
  const fns = {
    "plain-js": () => plainRnn(io.X.data, io.W.data, io.U.data, io.h0.data, out),
    ...Object.fromEntries(Object.entries(exes).map(([name, c]) => [name, () => c.run(io)])),
    "tfjs-wasm": () => tfjsRnn().dispose(),
  };
  const names = Object.keys(fns);
  const ms = timeInterleaved(names.map((n) => fns[n]), { warmup: 2, reps });
  const byName = Object.fromEntries(names.map((n, k) => [n, ms[k]]));
  const flops = 2 * T * H * (D + H);
  console.log(`tanh RNN, T=${T}, ${D} inputs, ${H} hidden, float32 (${(flops / 1e6).toFixed(1)} MFLOP per run)`);
  for (const n of names) console.log(`${n.padEnd(14)} ${byName[n].toFixed(2).padStart(9)} ms  ${(flops / (byName[n] * 1e6)).toFixed(2).padStart(6)} GFLOP/s`);
  console.log(`plain-js time / tns-js time = ${(byName["plain-js"] / byName["tns-js"]).toFixed(2)}`);
  console.log(`tfjs-wasm time / tns-wasm time = ${(byName["tfjs-wasm"] / byName["tns-wasm"]).toFixed(2)}`);
  console.log(`tns-wasm -O0 time / optimized time = ${(byName["tns-wasm -O0"] / byName["tns-wasm"]).toFixed(2)}`);
  for (const c of Object.values(exes)) c.dispose();
  tX.dispose(); tW.dispose(); tU.dispose(); tH0.dispose();
  return byName;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runRnnBench();
}

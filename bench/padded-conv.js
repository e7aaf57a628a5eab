/**
 * Zero padding against no padding (docs/language.md "Zero padding"): a
 * same-padded 3×3 convolution `nn.conv2d_same` of X[C, H, W] against the
 * valid convolution `nn.conv2d` of X[C, H + 2, W + 2] (the same output
 * [C, H, W] and multiply-adds), and a 1-D stencil of 5 taps padded by 2 on
 * both sides against its valid form on N + 4 points, float32, one thread.
 * tns on WebAssembly with index-set splitting (the default pipeline) and
 * without it (`split-index-sets` left out: the padded def as one guarded
 * loop nest, as before the pass), tns on JavaScript, and tfjs-wasm
 * (XNNPACK, SIMD, one thread) running `conv2d` / `conv1d` with padding
 * 'same' and 'valid' on the same data in its NHWC layout. Everything is
 * timed in turns in one process and checked against tns's padded result.
 * Run `npm run build` first; then `node bench/padded-conv.js`
 * (`PADDED_C`, `PADDED_HW`, `PADDED_N` change the sizes).
 */
import os from "node:os";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { compile, loadBackend, randomTensor } from "../dist/index.js";
import { defaultPipeline } from "../dist/passes/index.js";
import { startTfjsWasm } from "./matmul-wasm.js";
import { timeInterleaved } from "./util.js";

const C = Number(process.env.PADDED_C ?? 64);
const HW = Number(process.env.PADDED_HW ?? 56);
const N = Number(process.env.PADDED_N ?? 1 << 18);

const SAME = `import conv2d_same from "nn"\ninput X[${C}, ${HW}, ${HW}], K[${C}, ${C}, 3, 3]\noutput Y = conv2d_same(X, K)\n`;
const VALID = `import conv2d from "nn"\ninput X[${C}, ${HW + 2}, ${HW + 2}], K[${C}, ${C}, 3, 3]\noutput Y = conv2d(X, K)\n`;
const STENCIL_SAME = `size N = ${N}\ninput x[N], k[5]\noutput y[i < N] = sum(d) where(i + d >= 2 && i + d < N + 2, x[i + d - 2] * k[d], 0)\n`;
const STENCIL_VALID = `size N = ${N + 4}\ninput x[N], k[5]\noutput y[i] = x[i + d] * k[d]\n`;

const UNSPLIT = defaultPipeline().filter((p) => p.name !== "split-index-sets");

function maxRelDiff(a, b) {
  let d = 0;
  let s = 0;
  for (let q = 0; q < b.length; q++) { d = Math.max(d, Math.abs(a[q] - b[q])); s = Math.max(s, Math.abs(b[q])); }
  return d / s;
}

function build(source, options) {
  const c = compile(source, options);
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c;
}

/** The padded input zero-padded by `p` on each side of its last two (2-D) or only (1-D) dimensions. */
function padded(x, shape, p) {
  if (shape.length === 1) {
    const out = new Float32Array(shape[0] + 2 * p);
    out.set(x, p);
    return out;
  }
  const [c, h, w] = shape;
  const out = new Float32Array(c * (h + 2 * p) * (w + 2 * p));
  for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) out.set(x.subarray((ch * h + y) * w, (ch * h + y + 1) * w), (ch * (h + 2 * p) + y + p) * (w + 2 * p) + p);
  return out;
}

/** CHW -> HWC (tfjs's NHWC with a batch of one), and K[o, c, kh, kw] -> [kh, kw, c, o]. */
function toNhwc(x, c, h, w) {
  const out = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) for (let q = 0; q < h * w; q++) out[q * c + ch] = x[ch * h * w + q];
  return out;
}
function toHwio(k, o, c) {
  const out = new Float32Array(o * c * 9);
  for (let f = 0; f < o; f++) for (let ch = 0; ch < c; ch++) for (let t = 0; t < 9; t++) out[(t * c + ch) * o + f] = k[(f * c + ch) * 9 + t];
  return out;
}

/** Times every implementation of one pair in turns; returns medians by name. */
function timePair(title, fns, reps) {
  const names = Object.keys(fns);
  const ms = timeInterleaved(names.map((n) => fns[n]), { warmup: 3, reps });
  const by = Object.fromEntries(names.map((n, k) => [n, ms[k]]));
  console.log(title);
  for (const n of names) console.log(`  ${n.padEnd(26)} ${by[n].toFixed(2).padStart(9)} ms`);
  return by;
}

/** Runs both comparisons and prints medians and ratios. @param {{ reps?: number }} [options] */
export async function runPaddedConvBench({ reps = 9 } = {}) {
  await loadBackend("wasm");
  await startTfjsWasm();
  console.log(`load average at the start: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);

  // 2-D: conv2d_same against conv2d on the padded image.
  const X = randomTensor([C, HW, HW], "f32", 1);
  const K = randomTensor([C, C, 3, 3], "f32", 2);
  const Xp = { ...X, shape: [C, HW + 2, HW + 2], data: padded(X.data, [C, HW, HW], 1) };
  const exes = {
    "tns wasm same (split)": [build(SAME, { backend: "wasm", threads: 1 }), { X, K }],
    "tns wasm same (unsplit)": [build(SAME, { backend: "wasm", threads: 1, passes: UNSPLIT }), { X, K }],
    "tns wasm valid": [build(VALID, { backend: "wasm", threads: 1 }), { X: Xp, K }],
    "tns js same (split)": [build(SAME, { backend: "js" }), { X, K }],
    "tns js valid": [build(VALID, { backend: "js" }), { X: Xp, K }],
  };
  const want = exes["tns wasm same (split)"][0].run({ X, K }).Y.data;
  for (const [name, [exe, io]] of Object.entries(exes)) {
    const err = maxRelDiff(exe.run(io).Y.data, want);
    if (!(err < 1e-4)) throw new Error(`${name} disagrees (${err})`);
  }
  const tx = tf.tensor4d(toNhwc(X.data, C, HW, HW), [1, HW, HW, C]);
  const txp = tf.tensor4d(toNhwc(Xp.data, C, HW + 2, HW + 2), [1, HW + 2, HW + 2, C]);
  const tk = tf.tensor4d(toHwio(K.data, C, C), [3, 3, C, C]);
  const tfSame = () => { const y = tf.conv2d(tx, tk, 1, "same"); y.dataSync(); y.dispose(); };
  const tfValid = () => { const y = tf.conv2d(txp, tk, 1, "valid"); y.dataSync(); y.dispose(); };
  {
    const y = tf.conv2d(tx, tk, 1, "same");
    const err = maxRelDiff(y.dataSync(), toNhwc(want, C, HW, HW));
    y.dispose();
    if (!(err < 1e-4)) throw new Error(`tfjs-wasm conv2d 'same' disagrees (${err})`);
  }
  const fns2 = Object.fromEntries(Object.entries(exes).map(([n, [exe, io]]) => [n, () => exe.run(io, { outputs: "view" })]));
  const conv = timePair(`conv ${C}->${C} channels, 3x3, ${HW}x${HW} output, float32, one thread (median of ${reps})`, {
    ...fns2, "tfjs-wasm same": tfSame, "tfjs-wasm valid": tfValid,
  }, reps);
  console.log(`  wasm: same / valid = ${(conv["tns wasm same (split)"] / conv["tns wasm valid"]).toFixed(2)}x (without splitting ${(conv["tns wasm same (unsplit)"] / conv["tns wasm valid"]).toFixed(1)}x)`);
  console.log(`  js:   same / valid = ${(conv["tns js same (split)"] / conv["tns js valid"]).toFixed(2)}x`);
  console.log(`  tfjs-wasm: same / valid = ${(conv["tfjs-wasm same"] / conv["tfjs-wasm valid"]).toFixed(2)}x; tns wasm same / tfjs-wasm same = ${(conv["tns wasm same (split)"] / conv["tfjs-wasm same"]).toFixed(2)}x`);

  // 1-D: a 5-tap stencil padded by 2 on both sides.
  const x = randomTensor([N], "f32", 3);
  const k = randomTensor([5], "f32", 4);
  const xp = { ...x, shape: [N + 4], data: padded(x.data, [N], 2) };
  const sexes = {
    "tns wasm same (split)": [build(STENCIL_SAME, { backend: "wasm", threads: 1 }), { x, k }],
    "tns wasm same (unsplit)": [build(STENCIL_SAME, { backend: "wasm", threads: 1, passes: UNSPLIT }), { x, k }],
    "tns wasm valid": [build(STENCIL_VALID, { backend: "wasm", threads: 1 }), { x: xp, k }],
    "tns js same (split)": [build(STENCIL_SAME, { backend: "js" }), { x, k }],
    "tns js valid": [build(STENCIL_VALID, { backend: "js" }), { x: xp, k }],
  };
  const swant = sexes["tns wasm same (split)"][0].run({ x, k }).y.data;
  for (const [name, [exe, io]] of Object.entries(sexes)) {
    const err = maxRelDiff(exe.run(io).y.data, swant);
    if (!(err < 1e-4)) throw new Error(`${name} disagrees (${err})`);
  }
  // tfjs's conv1d is a correlation over [batch, width, channels] with a [width, in, out] filter.
  const t1 = tf.tensor3d(x.data, [1, N, 1]);
  const t1p = tf.tensor3d(xp.data, [1, N + 4, 1]);
  const tk1 = tf.tensor3d(k.data, [5, 1, 1]);
  const fns1 = Object.fromEntries(Object.entries(sexes).map(([n, [exe, io]]) => [n, () => exe.run(io, { outputs: "view" })]));
  const stencil = timePair(`1-D stencil, 5 taps, N = ${N}, float32, one thread (median of ${reps})`, {
    ...fns1,
    "tfjs-wasm same": () => { const y = tf.conv1d(t1, tk1, 1, "same"); y.dataSync(); y.dispose(); },
    "tfjs-wasm valid": () => { const y = tf.conv1d(t1p, tk1, 1, "valid"); y.dataSync(); y.dispose(); },
  }, reps);
  console.log(`  wasm: same / valid = ${(stencil["tns wasm same (split)"] / stencil["tns wasm valid"]).toFixed(2)}x (without splitting ${(stencil["tns wasm same (unsplit)"] / stencil["tns wasm valid"]).toFixed(1)}x)`);
  console.log(`  js:   same / valid = ${(stencil["tns js same (split)"] / stencil["tns js valid"]).toFixed(2)}x`);
  console.log(`load average at the end: ${os.loadavg().map((v) => v.toFixed(2)).join(" ")}`);
  for (const t of [tx, txp, tk, t1, t1p, tk1]) t.dispose();
  for (const [exe] of [...Object.values(exes), ...Object.values(sexes)]) exe.dispose();
  return { conv, stencil };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runPaddedConvBench();
}

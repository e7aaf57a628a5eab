/**
 * Backward passes of the language's newer constructs, float32, one thread:
 *
 * - the gradient of an embedding lookup (T = 1024 ids into a [2048, 64]
 *   table): tns's scatter-add (js, wasm) against the same def without the
 *   scatter-add mark (the masked sum over every row, what WGSL runs) and a
 *   plain-JavaScript `np.add.at` loop;
 * - backpropagation through a tanh RNN (T = 128 steps, 128 inputs, 128
 *   hidden units): the forward pass plus the gradients by every weight,
 *   against the forward pass alone on the same backend, and a hand-written
 *   BPTT loop in plain JavaScript.
 *
 * Timed in turns in one process (median); every tns result is checked
 * against the plain loops first. Run `npm run build` first; then
 * `node bench/backward.js`.
 */
import { pathToFileURL } from "node:url";
import { compile, compileProgram, irText, loadBackend, parseProgramText, randomTensor, Tensor } from "../dist/index.js";
import { timeInterleaved } from "./util.js";

const T = 1024, V = 2048, D = 64;
const EMBED = `size T = ${T}, V = ${V}, D = ${D}
input ids[T]: i32, Wte[V, D], G[T, D]
Xe[t, d] = Wte[ids[t], d]
L = sum(t, d) Xe[t, d] * G[t, d]
output dWte = grad(L, Wte)
`;

const S = 128, H = 128;
const RNN = `size T = ${S}, D = ${H}, H = ${H}
input X[T, D], W[D, H], U[H, H], h0[H], R[T, H]
output Hs[t, j] = tanh(sum(k) X[t, k] * W[k, j] + where(t > 0, sum(k) Hs[t - 1, k] * U[k, j], sum(k) h0[k] * U[k, j]))
L = sum(t, j) Hs[t, j] * R[t, j]
`;
const RNN_GRADS = `${RNN}output dW = grad(L, W)
output dU = grad(L, U)
output dh0 = grad(L, h0)
`;

function plainScatter(ids, G, out) {
  out.fill(0);
  for (let t = 0; t < T; t++) {
    const row = ids[t];
    if (!(row >= 0 && row < V)) throw new Error(`index ${row} out of range`);
    for (let d = 0; d < D; d++) out[row * D + d] += G[t * D + d];
  }
  return out;
}

function plainBptt(io, out) {
  const { X, W, U, h0, R } = Object.fromEntries(Object.entries(io).map(([k, v]) => [k, v.data]));
  const Hs = out.Hs;
  for (let t = 0; t < S; t++) {
    for (let j = 0; j < H; j++) {
      let a = 0;
      for (let k = 0; k < H; k++) a += X[t * H + k] * W[k * H + j] + (t > 0 ? Hs[(t - 1) * H + k] : h0[k]) * U[k * H + j];
      Hs[t * H + j] = Math.tanh(a);
    }
  }
  const carry = new Float64Array(H), dA = new Float64Array(H);
  out.dW.fill(0); out.dU.fill(0);
  for (let t = S - 1; t >= 0; t--) {
    for (let j = 0; j < H; j++) { const h = Hs[t * H + j]; dA[j] = (R[t * H + j] + carry[j]) * (1 - h) * (1 + h); }
    for (let k = 0; k < H; k++) {
      const x = X[t * H + k], p = t > 0 ? Hs[(t - 1) * H + k] : h0[k];
      let c = 0;
      for (let j = 0; j < H; j++) { out.dW[k * H + j] += x * dA[j]; out.dU[k * H + j] += p * dA[j]; c += U[k * H + j] * dA[j]; }
      carry[k] = c;
    }
  }
  out.dh0.set(carry);
  return out;
}

function maxRelDiff(a, b) {
  let m = 0, s = 0;
  for (let q = 0; q < a.length; q++) { m = Math.max(m, Math.abs(a[q] - b[q])); s = Math.max(s, Math.abs(b[q])); }
  return m / (s + 1e-30);
}

/** Times both parts in turns and prints the medians and ratios. @param {{ reps?: number }} [options] */
export async function runBackwardBench({ reps = 7 } = {}) {
  await loadBackend("wasm");
  const embed = {
    ids: new Tensor("i32", [T], Int32Array.from({ length: T }, (_, t) => (t * 7919) % V)),
    Wte: randomTensor([V, D], "f32", 1),
    G: randomTensor([T, D], "f32", 2),
  };
  const want = plainScatter(embed.ids.data, embed.G.data, new Float32Array(V * D));
  const scatter = { js: compile(EMBED, { backend: "js" }), wasm: compile(EMBED, { backend: "wasm", threads: 1 }) };
  const masked = Object.fromEntries(Object.entries(scatter).map(([b, c]) => {
    const text = irText(c);
    return [b, compileProgram(parseProgramText(text.replace(/ scatter\(\w+\)/g, "")), { backend: b, threads: 1 })];
  }));
  const embedRuns = {
    "plain-js add.at": () => plainScatter(embed.ids.data, embed.G.data, want),
    "tns-js scatter": () => scatter.js.run(embed, { outputs: "view" }),
    "tns-wasm scatter": () => scatter.wasm.run(embed, { outputs: "view" }),
    "tns-js masked": () => masked.js.run(embed, { outputs: "view" }),
    "tns-wasm masked": () => masked.wasm.run(embed, { outputs: "view" }),
  };
  for (const [name, run] of Object.entries(embedRuns).slice(1)) {
    const err = maxRelDiff(run().dWte.data, want);
    if (err > 1e-5) throw new Error(`${name}: dWte differs from the plain loop by ${err}`);
  }
  const names = Object.keys(embedRuns);
  const ms = timeInterleaved(names.map((n) => embedRuns[n]), { warmup: 1, reps });
  console.log(`embedding gradient: T=${T} ids into [${V}, ${D}], float32`);
  names.forEach((n, k) => console.log(`${n.padEnd(18)} ${ms[k].toFixed(3).padStart(10)} ms`));
  console.log(`masked / scatter: js ${(ms[3] / ms[1]).toFixed(1)}x, wasm ${(ms[4] / ms[2]).toFixed(1)}x; plain-js / tns-wasm scatter ${(ms[0] / ms[2]).toFixed(2)}`);
  for (const c of [...Object.values(scatter), ...Object.values(masked)]) c.dispose?.();

  const scale = (t, s) => { for (let q = 0; q < t.data.length; q++) t.data[q] *= s; return t; };
  const rnn = {
    X: randomTensor([S, H], "f32", 3), W: scale(randomTensor([H, H], "f32", 4), 1 / Math.sqrt(H)),
    U: scale(randomTensor([H, H], "f32", 5), 1 / Math.sqrt(H)), h0: randomTensor([H], "f32", 6), R: randomTensor([S, H], "f32", 7),
  };
  const plainOut = { Hs: new Float64Array(S * H), dW: new Float64Array(H * H), dU: new Float64Array(H * H), dh0: new Float64Array(H) };
  plainBptt(rnn, plainOut);
  const exes = {};
  for (const b of ["js", "wasm"]) {
    exes[`tns-${b} forward`] = compile(`${RNN}output Lout = L\n`, { backend: b, threads: 1 });
    exes[`tns-${b} fwd+bptt`] = compile(RNN_GRADS, { backend: b, threads: 1 });
  }
  for (const [name, c] of Object.entries(exes)) {
    if (!c.ok) throw new Error(c.formatDiagnostics());
    if (!name.includes("bptt")) continue;
    const got = c.run(rnn);
    for (const g of ["dW", "dU", "dh0"]) {
      const err = maxRelDiff(got[g].data, plainOut[g]);
      if (err > 1e-3) throw new Error(`${name}: ${g} differs from the plain loop by ${err}`);
    }
  }
  const rnnRuns = { "plain-js bptt": () => plainBptt(rnn, plainOut), ...Object.fromEntries(Object.entries(exes).map(([n, c]) => [n, () => c.run(rnn, { outputs: "view" })])) };
  const rnnNames = Object.keys(rnnRuns);
  const rms = timeInterleaved(rnnNames.map((n) => rnnRuns[n]), { warmup: 1, reps });
  const by = Object.fromEntries(rnnNames.map((n, k) => [n, rms[k]]));
  console.log(`\ntanh RNN: T=${S}, ${H} inputs, ${H} hidden, float32; gradients by W, U, h0`);
  for (const n of rnnNames) console.log(`${n.padEnd(18)} ${by[n].toFixed(3).padStart(10)} ms`);
  for (const b of ["js", "wasm"]) console.log(`tns-${b}: (forward + bptt) / forward = ${(by[`tns-${b} fwd+bptt`] / by[`tns-${b} forward`]).toFixed(2)}; plain-js bptt / tns-${b} = ${(by["plain-js bptt"] / by[`tns-${b} fwd+bptt`]).toFixed(2)}`);
  for (const c of Object.values(exes)) c.dispose?.();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runBackwardBench();
}

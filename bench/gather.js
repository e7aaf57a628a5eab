/**
 * Gathers, argmax and top-k (docs/language.md): an embedding lookup of
 * T = 2048 ids in a [8192, 256] float32 table, and the argmax and the top 4
 * of 256 rows of 8192 logits (greedy decoding), on tns's JS and WebAssembly
 * backends against the obvious hand-written loops over Float32Arrays in the
 * same process, timed in turns. Every run is checked against the loops.
 * Run `npm run build` first; then `node bench/gather.js`.
 */
import { pathToFileURL } from "node:url";
import { compile, loadBackend, randomTensor, Tensor } from "../dist/index.js";
import { timeInterleaved } from "./util.js";

const T = 2048, V = 8192, D = 256, R = 256, N = 8192, K = 4;

const SOURCE = `size T = ${T}, V = ${V}, D = ${D}, R = ${R}, N = ${N}
input ids[T]: i32, Wte[V, D], L[R, N]
output Xe[t, d] = Wte[ids[t], d]
output Next[i] = argmax(j) L[i, j]
output Top[i, r], Idx[i, r] = topk(r < ${K}, j) L[i, j]
`;

function plain(ids, W, L, out) {
  for (let t = 0; t < T; t++) {
    const row = ids[t];
    if (!(row >= 0 && row < V)) throw new Error(`index ${row} out of range`);
    out.Xe.set(W.subarray(row * D, row * D + D), t * D);
  }
  for (let i = 0; i < R; i++) {
    const base = i * N;
    let best = 0;
    for (let j = 1; j < N; j++) if (L[base + j] > L[base + best]) best = j;
    out.Next[i] = best;
    // Top K by repeated selection over the elements after the last pick (value descending, index ascending).
    let pv = Infinity, pj = -1;
    for (let r = 0; r < K; r++) {
      let bv = -Infinity, bj = -1;
      for (let j = 0; j < N; j++) {
        const v = L[base + j];
        const after = v < pv || (v === pv && j > pj);
        if (after && (bj < 0 || v > bv)) { bv = v; bj = j; }
      }
      out.Top[i * K + r] = bv;
      out.Idx[i * K + r] = bj;
      pv = bv; pj = bj;
    }
  }
  return out;
}

/** Times the implementations in turns and prints one table of medians. @param {{ reps?: number }} [options] */
export async function runGatherBench({ reps = 7 } = {}) {
  await loadBackend("wasm");
  const io = {
    ids: new Tensor("i32", [T], Int32Array.from({ length: T }, (_, t) => (t * 7919) % V)),
    Wte: randomTensor([V, D], "f32", 1),
    L: randomTensor([R, N], "f32", 2),
  };
  const out = { Xe: new Float32Array(T * D), Next: new Int32Array(R), Top: new Float32Array(R * K), Idx: new Int32Array(R * K) };
  plain(io.ids.data, io.Wte.data, io.L.data, out);
  const exes = { "tns-js": compile(SOURCE, { backend: "js" }), "tns-wasm": compile(SOURCE, { backend: "wasm", threads: 1 }) };
  for (const [name, c] of Object.entries(exes)) {
    if (!c.ok) throw new Error(c.formatDiagnostics());
    const got = c.run(io);
    for (const k of Object.keys(out)) {
      if (!got[k].data.every((x, q) => x === out[k][q])) throw new Error(`${name}: ${k} disagrees with the plain loops`);
    }
  }
  const fns = { "plain-js": () => plain(io.ids.data, io.Wte.data, io.L.data, out), ...Object.fromEntries(Object.entries(exes).map(([n, c]) => [n, () => c.run(io, { outputs: "view" })])) };
  const names = Object.keys(fns);
  const ms = timeInterleaved(names.map((n) => fns[n]), { warmup: 2, reps });
  const byName = Object.fromEntries(names.map((n, k) => [n, ms[k]]));
  console.log(`embedding lookup T=${T} of [${V}, ${D}], argmax and top ${K} of [${R}, ${N}], float32`);
  for (const n of names) console.log(`${n.padEnd(10)} ${byName[n].toFixed(2).padStart(9)} ms`);
  console.log(`plain-js time / tns-js time = ${(byName["plain-js"] / byName["tns-js"]).toFixed(2)}`);
  console.log(`plain-js time / tns-wasm time = ${(byName["plain-js"] / byName["tns-wasm"]).toFixed(2)}`);
  for (const c of Object.values(exes)) c.dispose();
  return byName;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runGatherBench();
}

/**
 * float32 matrix product C[i, j] = sum_k A[i, k] * B[k, j] at n = 256 and 512:
 * the tns JavaScript backend against TensorFlow.js's CPU backend, in the same
 * process on the same data. Run `npm run build` first; then
 * `node bench/matmul-js.js` (or through `bench/run.js`).
 */
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { jsBackend } from "../dist/backends/backend.js";
import { parseProgramText } from "../dist/ir/parse-text.js";
import { randomTensor } from "../dist/runtime/random.js";
import { formatRows, gflops, timeMedian } from "./util.js";

/** @typedef {import("./util.js").Row} Row */

/**
 * The IR of an n×n×n float32 matrix product.
 * @param {number} n
 */
function matmulProgram(n) {
  return parseProgramText(
    `input A: f32[${n}, ${n}]\ninput B: f32[${n}, ${n}]\noutput C: f32[${n}, ${n}] = [i:${n}, j:${n}] sum(k:${n}) A[i, k] * B[k, j]\n`,
  );
}

/**
 * Times both implementations at n = 256 and 512 and checks they agree.
 * @param {{ sizes?: number[], reps?: number }} [options]
 * @returns {Promise<Row[]>}
 * @example const rows = await runMatmulJsBench({ sizes: [256] });
 */
export async function runMatmulJsBench({ sizes = [256, 512], reps = 7 } = {}) {
  await tf.setBackend("cpu");
  await tf.ready();
  /** @type {Row[]} */
  const rows = [];
  for (const n of sizes) {
    const flops = 2 * n * n * n;
    const A = randomTensor([n, n], "f32", 1);
    const B = randomTensor([n, n], "f32", 2);
    const exe = jsBackend.compile(matmulProgram(n)).executable;
    let ours = exe.run({ A, B })["C"].data;
    const tns = timeMedian(() => { ours = exe.run({ A, B })["C"].data; }, { reps });
    const ta = tf.tensor2d(A.data, [n, n]);
    const tb = tf.tensor2d(B.data, [n, n]);
    /** @type {Float32Array} */
    let theirs = new Float32Array(0);
    const tfjs = timeMedian(() => {
      const c = tf.matMul(ta, tb);
      theirs = /** @type {Float32Array} */ (c.dataSync());
      c.dispose();
    }, { reps });
    ta.dispose();
    tb.dispose();
    let worst = 0;
    for (let k = 0; k < theirs.length; k++) worst = Math.max(worst, Math.abs(ours[k] - theirs[k]));
    if (worst > 1e-3 * n) throw new Error(`matmul n=${n}: tns and tfjs disagree by ${worst}`);
    rows.push({ bench: "matmul-js", impl: "tns-js", n, ms: tns, gflops: gflops(flops, tns) });
    rows.push({ bench: "matmul-js", impl: "tfjs-cpu", n, ms: tfjs, gflops: gflops(flops, tfjs) });
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await runMatmulJsBench();
  console.log(formatRows(rows));
  for (let k = 0; k + 1 < rows.length; k += 2) {
    console.log(`n=${rows[k].n}: tns-js / tfjs-cpu = ${(rows[k].gflops / rows[k + 1].gflops).toFixed(2)}x`);
  }
}

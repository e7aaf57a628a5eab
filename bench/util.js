/**
 * Timing helpers shared by the benchmarks: warm up, time several repetitions,
 * report the median (robust to a noisy shared machine).
 */

/**
 * One result line of a benchmark.
 * @typedef {{ bench: string, impl: string, n: number, ms: number, gflops: number, bestMs?: number }} Row
 */

/**
 * The median of a list of numbers.
 * @param {number[]} xs
 * @returns {number}
 * @example median([3, 1, 2]); // 2
 */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Median wall time of `fn` in milliseconds after `warmup` untimed calls.
 * @param {() => void} fn
 * @param {{ warmup?: number, reps?: number }} [options]
 * @returns {number}
 * @example timeMedian(() => work(), { warmup: 2, reps: 5 });
 */
export function timeMedian(fn, { warmup = 2, reps = 7 } = {}) {
  for (let k = 0; k < warmup; k++) fn();
  const times = [];
  for (let k = 0; k < reps; k++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/**
 * Median wall times of several functions timed in turns (one call of each
 * per round, after `warmup` rounds), so load on a shared machine falls on
 * all of them alike.
 * @param {(() => void)[]} fns
 * @param {{ warmup: number, reps: number }} options
 * @returns {number[]} median milliseconds, in the order of `fns`
 * @example const [ours, theirs] = timeInterleaved([() => a(), () => b()], { warmup: 2, reps: 9 });
 */
export function timeInterleaved(fns, { warmup, reps }) {
  return timeInterleavedSamples(fns, { warmup, reps }).map(median);
}

/**
 * Every wall time of {@link timeInterleaved}'s rounds, per function.
 * @param {(() => void)[]} fns
 * @param {{ warmup: number, reps: number }} options
 * @returns {number[][]} milliseconds of each round, in the order of `fns`
 * @example const [ours, theirs] = timeInterleavedSamples([() => a(), () => b()], { warmup: 2, reps: 9 });
 */
export function timeInterleavedSamples(fns, { warmup, reps }) {
  for (let k = 0; k < warmup; k++) for (const f of fns) f();
  const times = fns.map(() => []);
  for (let k = 0; k < reps; k++) {
    fns.forEach((f, j) => {
      const t0 = performance.now();
      f();
      times[j].push(performance.now() - t0);
    });
  }
  return times;
}

/**
 * GFLOP/s for `flops` floating-point operations done in `ms` milliseconds.
 * @param {number} flops
 * @param {number} ms
 * @returns {number}
 * @example gflops(2 * 256 ** 3, 10); // 3.36
 */
export function gflops(flops, ms) {
  return flops / (ms * 1e6);
}

/**
 * Rows as an aligned text table.
 * @param {Row[]} rows
 * @returns {string}
 */
export function formatRows(rows) {
  const lines = [`${"bench".padEnd(12)} ${"impl".padEnd(10)} ${"n".padStart(5)} ${"ms".padStart(9)} ${"GFLOP/s".padStart(8)}`];
  for (const r of rows) {
    lines.push(`${r.bench.padEnd(12)} ${r.impl.padEnd(10)} ${String(r.n).padStart(5)} ${r.ms.toFixed(2).padStart(9)} ${r.gflops.toFixed(2).padStart(8)}`);
  }
  return lines.join("\n");
}

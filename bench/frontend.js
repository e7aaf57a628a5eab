// Front-end speed: parse + check + lower a generated 200-statement program.
// Run after `npm run build`: node bench/frontend.js
import { performance } from "node:perf_hooks";
import { check } from "../dist/index.js";

/** A program of `count` statements mixing contractions, reductions, affine indices and elementwise math. */
export function generatedProgram(count) {
  const lines = ["size n = 64, m = 32, k = 3", "input X0[n, m], W[m, m], b[m], K[k]"];
  for (let s = 1; s <= count; s++) {
    const prev = `X${s - 1}`;
    switch (s % 5) {
      case 0: lines.push(`X${s}[i, j] = ${prev}[i, l] * W[l, j] / sqrt(m)`); break;
      case 1: lines.push(`X${s}[i, j] = tanh(${prev}[i, j] + b[j])`); break;
      case 2: lines.push(`X${s}[i, j] = ${prev}[i, j] - max(l) ${prev}[i, l]`); break;
      case 3: lines.push(`X${s}[i, j] = where(${prev}[i, j] > 0, ${prev}[i, j], 0.01 * ${prev}[i, j])`); break;
      case 4: lines.push(`X${s}[i, j] = ${prev}[i, j] * (1 + 0.5 * exp(-${prev}[i, j] ^ 2))`); break;
    }
  }
  lines.push(`output Y[i, j] = X${count}[i, j] + sum(t) K[t]`);
  return lines.join("\n") + "\n";
}

/** Times check() (parse + check + lower) on the generated program; returns the median in ms. */
export function runFrontendBench({ statements = 200, reps = 20 } = {}) {
  const source = generatedProgram(statements);
  for (let r = 0; r < 5; r++) check(source); // warm up the parser and the JIT
  const times = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const { program, diagnostics } = check(source);
    times.push(performance.now() - t0);
    if (!program) throw new Error(`generated program failed to check: ${diagnostics.map((d) => d.message).join("; ")}`);
  }
  times.sort((a, b) => a - b);
  const cold = (() => { const t0 = performance.now(); check(generatedProgram(statements + 1)); return performance.now() - t0; })();
  return { statements: statements + 1, medianMs: times[Math.floor(times.length / 2)], minMs: times[0], coldishMs: cold };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = runFrontendBench();
  console.log(`front end: ${r.statements} statements parsed+checked+lowered in ${r.medianMs.toFixed(2)} ms (median), min ${r.minMs.toFixed(2)} ms`);
}

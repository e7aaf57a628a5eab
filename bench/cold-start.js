// Cold start: the whole `tns run` command, in a fresh Node process each time
// (module loading, parsing, optimizing, code generation by tns's encoder, the
// first run of the new module, printing), as a user meets it: a first run
// (empty module cache), a cached run and a run with --no-cache; then a first
// run that asks for binaryen's optimizer (--optimize-wasm: loads binaryen).
// Compared with the same command on the JavaScript backend and with
// `tns --version` (Node's own start plus the CLI's entry). The last column
// is the run time the command itself prints ("ran in"): the first run of the
// module, mostly at V8's baseline tier.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "./util.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const tns = fileURLToPath(new URL("../bin/tns.js", import.meta.url));

/**
 * Wall time of one `node bin/tns.js ...` in milliseconds.
 * @param {string[]} args
 * @returns {number}
 */
function timeCommand(args) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [tns, ...args], { cwd: root, encoding: "utf8", env: process.env });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`tns ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  const ran = /ran in ([0-9.]+) ms/.exec(r.stdout);
  return { ms, ranMs: ran ? Number(ran[1]) : null };
}

/**
 * Times each command `reps` times, interleaved so that load on the machine
 * falls on all of them alike; prints median and best.
 * @param {number} [reps]
 */
export function runColdStartBench(reps = 7) {
  // The module cache in a folder of the benchmark's own: emptied before each "first run", kept for the cached one.
  const cacheDir = mkdtempSync(join(tmpdir(), "tns-bench-cache-"));
  process.env["TNS_CACHE_DIR"] = cacheDir;
  const empty = () => { rmSync(cacheDir, { recursive: true, force: true }); mkdirSync(cacheDir); };
  const commands = [
    ["tns run examples/attention.tns, first run (wasm)", ["run", "examples/attention.tns", "--random-inputs"], empty],
    ["tns run examples/attention.tns, cached run (wasm)", ["run", "examples/attention.tns", "--random-inputs"]],
    ["tns run examples/attention.tns --no-cache (wasm)", ["run", "examples/attention.tns", "--random-inputs", "--no-cache"]],
    ["... --no-cache --optimize-wasm (binaryen -O3)", ["run", "examples/attention.tns", "--random-inputs", "--no-cache", "--optimize-wasm"]],
    ["tns run examples/attention.tns --backend js", ["run", "examples/attention.tns", "--random-inputs", "--backend", "js"]],
    ["tns --version", ["--version"]],
  ];
  const times = commands.map(() => []);
  const ran = commands.map(() => []);
  for (let k = 0; k < reps; k++) {
    commands.forEach(([, args, before], c) => {
      before?.();
      const t = timeCommand(args);
      times[c].push(t.ms);
      if (t.ranMs !== null) ran[c].push(t.ranMs);
    });
  }
  rmSync(cacheDir, { recursive: true, force: true });
  for (const [c, [label]] of commands.entries()) {
    const run = ran[c].length > 0 ? `  ran in ${median(ran[c]).toFixed(1).padStart(6)} ms` : "";
    console.log(`${label.padEnd(52)} median ${median(times[c]).toFixed(0).padStart(5)} ms  best ${Math.min(...times[c]).toFixed(0).padStart(5)} ms${run}`);
  }
}

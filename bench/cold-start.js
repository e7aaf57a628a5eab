// Cold start: the whole `tns run` command, in a fresh Node process each time
// (module loading, binaryen, parsing, optimizing, code generation, the first
// run of the new module, printing), as a user meets it: a first run (empty
// module cache), a cached run (binaryen not loaded) and a run with --no-cache. Compared with the
// same command on the JavaScript backend and with `tns --version` (Node's own
// start plus the CLI's entry).
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
  return ms;
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
    ["tns run examples/attention.tns --backend js", ["run", "examples/attention.tns", "--random-inputs", "--backend", "js"]],
    ["tns --version", ["--version"]],
  ];
  const times = commands.map(() => []);
  for (let k = 0; k < reps; k++) {
    commands.forEach(([, args, before], c) => {
      before?.();
      times[c].push(timeCommand(args));
    });
  }
  rmSync(cacheDir, { recursive: true, force: true });
  for (const [c, [label]] of commands.entries()) {
    console.log(`${label.padEnd(52)} median ${median(times[c]).toFixed(0).padStart(5)} ms  best ${Math.min(...times[c]).toFixed(0).padStart(5)} ms`);
  }
}

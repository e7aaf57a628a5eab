/**
 * Runs NumPy (Debian's python3-numpy under /usr/bin/python3) as an external
 * oracle. One python process evaluates a whole batch of einsum calls.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** The python interpreter that has NumPy (Debian's), or null when NumPy is missing. */
export function numpyPython(): string | null {
  for (const py of ["/usr/bin/python3", "python3"]) {
    if (py.startsWith("/") && !existsSync(py)) continue;
    const r = spawnSync(py, ["-c", "import numpy"], { encoding: "utf8" });
    if (r.status === 0) return py;
  }
  return null;
}

/** A NumPy result: shape and float64 values in row-major order. */
export interface NumpyResult {
  readonly shape: number[];
  readonly data: number[];
}

const SCRIPT = `
import json, sys
import numpy as np
calls = json.load(sys.stdin)
out = []
for c in calls:
    arrays = [np.array(a["data"], dtype=np.float64).reshape(a["shape"]) for a in c["arrays"]]
    r = np.asarray(np.einsum(c["spec"], *arrays))
    out.append({"shape": list(r.shape), "data": r.reshape(-1).tolist()})
json.dump(out, sys.stdout)
`;

/** Evaluates each call with numpy.einsum in float64. */
export function numpyEinsum(
  python: string,
  calls: ReadonlyArray<{ spec: string; arrays: ReadonlyArray<{ shape: readonly number[]; data: ArrayLike<number> }> }>,
): NumpyResult[] {
  const payload = JSON.stringify(calls.map((c) => ({ spec: c.spec, arrays: c.arrays.map((a) => ({ shape: a.shape, data: Array.from(a.data) })) })));
  const r = spawnSync(python, ["-c", SCRIPT], { input: payload, encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`numpy failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as NumpyResult[];
}

/** Largest absolute difference relative to the largest reference magnitude. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let k = 0; k < expected.length; k++) {
    diff = Math.max(diff, Math.abs(actual[k]! - expected[k]!));
    scale = Math.max(scale, Math.abs(expected[k]!));
  }
  return diff / Math.max(scale, 1e-30);
}

/**
 * Runs a Python script with NumPy: `payload` goes to its stdin as JSON and
 * what it prints to stdout comes back parsed. Arrays travel as
 * `{ shape, data }` with row-major float64 data.
 */
export function runNumpyScript<T>(python: string, script: string, payload: unknown): T {
  const r = spawnSync(python, ["-c", script], { input: JSON.stringify(payload), encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`numpy script failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/**
 * A script for {@link runNumpyScript} that runs NumPy code per case: the
 * payload is a list of `{ code, inputs }` (inputs by name as `{ shape, data }`),
 * each `code` reads `I` (float64 arrays) and assigns `O[name]`, with `np` and
 * `math` imported; the result is, per case, each output's `{ shape, data }`.
 */
export const NUMPY_CASES_SCRIPT = `
import json, sys, math
import numpy as np
cases = json.load(sys.stdin)
res = []
for c in cases:
    I = {k: np.array(v["data"], dtype=np.float64).reshape(v["shape"]) for k, v in c["inputs"].items()}
    O = {}
    exec(c["code"], {"np": np, "math": math, "I": I, "O": O})
    res.append({k: {"shape": list(np.shape(v)), "data": np.asarray(v, dtype=np.float64).reshape(-1).tolist()} for k, v in O.items()})
json.dump(res, sys.stdout)
`;

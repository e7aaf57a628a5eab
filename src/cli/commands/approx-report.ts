/**
 * The approximation section of `tns explain --approx` and the lines `tns
 * run` and `tns compile` print for `--approx`.
 *
 *     approximations:
 *       W1  lowrank rank 8 ([1024, 8], [8, 1024])  error 2.51e-8  FLOPs 6,307,840 -> 2,101,248  bytes 4.0 MiB -> 64.0 KiB  applied (randomized)
 *       W3  lowrank  not applied: no rank up to 511 meets tol=0.0001: rank 1022 is needed ...
 *     output error (exact vs approximated, 2 random inputs):
 *       y  1.94e-8
 */
import type { Approximation } from "../../passes/approximate/index.js";

/** Help lines of `--approx` (run, compile, explain). */
export const APPROX_HELP = `  --approx SPEC         approximate weights bound at compile time (repeatable; changes results):
                        lowrank:tol=EPS, lowrank:rank=R, lowrank:W:tol=EPS, kron:tol=EPS,
                        kron:W:shape=M1xN1,M2xN2, tucker:tol=EPS, tt:tol=EPS (order >= 3);
                        applied only where the cost model says
                        it pays (docs/optimizer.md, "Approximations")`;

function count(n: number): string {
  return n.toLocaleString("en-US");
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  return n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * One line per approximation tried.
 *
 * @example
 * ```ts
 * approximationLines(result.approximations); // ["  W1  lowrank rank 8 ... applied (randomized)"]
 * ```
 */
export function approximationLines(approximations: readonly Approximation[]): string[] {
  const width = Math.max(0, ...approximations.map((a) => a.weight.length));
  return approximations.map((a) => {
    const head = `  ${a.weight.padEnd(width)}  ${a.kind}`;
    const err = a.relativeError === null ? "" : `  error ${a.relativeError.toExponential(2)}`;
    if (!a.applied && a.flopsAfter === a.flopsBefore && a.bytesAfter === a.bytesBefore) return `${head}  not applied: ${a.reason}${err}`;
    const shapes = a.factorShapes.map((s) => s.join("x"));
    const what = a.kind === "lowrank" ? `rank ${a.rank}` : a.kind === "kron" ? shapes.join(" ⊗ ") : `${a.kind === "tucker" ? "core" : "cores"} ${shapes.join(", ")}`;
    const status = a.applied ? `applied${a.method ? ` (${a.method})` : ""}` : `not applied: ${a.reason}`;
    return `${head} ${what}${err}  FLOPs ${count(a.flopsBefore)} -> ${count(a.flopsAfter)}  bytes ${bytes(a.bytesBefore)} -> ${bytes(a.bytesAfter)}  ${status}`;
  });
}

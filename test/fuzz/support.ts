/**
 * What the fuzz suites share. Each property runs a number of cases sized
 * for CI (the whole suite well under two minutes on 2 cores); set
 * TNS_FUZZ_RUNS to run every property that many times instead, e.g.
 * `TNS_FUZZ_RUNS=2000 npx vitest run test/fuzz`. The seed is fixed, so that
 * a run of the suite is the same every time; TNS_FUZZ_SEED sets another
 * (fast-check prints the seed and path of a failure), and
 * `TNS_FUZZ_SEED=random` draws a new one per run. In CI a property stops
 * after 40 s on a slow machine, passing if nothing failed by then.
 */
import type { Parameters } from "fast-check";
import { CATALOG } from "../../src/diagnostics/catalog.js";
import type { Diagnostic } from "../../src/diagnostics/diagnostic.js";

/** The seed of every property unless TNS_FUZZ_SEED says otherwise. */
export const FUZZ_SEED = 20261207;

/** fast-check parameters: `runs` cases, or TNS_FUZZ_RUNS of them. */
export function fuzzParameters<T>(runs: number): Parameters<T> {
  const env = Number(process.env["TNS_FUZZ_RUNS"]);
  const given = process.env["TNS_FUZZ_SEED"];
  const seed = given === undefined ? FUZZ_SEED : Number(given);
  return {
    numRuns: Number.isInteger(env) && env > 0 ? env : runs,
    ...(Number.isInteger(seed) ? { seed } : {}),
    interruptAfterTimeLimit: Number.isInteger(env) && env > 0 ? undefined : 40_000,
  };
}

/** The per-test timeout for a property of `runs` cases of about `msEach`. */
export function fuzzTimeout(runs: number, msEach: number): number {
  const env = Number(process.env["TNS_FUZZ_RUNS"]);
  const n = Number.isInteger(env) && env > 0 ? env : runs;
  return Math.max(60_000, n * msEach * 3);
}

/** Codes that may come without a span: they are about options or data, not a place in the source. */
const SPANLESS: ReadonlySet<string> = new Set(["TNS0303", "TNS0305", "TNS0603", "TNS0605", "TNS0606", "TNS0901"]);

/** Problems with a list of diagnostics: codes outside the catalog, errors without a place, empty messages. */
export function diagnosticProblems(diagnostics: readonly Diagnostic[]): string[] {
  const out: string[] = [];
  for (const d of diagnostics) {
    if (!(d.code in CATALOG)) out.push(`code ${d.code} is not in the catalog`);
    if (d.message.trim() === "") out.push(`${d.code} has no message`);
    if (d.severity === "error" && d.span === undefined && !SPANLESS.has(d.code)) out.push(`${d.code} has no span: ${d.message}`);
    if (d.span && (d.span.start.line < 1 || d.span.start.column < 1)) out.push(`${d.code} has a bad position`);
  }
  return out;
}

/** A stack frame in text: what a user must never see. */
export const STACK_TRACE = /\n\s+at .+:\d+:\d+/;

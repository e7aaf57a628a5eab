/**
 * Golden IR per pass: real programs, checked and lowered, then the IR after
 * each pass of the default pipeline, one golden file per program. A stage
 * header says whether the pass changed anything, so a pass that stops
 * firing shows up in review as `unchanged`. Regenerate with
 * `TNS_UPDATE_GOLDEN=1 npx vitest run test/pipeline/golden-passes.test.ts`
 * and read the diff.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { check } from "../../src/compiler.js";
import { printProgram } from "../../src/ir/print.js";
import type { Program } from "../../src/ir/types.js";
import { interpret } from "../../src/interpret.js";
import { randomInputs } from "../../src/ir/random-program.js";
import { defaultPipeline, runPasses } from "../../src/passes/index.js";
import { relativeError } from "../backends/support.js";
import { expectGolden } from "../golden.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Each program: an example file and small sizes that keep the IR text short. */
const PROGRAMS: readonly { name: string; file: string; sizes: Record<string, number> }[] = [
  { name: "attention", file: "examples/attention.tns", sizes: { n: 8, d: 4 } },
  { name: "softmax-stdlib", file: "examples/softmax_stdlib.tns", sizes: { n: 3, m: 5 } },
  { name: "conv2d", file: "examples/conv2d.tns", sizes: { c: 2, h: 6, w: 5, o: 3, kh: 3, kw: 2 } },
  { name: "kron-matvec", file: "examples/kron_matvec.tns", sizes: { p: 2, q: 3, r: 2, s: 3 } },
];

/** The lowered IR and the IR after each pass, each under a `== after <stage> ==` header. */
function stagesText(file: string, sizes: Record<string, number>): { text: string; lowered: Program; last: Program } {
  const checked = check(readFileSync(ROOT + file, "utf8"), { file: ROOT + file, sizes });
  expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const lowered = checked.program!;
  const { program, log } = runPasses(lowered, defaultPipeline(), { keepIr: true, verify: true });
  const parts = [`== after lowering ==\n${printProgram(lowered)}`];
  for (const entry of log) parts.push(`== after ${entry.pass} (${entry.changed ? "changed" : "unchanged"}) ==\n${entry.ir}`);
  return { text: parts.join("\n"), lowered, last: program };
}

describe("IR after lowering and after each pass", () => {
  for (const { name, file, sizes } of PROGRAMS) {
    it(`${name} (${file})`, () => {
      const { text, lowered, last } = stagesText(file, sizes);
      expectGolden(`passes-${name}`, text);
      // The golden is only worth reading if the stages compute the same thing.
      const inputs = randomInputs(lowered, 3);
      const want = interpret(lowered, inputs);
      const got = interpret(last, inputs);
      for (const out of Object.keys(want)) expect(relativeError(got[out]!.data, want[out]!.data), out).toBeLessThanOrEqual(1e-12);
    });
  }
});

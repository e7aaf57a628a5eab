/**
 * `tns explain` on every example, the training ones (whose gradients are
 * expanded by a pass) included: the report and the WebGPU launch shapes.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { explainProgram, explainWgsl } from "../../src/cli/commands/explain.js";
import { check } from "../../src/compiler.js";
import { defaultPipeline, runPasses } from "../../src/passes/index.js";
import { EXAMPLE_FILES, EXAMPLES_DIR } from "../examples/harness.js";

describe("tns explain on every example", () => {
  for (const name of EXAMPLE_FILES) {
    it(`${name}: a report, and WebGPU kernels with their memory`, () => {
      const file = join(EXAMPLES_DIR, name);
      const { program, diagnostics } = check(readFileSync(file, "utf8"), { file });
      expect(program, JSON.stringify(diagnostics)).not.toBeNull();
      const report = explainProgram(program!);
      expect(report.costAfter.flops).toBeGreaterThan(0);
      expect(report.costAfter.peakMemory.bytes).toBeGreaterThan(0);
      const wgsl = explainWgsl(runPasses(program!, defaultPipeline()).program);
      expect(wgsl.dispatches.length).toBeGreaterThan(0);
      expect(wgsl.memory.bytes).toBeLessThanOrEqual(wgsl.memory.unpooledBytes);
    });
  }
});

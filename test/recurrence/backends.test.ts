/**
 * Recurrences on every backend against the reference interpreter, with the
 * optimizing pipeline and `--verify` (optimized against unoptimized, backend
 * against the interpreter), and every pass verified on its own.
 */
import { describe, expect, it } from "vitest";
import { compile, compileAsync } from "../../src/compiler.js";
import { interpret } from "../../src/interpret.js";
import { defaultPipeline, runPasses } from "../../src/passes/index.js";
import { inputsFor, relativeError } from "../backends/support.js";
import { RECURRENCES } from "./corpus.js";

describe("recurrences: passes keep the invariants and the values", () => {
  for (const c of RECURRENCES) {
    it(c.name, () => {
      const compiled = compile(c.source, { backend: "reference", optimize: false });
      expect(compiled.ok, compiled.formatDiagnostics()).toBe(true);
      const p = compiled.loweredIr!;
      expect(p.tensors.some((t) => t.role === "def" && t.recurrence !== undefined)).toBe(true);
      const { program } = runPasses(p, defaultPipeline(), { verify: true });
      const inputs = inputsFor(p, 3);
      const want = interpret(p, inputs);
      const got = interpret(program, inputs);
      for (const name of Object.keys(want)) expect(relativeError(got[name]!.data, want[name]!.data), name).toBeLessThanOrEqual(1e-9);
    });
  }
});

describe.each(["js", "wasm", "wgsl"] as const)("recurrences on the %s backend", (backend) => {
  for (const c of RECURRENCES) {
    it(c.name, async () => {
      const compiled = await compileAsync(c.source, { backend, verify: true, verifyOutputs: backend !== "wgsl" });
      expect(compiled.ok, compiled.formatDiagnostics()).toBe(true);
      const inputs = inputsFor(compiled.loweredIr!, 5);
      const want = interpret(compiled.loweredIr!, inputs);
      const got = await compiled.runAsync(inputs);
      for (const name of Object.keys(want)) {
        expect(got[name]!.shape, name).toEqual(want[name]!.shape);
        expect(relativeError(got[name]!.data, want[name]!.data), name).toBeLessThanOrEqual(1e-4);
      }
      compiled.dispose?.();
    });
  }
});

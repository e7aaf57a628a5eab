/**
 * The online softmax and the wgsl backend: its pipeline leaves the fusion
 * out (materialize-reductions would store the fused def's scores once per
 * copy), and a fused def handed to it directly still runs correctly (its
 * nested reductions become defs of their own), against the reference
 * interpreter.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadBackend } from "../../src/backends/index.js";
import { compile, compileAsync } from "../../src/compiler.js";
import { interpret } from "../../src/interpret.js";
import { defaultPipeline, fuseOnlineSoftmax } from "../../src/passes/index.js";
import { fuseOnlineSoftmaxWith } from "../../src/passes/fuse-online-softmax.js";
import { inputsFor, relativeError } from "./support.js";

/** The default pipeline, fusing attention at any size (the pipeline itself waits for 16 MiB of scores). */
const ALWAYS_FUSED = defaultPipeline().map((p) => (p.name === "fuse-online-softmax" ? fuseOnlineSoftmaxWith({ minSavingBytes: 0 }) : p));

const wgsl = await loadBackend("wgsl");
const CAUSAL = readFileSync(new URL("../../examples/causal_attention.tns", import.meta.url), "utf8");
const sizes = { n: 12, d: 16 };

describe("the online softmax on wgsl", () => {
  it("is not in the wgsl pipeline: the scores stay one def", async () => {
    expect(defaultPipeline({ backend: "wgsl" })).not.toContain(fuseOnlineSoftmax);
    const r = await compileAsync(CAUSAL, { backend: "wgsl", sizes });
    expect(r.ok).toBe(true);
    expect(r.ir!.tensors.filter((t) => t.role === "def").length).toBeGreaterThan(1);
    r.dispose?.();
  });

  it("a fused def runs correctly on wgsl", async () => {
    const r = compile(CAUSAL, { sizes, passes: ALWAYS_FUSED });
    expect(r.ir!.tensors.filter((t) => t.role === "def").map((t) => t.name)).toEqual(["O"]);
    const { executable } = wgsl.compile(r.ir!);
    try {
      const inputs = inputsFor(r.ir!, 3);
      const want = interpret(r.ir!, inputs).O!;
      const got = (await executable.runAsync!(inputs)).O!;
      expect(relativeError(got.data, want.data)).toBeLessThan(1e-4);
    } finally {
      executable.dispose?.();
    }
  });
});

/**
 * fuse-online-softmax and its rule `online-softmax`: goldens of attention
 * (plain, causal, the stdlib function, other names and scaling, softmax
 * then a product), the programs it must leave alone (a shift that is not the
 * row maximum, a denominator over other exponentials, no denominator, two
 * softmaxes summed), the cost model's choice (scores no longer stored), and
 * the fused programs against the reference interpreter on the js backend.
 * The wasm kernels are tested in test/backends/wasm-attention.test.ts;
 * every program the rule makes from the registry's targeted programs is
 * checked in rules.test.ts.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { matchOnlineSoftmax } from "../../src/backends/kernel/online-softmax.js";
import { compile, compileAsync } from "../../src/compiler.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printProgram } from "../../src/ir/print.js";
import type { DefNode, Program } from "../../src/ir/types.js";
import { programCost } from "../../src/passes/cost.js";
import {
  fuseOnlineSoftmax as pipelineFuseOnlineSoftmax, fuseOnlineSoftmaxIn as pipelineFuseOnlineSoftmaxIn, fuseOnlineSoftmaxWith, JS_ONLINE_SOFTMAX_MIN_SAVING_BYTES,
} from "../../src/passes/fuse-online-softmax.js";

// These programs are small: the pass fuses them whenever any memory is saved (the pipeline waits for 16 MiB).
const ALWAYS = { minSavingBytes: 0 };
const fuseOnlineSoftmax = fuseOnlineSoftmaxWith(ALWAYS);
const fuseOnlineSoftmaxIn = (p: Program) => pipelineFuseOnlineSoftmaxIn(p, ALWAYS);
import { defaultPipeline, runPasses } from "../../src/passes/index.js";
import { expectGolden } from "../golden.js";
import { expectMatchesInterpreter, inputsFor } from "../backends/support.js";
import { applyPass, expectSameValues } from "./support.js";

const before = (passes: string): ReturnType<typeof defaultPipeline> => {
  const all = defaultPipeline();
  return all.slice(0, all.findIndex((p) => p.name === passes));
};

/** The program of a source after the default pipeline up to (not including) fuse-online-softmax. */
function upTo(source: string, sizes: Record<string, number> = {}): Program {
  const r = compile(source, { passes: before("fuse-online-softmax"), sizes });
  if (!r.ok || r.ir === null) throw new Error(r.formatDiagnostics());
  return r.ir;
}

function golden(name: string, p: Program): Program {
  const after = applyPass(fuseOnlineSoftmax, p);
  expectGolden(`fuse-online-softmax/${name}`, `${printProgram(p)}\n# after fuse-online-softmax\n${printProgram(after)}`);
  expectSameValues(p, after);
  return after;
}

const example = (file: string): string => readFileSync(new URL(`../../examples/${file}`, import.meta.url), "utf8");
const defs = (p: Program): string[] => p.tensors.filter((t) => t.role === "def").map((t) => t.name);

const ATTENTION_SMALL = { n: 6, d: 16 };

describe("fuse-online-softmax fires", () => {
  it("on examples/attention.tns: S, M and E are no longer stored", () => {
    const p = upTo(example("attention.tns"), ATTENTION_SMALL);
    const after = golden("attention", p);
    expect(defs(after)).toEqual(["O"]);
    expect(fuseOnlineSoftmaxIn(p).derivations).toEqual([{ rule: "online-softmax", tensor: "O", detail: "inlined S, M, E" }]);
    expect(matchOnlineSoftmax(after.tensors.find((t) => t.name === "O") as DefNode)).toMatchObject({ rows: ["i"], cols: ["e"] });
  });

  it("on examples/causal_attention.tns: the mask stays in the score", () => {
    const after = golden("causal-attention", upTo(example("causal_attention.tns"), ATTENTION_SMALL));
    expect(defs(after)).toEqual(["O"]);
  });

  it("on the stdlib attention, other index names and scaling, and a softmax then a product", () => {
    const stdlib = upTo(`import attention from "nn"\nsize n = 5, d = 16\ninput Q[n, d], K[n, d], V[n, d]\noutput O = attention(Q, K, V)\n`);
    expect(defs(golden("stdlib", stdlib))).toEqual(["O"]);
    const renamed = upTo(`size t = 7, h = 12
input A[t, h], B[t, h], C[t, h]
W[p, q] = A[p, c] * B[q, c] * 0.3
Z[p] = max(q) W[p, q]
X[p, q] = exp(W[p, q] - Z[p])
output Y[p, r] = X[p, q] * C[q, r] / sum(u) X[p, u]
`);
    expect(defs(golden("renamed", renamed))).toEqual(["Y"]);
    const softmaxThenProduct = upTo(`import softmax from "nn"
size n = 5, d = 16
input Q[n, d], K[n, d], V[n, d]
S[i, j] = Q[i, k] * K[j, k] * 2
P = softmax(S)
output O[i, e] = P[i, j] * V[j, e]
`);
    expect(defs(golden("softmax-then-product", softmaxThenProduct))).toEqual(["O"]);
  });
});

describe("fuse-online-softmax in the pipeline", () => {
  it("fuses only where the scores it removes take at least 16 MiB", () => {
    const small = upTo(example("attention.tns"), { n: 1024, d: 64 });
    expect(pipelineFuseOnlineSoftmaxIn(small).derivations).toEqual([]);
    expect(printProgram(applyPass(pipelineFuseOnlineSoftmax, small))).toBe(printProgram(small));
    const large = upTo(example("attention.tns"), { n: 2048, d: 64 });
    expect(pipelineFuseOnlineSoftmaxIn(large).derivations).toEqual([{ rule: "online-softmax", tensor: "O", detail: "inlined S, M, E" }]);
  });
  it("on the js backend, only where the scores take at least 256 MiB (its one-pass kernel is a loop nest)", async () => {
    const fused = async (backend: "js" | "wasm", n: number): Promise<boolean> => {
      const c = await compileAsync(example("attention.tns"), { backend, sizes: { n } });
      return !c.ir!.tensors.some((t) => t.name === "S");
    };
    expect([await fused("wasm", 2048), await fused("js", 2048), await fused("js", 4096)]).toEqual([true, false, false]);
    expect(JS_ONLINE_SOFTMAX_MIN_SAVING_BYTES).toBe(256 * 2 ** 20);
    const huge = upTo(example("attention.tns"), { n: 8192, d: 64 });
    expect(fuseOnlineSoftmaxWith({ minSavingBytes: JS_ONLINE_SOFTMAX_MIN_SAVING_BYTES }).runWithDerivations!(huge).derivations).toHaveLength(1);
    expect(defaultPipeline({ backend: "js" }).map((p) => p.name)).toEqual(defaultPipeline().map((p) => p.name));
  });
});

describe("fuse-online-softmax leaves alone", () => {
  const unchanged = (source: string): void => {
    const p = upTo(source);
    expect(onlineSites(p)).toEqual([]);
    expect(printProgram(applyPass(fuseOnlineSoftmax, p))).toBe(printProgram(p));
  };
  const onlineSites = (p: Program) => fuseOnlineSoftmaxIn(p).derivations;
  const head = "size n = 5, d = 4\ninput Q[n, d], K[n, d], V[n, d]\nS[i, j] = Q[i, k] * K[j, k]\n";

  it("a shift that is not the row maximum of the same score", () => {
    unchanged(`${head}M[i] = min(j) S[i, j]\nE[i, j] = exp(S[i, j] - M[i])\noutput O[i, e] = E[i, j] * V[j, e] / sum(l) E[i, l]\n`);
    unchanged(`${head}M[i] = max(j) S[i, j] * 2\nE[i, j] = exp(S[i, j] - M[i])\noutput O[i, e] = E[i, j] * V[j, e] / sum(l) E[i, l]\n`);
    unchanged(`${head}E[i, j] = exp(S[i, j] - 3)\noutput O[i, e] = E[i, j] * V[j, e] / sum(l) E[i, l]\n`);
  });

  it("a denominator over other exponentials, or none", () => {
    unchanged(`${head}M[i] = max(j) S[i, j]\nE[i, j] = exp(S[i, j] - M[i])\nF[i, j] = exp(S[i, j])\noutput O[i, e] = E[i, j] * V[j, e] / sum(l) F[i, l]\n`);
    unchanged(`${head}M[i] = max(j) S[i, j]\nE[i, j] = exp(S[i, j] - M[i])\noutput O[i, e] = E[i, j] * V[j, e]\n`);
    unchanged(`${head}M[i] = max(j) S[i, j]\nE[i, j] = exp(S[i, j] - M[i])\noutput O[i, e] = E[i, j] * V[j, e] / sum(l) E[i, l] * E[i, l]\n`);
  });

  it("two softmaxes that share their scores, where recomputing the scores twice costs more than storing them", () => {
    const p = upTo(`import attention, causal_attention from "nn"\nsize n = 16, d = 8\ninput Q[n, d], K[n, d], V[n, d]\noutput O = attention(Q, K, V)\noutput C = causal_attention(Q, K, V)\n`);
    expect(onlineSites(p)).toEqual([]);
  });
});

describe("the cost model's view", () => {
  it("attention at n = 4096, d = 64 on wasm: the planned peak is Q, K, V and O (O(n·d)), not the n × n scores", async () => {
    const r = await compileAsync(example("attention.tns"), { backend: "wasm", sizes: { n: 4096, d: 64 } });
    expect(r.ok).toBe(true);
    const cost = programCost(r.ir!);
    expect(cost.peakMemory.bytes).toBe(4 * 4096 * 64 * 4);
    expect(cost.largestIntermediate).toBeNull();
    expect(cost.tensors.map((t) => [t.name, t.kernel, t.wasmKernel])).toEqual([["O", "online-softmax", "online-softmax"]]);
    // Two products of 2·n²·d, plus the softmax's few operations per score.
    expect(cost.flops / (4 * 4096 * 4096 * 64)).toBeGreaterThan(1);
    expect(cost.flops / (4 * 4096 * 4096 * 64)).toBeLessThan(1.1);
    // The wasm arena: Q, K, V and O, the kernel's packed copy of K (n·d floats) and its blocks of scores; the scores would be 64 MiB.
    expect(r.memory!.peakBytes).toBeLessThan(5 * 4096 * 64 * 4 + 65536);
  });

  it("the kernel lowering runs the fused def in one pass over j", () => {
    const p = runPasses(upTo(example("attention.tns"), ATTENTION_SMALL), [fuseOnlineSoftmax]).program;
    const [k] = lowerToKernels(p).kernels;
    expect(k!.onlineSoftmax).toBeDefined();
    expect(k!.loopOrder).toEqual(["i", "j", "e"]);
    expect(k!.blockedAttention).toMatchObject({ rows: 6, keys: 6, depth: 16, cols: 16, scale: 0.25 });
  });
});

describe("fused programs on the js backend against the reference interpreter", () => {
  const programs: Record<string, string> = {
    attention: example("attention.tns"),
    causal: example("causal_attention.tns"),
    // Later rows see only masked keys first: the running maximum stays -inf for a while.
    "masked from the start": "size n = 9, d = 16\ninput Q[n, d], K[n, d], V[n, d]\nS[i, j] = where(j >= i, Q[i, k] * K[j, k], -inf)\nM[i] = max(j) S[i, j]\nE[i, j] = exp(S[i, j] - M[i])\noutput O[i, e] = E[i, j] * V[j, e] / sum(l) E[i, l]\n",
    "a fully masked row (NaN in both)": "size n = 5, d = 16\ninput Q[n, d], K[n, d], V[n, d]\nS[i, j] = where(i < 4, Q[i, k] * K[j, k], -inf)\nM[i] = max(j) S[i, j]\nE[i, j] = exp(S[i, j] - M[i])\noutput O[i, e] = E[i, j] * V[j, e] / sum(l) E[i, l]\n",
  };
  for (const [name, source] of Object.entries(programs)) {
    it(name, () => {
      const passes = defaultPipeline().map((q) => (q.name === "fuse-online-softmax" ? fuseOnlineSoftmax : q));
      const r = compile(source, { backend: "js", passes, sizes: source.includes("size n = 256") || source.includes("size n = 128") ? { n: 13, d: 8 } : {} });
      expect(r.ok).toBe(true);
      expect(r.passLog.find((e) => e.pass === "fuse-online-softmax")!.changed).toBe(true);
      const reference = runPasses(r.loweredIr!, defaultPipeline().slice(0, 2)).program;
      for (const seed of [1, 2]) expectMatchesInterpreter(reference, (x) => r.run(x), inputsFor(reference, seed), 1e-5);
    });
  }
});

describe("parse-back", () => {
  it("the fused def prints and parses back", () => {
    const p = applyPass(fuseOnlineSoftmax, upTo(example("causal_attention.tns"), ATTENTION_SMALL));
    expect(printProgram(parseProgramText(printProgram(p)))).toBe(printProgram(p));
  });
});

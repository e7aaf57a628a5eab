/**
 * Weights in column panels on the wasm backend (panels.ts, the panel form of
 * emit-skinny.ts): a float32 weight read only by one-row products `x·W` is
 * rearranged into panels of 32 columns when it is copied into memory, and
 * those products read it as one stream. Checked: the rearrangement is a
 * permutation; which weights qualify (and which readers keep a weight
 * row-major); values against the reference interpreter at the edges of the
 * blocks (full panels, a vector rest, a scalar tail, each alone), with a
 * scale, an epilogue and relaxed SIMD; the bits of one thread when split
 * across threads; the standalone build's embedded data.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import {
  DiskCache, emitWasm, loadBinaryen, loadThreadHost, loadWasm, moduleCacheKey, wasmBackendFactory,
} from "../../src/backends/wasm/index.js";
import { emitWasmModule } from "../../src/backends/wasm/module.js";
import { PANEL_COLUMNS, packPanels, panelBlocks } from "../../src/backends/wasm/panels.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import type { Program } from "../../src/ir/types.js";
import { randomTensor } from "../../src/runtime/random.js";
import { checkSkinny, expectMatchesInterpreter, inputsFor, relativeError, runUnitsBackwards, skinnyForm } from "./support.js";
import { interpret } from "../../src/ir/interpret.js";
import { programCost } from "../../src/passes/cost.js";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const binaryen = await loadBinaryen();
const host = await loadThreadHost();

/** `C = A·W` with `m` rows, `W[k, n]` a bound weight (random data), optionally scaled or under an epilogue. */
function product(m: number, k: number, n: number, opts: { scale?: string; epilogue?: boolean; wInput?: boolean } = {}): Program {
  const sum = `sum(k:${k}) A[i, k] * W[k, j]${opts.scale ?? ""}`;
  const body = opts.epilogue ? `relu(${sum} + b[j])` : sum;
  const text = `input A: f32[${m}, ${k}]
${opts.wInput ? "input" : "weight"} W: f32[${k}, ${n}]
${opts.epilogue ? `input b: f32[${n}]\n` : ""}output C: f32[${m}, ${n}] = [i:${m}, j:${n}] ${body}
`;
  return parseProgramText(text, { weights: { W: Float64Array.from(randomTensor([k, n], "f32", 17).data) } });
}

const check = (p: Program, form: string): void => checkSkinny(binaryen, host, p, form);

describe("weights in column panels", () => {
  it("the blocks: full panels, a rest of a multiple of 4 columns, a tail of fewer than 4", () => {
    expect(panelBlocks(5, 64)).toEqual({ full: 2, vector: 0, scalar: 0, rest: 320, tail: 320 });
    expect(panelBlocks(2, 75)).toEqual({ full: 2, vector: 8, scalar: 3, rest: 128, tail: 144 });
    expect(panelBlocks(3, 3)).toEqual({ full: 0, vector: 0, scalar: 3, rest: 0, tail: 0 });
  });

  it("packPanels is a permutation that puts each panel's rows one after the other", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 140 }), (k, l) => {
      const src = Float64Array.from({ length: k * l }, (_, q) => q);
      const dst = new Float64Array(k * l).fill(-1);
      packPanels(src, k, l, dst);
      expect([...dst].sort((a, b) => a - b)).toEqual([...src]);
      const { full, vector, rest, tail } = panelBlocks(k, l);
      // Element (r, c) of a full panel p sits at p·32·k + 32·r + (c mod 32); of the rest and the tail likewise.
      for (let r = 0; r < k; r++) {
        for (let c = 0; c < l; c++) {
          const p = Math.floor(c / PANEL_COLUMNS);
          const at = p < full ? p * PANEL_COLUMNS * k + r * PANEL_COLUMNS + (c % PANEL_COLUMNS)
            : c < full * PANEL_COLUMNS + vector ? rest + r * vector + (c - full * PANEL_COLUMNS)
              : tail + r * (l - full * PANEL_COLUMNS - vector) + (c - full * PANEL_COLUMNS - vector);
          if (dst[at] !== r * l + c) return false;
        }
      }
      return true;
    }), { numRuns: 200 });
  });

  // Full panels only, a vector rest, a scalar tail, all three, fewer columns than a panel, k of 1.
  for (const [k, n] of [[7, 64], [9, 40], [5, 35], [33, 75], [3, 29], [1, 100], [130, 4099], [2, 4]] as const) {
    it(`x·W 1×${k}×${n}, W a weight: the panel form agrees with the interpreter`, () => check(product(1, k, n), "panels"));
  }
  it("with a scale, and under a bias and an activation", () => {
    check(product(1, 40, 70, { scale: " / 3" }), "panels");
    check(product(1, 40, 70, { epilogue: true }), "panels");
  });
  it("the rank-1 form, and W·x written with a weight stored k-major", () => {
    const w = Float64Array.from(randomTensor([33, 45], "f32", 4).data);
    check(parseProgramText("input x: f32[33]\nweight W: f32[33, 45]\noutput y: f32[45] = [j:45] sum(k:33) x[k] * W[k, j]\n", { weights: { W: w } }), "panels");
    check(parseProgramText("input x: f32[33]\nweight W: f32[33, 45]\noutput y: f32[45] = [i:45] sum(k:33) W[k, i] * x[k]\n", { weights: { W: w } }), "panels");
  });
  it("a weight two one-row products read is stored once in panels, and both read it so", () => {
    const w = Float64Array.from(randomTensor([20, 50], "f32", 5).data);
    const p = parseProgramText(`input x: f32[1, 20]
input z: f32[1, 20]
weight W: f32[20, 50]
output y: f32[1, 50] = [i:1, j:50] sum(k:20) x[i, k] * W[k, j]
output u: f32[1, 50] = [i:1, j:50] sum(k:20) z[i, k] * W[k, j] * 2
`, { weights: { W: w } });
    const kp = lowerToKernels(p);
    const art = emitWasm(binaryen, kp);
    expect(art.panels).toEqual([{ name: "W", k: 20, l: 50 }]);
    expect(programCost(p).tensors.map((t) => t.wasmKernel)).toEqual(["skinny-panels", "skinny-panels"]);
    expect(art.text).toMatch(/\$k0_\w+_panels /);
    expect(art.text).toMatch(/\$k1_\w+_panels /);
    expectMatchesInterpreter(p, (x) => loadWasm(art, kp).run(x), inputsFor(p, 2));
  });

  it("stays row-major when anything else reads it, when it is an input, with several rows, or when told", () => {
    const w = Float64Array.from(randomTensor([20, 48], "f32", 6).data);
    const plain = (source: string, options = {}): void => {
      const p = parseProgramText(source, { weights: { W: w } });
      const kp = lowerToKernels(p);
      const art = emitWasm(binaryen, kp, options);
      expect(art.panels).toEqual([]);
      expect(art.text).not.toMatch(/_panels /);
      if (Object.keys(options).length === 0) expect(programCost(p).tensors.map((t) => t.wasmKernel)).not.toContain("skinny-panels");
      expectMatchesInterpreter(p, (x) => loadWasm(art, kp).run(x), inputsFor(p, 2));
    };
    const oneRow = "input x: f32[1, 20]\nweight W: f32[20, 48]\noutput y: f32[1, 48] = [i:1, j:48] sum(k:20) x[i, k] * W[k, j]\n";
    // A second reader that is no one-row product: an elementwise one, a product with two rows, the transposed product.
    plain(`${oneRow}output s: f32[20, 48] = [k:20, j:48] W[k, j] * 2\n`);
    plain(`${oneRow}input z: f32[2, 20]\noutput u: f32[2, 48] = [i:2, j:48] sum(k:20) z[i, k] * W[k, j]\n`);
    plain(`${oneRow}input g: f32[1, 48]\noutput v: f32[1, 20] = [i:1, k:20] sum(j:48) g[i, j] * W[k, j]\n`);
    // The epilogue reads the weight itself.
    plain("input x: f32[1, 20]\nweight W: f32[20, 48]\noutput y: f32[1, 48] = [i:1, j:48] sum(k:20) x[i, k] * W[k, j] + W[0, j]\n");
    plain(oneRow, { panelWeights: false });
    plain(oneRow, { panelWeights: ["V"] });
    check(product(1, 40, 70, { wInput: true }), "axpy");
    check(product(2, 40, 70), "axpy");
  });

  for (const [k, n] of [[70, 2051], [12, 1000], [5, 300]] as const) {
    it(`split across threads (1×${k}×${n}): units in any order on any thread give the bits of one thread`, () => {
      const p = product(1, k, n);
      const kp = lowerToKernels(p);
      const threads = 3;
      const art = emitWasm(binaryen, kp, { threads, parallelMinFlops: 0 });
      expect(skinnyForm(art.text)).toBe("panels");
      const inputs = inputsFor(p, 4);
      const reference = loadWasm(emitWasm(binaryen, kp), kp).run(inputs)["C"]!;
      const view = runUnitsBackwards(art, kp, threads, (v) => {
        v("A").set(inputs["A"]!.data);
        packPanels(kp.buffers.find((b) => b.name === "W")!.data!, k, n, v("W"));
        v("C").fill(Number.NaN);
      });
      expect(Array.from(view("C")).every((x, q) => Object.is(x, reference.data[q]))).toBe(true);
    });
  }

  it("the backend with two threads gives the bits of one", async () => {
    const p = product(1, 512, 4096);
    const two = (await wasmBackendFactory())({ threads: 2 }).compile(p);
    const one = (await wasmBackendFactory())({ threads: 1 }).compile(p);
    expect(two.code).toContain("_panels");
    const inputs = inputsFor(p, 2);
    const got = two.executable.run(inputs)["C"]!.data;
    const want = one.executable.run(inputs)["C"]!.data;
    expect(Array.from(got).every((x, q) => Object.is(x, want[q]))).toBe(true);
    expectMatchesInterpreter(p, (x) => one.executable.run(x), inputs);
    two.executable.dispose?.();
  });

  it("the disk cache keeps which weights are in panels; an entry whose list is damaged is ignored", () => {
    const dir = mkdtempSync(join(tmpdir(), "tns-panels-cache-"));
    const disk = DiskCache.open(dir)!;
    const p = product(1, 40, 70);
    const kp = lowerToKernels(p);
    const key = moduleCacheKey(kp, { optimize: false });
    const art = disk.put(key, emitWasm(binaryen, kp));
    const back = disk.get(key, () => art.text)!;
    expect(back.panels).toEqual([{ name: "W", k: 40, l: 70 }]);
    expectMatchesInterpreter(p, (x) => loadWasm(back, kp).run(x), inputsFor(p, 7));
    const [file] = readdirSync(dir).filter((f) => f.endsWith(".wasmc"));
    const text = readFileSync(join(dir, file!)).toString("latin1");
    writeFileSync(join(dir, file!), Buffer.from(text.replace('"panels":[{"name":"W","k":40,"l":70}]', '"panels":[{"name":"W","k":0}]'), "latin1"));
    expect(DiskCache.open(dir)!.get(key, () => art.text)).toBeNull();
  });

  it("a standalone build embeds the weight in panels and marks it; an unbound weight is its input, row-major", async () => {
    const p = product(1, 20, 40);
    const files = emitWasmModule(binaryen, p, "panels", { wat: true, optimize: false });
    expect(files.manifest.buffers.find((b) => b.name === "W")).toMatchObject({ embedded: true, panels: true });
    expect(files.wat).toMatch(/_panels /);
    // The loader, run as written: its embedded weight is already in panels.
    const dir = mkdtempSync(join(tmpdir(), "tns-panels-"));
    writeFileSync(join(dir, "panels.mjs"), files.loader);
    const { load } = await import(pathToFileURL(join(dir, "panels.mjs")).href) as { load: (bytes: Uint8Array) => Promise<{ run: (x: object) => Record<string, { data: Float32Array }> }> };
    const inputs = inputsFor(p, 6);
    const got = (await load(files.binary)).run({ A: inputs["A"]!.data })["C"]!.data;
    expect(relativeError(got, interpret(p, inputs)["C"]!.data)).toBeLessThan(1e-5);
    const unbound = parseProgramText("input A: f32[1, 20]\nweight W: f32[20, 40]\noutput C: f32[1, 40] = [i:1, j:40] sum(k:20) A[i, k] * W[k, j]\n");
    const asInput = emitWasmModule(binaryen, unbound, "plain", { wat: true, optimize: false });
    expect(asInput.manifest.buffers.find((b) => b.name === "W")).not.toHaveProperty("panels");
    expect(asInput.manifest.inputs.map((i) => i.name)).toContain("W");
    expect(asInput.wat).not.toMatch(/_panels /);
  });
});

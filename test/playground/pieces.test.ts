// The playground's pieces that need no browser: the program in the URL
// fragment, the stdlib and examples it ships and its loader, and the output
// summary.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { check, compile } from "../../src/compiler.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { readFragment, sourceFragment } from "../../playground/src/share.js";
import { EXAMPLES, STDLIB, stdlibLoader } from "../../playground/src/sources.js";
import { formatNumber, summarize } from "../../playground/src/summary.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

describe("sharing by URL", () => {
  it("gives back any source from its fragment", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 400 }), (source) => {
      const fragment = sourceFragment(source);
      expect(fragment).toMatch(/^#src=[A-Za-z0-9_-]*$/);
      expect(readFragment(fragment)).toEqual({ source });
    }), { seed: 17, numRuns: 200 });
  });

  it("keeps the attention example short enough for a link", () => {
    const attention = EXAMPLES.get("attention")!;
    expect(sourceFragment(attention).length).toBeLessThan(attention.length);
  });

  it("reads example names, and nothing from an empty or damaged fragment", () => {
    expect(readFragment("#example=matmul")).toEqual({ example: "matmul" });
    expect(readFragment("")).toBeNull();
    expect(readFragment("#src=%%%")).toBeNull();
    expect(readFragment("#src=AAAA")).toBeNull();
  });
});

describe("what the playground ships", () => {
  it("has every example and stdlib module", () => {
    const names = (dir: string): string[] => readdirSync(`${ROOT}${dir}`).filter((f) => f.endsWith(".tns")).map((f) => f.slice(0, -4)).sort();
    expect([...EXAMPLES.keys()].sort()).toEqual(names("examples"));
    expect([...STDLIB.keys()].sort()).toEqual(names("stdlib"));
    expect(EXAMPLES.get("attention")).toBe(readFileSync(`${ROOT}examples/attention.tns`, "utf8"));
  });

  it.each([...EXAMPLES.keys()])("checks %s with the bundled stdlib as the file system's loader does", (name) => {
    const source = EXAMPLES.get(name)!;
    const page = check(source, { file: "main.tns", loader: stdlibLoader });
    const disk = check(source, { file: "main.tns" });
    expect(page.diagnostics).toEqual(disk.diagnostics);
    expect(page.program).not.toBeNull();
    expect(page.program).toEqual(disk.program);
  });

  it("says what a missing import is, with the stdlib's modules to pick from", () => {
    const { diagnostics } = check('import "nnn"\ninput X[2, 3]\noutput Y = softmax(X)\n', { file: "main.tns", loader: stdlibLoader });
    const disk = check('import "nnn"\ninput X[2, 3]\noutput Y = softmax(X)\n', { file: "main.tns" });
    expect(diagnostics.length).toBeGreaterThan(0);
    expect(diagnostics.map((d) => [d.code, d.span?.start, d.hint])).toEqual(disk.diagnostics.map((d) => [d.code, d.span?.start, d.hint]));
    expect(stdlibLoader.resolve("main.tns", "./blocks.tns")).toBeNull();
  });
});

describe("the output summary", () => {
  it("gives shape, min, max, mean and the first values", () => {
    const s = summarize(Tensor.fromArray([[1, -2, 3], [4, 5, 6]]));
    expect(s).toEqual({ shape: [2, 3], dtype: "f32", min: -2, max: 6, mean: 17 / 6, nans: 0, first: [1, -2, 3, 4, 5, 6] });
    const big = compile("size n = 20\ninput X[n]\noutput Y[i] = 2 * X[i]").run({ X: Tensor.fromArray(Array.from({ length: 20 }, (_, k) => k)) }).Y!;
    expect(summarize(big).first).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
  });

  it("counts NaNs apart", () => {
    const s = summarize(Tensor.fromArray([NaN, 1, 3]));
    expect([s.min, s.max, s.mean, s.nans]).toEqual([1, 3, 2, 1]);
    expect(Number.isNaN(summarize(Tensor.fromArray([NaN])).mean)).toBe(true);
  });

  it("prints six significant digits", () => {
    expect([formatNumber(0.000716572123), formatNumber(1 / 3), formatNumber(-Infinity), formatNumber(NaN), formatNumber(12)])
      .toEqual(["0.000716572", "0.333333", "-inf", "NaN", "12"]);
  });
});

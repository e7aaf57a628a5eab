// The symbol table behind hover, definition and rename: which use is which
// name, scoped as the language scopes them.
import { describe, expect, it } from "vitest";
import { parse } from "../../src/compiler.js";
import { buildSymbols, occurrenceAt, occurrencesOf } from "../../src/lsp/symbols.js";
import { analyze } from "../../src/lsp/analysis.js";
import { nodeLoader } from "../../src/checker/index.js";

/** The offsets of every occurrence of the binding at the `nth` place `needle` is written. */
function sameAs(source: string, needle: string, nth = 0): number[] {
  const at = [...source.matchAll(new RegExp(`\\b${needle}\\b`, "g"))][nth]!.index!;
  const table = buildSymbols(parse(source).module);
  const o = occurrenceAt(table, at)!;
  return occurrencesOf(table, o.binding).map((x) => x.span.start.offset);
}

const offsets = (source: string, needle: string, picks: number[]): number[] => {
  const all: number[] = [];
  for (const m of source.matchAll(new RegExp(`\\b${needle}\\b`, "g"))) all.push(m.index!);
  return picks.map((k) => all[k]!);
};

describe("symbols", () => {
  it("ties every use of a tensor and a size to its declaration", () => {
    const src = "size n = 4\ninput X[n]\nY[i] = X[i] * n\noutput Z[i] = Y[i] + X[i]\n";
    expect(sameAs(src, "X")).toEqual(offsets(src, "X", [0, 1, 2]));
    expect(sameAs(src, "n")).toEqual(offsets(src, "n", [0, 1, 2]));
  });

  it("ties a size in a stated extent on the left to its declaration", () => {
    const src = "size H = 4, W = 5\ninput X[H, W]\noutput Y[y < H, (x, r < W)] = X[y, x]\nZ[i < H * 2] = 1\n";
    expect(sameAs(src, "H")).toEqual(offsets(src, "H", [0, 1, 2, 3]));
    expect(sameAs(src, "W")).toEqual(offsets(src, "W", [0, 1, 2]));
  });

  it("gives a reduction its own index, and the Einstein-summed one to the def", () => {
    const src = "input E[3, 3]\noutput O[i] = E[i, j] / sum(j) E[i, j]\n";
    const outer = src.indexOf("j]");
    const table = buildSymbols(parse(src).module);
    const first = occurrenceAt(table, outer)!.binding;
    expect(first.indexRole).toBe("summed");
    const inner = occurrenceAt(table, src.indexOf("sum(j") + 4)!.binding;
    expect(inner.indexRole).toBe("reduction");
    expect(occurrencesOf(table, inner)).toHaveLength(2);
    expect(occurrencesOf(table, first)).toHaveLength(1);
  });

  it("keeps a function's parameters, sizes and result local to it", () => {
    const src = "size n = 2\nfn f(X[n, m]) -> Y[n] {\n  Y[i] = sum(j) X[i, j]\n}\ninput X[n, 3]\noutput Z = f(X)\n";
    const table = buildSymbols(parse(src).module);
    const param = occurrenceAt(table, src.indexOf("X["))!.binding;
    expect(param.fn).toBe("f");
    expect(occurrencesOf(table, param)).toHaveLength(2);
    const result = occurrenceAt(table, src.indexOf("Y["))!.binding;
    expect(occurrencesOf(table, result).map((o) => o.isDecl)).toEqual([true, true]);
    const m = occurrenceAt(table, src.indexOf("m]"))!.binding;
    expect(m.kind).toBe("size");
    expect(m.fn).toBe("f");
    const call = occurrenceAt(table, src.indexOf("f(X)"))!.binding;
    expect(call.kind).toBe("function");
    expect(occurrencesOf(table, call)).toHaveLength(2);
  });

  it("binds the functions of an import to the import", () => {
    const a = analyze('import "nn"\ninput S[2, 3]\noutput P = softmax(S)\n', "/nowhere/main.tns", nodeLoader());
    const o = occurrenceAt(a.symbols, a.text.indexOf("softmax"))!;
    expect(o.binding.importPath).toBe("nn");
    expect(a.imports.get("softmax")!.file).toBe("<stdlib>/nn.tns");
    expect(a.program?.tensors.find((t) => t.name === "P")?.shape).toEqual([2, 3]);
  });

  it("survives text that does not parse", () => {
    const a = analyze("input X[4\noutput Y[i] = X[i] +\n", "/nowhere/bad.tns", nodeLoader());
    expect(a.diagnostics.some((d) => d.severity === "error")).toBe(true);
    expect(a.program).toBeNull();
  });
});

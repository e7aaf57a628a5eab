/**
 * What a person reads next to a mistake: no cascading warnings beside an
 * error, "did you mean" for modules, and hints that name the fix.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { nodeLoader } from "../../src/checker/index.js";
import { mentionedNames } from "../../src/checker/unused.js";
import { plural, suggestion } from "../../src/checker/scope.js";
import { DiagnosticBag } from "../../src/diagnostics/diagnostic.js";
import { parseModule } from "../../src/parser/index.js";
import { check, memoryLoader } from "./helpers.js";

const codes = (r: ReturnType<typeof check>): string[] => r.diags.map((d) => d.code);

describe("no unused-input warnings beside errors", () => {
  test("the arguments of a call with the wrong arity are not reported unused", () => {
    const r = check('import "nn"\ninput S[4, 5], T[4, 5]\noutput P = softmax(S, T)', { loader: nodeLoader() });
    expect(codes(r)).toEqual(["TNS0401"]);
  });

  test("a misspelt tensor gives its error alone", () => {
    const r = check("size n = 4, d = 3\ninput Query[n, d]\noutput O[i, j] = Quer[i, k] * Query[j, k]");
    expect(codes(r)).toEqual(["TNS0101"]);
  });

  test("an unrelated error also silences it", () => {
    const r = check("input X[4], Z[4]\noutput Y[i] = X[i]\noutput W[i] = Qx[i]");
    expect(codes(r)).toEqual(["TNS0101"]);
  });

  test("a function parameter of the same name is not a use of the input", () => {
    const r = check("fn f(X[n]) -> Y[n] { Y[i] = X[i] }\ninput X[4], A[4]\noutput B = f(A)");
    expect(r.diags.map((d) => `${d.code} ${d.message}`)).toEqual(["TNS0111 input 'X' is never used"]);
  });

  test("a clean program still warns about an input nothing mentions", () => {
    const r = check("input X[4], Z[4]\noutput Y[i] = X[i]");
    expect(r.diags.map((d) => `${d.code} ${d.message}`)).toEqual(["TNS0111 input 'Z' is never used"]);
  });

  test("every name of a right side counts as mentioned, failed statements included", () => {
    const bag = new DiagnosticBag();
    const module = parseModule("input S[4], T[4], U[4]\noutput P = f(S, T)\nQ[i] = max(d < U) g(S)[i] + V[i, (a, b)]", "a.tns", bag);
    expect([...mentionedNames(module)].sort()).toEqual(["S", "T", "U", "V", "a", "b", "f", "g", "i"]);
  });
});

describe("did you mean, for modules", () => {
  test("a misspelt stdlib module", () => {
    const r = check('import "nm"\ninput X[4]\noutput Y[i] = X[i]', { loader: nodeLoader() });
    expect(r.diags[0]).toMatchObject({ code: "TNS0107", hint: 'did you mean "nn"?' });
  });

  test("a misspelt relative file, written as the user wrote it", () => {
    const dir = mkdtempSync(join(tmpdir(), "tns-near-"));
    mkdirSync(join(dir, "lib"));
    writeFileSync(join(dir, "lib", "blocks.tns"), "fn id(X[n]) -> Y { Y[i] = X[i] }\n");
    const src = 'import "./lib/blokcs"\nimport "./lib/blocsk.tns"\ninput X[4]\noutput Y[i] = X[i]';
    const r = check(src, { loader: nodeLoader() }, join(dir, "main.tns"));
    expect(r.diags.map((d) => d.hint)).toEqual(['did you mean "./lib/blocks"?', 'did you mean "./lib/blocks.tns"?']);
  });

  test("nothing close: the stdlib's modules are listed", () => {
    const r = check('import "transformers"\ninput X[4]\noutput Y[i] = X[i]', { loader: nodeLoader() });
    expect(r.diags[0]!.hint).toMatch(/the stdlib has .*"nn"/);
  });

  test("a loader that cannot list files still explains where paths are looked for", () => {
    const r = check('import "nm"\ninput X[4]\noutput Y[i] = X[i]', { loader: memoryLoader({}) });
    expect(r.diags[0]!.hint).toContain('import "nn"');
  });
});

describe("range hints name the bounded form", () => {
  test("pooling without extents suggests stating them", () => {
    const r = check("size c = 2, h = 8, w = 8\ninput X[c, h, w]\noutput P[ch, y, x] = max(dy, dx) X[ch, 2*y + dy, 2*x + dx]");
    const hints = r.diags.filter((d) => d.code === "TNS0204").map((d) => d.hint);
    expect(hints).toHaveLength(4);
    for (const h of hints) expect(h).toContain("max(dy < 2, dx < 2)");
  });

  test("only the still-unknown indices of the reduction are shown", () => {
    const r = check("size h = 8\ninput X[h, h]\noutput P[y, x] = max(dy < 2, dx) X[2*y + dy, 2*x + dx]");
    const hint = r.diags.find((d) => d.code === "TNS0204")!.hint!;
    expect(hint).toContain("max(dx < 2)");
  });

  test("an implicit sum is shown written out with its extent", () => {
    const r = check("input X[8]\noutput Q[i] = X[i + j]");
    expect(r.diags.find((d) => d.code === "TNS0204")!.hint).toContain("sum(j < 2)");
  });

  test("the stated form the hint suggests checks", () => {
    const r = check("size c = 2, h = 8, w = 8\ninput X[c, h, w]\noutput P[ch, y, x] = max(dy < 2, dx < 2) X[ch, 2*y + dy, 2*x + dx]");
    expect(r.diags).toEqual([]);
  });

  test("an index used only as a value may be a missing declaration", () => {
    const r = check("input B[4]\noutput V[i] = B[i] + sum(q < 2) 1 + r");
    expect(r.diags.find((d) => d.code === "TNS0204")!.hint).toContain("declare it");
  });
});

describe("wording", () => {
  test("counts agree with their nouns", () => {
    expect(plural(1, "argument")).toBe("1 argument");
    expect(plural(2, "argument")).toBe("2 arguments");
    expect(plural("1 to 2", "argument")).toBe("1 to 2 arguments");
    expect(plural(1, "index", "indices")).toBe("1 index");
    expect(plural(3, "index", "indices")).toBe("3 indices");
  });

  test("an unknown function called with indices gets a hint even when nothing is close", () => {
    const r = check("input B[4]\noutput V[i] = zzyzx(B[i])");
    expect(r.diags[0]).toMatchObject({ code: "TNS0104", hint: "define it with fn, or import it" });
  });
});

describe("suggestions are typos, not guesses", () => {
  test("a one-letter name is not matched to an unrelated one-letter name", () => {
    expect(suggestion("q", ["n", "m"])).toBeNull();
    expect(suggestion("q", ["n", "Q"])).toBe("Q");
    expect(suggestion("nm", ["linalg", "nn"])).toBe("nn");
  });

  test("an unknown size override with nothing close gets no hint", () => {
    const r = check("size n = 4\ninput X[n]\noutput Y[i] = X[i]", { sizes: { q: 3 } });
    expect(r.diags[0]).toMatchObject({ code: "TNS0303" });
    expect(r.diags[0]!.hint).toBe("its sizes are n");
  });
});

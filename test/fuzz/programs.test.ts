/**
 * Fuzzing programs: mutated examples, token soups, deep nesting and long
 * chains through check and compile. Every input gives either a program that
 * runs or diagnostics from the catalog with a place in the source; nothing
 * throws, and check and compile agree.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { check, compile } from "../../src/compiler.js";
import { numel, type Program } from "../../src/ir/types.js";
import { randomTensor } from "../../src/runtime/random.js";
import type { Tensor } from "../../src/runtime/tensor.js";
import { diagnosticProblems, fuzzParameters, fuzzTimeout } from "./support.js";

const ROOT = resolve(import.meta.dirname, "../..");
const EXAMPLES = readdirSync(join(ROOT, "examples")).filter((f) => f.endsWith(".tns")).map((f) => readFileSync(join(ROOT, "examples", f), "utf8"));

const PIECES = [
  "i", "j", "k", "n", "x", "X", "A", "[", "]", "(", ")", ",", "+", "-", "*", "/", "^", "=", "<", "<=", "==", "\n", " ",
  "sum(j)", "max(j)", "prod(k)", "tanh(", "exp(", "where(", "sqrt(", "output ", "input ", "weight ", "size ", "fn ", "import ",
  "\"nn\"", "{", "}", "->", ":", "f64", "i32", "0", "1", "2.5", "1e400", "-1", "99999999999", "(a, b)", "#", "\t", "@", "\u00e9", "\u0000",
];

/** Sizes kept small: the property is about the compiler, not about running large programs. */
const SMALL = { n: 3, k: 4, m: 5, d: 4, h: 2, b: 2, c: 2, r: 2 };

const mutated = fc.tuple(
  fc.integer({ min: 0, max: EXAMPLES.length - 1 }),
  fc.array(fc.tuple(fc.nat(), fc.nat({ max: 6 }), fc.constantFrom(...PIECES)), { minLength: 1, maxLength: 6 }),
).map(([which, edits]) => {
  let text = EXAMPLES[which]!;
  for (const [pos, del, piece] of edits) {
    const at = pos % (text.length + 1);
    text = text.slice(0, at) + piece + text.slice(at + del);
  }
  return text;
});

const soup = fc.array(fc.constantFrom(...PIECES), { maxLength: 80 }).map((p) => p.join(""));

/** One construct nested `depth` times around `x[i]`. */
const nested = fc.tuple(
  fc.array(fc.constantFrom("tanh(#)", "(#)", "-#", "where(x[i] > 0, #, 1)", "# * 2", "sum(j) # * A[i, j]", "f(#)", "x[i] ^ #", "max(#, 0)"), { minLength: 1, maxLength: 3 }),
  fc.integer({ min: 1, max: 400 }),
).map(([forms, depth]) => {
  let e = "x[i]";
  for (let k = 0; k < depth; k++) e = forms[k % forms.length]!.replace("#", e);
  return `fn f(B[q]) -> C[q] { C[t] = B[t] * 2 }\ninput x[4], A[4, 4]\noutput y[i] = ${e}\n`;
});

/** A flat chain of up to 3,000 terms with mixed operators. */
const chain = fc.tuple(fc.integer({ min: 1, max: 3000 }), fc.array(fc.constantFrom(" + ", " - ", " * ", " / "), { minLength: 1, maxLength: 4 }))
  .map(([n, ops]) => `input x[4]\noutput y[i] = x[i]${Array.from({ length: n }, (_, k) => `${ops[k % ops.length]}${k % 2 ? "x[i]" : "1.5"}`).join("")}\n`);

/** Checks and compiles a source; runs it on small random inputs when it compiled. */
/** An upper bound on the points a program's defs iterate over (the product of each def's ranges, summed). */
function iterationPoints(program: Program | null): number {
  let points = 0;
  for (const t of program?.tensors ?? []) {
    if (t.role === "def") points += Object.values(t.ranges).reduce((a, b) => a * b, 1);
  }
  return points;
}

function exercise(source: string, backend: "js" | "reference"): void {
  const checked = check(source, { sizes: {}, file: "fuzz.tns" });
  expect(diagnosticProblems(checked.diagnostics)).toEqual([]);
  const compiled = compile(source, { file: "fuzz.tns", backend });
  expect(diagnosticProblems(compiled.diagnostics)).toEqual([]);
  // check stops before the memory limit, which compile also applies.
  if (!compiled.diagnostics.some((d) => d.code === "TNS0305")) expect(compiled.ok).toBe(checked.program !== null);
  expect(typeof compiled.formatDiagnostics()).toBe("string");
  if (!compiled.ok) {
    expect(() => compiled.run({})).toThrow();
    return;
  }
  if (compiled.inputs.some((t) => numel(t.shape) > 1 << 16)) return;
  // A mutation can nest reductions into one def of billions of points: fine to compile, too slow to interpret here.
  if (iterationPoints(compiled.ir) > (backend === "reference" ? 2e7 : 2e8)) return;
  const inputs: Record<string, Tensor> = {};
  compiled.inputs.forEach((t, k) => {
    if (t.role === "input") inputs[t.name] = randomTensor(t.shape, t.dtype, k);
  });
  try {
    compiled.run(inputs);
  } catch (e) {
    // A weight without data is the one thing a compiled program may still lack;
    // random indices may fall outside the tensor a gather reads (a located run-time error).
    expect((e as Error).message).toMatch(/TNS0603|TNS0620/);
  }
}

describe("fuzzing programs", () => {
  // Cases run in CI, and about how long one may take on a loaded machine (for the timeout of longer runs).
  const cases: Record<string, [fc.Arbitrary<string>, number, number]> = {
    "mutated examples": [mutated, 150, 300],
    "token soups": [soup, 300, 50],
    "deep nesting": [nested, 60, 300],
    "long chains": [chain, 25, 2000],
  };
  for (const [what, [arbitrary, runs, msEach]] of Object.entries(cases)) {
    it(`${what}: a program that runs, or located diagnostics from the catalog`, () => {
      fc.assert(fc.property(arbitrary, fc.constantFrom("js" as const, "reference" as const), (source, backend) => exercise(source, backend)), fuzzParameters(runs));
    }, fuzzTimeout(runs, msEach));
  }

  it("small size overrides of the examples run", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: EXAMPLES.length - 1 }), (which) => {
      const source = EXAMPLES[which]!;
      const sizes = Object.fromEntries(Object.entries(SMALL).filter(([name]) => new RegExp(`\\bsize\\b[^\\n]*\\b${name}\\b`).test(source)));
      const compiled = compile(source, { sizes, file: `example${which}.tns` });
      expect(diagnosticProblems(compiled.diagnostics)).toEqual([]);
    }), fuzzParameters(EXAMPLES.length * 2));
  });
});

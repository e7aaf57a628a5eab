/**
 * Whole-pipeline properties: random IR programs written back as tns source
 * compile and compute what the reference interpreter computes on the
 * original IR; random garbage never crashes `compile`; huge sizes are
 * diagnostics, not crashes.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { check, compile, type CompileOptions } from "../../src/compiler.js";
import { arbProgram, randomInputs } from "../../src/ir/random-program.js";
import { interpret } from "../../src/interpret.js";
import type { DefNode, Program } from "../../src/ir/types.js";
import { boundVars } from "../../src/ir/walk.js";
import { inlineAllCalls } from "../../src/passes/inline-calls.js";
import { relativeError } from "../backends/support.js";
import { EXAMPLE_FILES, EXAMPLES_DIR } from "../examples/harness.js";
import { programToSource, sourceInputs, sourceWeights, unrepresentable, type ToSourceOptions } from "../support/to-source.js";

/**
 * A random program and an input seed. The call-free form is computed inside
 * the property: `.filter` on an `fc.gen()`-based arbitrary such as
 * `arbProgram` hands the property a regenerated value that the predicate
 * never saw (and `fc.gen().map(f).filter(p)` can loop forever), so
 * unrepresentable programs are skipped with `fc.pre` instead.
 */
const arbCase = fc.tuple(arbProgram(), fc.integer({ min: 0, max: 10_000 }));

/** The case with its call-free form, or a skipped run when that has no faithful source. */
function prepared(original: Program, seed: number): { original: Program; flat: Program; seed: number } {
  const flat = inlineAllCalls(original);
  fc.pre(unrepresentable(flat) === null);
  return { original, flat, seed };
}

/**
 * What source must reproduce of a def: the extents of the variables it uses
 * (inlining may leave range entries no variable uses, which source cannot
 * state), shape, grouping, indices, element type and output flag.
 */
function defKey(d: DefNode): string {
  const used = [...d.indices, ...boundVars(d.body)].sort();
  return JSON.stringify([used.map((v) => [v, d.ranges[v]]), d.shape, d.groups, d.indices, d.dtype, d.output]);
}

/** Differences between the defs of `want` and the same-named defs of `got` (ranges, shape, grouping, dtype, role). */
function defMismatches(want: Program, got: Program): string[] {
  const byName = new Map(got.tensors.map((t) => [t.name, t]));
  const out: string[] = [];
  for (const w of want.tensors) {
    if (w.role !== "def") continue;
    const g = byName.get(w.name);
    if (g?.role !== "def") {
      out.push(`${w.name}: missing`);
      continue;
    }
    if (defKey(w) !== defKey(g)) out.push(`${w.name}: ${defKey(w)} vs ${defKey(g)}`);
  }
  return out;
}

/**
 * The source for `flat`: with no extents stated when range inference alone
 * reproduces every def's iteration space (so inference is exercised), else
 * with every extent stated (bounded reductions, pinned left-side indices).
 */
function sourceFor(flat: Program): { text: string; options: ToSourceOptions } {
  const bare = programToSource(flat, { pin: false });
  const checked = check(bare, { weights: sourceWeights(flat) });
  if (checked.program !== null && defMismatches(flat, checked.program).length === 0) return { text: bare, options: { pin: false } };
  return { text: programToSource(flat, { pin: true }), options: { pin: true } };
}

/** Compiles the source of a case and checks it against the interpreter on the original IR. */
function expectSourceAgrees(c: { original: Program; flat: Program; seed: number }, options: CompileOptions, tol: number): "pinned" | "inferred" {
  const { text, options: how } = sourceFor(c.flat);
  const compiled = compile(text, { ...options, file: "random.tns", verify: true, weights: sourceWeights(c.flat) });
  expect(compiled.ok, `${text}\n${compiled.formatDiagnostics()}`).toBe(true);
  expect(defMismatches(c.flat, compiled.loweredIr!), text).toEqual([]);
  const inputs = randomInputs(c.original, c.seed);
  const want = interpret(c.original, inputs);
  const got = compiled.run(sourceInputs(c.flat, inputs, how));
  expect(Object.keys(got).sort(), text).toEqual(Object.keys(want).sort());
  for (const [name, w] of Object.entries(want)) {
    const g = got[name]!;
    expect(g.shape, `${name} in\n${text}`).toEqual(w.shape);
    // The interpreter computes in float64; a backend stores the node's type.
    const dtype = c.original.tensors.find((t) => t.name === name)!.dtype;
    expect(g.dtype, `${name} in\n${text}`).toBe(dtype);
    // The reference backend is the interpreter plus that storage rounding, so it is compared with the rounded oracle.
    const oracle = options.backend === "reference" ? w.astype(dtype) : w;
    expect(relativeError(g.data, oracle.data), `${name} in\n${text}`).toBeLessThanOrEqual(tol);
  }
  return how.pin === true ? "pinned" : "inferred";
}

describe("random IR programs through source and the whole pipeline", () => {
  it("agree with the interpreter on the original IR (js backend, optimized, within 1e-4)", () => {
    const seen = { pinned: 0, inferred: 0 };
    fc.assert(fc.property(arbCase, ([p, seed]) => void seen[expectSourceAgrees(prepared(p, seed), { backend: "js" }, 1e-4)]++), { numRuns: 200, seed: 42 });
    // Both source forms occur: inference alone, and stated extents.
    expect(seen.pinned).toBeGreaterThan(0);
    expect(seen.inferred).toBeGreaterThan(0);
  });

  it("agree unoptimized (js backend, optimize: false, within 1e-4)", () => {
    fc.assert(fc.property(arbCase, ([p, seed]) => void expectSourceAgrees(prepared(p, seed), { backend: "js", optimize: false }, 1e-4)), { numRuns: 100, seed: 7 });
  });

  it("agree on the reference backend within 1e-9", () => {
    fc.assert(fc.property(arbCase, ([p, seed]) => void expectSourceAgrees(prepared(p, seed), { backend: "reference" }, 1e-9)), { numRuns: 100, seed: 1234 });
  });
});

const EXAMPLES = EXAMPLE_FILES.map((f) => ({ file: `examples/${f}`, text: readFileSync(EXAMPLES_DIR + f, "utf8") }));

/** Source split into tokens the way a person edits it: names, numbers, strings, operators, blanks, comments. */
function tokens(text: string): string[] {
  return text.match(/\s+|#[^\n]*|[A-Za-z_]\w*|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|"[^"\n]*"?|->|<=|>=|==|!=|[\s\S]/g) ?? [];
}

const isName = (t: string): boolean => /^[A-Za-z_]\w*$/.test(t);
const isNumber = (t: string): boolean => /^\d/.test(t);
const NAMES = ["i", "j", "k", "n", "d", "Q", "S", "X", "sum", "max", "min", "exp", "where", "softmax", "mlp", "output", "input", "size", "fn", "inf", "zz", "Q2", "grad", "L"];
const NUMBERS = ["0", "-3", "99999999999", "4294967296", "1e308", "1e400", "2.5", "-0", "1", "65536"];
const JUNK = ["(", ")", "[", "]", ",", "=", "+", "*", "^", "<", "sum(", "max(i)", "(a, b)", "->", "{", "}", '"', "#", "\n", "\u0000", "\u00e9", "\ud83d\ude00", "\t", ":", "@"];

/** One edit of a token list, drawn from `r` (non-negative integers). */
type Edit = { kind: number; at: number; pick: number; bytes: string };

function applyEdit(toks: string[], e: Edit): string[] {
  const out = [...toks];
  if (out.length === 0) return [e.bytes];
  const k = e.at % out.length;
  const nthIndex = (pred: (t: string) => boolean): number => {
    const hits = out.flatMap((t, m) => (pred(t) ? [m] : []));
    return hits.length === 0 ? -1 : hits[e.pick % hits.length]!;
  };
  switch (e.kind) {
    case 0: // delete a token
      out.splice(k, 1);
      break;
    case 1: // duplicate a token
      out.splice(k, 0, out[k]!);
      break;
    case 2: { // swap two neighbouring non-blank tokens
      const a = nthIndex((t) => t.trim() !== "");
      const b = a < 0 ? -1 : out.findIndex((t, m) => m > a && t.trim() !== "");
      if (b >= 0) [out[a], out[b]] = [out[b]!, out[a]!];
      break;
    }
    case 3: { // rename every occurrence of a name
      const m = nthIndex(isName);
      if (m < 0) break;
      const from = out[m]!;
      const to = NAMES[e.pick % NAMES.length]!;
      for (let q = 0; q < out.length; q++) if (out[q] === from) out[q] = to;
      break;
    }
    case 4: { // rename one occurrence
      const m = nthIndex(isName);
      if (m >= 0) out[m] = NAMES[(e.pick >> 3) % NAMES.length]!;
      break;
    }
    case 5: { // replace a number with 0, huge, negative, fractional...
      const m = nthIndex(isNumber);
      if (m >= 0) out[m] = NUMBERS[(e.pick >> 2) % NUMBERS.length]!;
      break;
    }
    case 6: // insert a junk token
      out.splice(k, 0, JUNK[e.pick % JUNK.length]!);
      break;
    default: // random bytes
      out.splice(k, 0, e.bytes);
      break;
  }
  return out;
}

const arbEdit: fc.Arbitrary<Edit> = fc.record({
  kind: fc.integer({ min: 0, max: 7 }),
  at: fc.nat(),
  pick: fc.nat(),
  bytes: fc.string({ unit: "binary", maxLength: 6 }),
});

/** Compiles text that may be anything; checks it never throws and fails only with located, renderable errors. */
function expectCleanOutcome(text: string, file: string, options: CompileOptions = {}): ReturnType<typeof compile> {
  let compiled: ReturnType<typeof compile>;
  try {
    compiled = compile(text, { file, verify: true, ...options });
  } catch (e) {
    throw new Error(`compile threw on:\n${text}\n---\n${e instanceof Error ? e.stack : String(e)}`);
  }
  // A hang would hit vitest's test timeout; tests never assert on time.
  const rendered = compiled.formatDiagnostics();
  expect(rendered).not.toMatch(/internal compiler error|^\s+at \S+ \(/m);
  if (compiled.ok) {
    expect(compiled.ir, text).not.toBeNull();
    return compiled;
  }
  const errors = compiled.diagnostics.filter((d) => d.severity === "error");
  expect(errors.length, `no error diagnostic for a failed compile of\n${text}`).toBeGreaterThan(0);
  for (const d of errors) {
    expect(d.span, `${d.code} ${d.message} has no span`).toBeDefined();
    const source = compiled.sources.get(d.span!.file);
    expect(source, `${d.code}: span in unknown file ${d.span!.file}`).toBeDefined();
    expect(d.span!.start.line).toBeGreaterThanOrEqual(1);
    expect(d.span!.start.column).toBeGreaterThanOrEqual(1);
    expect(d.span!.start.line).toBeLessThanOrEqual(source!.split("\n").length);
  }
  expect(rendered).toMatch(/--> .+:\d+:\d+/);
  return compiled;
}

describe("garbage never crashes the pipeline", () => {
  it("mutated examples compile or fail with located diagnostics", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: EXAMPLES.length - 1 }), fc.array(arbEdit, { minLength: 1, maxLength: 4 }), (which, edits) => {
        const { file, text } = EXAMPLES[which]!;
        const mutated = edits.reduce(applyEdit, tokens(text)).join("");
        expectCleanOutcome(mutated, file);
      }),
      { numRuns: 400, seed: 99 },
    );
  });

  it("random bytes compile or fail with located diagnostics", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 80 }), (text) => void expectCleanOutcome(text, "bytes.tns")), { numRuns: 200, seed: 5 });
  });

  it("every example compiles unmutated (the mutation corpus is meaningful)", () => {
    const failing = EXAMPLES.filter((e) => !expectCleanOutcome(e.text, e.file).ok).map((e) => e.file);
    expect(failing).toEqual([]);
  });
});

describe("huge and invalid sizes are diagnostics", () => {
  const TEMPLATE = (n: string) => `size n = ${n}, d = 4\ninput X[n, d]\nS[i, j] = X[i, k] * X[j, k]\noutput O[i] = sum(j) S[i, j]\n`;

  it("size literals out of range give TNS0301 or TNS0302", () => {
    const big = fc.oneof(
      fc.bigInt({ min: 2n ** 31n, max: 10n ** 30n }).map(String),
      fc.bigInt({ min: -(10n ** 12n), max: 0n }).map(String),
      fc.constantFrom("99999999999", "1e400", "2.5", "0.0", "4294967296 * 4294967296", "3 / 0", "7 / 2", "0 - 5"),
    );
    fc.assert(
      fc.property(big, (n) => {
        const compiled = expectCleanOutcome(TEMPLATE(n), "huge.tns");
        expect(compiled.ok, n).toBe(false);
        expect(compiled.diagnostics.map((d) => d.code).filter((c) => c === "TNS0301" || c === "TNS0302").length, n).toBeGreaterThan(0);
      }),
      { numRuns: 60, seed: 11 },
    );
  });

  it("element counts past the limit give TNS0301, also through size overrides", () => {
    for (const n of [50_000, 99_999_999_999]) {
      const compiled = expectCleanOutcome(TEMPLATE("8"), "huge.tns", { sizes: { n } });
      expect(compiled.ok).toBe(false);
      expect(compiled.diagnostics.map((d) => d.code)).toContain("TNS0301");
    }
    const compiled = expectCleanOutcome("size n = 99999999999\ninput X[n]\noutput Y[i] = X[i]\n", "huge.tns");
    expect(compiled.diagnostics.map((d) => d.code)).toEqual(["TNS0301"]);
  });

  it("non-positive size overrides give TNS0302", () => {
    for (const n of [0, -4, 2.5]) {
      const compiled = expectCleanOutcome(TEMPLATE("8"), "huge.tns", { sizes: { n } });
      expect(compiled.ok, String(n)).toBe(false);
      expect(compiled.diagnostics.map((d) => d.code), String(n)).toContain("TNS0302");
    }
  });
});

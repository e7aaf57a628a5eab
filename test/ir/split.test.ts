/**
 * Index-set splitting in the IR (invariant 11, ir/split.ts): the text form,
 * the verifier, the pieces of a padded convolution (golden), and a property:
 * for random padded stencils (1-D and 2-D, any padding on either side,
 * strides, dilations, sums and maxima) the pieces evaluated one by one by
 * the reference interpreter give exactly the whole def's values, and the js
 * backend agrees.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/compiler.js";
import { interpret } from "../../src/ir/interpret.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printNode, printProgram } from "../../src/ir/print.js";
import { splitPieces } from "../../src/ir/split.js";
import type { DefNode, Program } from "../../src/ir/types.js";
import { stridesOf } from "../../src/ir/types.js";
import { verifyProgramErrors } from "../../src/ir/verify.js";
import { inputsFor, relativeError } from "../backends/support.js";
import { expectGolden } from "../golden.js";

const PADDED = `input X: f32[2, 5, 6]
input K: f32[3, 2, 3, 3]
output Y: f32[3, 5, 6] = split(y: 1, 4; x: 1, 5) [f:3, y:5, x:6] sum(ci:2, dx:3, dy:3) where((1 <= dx + x) * (1 <= dy + y) * (dx + x < 7) * (dy + y < 6), X?[ci, dy + y - 1, dx + x - 1] * K[f, ci, dy, dx], 0)
`;

const shapesOf = (p: Program): Map<string, readonly number[]> => new Map(p.tensors.map((t) => [t.name, t.shape]));

/** The def's values computed piece by piece with the interpreter, placed into one row-major array. */
function valuesByPieces(p: Program, def: DefNode, inputs: Parameters<typeof interpret>[1]): Float64Array {
  const out = new Float64Array(def.indices.reduce((n, v) => n * def.ranges[v]!, 1)).fill(NaN);
  const strides = stridesOf(def.indices.map((v) => def.ranges[v]!));
  for (const piece of splitPieces(def, shapesOf(p))) {
    const part: Program = { ...p, tensors: [...p.tensors.filter((t) => t.role === "input" || t.role === "weight"), { ...piece.def, output: true }] };
    const values = interpret(part, inputs)[def.name]!.data;
    const extents = def.indices.map((v) => piece.def.ranges[v]!);
    const local = stridesOf(extents);
    for (let k = 0; k < values.length; k++) {
      let at = 0;
      def.indices.forEach((v, d) => { at += (Math.floor(k / local[d]!) % extents[d]! + piece.origin[v]!) * strides[d]!; });
      expect(Number.isNaN(out[at]!), `element ${at} written twice`).toBe(true);
      out[at] = values[k]!;
    }
  }
  return out;
}

describe("index-set splitting in the IR", () => {
  it("prints and parses back", () => {
    const p = parseProgramText(PADDED);
    expect(printProgram(p)).toBe(PADDED);
    expect(verifyProgramErrors(p)).toEqual([]);
  });

  it("the verifier states invariant 11", () => {
    const bad = (split: string): string[] => verifyProgramErrors(parseProgramText(PADDED.replace("split(y: 1, 4; x: 1, 5)", split)));
    expect(bad("split(y: 4, 1)").join("\n")).toMatch(/cuts \[4, 1\] of 'y' are not increasing integers inside 1\.\.4 \(invariant 11\)/);
    expect(bad("split(y: 0)").join("\n")).toMatch(/invariant 11/);
    expect(bad("split(y: 5)").join("\n")).toMatch(/invariant 11/);
    expect(bad("split(dy: 1)").join("\n")).toMatch(/split index 'dy' is not an output index \(invariant 11\)/);
    expect(bad("split(y: 1; y: 2)").join("\n")).toMatch(/index 'y' is split twice \(invariant 11\)/);
    const recur = parseProgramText("input x: f32[4]\noutput C: f32[4] = recur(i) split(i: 1) [i:4] x[i] + where(i > 0, C[i - 1], 0)\n");
    expect(verifyProgramErrors(recur).join("\n")).toMatch(/the sequential index 'i' is split \(invariant 11\)/);
  });

  it("specialises each piece to its box (golden)", () => {
    const p = parseProgramText(PADDED);
    const def = p.tensors[2] as DefNode;
    const pieces = splitPieces(def, shapesOf(p));
    expect(pieces).toHaveLength(9);
    const text = pieces.map((piece) => `# origin ${def.indices.map((v) => `${v}=${piece.origin[v]}`).join(", ")}\n${printNode(piece.def)}\n`).join("");
    // The interior piece reads X without a guard and has no where left.
    expect(printNode(pieces[4]!.def)).not.toMatch(/\?|where/);
    expectGolden("split/conv-pieces", text);
  });

  it("pieces give exactly the whole def's values, and js agrees (random padded stencils)", () => {
    const stencil = fc.record({
      twoD: fc.boolean(),
      n: fc.integer({ min: 1, max: 9 }),
      m: fc.integer({ min: 1, max: 7 }),
      k: fc.integer({ min: 1, max: 5 }),
      lo: fc.integer({ min: 0, max: 6 }),
      hi: fc.integer({ min: 0, max: 6 }),
      stride: fc.integer({ min: 1, max: 3 }),
      dilation: fc.integer({ min: 1, max: 2 }),
      max: fc.boolean(),
    });
    let split = 0;
    fc.assert(
      fc.property(stencil, (s) => {
        const span = s.dilation * (s.k - 1) + 1;
        const extent = (n: number): number => Math.floor((n + s.lo + s.hi - span) / s.stride) + 1;
        if (extent(s.n) < 1 || (s.twoD && extent(s.m) < 1)) return;
        const [red, other] = s.max ? ["max", "-inf"] : ["sum", "0"];
        const at = (o: string, d: string): string => `${s.stride}*${o} + ${s.dilation}*${d}`;
        const inside = (o: string, d: string, n: string): string => `${at(o, d)} >= ${s.lo} && ${at(o, d)} < ${n} + ${s.lo}`;
        const source = s.twoD
          ? `size N = ${s.n}, M = ${s.m}\ninput X[N, M], K[${s.k}, ${s.k}]\n`
            + `output Y[y < ${extent(s.n)}, x < ${extent(s.m)}] = ${red}(dy, dx) where(${inside("y", "dy", "N")} && ${inside("x", "dx", "M")}, `
            + `X[${at("y", "dy")} - ${s.lo}, ${at("x", "dx")} - ${s.lo}]${s.max ? " + K[dy, dx]" : " * K[dy, dx]"}, ${other})\n`
          : `size N = ${s.n}\ninput X[N], K[${s.k}]\n`
            + `output Y[y < ${extent(s.n)}] = ${red}(dy) where(${inside("y", "dy", "N")}, X[${at("y", "dy")} - ${s.lo}]${s.max ? " + K[dy]" : " * K[dy]"}, ${other})\n`;
        const c = compile(source, { backend: "js", verify: true });
        expect(c.ok, `${source}\n${c.formatDiagnostics()}`).toBe(true);
        const p = c.ir!;
        const def = p.tensors.find((t) => t.name === "Y") as DefNode;
        if (def.split !== undefined) split++;
        const inputs = inputsFor(p, 5);
        const whole = interpret(p, inputs)["Y"]!.data;
        const pieces = valuesByPieces(p, def, inputs);
        expect(Array.from(pieces), source).toEqual(Array.from(whole));
        expect(relativeError(c.run(inputs)["Y"]!.data, whole), source).toBeLessThanOrEqual(1e-5);
      }),
      { seed: 20261207, numRuns: 150 },
    );
    // Most draws have an interior to cut out (the others are all border).
    expect(split).toBeGreaterThan(50);
  });
});

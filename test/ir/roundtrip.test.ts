import { describe, expect, test } from "vitest";
import fc from "fast-check";
import type { BinaryOp, Expr, Program, ReduceOp, TensorNode, UnaryOp } from "../../src/ir/types.js";
import { affine, binary, indexValue, num, reduce, select, unary } from "../../src/ir/types.js";
import { printExpr, printProgram } from "../../src/ir/print.js";
import { parseExprText, parseProgramText } from "../../src/ir/parse-text.js";
import { verifyProgramErrors } from "../../src/ir/verify.js";
import { interpret } from "../../src/ir/interpret.js";
import { arbInputs, arbProgram, randomInputs } from "../../src/ir/random-program.js";
import { attention, convAndKron, softmaxCall } from "./fixtures.js";

/** The program with weight data dropped (the text form does not hold it). */
function withoutData(p: Program): Program {
  const strip = (t: TensorNode): TensorNode => (t.role === "weight" ? { ...t, data: null } : t);
  return { ...p, tensors: p.tensors.map(strip) };
}

/** The bound weights' data, by name, to hand back to the parser. */
function weightData(p: Program): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const t of p.tensors) if (t.role === "weight" && t.data) out[t.name] = t.data;
  return out;
}

const UNARY: UnaryOp[] = ["neg", "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "relu", "abs"];
const BINARY: BinaryOp[] = ["add", "sub", "mul", "div", "pow", "min", "max", "lt", "le", "gt", "ge", "eq", "ne"];
const REDUCE: ReduceOp[] = ["sum", "max", "min", "prod"];

/** Arbitrary expressions with any doubles as constants (NaN, -0, infinities included). */
const arbExpr: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.double().map(num),
    fc.constantFrom("i", "j").map(indexValue),
    fc
      .array(fc.tuple(fc.constantFrom("i", "j", "k"), fc.integer({ min: -3, max: 3 })), { maxLength: 3 })
      .chain((terms) => fc.integer({ min: -5, max: 5 }).map((c) => ({ kind: "access" as const, tensor: "A", index: [affine(terms.map(([v, coef]) => ({ var: v, coef })), c)] }))),
    fc.tuple(fc.constantFrom(...UNARY), tie("e")).map(([op, a]) => unary(op, a)),
    fc.tuple(fc.constantFrom(...BINARY), tie("e"), tie("e")).map(([op, a, b]) => binary(op, a, b)),
    fc.tuple(tie("e"), tie("e"), tie("e")).map(([c, a, b]) => select(c, a, b)),
    fc.tuple(fc.constantFrom(...REDUCE), fc.constantFrom(["k"], ["l"], ["k", "l"]), tie("e")).map(([op, vs, b]) => reduce(op, vs, b)),
  ),
})).e;

describe("text round trip", () => {
  test("any expression prints and parses back to itself", () => {
    fc.assert(
      fc.property(arbExpr, (e) => {
        expect(parseExprText(printExpr(e, { k: 2, l: 3 })).expr).toEqual(e);
      }),
      { numRuns: 1000 },
    );
  });

  test("fixtures parse back to themselves", () => {
    for (const p of [attention(), convAndKron(), softmaxCall()]) {
      expect(parseProgramText(printProgram(p), { weights: weightData(p) })).toEqual(p);
    }
  });

  test("random programs are well-formed", () => {
    fc.assert(fc.property(arbProgram(), (p) => {
        expect(verifyProgramErrors(p)).toEqual([]);
      }), { numRuns: 300 });
  });

  test("parse(print(p)) equals p modulo weight data, and printing is idempotent", () => {
    fc.assert(
      fc.property(arbProgram({ unsafeOps: true }), (p) => {
        const text = printProgram(p);
        const back = parseProgramText(text);
        expect(back).toEqual(withoutData(p));
        expect(printProgram(back)).toBe(text.replace(/ \(data\)$/gm, ""));
      }),
      { numRuns: 300 },
    );
  });

  test("random programs with gradients are well-formed and parse back", () => {
    fc.assert(
      fc.property(arbProgram({ grads: true }), (p) => {
        expect(verifyProgramErrors(p)).toEqual([]);
        expect(p.tensors.some((t) => t.role === "grad")).toBe(p.tensors.some((t) => (t.role === "input" || t.role === "weight") && t.dtype !== "i32"));
        expect(parseProgramText(printProgram(p))).toEqual(withoutData(p));
      }),
      { numRuns: 200 },
    );
  });

  test("random programs run on random inputs, and the parsed copy gives the same values", () => {
    fc.assert(
      fc.property(arbProgram(), fc.integer(), (p, seed) => {
        const inputs = randomInputs(p, seed);
        const out = interpret(p, inputs);
        const again = interpret(parseProgramText(printProgram(p), { weights: weightData(p) }), inputs);
        expect(again).toEqual(out);
        for (const t of Object.values(out)) for (const v of t.data) expect(Number.isNaN(v)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  test("arbInputs fits every input of a program", () => {
    fc.assert(
      fc.property(arbProgram().chain((p) => arbInputs(p).map((x) => [p, x] as const)), ([p, x]) => {
        expect(Object.keys(interpret(p, x)).length).toBeGreaterThan(0);
      }),
      { numRuns: 50 },
    );
  });
});

import { describe, expect, it } from "vitest";
import { parseExprText, parseProgramText } from "../../src/ir/parse-text.js";
import { printExpr, printProgram } from "../../src/ir/print.js";
import { interpret } from "../../src/interpret.js";
import type { BinaryOp, DefNode, Expr, Program, UnaryOp } from "../../src/ir/types.js";
import { access, binary, unary } from "../../src/ir/types.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { canonicalize } from "../../src/passes/canonicalize.js";
import { evalBinary, evalUnary, foldConstants, foldExpr } from "../../src/passes/fold-constants.js";
import { expectGolden } from "../golden.js";
import { applyPass, expectSameValues } from "./support.js";

const UNARY_OPS: readonly UnaryOp[] = ["neg", "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "relu", "abs"];
const BINARY_OPS: readonly BinaryOp[] = ["add", "sub", "mul", "div", "pow", "min", "max", "lt", "le", "gt", "ge", "eq", "ne"];

/** `text` (an expression with extents on its reduction variables) folded, printed. */
function folded(text: string, ranges: Record<string, number> = {}): string {
  const { expr, ranges: reduceRanges } = parseExprText(text);
  return printExpr(foldExpr(expr, { ...reduceRanges, ...ranges }));
}

function def(p: Program, name: string): DefNode {
  return p.tensors.find((t) => t.name === name) as DefNode;
}

describe("fold-constants", () => {
  it("folds the header example", () => {
    const before = parseProgramText(`
input A: f32[4]
input B: f32[4]
input C: f32[4]
output Y: f32[4] = [i:4] sum(j:3) exp(A[i]) * (sqrt(64) - 7) + pow(where(1, B[i], C[i]), 2)
`);
    const after = applyPass(foldConstants, before);
    expect(printExpr(def(after, "Y").body)).toBe("3 * exp(A[i]) + B[i] * B[i]");
    expect(Object.keys(def(after, "Y").ranges)).toEqual(["i"]);
    expectGolden("fold-constants/header", `${printProgram(before)}\n# after fold-constants\n${printProgram(after)}`);
    expectSameValues(before, after);
  });

  it("evaluates constant operators like the interpreter", () => {
    expect(folded("sqrt(64)")).toBe("8");
    expect(folded("pow(2, 10) - 1 / 4")).toBe("1023.75");
    expect(folded("relu(-3) + sigmoid(0) + (2 < 3) + max(1, nan)")).toBe("nan");
    expect(folded("0.1 + 0.2")).toBe(String(0.1 + 0.2));
    expect(evalUnary("rsqrt", 4)).toBe(0.5);
    expect(evalBinary("ne", NaN, NaN)).toBe(1);
  });

  it("evaluates every operator exactly as the interpreter does, special values included", () => {
    const values = [0, -0, 1, -1, 0.5, -2.75, 3, 1e-310, 1e308, Infinity, -Infinity, NaN];
    const scalar = (name: string) => ({ role: "input" as const, name, dtype: "f64" as const, shape: [], output: false });
    const run = (body: Expr, a: number, b = 0): number => {
      const p: Program = {
        sizes: {},
        functions: {},
        tensors: [scalar("A"), scalar("B"), { role: "def", name: "Y", dtype: "f64", shape: [], output: true, indices: [], groups: [], ranges: {}, body }],
      };
      const t = (x: number) => new Tensor("f64", [], Float64Array.of(x));
      return interpret(p, { A: t(a), B: t(b) }).Y!.data[0]!;
    };
    for (const op of UNARY_OPS) {
      for (const a of values) expect(Object.is(evalUnary(op, a), run(unary(op, access("A", [])), a)), `${op}(${a})`).toBe(true);
    }
    for (const op of BINARY_OPS) {
      for (const a of values) {
        for (const b of values) {
          expect(Object.is(evalBinary(op, a, b), run(binary(op, access("A", []), access("B", [])), a, b)), `${op}(${a}, ${b})`).toBe(true);
        }
      }
    }
  });

  it("keeps identities that are wrong for inf and nan", () => {
    expect(folded("A[i] * 0", { i: 2 })).toBe("A[i] * 0");
    expect(folded("A[i] - A[i]", { i: 2 })).toBe("A[i] - A[i]");
    expect(folded("A[i] / A[i]", { i: 2 })).toBe("A[i] / A[i]");
    expect(folded("0 * inf")).toBe("nan");
    expect(folded("inf - inf")).toBe("nan");
    expect(folded("-inf + 1")).toBe("-inf");
  });

  it("applies the inf/nan-safe identities", () => {
    const r = { i: 2 };
    expect(folded("A[i] * 1 + -0", r)).toBe("A[i]");
    expect(folded("exp(A[i]) + 0", r)).toBe("exp(A[i])");
    expect(folded("(A[i] - 0) / 1", r)).toBe("A[i]");
    expect(folded("pow(A[i], 1) + pow(A[i], 0)", r)).toBe("1 + A[i]");
    expect(folded("min(A[i], inf) + max(-inf, A[i])", r)).toBe("A[i] + A[i]");
    expect(folded("where(A[i], 2, 2)", r)).toBe("2");
    expect(folded("where(0, 1, A[i])", r)).toBe("A[i]");
    expect(folded("where(nan, 1, A[i])", r)).toBe("1");
  });

  it("keeps x + 0 and sums of -0 exact for signed zeros", () => {
    const r = { i: 2 };
    // x + 0 is +0 where x is -0, so it only goes where x cannot be -0.
    expect(folded("A[i] + 0", r)).toBe("A[i] + 0");
    expect(folded("A[i] * 1 + 0", r)).toBe("0 + A[i]");
    expect(folded("A[i] - -0", r)).toBe("A[i] - -0");
    expect(folded("-0 + -0")).toBe("-0");
    // The sum loop starts from +0: summing -0 gives +0.
    expect(folded("sum(j:3) -0")).toBe("0");
    expect(folded("sum(j:3) A[i]", r)).toBe("0 + 3 * A[i]");
    expect(folded("sum(j:3) abs(A[i])", r)).toBe("3 * abs(A[i])");
  });

  it("squares only what is cheap to evaluate twice", () => {
    expect(folded("pow(A[i], 2)", { i: 2 })).toBe("A[i] * A[i]");
    expect(folded("pow(exp(A[i]), 2)", { i: 2 })).toBe("pow(exp(A[i]), 2)");
  });

  it("folds reductions over variables the body does not use", () => {
    expect(folded("sum(j:10) 0.1")).toBe(String([...Array(10)].reduce((a: number) => a + 0.1, 0)));
    expect(folded("max(j:5) A[i]", { i: 2 })).toBe("A[i]");
    expect(folded("sum(j:5, k:2) A[k]")).toBe("5 * sum(k) A[k]");
    expect(folded("prod(j:3) 2")).toBe("8");
    expect(folded("prod(j:3) A[i]", { i: 2 })).toBe("prod(j) A[i]");
    expect(folded("sum(j:3) A[i] * B[j]", { i: 2 })).toBe("sum(j) A[i] * B[j]");
  });

  it("keeps a canonical body canonical, folding constants that reordering brings together", () => {
    const p = canonicalize.run(parseProgramText("input A: f32[2]\ninput B: f32[2]\noutput Y: f32[2] = [i:2] 2 + A[i] + where(1, 3, B[i]) + A[i] * 1\n"));
    expect(printExpr(def(p, "Y").body)).toBe("2 + A[i] + A[i] + where(1, 3, B[i])");
    const after = foldConstants.run(p);
    expect(printExpr(def(after, "Y").body)).toBe("5 + A[i] + A[i]");
    expect(printProgram(canonicalize.run(after))).toBe(printProgram(after));
  });

  it("leaves a program without constants unchanged", () => {
    const p = parseProgramText("input A: f32[2]\noutput B: f32[2] = [i:2] exp(A[i])\n");
    expect(printProgram(foldConstants.run(p))).toBe(printProgram(p));
  });
});

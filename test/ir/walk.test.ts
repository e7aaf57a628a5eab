import { describe, expect, test } from "vitest";
import fc from "fast-check";
import type { Expr } from "../../src/ir/types.js";
import { access, affine, affineVar, binary, indexValue, num, reduce, unary } from "../../src/ir/types.js";
import { InternalCompilerError } from "../../src/diagnostics/diagnostic.js";
import {
  accessedTensors, affineToExpr, boundVars, exprEquals, exprHash, exprKey, exprSize, freeVars, mapExpr,
  renameTensors, renameVars, substituteAffine, substituteVars, visitExpr, freshNamer,
} from "../../src/ir/walk.js";
import { parseExprText } from "../../src/ir/parse-text.js";
import { printExpr } from "../../src/ir/print.js";
import { interpret } from "../../src/ir/interpret.js";
import { arbProgram } from "../../src/ir/random-program.js";

const parse = (text: string): Expr => parseExprText(text).expr;

describe("traversals", () => {
  const e = parse("sum(k) A[i, k] * B[k, j] + max(l:2) C[l] * i");

  test("freeVars excludes variables bound inside", () => {
    expect([...freeVars(e)]).toEqual(["i", "j"]);
    expect([...freeVars(parse("A[k + 1]"))]).toEqual(["k"]);
  });

  test("accessedTensors in first-access order", () => {
    expect([...accessedTensors(e)]).toEqual(["A", "B", "C"]);
  });

  test("boundVars and exprSize", () => {
    expect(boundVars(e)).toEqual(["k", "l"]);
    expect(exprSize(parse("A[i] + 1"))).toBe(3);
  });

  test("visitExpr passes the bound variables and can skip children", () => {
    const seen: string[] = [];
    visitExpr(e, (x, bound) => {
      if (x.kind === "access") seen.push(`${x.tensor}:${[...bound].join("")}`);
      return !(x.kind === "reduce" && x.op === "max");
    });
    expect(seen).toEqual(["A:k", "B:k"]);
  });

  test("mapExpr rebuilds bottom-up and keeps unchanged trees identical", () => {
    expect(mapExpr(e, (x) => x)).toBe(e);
    const twice = mapExpr(parse("A[i] * 2 + 2"), (x) => (x.kind === "const" && x.value === 2 ? num(3) : x));
    expect(printExpr(twice)).toBe("A[i] * 3 + 3");
  });
});

describe("substitution and renaming", () => {
  test("substituteAffine composes affine forms", () => {
    const a = affine([{ var: "i", coef: 2 }, { var: "j", coef: 1 }], 1);
    expect(substituteAffine(a, { i: affine([{ var: "y", coef: 1 }], 3), j: affine([{ var: "y", coef: -2 }]) })).toEqual(affine([], 7));
  });

  test("substituteVars rewrites indices and index values, and respects shadowing", () => {
    const out = substituteVars(parse("X[y + dy] + y + sum(y) Z[y]"), { y: affine([{ var: "y", coef: 2 }], -1) });
    expect(printExpr(out)).toBe("X[dy + 2*y - 1] + (2 * y - 1) + sum(y) Z[y]");
  });

  test("affineToExpr computes the affine value", () => {
    const a = affine([{ var: "a", coef: -1 }, { var: "b", coef: 3 }], -2);
    expect(printExpr(affineToExpr(a))).toBe("-a + 3 * b - 2");
    expect(affineToExpr(affine([], 5))).toEqual(num(5));
    expect(printExpr(affineToExpr(affine([{ var: "a", coef: -2 }], 0)))).toBe("-2 * a");
  });

  test("substituting an index value by an affine form keeps its value", () => {
    fc.assert(
      fc.property(fc.integer({ min: -3, max: 3 }), fc.integer({ min: -3, max: 3 }), fc.integer({ min: -5, max: 5 }), (p, q, c) => {
        const form = affine([{ var: "a", coef: p }, { var: "b", coef: q }], c);
        const e = substituteVars(indexValue("x"), { x: form });
        const program = programOf(e);
        const got = interpret(program, {}).R!.toArray() as number[][];
        for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) expect(got[a]![b]! + 0).toBe(p * a + q * b + c);
      }),
      { numRuns: 50 },
    );
  });

  test("substitution that would be captured is an internal error", () => {
    expect(() => substituteVars(parse("sum(k) A[i, k]"), { i: affineVar("k") })).toThrow(InternalCompilerError);
  });

  test("renameVars renames bound and free variables", () => {
    expect(printExpr(renameVars(parse("sum(k) A[i, k] * k"), { k: "k_1", i: "a" }))).toBe("sum(k_1) A[a, k_1] * k_1");
  });

  test("renameTensors on expressions and nodes", () => {
    expect(renameTensors(access("X", ["i"]), new Map([["X", "S"]]))).toEqual(access("S", ["i"]));
    const call = { role: "call" as const, name: "P", dtype: "f32" as const, shape: [2], output: false, fn: "f", args: ["X", "Y"] };
    expect(renameTensors(call, { X: "S", P: "Q" })).toMatchObject({ name: "Q", args: ["S", "Y"] });
    const same = access("A", ["i"]);
    expect(renameTensors(same, { X: "S" })).toBe(same);
  });
});

describe("equality and keys", () => {
  test("exprEquals is structural; constants compare with Object.is", () => {
    expect(exprEquals(parse("sum(k) A[i, k] * 2"), parse("sum(k) A[i, k] * 2"))).toBe(true);
    expect(exprEquals(parse("sum(k) A[i, k]"), parse("sum(l) A[i, l]"))).toBe(false);
    expect(exprEquals(num(NaN), num(NaN))).toBe(true);
    expect(exprEquals(num(0), num(-0))).toBe(false);
    expect(exprEquals(unary("exp", num(1)), unary("log", num(1)))).toBe(false);
    expect(exprEquals(binary("sub", num(1), num(2)), binary("sub", num(2), num(1)))).toBe(false);
  });

  test("keys and hashes agree with exprEquals on the subexpressions of random programs", () => {
    fc.assert(
      fc.property(arbProgram(), (p) => {
        const subs: Expr[] = [];
        for (const t of p.tensors) if (t.role === "def") visitExpr(t.body, (x) => void subs.push(x));
        for (let a = 0; a < subs.length; a++) {
          for (let b = 0; b < subs.length; b++) {
            const eq = exprEquals(subs[a]!, subs[b]!);
            expect(exprKey(subs[a]!) === exprKey(subs[b]!)).toBe(eq);
            if (eq) expect(exprHash(subs[a]!)).toBe(exprHash(subs[b]!));
          }
        }
      }),
      { numRuns: 100 },
    );
    expect(exprKey(reduce("sum", ["k"], access("A", [affine([{ var: "k", coef: 2 }], -1)])))).toBe("(sum{k} A[2k-1])");
  });
});

/** A program whose output R[a:2, b:3] is `e`. */
function programOf(e: Expr) {
  return {
    sizes: {},
    tensors: [
      { role: "def" as const, name: "R", dtype: "f32" as const, shape: [2, 3], output: true, indices: ["a", "b"], groups: [1, 1], ranges: { a: 2, b: 3 }, body: e },
    ],
    functions: {},
  };
}

describe("freshNamer", () => {
  test("never repeats a taken name nor one it gave", () => {
    const fresh = freshNamer(["H", "H_2"]);
    expect([fresh("H"), fresh("H"), fresh("G"), fresh("G")]).toEqual(["H_3", "H_4", "G", "G_2"]);
  });
});

/**
 * The checker on the constructs of docs/language.md's "Index arithmetic,
 * stated ranges and padding": how each lowers (the IR it gives), and a
 * located diagnostic with a hint for each misuse.
 */
import { describe, expect, test } from "vitest";
import { printExpr } from "../../src/ir/print.js";
import { check, defNode, lower } from "../checker/helpers.js";

function errors(text: string): string[] {
  return check(text).diags.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.span!.start.line}:${d.span!.start.column}`);
}

function firstError(text: string): { code: string; hint: string } {
  const d = check(text).diags.find((x) => x.severity === "error")!;
  expect(d, "an error").toBeDefined();
  expect(d.hint ?? "", `${d.code} has a hint`).not.toBe("");
  return { code: d.code, hint: d.hint! };
}

describe("logical operators", () => {
  test("&& binds tighter than ||, comparisons tighter than both, ! is a prefix", () => {
    const y = defNode(lower("input x[4]\noutput Y[i] = where(x[i] > 0 && i < 2 || !(i == 3), 1, 0)"), "Y");
    expect(printExpr(y.body)).toBe("where(max((x[i] > 0) * (i < 2), (i == 3) == 0), 1, 0)");
  });

  test("a value that is not a comparison counts as true when nonzero", () => {
    const y = defNode(lower("input x[4]\noutput Y[i] = x[i] && 1"), "Y");
    expect(printExpr(y.body)).toBe("(x[i] != 0) * (1 != 0)");
  });

  test("comparisons still do not chain inside a conjunction", () => {
    expect(errors("input x[4]\noutput Y[i] = where(0 < i < 2 && x[i] > 0, 1, 0)")).toEqual(["TNS0001 2:27"]);
  });
});

describe("index division and modulo", () => {
  test("h / 2 and h % 2 split h into the group (h_q, h_r)", () => {
    const y = defNode(lower("input X[3], M[2]\noutput Y[h] = X[h / 2] * M[h % 2]"), "Y");
    expect(y.indices).toEqual(["h_q", "h_r"]);
    expect(y.groups).toEqual([2]);
    expect(y.shape).toEqual([6]);
  });

  test("a bare use of a split index reads at 2*q + r, and the quotient's range shrinks to fit", () => {
    const y = defNode(lower("input X[8], M[2]\noutput Y[h] = X[h / 2] * M[h % 2] + X[h]"), "Y");
    expect(y.shape).toEqual([8]);
    expect(printExpr(y.body)).toContain("X[2*h_q + h_r]");
  });

  test("an index of an explicit or implicit sum is split too", () => {
    const p = lower("input A[5, 6]\noutput S[i] = A[i, k / 2]\noutput T[i] = sum(k < 12) A[i, k / 2] * (k % 2)");
    expect(printExpr(defNode(p, "S").body)).toBe("sum(k_q, k_r) A[i, k_q]");
    // As a value, k % 2 is the floor modulo of the number k = 2*k_q + k_r.
    expect(printExpr(defNode(p, "T").body)).toBe("sum(k_q, k_r) A[i, k_q] * (2 * k_q + k_r - 2 * floor((2 * k_q + k_r) / 2))");
    expect(errors("input A[5, 6]\noutput T[i] = sum(k < 11) A[i, k / 2]")).toEqual(["TNS0216 2:23"]);
  });

  test("% of values is the floor modulo", () => {
    const y = defNode(lower("input x[4]\noutput Y[i] = x[i] % 2"), "Y");
    expect(printExpr(y.body)).toBe("x[i] - 2 * floor(x[i] / 2)");
  });

  test("misuse", () => {
    expect(firstError("input X[4]\noutput A[h] = X[h % 0]").code).toBe("TNS0215");
    expect(errors("input X[4], M[2]\noutput B[h, j] = X[h / j] * M[j]")).toEqual(["TNS0214 2:24"]);
    expect(errors("input X[4]\noutput B[h] = X[h / 2] + X[h / 3]")).toEqual(["TNS0216 2:32"]);
    expect(firstError("input M[2]\noutput C[h < 5] = M[h % 2]")).toEqual({ code: "TNS0216", hint: "state an extent that 2 divides, e.g. h < 4" });
    expect(errors("input X[4]\noutput A[h] = X[(h + 1) % 2]")).toEqual(["TNS0206 2:18"]);
  });
});

describe("stated ranges and indices used only as values", () => {
  test("a stated left index may be used only as a value", () => {
    const oh = defNode(lower("size C = 5\ninput labels[3]: i32\noutput Oh[i, c < C] = labels[i] == c"), "Oh");
    expect(oh.shape).toEqual([3, 5]);
  });

  test("an index compared with another takes its range", () => {
    expect(defNode(lower("input v[4]\noutput D[i, j] = v[i] * (i == j)"), "D").shape).toEqual([4, 4]);
    expect(defNode(lower("input X[2, 6]\noutput Cs[b, i] = sum(j) where(j <= i, X[b, j], 0)"), "Cs").shape).toEqual([2, 6]);
  });

  test("a stated left index needs no use: the right side repeats along it", () => {
    expect(defNode(lower("input X[2, 3]\noutput Up[c, (h, r < 2)] = X[c, h]"), "Up").shape).toEqual([2, 6]);
  });

  test("misuse", () => {
    expect(firstError("input X[4]\noutput E[i, c] = X[i] * (c == 2)").hint).toContain("state it on the left");
    expect(errors("input X[4]\noutput Y[i < 5] = X[i]")).toEqual(["TNS0212 2:21"]);
    expect(errors("input X[6]\noutput F[i] = X[(i < 3, j < 2)] * X[(i < 4, j)]")).toEqual(["TNS0217 2:42"]);
    expect(errors("input X[4, 4]\noutput Y[i < j, j] = X[i, j]")).toEqual(["TNS0302 2:14"]);
  });
});

describe("neighbour offsets", () => {
  test("a bare index read at an offset takes the largest in-bounds range", () => {
    const p = lower("size N = 6, T = 5\ninput x[N], r[T], v[T + 1], U[N, N]\noutput Df[i] = x[i + 1] - x[i]\noutput delta[t] = r[t] + 0.99 * v[t + 1] - v[t]\noutput J[i, j] = 0.25 * (U[i, j + 1] + U[i + 2, j + 1] + U[i + 1, j] + U[i + 1, j + 2])");
    expect(defNode(p, "Df").shape).toEqual([5]);
    expect(defNode(p, "delta").shape).toEqual([5]);
    expect(defNode(p, "J").shape).toEqual([4, 4]);
  });

  test("bare uses of different extents without offsets are still TNS0202", () => {
    expect(errors("input A[4], B[5]\noutput Y[i] = A[i] + B[i]")).toEqual(["TNS0202 2:24"]);
  });

  test("a read below zero is still TNS0207", () => {
    expect(errors("input x[6]\noutput D[i] = x[i] - x[i - 1]")).toEqual(["TNS0207 2:24"]);
  });
});

describe("index groups", () => {
  test("any one unknown member is inferred; members may state their extents", () => {
    const s = defNode(lower("size Hh = 2\ninput Q[4, 8], K[4, 8]\noutput S[h, i, j] = Q[i, (h < Hh, e)] * K[j, (h, e)]"), "S");
    expect(s.shape).toEqual([2, 4, 4]);
    expect(s.ranges["e"]).toBe(4);
  });

  test("a group of a dimension declared as a product takes its factors", () => {
    const y = defNode(lower("size C = 2, R = 3, H = 2, W = 2\ninput X[C * R * R, H, W]\noutput Y[c, (h, r1), (w, r2)] = X[(c, r1, r2), h, w]"), "Y");
    expect(y.shape).toEqual([2, 6, 6]);
  });

  test("two unknown members: TNS0204 with a hint to state one", () => {
    expect(firstError("input X[12]\noutput D[c, d] = X[(c, d)]")).toEqual({
      code: "TNS0204", hint: "in X[(c, d)] only one unknown member of a group can be inferred, but 'c' and 'd' are unknown; state all but one, e.g. (c < 2, d)",
    });
  });
});

describe("zero padding", () => {
  const conv = "size H = 5\ninput X[H], K[3]\noutput Y[y < H] = sum(dy) where(y + dy >= 1 && y + dy <= H, X[y + dy - 1] * K[dy], 0)";

  test("a read the guard keeps in bounds becomes a guarded access", () => {
    const y = defNode(lower(conv), "Y");
    expect(printExpr(y.body)).toContain("X?[dy + y - 1]");
    expect(y.shape).toEqual([5]);
  });

  test("a read the guard does not exclude: TNS0213, naming the missing condition", () => {
    const d = firstError("size H = 5\ninput X[H], K[3]\noutput Y[y < H] = sum(dy) where(y + dy >= 1, X[y + dy - 1] * K[dy], 0)");
    expect(d).toEqual({
      code: "TNS0213",
      hint: "a read outside a tensor (zero padding) must sit in the then-branch of a where whose condition implies it is in bounds; add dy + y - 1 < 5 to the condition with &&",
    });
    expect(errors("size H = 5\ninput X[H], K[3]\noutput Y[y < H] = sum(dy) where(y + dy >= 1, X[y + dy - 1] * K[dy], 0)")).toEqual(["TNS0213 3:48"]);
  });

  test("the else branch is not guarded", () => {
    expect(errors("input X[5]\noutput Y[y < 5] = where(y >= 1, 0, X[y - 1])")).toEqual(["TNS0212 2:38"]);
  });

  test("without a stated extent a padded read pads symmetrically ('same' output), or not above where the guard stops it", () => {
    expect(defNode(lower("size H = 5\ninput X[H], K[3]\noutput Y[y] = sum(dy) where(y + dy >= 1 && y + dy <= H, X[y + dy - 1] * K[dy], 0)"), "Y").shape).toEqual([5]);
    expect(defNode(lower("size H = 5\ninput X[H], K[5]\noutput Y[y] = sum(dy) where(y + dy >= 2 && y + dy < H + 2, X[y + dy - 2] * K[dy], 0)"), "Y").shape).toEqual([5]);
    // A causal convolution: padding below only.
    expect(defNode(lower("input x[6], k[3]\noutput Y[t] = sum(j) where(t - j >= 0, x[t - j] * k[j], 0)"), "Y").shape).toEqual([6]);
  });

  test("a padded read whose range nothing gives: TNS0204", () => {
    expect(firstError("input X[5]\noutput Y[y] = where(y >= 1, X[y - 1 - j], 0)").code).toBe("TNS0204");
  });
});

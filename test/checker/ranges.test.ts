/**
 * Range inference: convolutions (valid, strided), reversal, shifts, and
 * grouped indices on both sides.
 */
import { describe, expect, test } from "vitest";
import { affine, access, binary, reduce } from "../../src/ir/types.js";
import { check, defNode, errorsOf, lower } from "./helpers.js";

const CONV = `size C = 3, H = 8, Wd = 7, O = 2, KH = 3, KW = 2
input X[C, H, Wd], W[O, C, KH, KW]
`;

describe("affine positions", () => {
  test("valid convolution: y gets H - KH + 1", () => {
    const y = defNode(lower(`${CONV}output Y[o, y, x] = X[c, y + dy, x + dx] * W[o, c, dy, dx]`), "Y");
    expect(y.shape).toEqual([2, 6, 6]);
    expect(y.ranges).toEqual({ o: 2, y: 6, x: 6, c: 3, dy: 3, dx: 2 });
    expect(y.body).toEqual(reduce("sum", ["c", "dy", "dx"], binary("mul",
      access("X", ["c", affine([{ var: "y", coef: 1 }, { var: "dy", coef: 1 }]), affine([{ var: "x", coef: 1 }, { var: "dx", coef: 1 }])]),
      access("W", ["o", "c", "dy", "dx"]))));
  });

  test("stride 2: y gets (H - KH) / 2 + 1, rounded down", () => {
    const y = defNode(lower(`${CONV}output Y[o, y, x] = X[c, 2*y + dy, 2*x + dx] * W[o, c, dy, dx]`), "Y");
    expect(y.shape).toEqual([2, 3, 3]);
  });

  test("a strided max pool with the window known from a kernel", () => {
    const p = lower("input X[2, 9], K[3]\noutput P[c, y] = max(dy) (X[c, 3*y + dy] + 0 * K[dy])");
    expect(defNode(p, "P").shape).toEqual([2, 3]);
  });

  test("reversal n - 1 - i has a negative coefficient", () => {
    const r = defNode(lower("size n = 5\ninput X[n]\noutput R[i] = X[n - 1 - i]"), "R");
    expect(r.shape).toEqual([5]);
    expect(r.body).toEqual(access("X", [affine([{ var: "i", coef: -1 }], 4)]));
  });

  test("a shift infers the largest in-bounds range", () => {
    // X[i + 1] is the only constraint on i: i gets 5.
    expect(defNode(lower("input X[6]\noutput D[i] = X[i + 1] * 2"), "D").shape).toEqual([5]);
  });

  test("several positions constrain one index: the smallest extent wins", () => {
    expect(defNode(lower("input X[6], Y[6], K[2]\noutput Z[i] = X[i + k] * Y[i + 2*k] * K[k]"), "Z").shape).toEqual([4]);
  });

  test("a neighbour index takes the largest range that keeps every read in bounds", () => {
    expect(defNode(lower("input X[6]\noutput D[i] = X[i + 1] - X[i]"), "D").shape).toEqual([5]);
  });

  test("a stated index shifted past the end is an error with the dimension size", () => {
    const r = check("input X[6]\noutput D[i < 6] = X[i + 1] - X[i]");
    expect(r.program).toBeNull();
    const d = r.diags.find((x) => x.code === "TNS0212")!;
    expect(d.message).toBe("index i + 1 of X ranges over 1..6 but dimension 1 has size 6");
    expect(d.notes[0]).toEqual({ message: "with i in 0..5" });
  });

  test("an index starting above zero is TNS0207", () => {
    expect(errorsOf("input X[6]\noutput D[i] = X[i - 2]")).toEqual(["TNS0207 2:17"]);
    expect(errorsOf("size n = 6\ninput X[n]\noutput D[i] = X[n - i]")).toEqual(["TNS0207 3:17"]);
  });

  test("two unknowns in one position cannot be inferred", () => {
    const r = check("input X[6]\noutput Y[i] = X[i + j]");
    const d = r.diags.filter((x) => x.code === "TNS0204");
    expect(d.map((x) => x.message)).toEqual(["the range of index 'i' cannot be inferred", "the range of index 'j' cannot be inferred"]);
    expect(d[0]!.hint).toContain("also unknown: j");
  });

  test("bare uses must agree, with a note at the other use", () => {
    const r = check("input A[4, 5]\noutput Y[i] = A[i, i]");
    const d = r.diags.find((x) => x.code === "TNS0202")!;
    expect(d.notes[0]!.span!.start.column).toBe(17);
    expect(d.span!.start.column).toBe(20);
  });

  test("non-affine indices", () => {
    // A tensor read inside an index is a gather, which needs an i32 tensor.
    expect(errorsOf("input X[4], I[4]\noutput Y[i] = X[I[i]]")).toEqual(["TNS0230 2:17"]);
    expect(errorsOf("input X[4]\noutput Y[i] = X[exp(i)]")).toEqual(["TNS0206 2:17"]);
    expect(errorsOf("input X[4]\noutput Y[i] = X[(i + 1) / 2]")).toEqual(["TNS0206 2:18"]);
    expect(defNode(lower("input X[4]\noutput Y[i] = X[(2 * i) / 2]"), "Y").body).toEqual(access("X", ["i"]));
  });
});

describe("groups", () => {
  test("left groups set groups and shape without moving data (Kronecker product)", () => {
    const k = defNode(lower("input A[2, 3], B[4, 5]\noutput K[(a, b), (c, d)] = A[a, c] * B[b, d]"), "K");
    expect(k.indices).toEqual(["a", "b", "c", "d"]);
    expect(k.groups).toEqual([2, 2]);
    expect(k.shape).toEqual([8, 15]);
  });

  test("right groups lower to c*|d| + d", () => {
    const y = defNode(lower("input x[12], u[3], v[4]\noutput Y[c, d] = x[(c, d)] * u[c] * v[d]"), "Y");
    expect(y.body).toEqual(binary("mul", binary("mul", access("x", [affine([{ var: "c", coef: 4 }, { var: "d", coef: 1 }])]), access("u", ["c"])), access("v", ["d"])));
  });

  test("the last index of a group is inferred when the dimension divides", () => {
    const y = defNode(lower("input x[12], u[3]\noutput Y[c, d] = x[(c, d)] * u[c]"), "Y");
    expect(y.shape).toEqual([3, 4]);
  });

  test("three-way groups and groups on both sides", () => {
    const y = defNode(lower("input x[24], u[2], v[3]\noutput Y[(a, b), c] = x[(a, b, c)] * u[a] * v[b]"), "Y");
    expect(y.shape).toEqual([6, 4]);
    expect(y.body).toEqual(binary("mul", binary("mul",
      access("x", [affine([{ var: "a", coef: 12 }, { var: "b", coef: 4 }, { var: "c", coef: 1 }])]), access("u", ["a"])), access("v", ["b"])));
  });

  test("a group whose first index has no extent elsewhere cannot be inferred", () => {
    const r = check("input x[12]\noutput Y[c, d] = x[(c, d)]");
    const d = r.diags.find((x) => x.code === "TNS0204")!;
    expect(d.hint).toContain("only one unknown member of a group can be inferred");
  });

  test("mismatched group extents are TNS0209", () => {
    expect(errorsOf("input x[12], u[5]\noutput Y[c, d] = x[(c, d)] * u[c]")).toEqual(["TNS0209 2:20"]);
  });
});

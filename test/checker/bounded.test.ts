/**
 * Bounded reduction indices (`max(dy < 2, dx < 2) ...`) and reductions that
 * rebind a left-side index (`Y[i, j] = E[i, j] / sum(j) E[i, j]`): range
 * inference, lowering, diagnostics and values on the reference interpreter.
 */
import { describe, expect, test } from "vitest";
import { interpret } from "../../src/interpret.js";
import { access, affine, binary, reduce } from "../../src/ir/types.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { check, defNode, errorsOf, lower } from "./helpers.js";

/** Runs a checked program on the interpreter; outputs as nested arrays. */
function run(src: string, inputs: Record<string, number[] | number[][] | number[][][]>, sizes: Record<string, number> = {}): Record<string, unknown> {
  const p = lower(src, { sizes });
  const ts = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, Tensor.fromArray(v)]));
  return Object.fromEntries(Object.entries(interpret(p, ts)).map(([k, v]) => [k, v.toArray()]));
}

const POOL = "output P[c, y, x] = max(dy < 2, dx < 2) X[c, 2*y + dy, 2*x + dx]";

describe("range inference with stated extents", () => {
  test("2×2 pooling, stride 2: the window is stated, y and x come from rule 2", () => {
    const p = defNode(lower(`input X[3, 9, 8]\n${POOL}`), "P");
    expect(p.shape).toEqual([3, 4, 4]); // (9 - 2) / 2 + 1 rounds down to 4
    expect(p.ranges).toEqual({ c: 3, y: 4, x: 4, dy: 2, dx: 2 });
    expect(p.body).toEqual(reduce("max", ["dy", "dx"], access("X", [
      "c", affine([{ var: "y", coef: 2 }, { var: "dy", coef: 1 }]), affine([{ var: "x", coef: 2 }, { var: "dx", coef: 1 }]),
    ])));
  });

  test("overlapping 3×3 windows with stride 2, bounds from sizes", () => {
    const src = "size k = 3, s = 2\ninput X[2, 7, 6]\noutput P[c, y, x] = max(dy < k, dx < k) X[c, s*y + dy, s*x + dx]";
    expect(defNode(lower(src), "P").shape).toEqual([2, 3, 2]);
    // A size override changes the window, and the inferred output with it.
    expect(defNode(lower(src, { sizes: { k: 2 } }), "P").shape).toEqual([2, 3, 3]);
  });

  test("bounded and unbounded indices mix in one list", () => {
    const p = defNode(lower("input X[4, 9], K[4]\noutput Y[y] = sum(c, dy < 3) X[c, y + dy] * K[c]"), "Y");
    expect(p.ranges).toEqual({ y: 7, c: 4, dy: 3 });
  });

  test("an extent is a size expression over sizes", () => {
    expect(defNode(lower("size n = 4\ninput X[10]\noutput Y = sum(t < 2*n - 1) X[t]"), "Y").ranges).toEqual({ t: 7 });
  });

  test("a bare use of a bounded index iterates a prefix of the dimension", () => {
    expect(defNode(lower("input X[5]\noutput Y = sum(t < 3) X[t]"), "Y").ranges).toEqual({ t: 3 });
    expect(run("input X[5]\noutput Y = sum(t < 3) X[t]", { X: [1, 2, 3, 4, 5] }).Y).toBe(6);
    // Another bare index in the same access still takes the dimension's extent.
    expect(defNode(lower("input X[5, 4]\noutput Y[j] = sum(t < 2) X[t, j]"), "Y").shape).toEqual([4]);
  });

  test("a bounded index need not occur in the body", () => {
    expect(run("input X[3]\noutput Y[i] = sum(t < 4) X[i]", { X: [1, 2, 3] }).Y).toEqual([4, 8, 12]);
  });

  test("nested bounded reductions over one name are renamed apart", () => {
    const y = defNode(lower("input X[6]\noutput Y[i] = sum(d < 2) (X[i + d] * sum(d < 3) X[i + d])"), "Y");
    expect(y.ranges).toEqual({ i: 4, d: 2, d_1: 3 });
  });
});

describe("pooling values on the interpreter", () => {
  // Row r, column q holds 10*r + q, so every window's max is its bottom-right corner.
  const grid = (h: number, w: number): number[][][] => [Array.from({ length: h }, (_, r) => Array.from({ length: w }, (_, q) => 10 * r + q))];

  test("2×2 windows, stride 2; the odd last column is dropped", () => {
    expect(run(`input X[1, 4, 5]\n${POOL}`, { X: grid(4, 5) }).P).toEqual([[[11, 13], [31, 33]]]);
  });

  test("overlapping 3×3 windows, stride 2", () => {
    const src = "input X[1, 5, 5]\noutput P[c, y, x] = max(dy < 3, dx < 3) X[c, 2*y + dy, 2*x + dx]";
    expect(run(src, { X: grid(5, 5) }).P).toEqual([[[22, 24], [42, 44]]]);
    // min pooling over the same windows picks the top-left corners.
    expect(run(src.replace("max(", "min("), { X: grid(5, 5) }).P).toEqual([[[0, 2], [20, 22]]]);
  });

  test("a 1-D moving sum with a stated window", () => {
    expect(run("input X[5]\noutput Y[y] = sum(d < 3) X[y + d]", { X: [1, 2, 3, 4, 5] }).Y).toEqual([6, 9, 12]);
  });
});

describe("bounded index diagnostics", () => {
  test("a stated extent larger than the dimension is TNS0212, with a note at the bound", () => {
    const r = check("input X[5]\noutput Y = sum(t < 6) X[t]");
    expect(r.program).toBeNull();
    const d = r.diags.find((x) => x.code === "TNS0212")!;
    expect(`${d.span!.start.line}:${d.span!.start.column}`).toBe("2:25");
    expect(d.message).toBe("index t of X ranges over 0..5 but dimension 1 has size 5");
    expect(d.notes.map((n) => [n.message, n.span && `${n.span.start.line}:${n.span.start.column}`])).toEqual([
      ["with t in 0..5", undefined],
      ["'t' has the stated extent 6", "2:20"],
    ]);
  });

  test("a window that does not fit beside the strided index is TNS0212", () => {
    const r = check("input X[2, 4]\noutput P[c, y] = max(dy < 5) X[c, 2*y + dy]");
    expect(r.diags.map((d) => `${d.code} ${d.span?.start.line}:${d.span?.start.column}`)).toEqual(["TNS0212 2:35"]);
    expect(r.diags[0]!.message).toBe("X[..dy + 2*y..] is out of bounds for every value of 'y' (dimension 2 has size 4)");
    expect(r.diags[0]!.notes.map((n) => `${n.message} ${n.span?.start.column}`)).toEqual(["'dy' has the stated extent 5 27"]);
  });

  test("an extent must be a positive integer: TNS0302", () => {
    expect(errorsOf("input X[5]\noutput Y[i] = sum(t < 0) X[t] * X[i]")).toEqual(["TNS0302 2:23"]);
    expect(errorsOf("size n = 2\ninput X[5]\noutput Y = sum(t < n - 3) X[t]")).toEqual(["TNS0302 3:20"]);
    expect(errorsOf("input X[5]\noutput Y = sum(t < 5 / 2) X[t]")).toEqual(["TNS0302 2:20"]);
    expect(errorsOf("input X[5]\noutput Y = sum(t < 2.5) X[t]")).toEqual(["TNS0302 2:20"]);
  });

  test("an extent using an index is TNS0302 with a masking hint, and nothing else", () => {
    const r = check("input X[5]\noutput Y[i] = sum(j < i) X[j]");
    expect(r.diags.map((d) => `${d.code} ${d.span?.start.line}:${d.span?.start.column}`)).toEqual(["TNS0302 2:23"]);
    expect(r.diags[0]!.message).toBe("the extent of 'j' must be a size expression, but it uses the index 'i'");
    expect(r.diags[0]!.hint).toContain("sum(j) where(j < i, body, 0)");
  });

  test("an unknown size in an extent is TNS0106", () => {
    expect(errorsOf("input X[5]\noutput Y = max(t < q) X[t]")).toEqual(["TNS0106 2:20"]);
  });

  test("an unbounded reduction index with no use is still TNS0204", () => {
    expect(errorsOf("input X[3]\noutput Y[i] = sum(t) X[i]")).toEqual(["TNS0204 2:19"]);
  });
});

describe("a reduction may rebind a left-side index", () => {
  const NORMALIZE = "input E[2, 3]\noutput Y[i, j] = E[i, j] / sum(j) E[i, j]";

  test("the reduced j is local: renamed apart from the j of Y", () => {
    const y = defNode(lower(NORMALIZE), "Y");
    expect(y.ranges).toEqual({ i: 2, j: 3, j_1: 3 });
    expect(y.body).toEqual(binary("div", access("E", ["i", "j"]), reduce("sum", ["j_1"], access("E", ["i", "j_1"]))));
  });

  test("it normalizes each row", () => {
    expect(run(NORMALIZE, { E: [[1, 1, 2], [3, 0, 1]] }).Y).toEqual([[0.25, 0.25, 0.5], [0.75, 0, 0.25]]);
  });

  test("a left index used only inside a reduction that rebinds it is TNS0203, with a hint", () => {
    const r = check("input X[4]\noutput Y[i] = sum(i) X[i]");
    expect(r.diags.map((d) => `${d.code} ${d.span?.start.line}:${d.span?.start.column}`)).toEqual(["TNS0203 2:10"]);
    expect(r.diags[0]!.hint).toContain("the 'i' inside the reduction is its own variable");
  });

  test("listing an index twice is still TNS0208", () => {
    expect(errorsOf("input X[4, 4]\noutput Y[i] = sum(j, j) X[i, j]")).toEqual(["TNS0208 2:22"]);
  });
});

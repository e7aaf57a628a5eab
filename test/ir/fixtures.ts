/**
 * Small hand-built programs shared by the IR tests.
 */
import type { DefNode, Expr, Program, TensorNode } from "../../src/ir/types.js";
import { access, affine, binary, indexValue, num, reduce, select, unary } from "../../src/ir/types.js";

/** A def with every index ungrouped; `ranges` covers output and reduced variables. */
export function def(name: string, indices: string[], ranges: Record<string, number>, body: Expr, output = false): DefNode {
  return {
    role: "def",
    name,
    dtype: "f32",
    shape: indices.map((v) => ranges[v]!),
    output,
    indices,
    groups: indices.map(() => 1),
    ranges,
    body,
  };
}

/** An input node. */
export function input(name: string, shape: number[], output = false): TensorNode {
  return { role: "input", name, dtype: "f32", shape, output };
}

/** Scaled dot-product attention, n=4, d=8. */
export function attention(): Program {
  const S = def(
    "S",
    ["i", "j"],
    { i: 4, j: 4, k: 8 },
    reduce("sum", ["k"], binary("div", binary("mul", access("Q", ["i", "k"]), access("K", ["j", "k"])), num(Math.sqrt(8)))),
  );
  const M = def("M", ["i"], { i: 4, j: 4 }, reduce("max", ["j"], access("S", ["i", "j"])));
  const E = def("E", ["i", "j"], { i: 4, j: 4 }, unary("exp", binary("sub", access("S", ["i", "j"]), access("M", ["i"]))));
  const O = def(
    "O",
    ["i", "e"],
    { i: 4, e: 8, j: 4, j_1: 4 },
    reduce(
      "sum",
      ["j"],
      binary("div", binary("mul", access("E", ["i", "j"]), access("V", ["j", "e"])), reduce("sum", ["j_1"], access("E", ["i", "j_1"]))),
    ),
    true,
  );
  return {
    sizes: { n: 4, d: 8 },
    tensors: [input("Q", [4, 8]), input("K", [4, 8]), input("V", [4, 8]), S, M, E, O],
    functions: {},
  };
}

/** 1-D convolution with stride 2 and a causal mask, plus a Kronecker product with groups. */
export function convAndKron(): Program {
  const Y = def(
    "Y",
    ["y"],
    { y: 3, dy: 3 },
    reduce("sum", ["dy"], binary("mul", access("X", [affine([{ var: "y", coef: 2 }, { var: "dy", coef: 1 }], 1)]), access("W", ["dy"]))),
  );
  const Mask = def(
    "Mask",
    ["i", "j"],
    { i: 3, j: 3 },
    select(binary("le", indexValue("j"), indexValue("i")), access("Y", ["j"]), num(-Infinity)),
    true,
  );
  const Kr: DefNode = {
    role: "def",
    name: "Kr",
    dtype: "f32",
    shape: [6, 6],
    output: true,
    indices: ["a", "b", "c", "d"],
    groups: [2, 2],
    ranges: { a: 2, b: 3, c: 2, d: 3 },
    body: binary("mul", access("A", ["a", "c"]), access("B", ["b", "d"])),
  };
  return {
    sizes: {},
    tensors: [
      input("X", [8]),
      { role: "weight", name: "W", dtype: "f32", shape: [3], output: false, data: Float64Array.from([1, 2, 3]) },
      input("A", [2, 2]),
      input("B", [3, 3]),
      Y,
      Mask,
      Kr,
    ],
    functions: {},
  };
}

/** A function (row softmax) and a call of it. */
export function softmaxCall(): Program {
  const M = def("M", ["i"], { i: 2, j: 3 }, reduce("max", ["j"], access("X", ["i", "j"])));
  const E = def("E", ["i", "j"], { i: 2, j: 3 }, unary("exp", binary("sub", access("X", ["i", "j"]), access("M", ["i"]))));
  const Yd = def("Y", ["i", "j"], { i: 2, j: 3, j_1: 3 }, binary("div", access("E", ["i", "j"]), reduce("sum", ["j_1"], access("E", ["i", "j_1"]))));
  return {
    sizes: {},
    tensors: [
      input("S", [2, 3]),
      { role: "call", name: "P", dtype: "f32", shape: [2, 3], output: true, fn: "softmax_1", args: ["S"] },
    ],
    functions: { softmax_1: { name: "softmax_1", params: [{ role: "input", name: "X", dtype: "f32", shape: [2, 3], output: false }], tensors: [M, E, Yd], result: "Y" } },
  };
}

import { describe, expect, test } from "vitest";
import type { DefNode, Program, TensorNode } from "../../src/ir/types.js";
import { access, affine, indexValue, num, reduce, binary } from "../../src/ir/types.js";
import { InternalCompilerError } from "../../src/diagnostics/diagnostic.js";
import { affineBounds, verifyProgram, verifyProgramErrors } from "../../src/ir/verify.js";
import { attention, convAndKron, def, input, softmaxCall } from "./fixtures.js";

/** `p` with the tensor named `name` replaced by `f` of it. */
function edit(p: Program, name: string, f: (t: TensorNode) => TensorNode): Program {
  return { ...p, tensors: p.tensors.map((t) => (t.name === name ? f(t) : t)) };
}
const editDef = (p: Program, name: string, f: (d: DefNode) => DefNode): Program => edit(p, name, (t) => f(t as DefNode));

function expectError(p: Program, pattern: RegExp): void {
  const errors = verifyProgramErrors(p);
  expect(errors.some((e) => pattern.test(e)), `errors were:\n${errors.join("\n")}`).toBe(true);
}

describe("well-formed programs", () => {
  test("the fixtures verify", () => {
    for (const p of [attention(), convAndKron(), softmaxCall()]) expect(verifyProgramErrors(p)).toEqual([]);
  });

  test("verifyProgram throws an internal compiler error naming the stage", () => {
    const bad = editDef(attention(), "M", (d) => ({ ...d, body: access("S", ["i", "i", "i"]) }));
    expect(() => verifyProgram(bad, "after cse")).toThrow(InternalCompilerError);
    expect(() => verifyProgram(bad, "after cse")).toThrow(/IR invalid after cse:\n  tensor 'M': access S\[i, i, i\] has 3 indices/);
  });

  test("affine bounds over a box", () => {
    expect(affineBounds(affine([{ var: "y", coef: 2 }, { var: "dy", coef: 1 }], -1), { y: 3, dy: 2 })).toEqual({ min: -1, max: 4 });
    expect(affineBounds(affine([{ var: "i", coef: -1 }], 3), { i: 4 })).toEqual({ min: 0, max: 3 });
  });
});

describe("invariant 1: unique names, topological order", () => {
  test("a name defined twice", () => {
    const p = attention();
    expectError({ ...p, tensors: [...p.tensors, input("S", [4, 4])] }, /tensor 'S': the name is defined twice \(invariant 1\)/);
  });
  test("an access to a later tensor", () => {
    const p = attention();
    const [q, k, v, s, m, e, o] = p.tensors;
    expectError({ ...p, tensors: [q!, k!, v!, m!, s!, e!, o!] }, /tensor 'M': access S\[i, j\] reads 'S', which is not an earlier tensor/);
  });
  test("a def reading itself", () => {
    expectError(editDef(attention(), "E", (d) => ({ ...d, body: access("E", ["i", "j"]) })), /tensor 'E'.*reads 'E'.*invariant 1/);
  });
});

describe("invariant 2: indices and ranges", () => {
  test("repeated output indices", () => {
    expectError(editDef(attention(), "E", (d) => ({ ...d, indices: ["i", "i"] })), /tensor 'E': output indices \[i, i\] are not distinct/);
  });
  test("an output index without a range", () => {
    expectError(editDef(attention(), "M", (d) => ({ ...d, ranges: { j: 4 } })), /tensor 'M': output index 'i' has no positive integer range/);
  });
  test("a range that is not a positive integer", () => {
    expectError(editDef(attention(), "M", (d) => ({ ...d, ranges: { i: 4, j: 0 } })), /tensor 'M': range of 'j' is 0/);
  });
  test("a reduced variable that is an output index", () => {
    expectError(editDef(attention(), "M", (d) => ({ ...d, body: reduce("max", ["i"], access("S", ["i", "i"])) })), /reduced variable 'i' is also an output index/);
  });
  test("a variable bound by two reductions", () => {
    const body = binary("add", reduce("sum", ["j"], access("S", ["i", "j"])), reduce("max", ["j"], access("S", ["i", "j"])));
    expectError(editDef(attention(), "M", (d) => ({ ...d, body })), /tensor 'M': variable 'j' is bound by more than one reduction/);
  });
  test("a variable used outside its reduction", () => {
    const body = binary("add", reduce("sum", ["j"], access("S", ["i", "j"])), indexValue("j"));
    expectError(editDef(attention(), "M", (d) => ({ ...d, body })), /tensor 'M': an index value uses variable 'j', which is neither an output index nor bound/);
  });
  test("a reduced variable without a range", () => {
    expectError(editDef(attention(), "M", (d) => ({ ...d, ranges: { i: 4 } })), /reduced variable 'j' has no positive integer range/);
  });
});

describe("invariant 3: shape and groups", () => {
  test("groups that do not partition the indices", () => {
    expectError(editDef(convAndKron(), "Kr", (d) => ({ ...d, groups: [2, 1] })), /tensor 'Kr': groups \[2, 1\] do not partition its 4 indices/);
  });
  test("a shape that disagrees with the grouped extents", () => {
    expectError(editDef(convAndKron(), "Kr", (d) => ({ ...d, shape: [6, 5] })), /tensor 'Kr': dimension 2 has extent 5 but its indices \(c, d\) span 6/);
  });
  test("as many groups as dimensions", () => {
    expectError(editDef(convAndKron(), "Kr", (d) => ({ ...d, groups: [4] })), /1 groups for a shape of rank 2/);
  });
});

describe("invariant 4: accesses", () => {
  test("wrong number of indices", () => {
    expectError(editDef(attention(), "M", (d) => ({ ...d, body: reduce("max", ["j"], access("S", ["j"])) })), /access S\[j\] has 1 indices for a tensor of rank 2/);
  });
  test("an index out of bounds over the variables' ranges", () => {
    const body = access("X", [affine([{ var: "y", coef: 2 }, { var: "dy", coef: 1 }], 2)]);
    expectError(
      editDef(convAndKron(), "Y", (d) => ({ ...d, body: reduce("sum", ["dy"], body) })),
      /tensor 'Y': access X\[dy \+ 2\*y \+ 2\] index 1 takes values 2\.\.8, outside 0\.\.7 \(invariant 4\)/,
    );
  });
  test("a negative index", () => {
    expectError(editDef(attention(), "E", (d) => ({ ...d, body: access("S", [affine([{ var: "i", coef: 1 }], -1), affine([{ var: "j", coef: 1 }])]) })), /takes values -1\.\.2, outside 0\.\.3/);
  });
});

describe("invariant 5: canonical affine forms", () => {
  const raw = (terms: { var: string; coef: number }[], constant: number) => ({ terms, constant });
  test("unsorted or repeated terms", () => {
    expectError(editDef(attention(), "E", (d) => ({ ...d, body: access("S", [raw([{ var: "j", coef: 1 }, { var: "i", coef: 1 }], -3), affine([{ var: "j", coef: 1 }])]) })), /terms not sorted by unique variable \('j' then 'i'\) \(invariant 5\)/);
  });
  test("a zero coefficient", () => {
    expectError(editDef(attention(), "E", (d) => ({ ...d, body: access("S", [raw([{ var: "i", coef: 1 }, { var: "j", coef: 0 }], 0), affine([{ var: "j", coef: 1 }])]) })), /coefficient 0 of 'j' is not a nonzero integer/);
  });
  test("a fractional constant", () => {
    expectError(editDef(attention(), "E", (d) => ({ ...d, body: access("S", [raw([{ var: "i", coef: 1 }], 0.5), affine([{ var: "j", coef: 1 }])]) })), /affine constant 0.5 is not an integer/);
  });
});

describe("invariant 6: calls", () => {
  test("an unknown function", () => {
    expectError(edit(softmaxCall(), "P", (t) => ({ ...t, fn: "nope" }) as TensorNode), /tensor 'P': calls unknown function 'nope'/);
  });
  test("wrong arity", () => {
    expectError(edit(softmaxCall(), "P", (t) => ({ ...t, args: ["S", "S"] }) as TensorNode), /passes 2 arguments to 'softmax_1', which takes 1/);
  });
  test("an argument of the wrong shape", () => {
    const p = softmaxCall();
    const q = { ...p, tensors: [input("S", [3, 2]), p.tensors[1]!] };
    expectError(q, /argument 1 'S' has shape \[3, 2\] but parameter 'X' of 'softmax_1' has \[2, 3\]/);
  });
  test("a call whose shape is not the result's", () => {
    expectError(edit(softmaxCall(), "P", (t) => ({ ...t, shape: [6] })), /tensor 'P': has shape \[6\] but 'softmax_1' returns \[2, 3\]/);
  });
  test("recursion", () => {
    const p = softmaxCall();
    const f = p.functions.softmax_1!;
    const loop = { ...f, tensors: [...f.tensors, { role: "call", name: "Z", dtype: "f32", shape: [2, 3], output: false, fn: "softmax_1", args: ["Y"] } as TensorNode] };
    expectError({ ...p, functions: { softmax_1: loop } }, /recursively: softmax_1 -> softmax_1/);
  });
  test("function bodies are verified too", () => {
    const p = softmaxCall();
    const f = p.functions.softmax_1!;
    const broken = { ...f, tensors: f.tensors.map((t) => (t.name === "M" ? { ...(t as DefNode), body: reduce("max", ["j"], access("X", ["j", "i"])) } : t)) };
    expectError({ ...p, functions: { softmax_1: broken } }, /function 'softmax_1': tensor 'M': access X\[j, i\] index 1 takes values 0\.\.2, outside 0\.\.1/);
  });
  test("a function result that names nothing", () => {
    const p = softmaxCall();
    expectError({ ...p, functions: { softmax_1: { ...p.functions.softmax_1!, result: "Q" } } }, /its result 'Q' names no tensor/);
  });
});

describe("node headers", () => {
  test("an unknown dtype", () => {
    expectError(edit(attention(), "Q", (t) => ({ ...t, dtype: "f16" as never })), /tensor 'Q': unknown element type 'f16'/);
  });
  test("weight data of the wrong length", () => {
    expectError(edit(convAndKron(), "W", (t) => ({ ...t, data: new Float64Array(2) }) as TensorNode), /weight data has 2 elements for shape \[3\] of 3/);
  });
  test("a non-positive extent in a shape", () => {
    const p: Program = { sizes: {}, tensors: [input("A", [0])], functions: {} };
    expectError(p, /shape \[0\] is not a list of positive integers/);
  });
  test("a constant def is fine with any ranges of its own", () => {
    const p: Program = { sizes: {}, tensors: [def("C", ["i"], { i: 2 }, num(1), true)], functions: {} };
    expect(verifyProgramErrors(p)).toEqual([]);
  });
});

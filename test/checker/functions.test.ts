/**
 * User functions: monomorphization (one instance per binding), nested calls,
 * size parameters, indexed calls as temporaries, and imports from memory and
 * from the real stdlib folder.
 */
import { describe, expect, test } from "vitest";
import { printProgram } from "../../src/ir/print.js";
import type { CallNode } from "../../src/ir/types.js";
import { defaultStdlibDir, nodeLoader } from "../../src/checker/index.js";
import { check, defNode, lower, memoryLoader, node } from "./helpers.js";

const SOFTMAX = `fn softmax(X[n, m]) -> Y[n, m] {
  M[i] = max(j) X[i, j]
  E[i, j] = exp(X[i, j] - M[i])
  Y[i, j] = E[i, j] / sum(l) E[i, l]
}
`;

describe("monomorphization", () => {
  test("one instance per distinct binding, in order of first use", () => {
    const p = lower(`${SOFTMAX}input A[2, 3], B[2, 3], C[4, 3]
output P = softmax(A)
output Q = softmax(B)
output R = softmax(C)
output S = softmax(A)
`);
    expect(Object.keys(p.functions)).toEqual(["softmax_1", "softmax_2"]);
    expect(p.tensors.filter((t) => t.role === "call").map((t) => `${t.name}=${(t as CallNode).fn}(${(t as CallNode).args.join()})`))
      .toEqual(["P=softmax_1(A)", "Q=softmax_1(B)", "R=softmax_2(C)", "S=softmax_1(A)"]);
    const f = p.functions.softmax_2!;
    expect(f.params).toEqual([{ role: "input", name: "X", dtype: "f32", shape: [4, 3], output: false }]);
    expect(f.result).toBe("Y");
    expect(f.tensors.map((t) => t.name)).toEqual(["M", "E", "Y"]);
    expect(node(p, "R").shape).toEqual([4, 3]);
    expect(node(p, "R").output).toBe(true);
  });

  test("the element type is part of the binding", () => {
    const p = lower(`${SOFTMAX}input A[2, 3], B[2, 3]: f64\noutput P = softmax(A)\noutput Q = softmax(B)`);
    expect(Object.keys(p.functions)).toEqual(["softmax_1", "softmax_2"]);
    expect(node(p, "Q").dtype).toBe("f64");
  });

  test("an indexed call becomes a temporary call node before the def", () => {
    const p = lower(`${SOFTMAX}input S[2, 3]\noutput Z[i, j] = softmax(S)[i, j] * 2 + softmax(S)[i, j]`);
    expect(p.tensors.map((t) => `${t.role} ${t.name}`)).toEqual(["input S", "call _t1", "call _t2", "def Z"]);
    expect(printProgram(p)).toContain("output Z: f32[2, 3] = [i:2, j:3] _t1[i, j] * 2 + _t2[i, j]");
  });

  test("temporaries never take a user's name", () => {
    const p = lower(`${SOFTMAX}input S[2, 3]\n_t1[i, j] = S[i, j]\noutput Z[i, j] = softmax(_t1)[i, j]`);
    expect(p.tensors.map((t) => t.name)).toEqual(["S", "_t1", "_t2", "Z"]);
  });

  test("nested calls as arguments become temporaries", () => {
    const p = lower(`${SOFTMAX}
fn double(X[n, m]) -> Y[n, m] { Y[i, j] = 2 * X[i, j] }
input S[2, 3]
output P = double(softmax(S))
`);
    expect(p.tensors.map((t) => (t.role === "call" ? `${t.name}=${t.fn}(${t.args.join()})` : t.name))).toEqual(["S", "_t1=softmax_1(S)", "P=double_1(_t1)"]);
  });

  test("functions call functions; instances are shared", () => {
    const p = lower(`${SOFTMAX}
fn attn(Q[n, d], K[m, d]) -> A[n, m] {
  S[i, j] = Q[i, k] * K[j, k] / sqrt(d)
  A[i, j] = softmax(S)[i, j]
}
input Q[4, 8], K[6, 8], X[4, 6]
output A = attn(Q, K)
output B = softmax(X)
`);
    expect(Object.keys(p.functions)).toEqual(["softmax_1", "attn_1"]);
    const attn = p.functions.attn_1!;
    expect(attn.tensors.map((t) => `${t.role} ${t.name}`)).toEqual(["def S", "call _t1", "def A"]);
    expect((node(p, "B") as CallNode).fn).toBe("softmax_1");
  });

  test("size parameters: positional, with defaults", () => {
    const src = `fn conv(X[c, h], K[o, c, kh], size s = 1) -> Y {
  Y[f, y] = X[ci, s*y + dy] * K[f, ci, dy]
}
input X[2, 9], K[3, 2, 3]
output A = conv(X, K)
output B = conv(X, K, 2)
output C = conv(X, K, 1)
`;
    const p = lower(src);
    expect(node(p, "A").shape).toEqual([3, 7]);
    expect(node(p, "B").shape).toEqual([3, 4]);
    expect((node(p, "C") as CallNode).fn).toBe("conv_1");
    expect(Object.keys(p.functions)).toEqual(["conv_1", "conv_2"]);
    expect(printProgram(p)).toContain("X[ci, dy + 2*y]");
  });

  test("a dim may be an expression of bound sizes", () => {
    const src = "fn halves(X[n], Y[n / 2]) -> Z { Z[i] = X[2 * i] + Y[i] }\ninput A[8], B[4], C[3]\n";
    expect(node(lower(`${src}output R = halves(A, B)`), "R").shape).toEqual([4]);
    const r = check(`${src}output R = halves(A, C)`);
    expect(r.diags.map((d) => d.code)).toContain("TNS0202");
  });

  test("errors in a body carry a note pointing at the call, once", () => {
    const r = check("fn f(X[n]) -> Y { Y[i] = X[i] + Z[i] }\ninput A[3], B[4]\noutput P = f(A)\noutput Q = f(B)");
    const errs = r.diags.filter((d) => d.code === "TNS0101");
    expect(errs.length).toBe(1);
    expect(errs[0]!.notes.at(-1)!.message).toBe("in 'f' as called here");
    expect(errs[0]!.notes.at(-1)!.span!.start.line).toBe(3);
  });

  test("a result shape declared with its own symbols is checked", () => {
    expect(node(lower("fn dup(X[n], T[2]) -> Y[2 * n] { Y[(a, i)] = X[i] * T[a] }\ninput A[3], T[2]\noutput B = dup(A, T)"), "B").shape).toEqual([6]);
  });
});

describe("imports", () => {
  const files = {
    "/std/nn.tns": `${SOFTMAX}fn helper(X[n]) -> Y { Y[i] = X[i] * 2 }\nfn twice(X[n]) -> Y { Y[i] = helper(X)[i] }\n`,
    "/p/lib/blocks.tns": 'import softmax from "nn"\nfn block(X[n, m]) -> Y { Y[i, j] = softmax(X)[i, j] + 1 }\n',
  };
  const loader = memoryLoader(files);

  test("a whole stdlib module, recording its text for code frames", () => {
    const r = check('import "nn"\ninput A[2, 3], v[4]\noutput P = softmax(A)\noutput T = twice(v)', { loader });
    expect(r.program).not.toBeNull();
    expect(Object.keys(r.program!.functions)).toEqual(["softmax_1", "helper_1", "twice_1"]);
    expect(r.sources.get("/std/nn.tns")).toBe(files["/std/nn.tns"]);
  });

  test("named imports bring in only those names; helpers still work inside", () => {
    const r = check('import twice from "nn"\ninput v[4]\noutput T = twice(v)\noutput U = helper(v)', { loader });
    expect(r.diags.map((d) => d.code)).toEqual(["TNS0104"]);
  });

  test("relative imports resolve from the importing file", () => {
    const p = check('import "./lib/blocks.tns"\ninput A[2, 3]\noutput B = block(A)', { loader }).program;
    expect(p).not.toBeNull();
    expect(Object.keys(p!.functions)).toEqual(["softmax_1", "block_1"]);
  });

  test("a local function shadows a whole-module import", () => {
    const p = check(`import "nn"\nfn softmax(X[n, m]) -> Y { Y[i, j] = X[i, j] }\ninput A[2, 3]\noutput B = softmax(A)`, { loader }).program!;
    expect(p.functions.softmax_1!.tensors.length).toBe(1);
  });

  test("the real stdlib folder", () => {
    expect(defaultStdlibDir()).toMatch(/stdlib$/);
    const p = lower(`import softmax, layernorm, attention, mlp, conv2d from "nn"
import matmul, kron, kron_matvec_factored, trace, outer from "linalg"
input X[4, 8], G[8], B[8], Q[4, 8], K[6, 8], V[6, 5], W[8, 3], b[3]
input I[2, 7, 7], F[3, 2, 3, 3], M[2, 3], N[4, 5], x[15]
output P = softmax(X)
output L = layernorm(X, G, B)
output O = attention(Q, K, V)
output Y = mlp(X, W, b)
output C = conv2d(I, F)
output C2 = conv2d(I, F, 2)
output MM = matmul(X, W)
output KR = kron(M, N)
output KV = kron_matvec_factored(M, N, x)
input Sq[3, 3]
output T = trace(Sq)
output OU = outer(G, b)
`, { loader: nodeLoader() });
    expect(node(p, "O").shape).toEqual([4, 5]);
    expect(node(p, "C").shape).toEqual([3, 5, 5]);
    expect(node(p, "C2").shape).toEqual([3, 3, 3]);
    expect(node(p, "KR").shape).toEqual([8, 15]);
    expect(node(p, "KV").shape).toEqual([8]);
    expect(node(p, "T").shape).toEqual([]);
    expect(node(p, "OU").shape).toEqual([8, 3]);
    expect(defNode({ ...p, tensors: p.functions.kron_1!.tensors }, "W").groups).toEqual([2, 2]);
  });
});

/**
 * `grad(L, W)` in the language: what it lowers to, its whole and indexed
 * forms, its diagnostics, and the grad node in the IR's text form and
 * verifier.
 */
import { describe, expect, test } from "vitest";
import { check, compile, compileProgram, grad } from "../../src/compiler.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { printProgram } from "../../src/ir/print.js";
import type { GradNode, Program } from "../../src/ir/types.js";
import { verifyProgramErrors } from "../../src/ir/verify.js";
import { Tensor } from "../../src/runtime/tensor.js";

const QUADRATIC = `input W[2, 3]
weight b[3]
L = sum(i, j) W[i, j] * W[i, j] * b[j]
`;

const codes = (source: string): string[] => check(source).diagnostics.map((d) => `${d.code} ${d.severity}`);

describe("grad(L, W) in the language", () => {
  test("whole: a grad node of W's shape, after the loss", () => {
    const { program } = check(`${QUADRATIC}output dW = grad(L, W)\noutput db = grad(L, b)\n`);
    const grads = program!.tensors.filter((t): t is GradNode => t.role === "grad");
    expect(grads.map((g) => [g.name, g.loss, g.wrt, g.shape, g.output])).toEqual([["dW", "L", "W", [2, 3], true], ["db", "L", "b", [3], true]]);
  });

  test("indexed: a temporary grad node read like a call's result", () => {
    const { program } = check(`${QUADRATIC}output W2[i, j] = W[i, j] - 0.5 * grad(L, W)[i, j]\n`);
    const text = printProgram(program!);
    expect(text).toMatch(/^_t\d*: f32\[2, 3\] = grad\(L, W\)$/m);
  });

  test("runs: the gradient of sum W^2 b is 2 W b, and the update uses it", () => {
    const prog = compile(`${QUADRATIC}output dW = grad(L, W)\noutput W2[i, j] = W[i, j] - 0.5 * grad(L, W)[i, j]\n`, {
      weights: { b: Tensor.fromArray([1, 2, 3]) }, verify: true,
    });
    expect(prog.ok, prog.formatDiagnostics()).toBe(true);
    const { dW, W2 } = prog.run({ W: Tensor.fromArray([[1, 2, 3], [4, 5, 6]]) });
    expect(dW!.toArray()).toEqual([[2, 8, 18], [8, 20, 36]]);
    expect(W2!.toArray()).toEqual([[0, -2, -6], [0, -5, -12]]);
  });

  test("as a function's argument", () => {
    const prog = compile(`import softmax from "nn"\n${QUADRATIC}output P = softmax(grad(L, W))\n`, { weights: { b: Tensor.fromArray([1, 1, 1]) } });
    expect(prog.ok, prog.formatDiagnostics()).toBe(true);
    const P = prog.run({ W: Tensor.fromArray([[0, 0, 0], [1, 1, 1]]) }).P!.toArray() as number[][];
    expect(P[1]).toEqual([1 / 3, 1 / 3, 1 / 3].map((x) => expect.closeTo(x, 6)));
  });

  test("a loss that does not depend on W: a zero gradient and warning TNS0803", () => {
    const source = `input W[2], V[2]\nL = sum(i) V[i] * V[i]\noutput dW = grad(L, W)\noutput dV = grad(L, V)\n`;
    expect(codes(source)).toEqual(["TNS0803 warning"]);
    const prog = compile(source);
    expect(prog.ok).toBe(true);
    const out = prog.run({ W: Tensor.fromArray([1, 2]), V: Tensor.fromArray([3, 4]) });
    expect(out.dW!.toArray()).toEqual([0, 0]);
    expect(out.dV!.toArray()).toEqual([6, 8]);
  });

  test("mistakes are diagnostics", () => {
    expect(codes(`${QUADRATIC}output d = grad(L)\n`)).toContain("TNS0401 error");
    expect(codes(`${QUADRATIC}output d = grad(L, 2)\n`)).toContain("TNS0401 error");
    expect(codes(`${QUADRATIC}Y[i] = W[0, i]\noutput d = grad(L, Y)\n`)).toContain("TNS0802 error");
    expect(codes(`${QUADRATIC}output d = grad(W, W)\n`)).toContain("TNS0801 error");
    expect(codes(`${QUADRATIC}output d = grad(L, Nope)\n`)).toContain("TNS0101 error");
    // Inside a function the parameters are not inputs of the program.
    expect(codes(`fn f(X[n]) -> Y { S = sum(i) X[i]\nY = grad(S, X) }\ninput A[3]\noutput B = f(A)\n`)).toContain("TNS0802 error");
  });

  test("a user function named grad takes precedence", () => {
    const { program, diagnostics } = check(`fn grad(X[n]) -> Y { Y[i] = 2 * X[i] }\ninput A[3]\noutput B = grad(A)\n`);
    expect(diagnostics).toEqual([]);
    expect(program!.tensors.some((t) => t.role === "call")).toBe(true);
  });
});

describe("grad nodes in the IR", () => {
  const text = "input W: f32[2, 3]\nL: f32[] = [] sum(i:2, j:3) W[i, j] * W[i, j]\noutput dW: f32[2, 3] = grad(L, W)\n";

  test("print and parse back", () => {
    const p = parseProgramText(text);
    expect(printProgram(p)).toBe(text);
    expect(verifyProgramErrors(p)).toEqual([]);
  });

  test("the verifier states invariant 7", () => {
    const p = parseProgramText(text);
    const withGrad = (g: Partial<GradNode>): Program => ({ ...p, tensors: p.tensors.map((t) => (t.role === "grad" ? { ...t, ...g } : t)) });
    expect(verifyProgramErrors(withGrad({ loss: "W" })).join()).toMatch(/not a rank-0 def.*invariant 7/);
    expect(verifyProgramErrors(withGrad({ wrt: "L" })).join()).toMatch(/'L' is a def, not an input or weight \(invariant 7\)/);
    expect(verifyProgramErrors(withGrad({ shape: [3, 2] })).join()).toMatch(/invariant 7/);
    expect(verifyProgramErrors(withGrad({ loss: "Later" })).join()).toMatch(/not an earlier tensor/);
  });
});

describe("grad in the API", () => {
  const source = "input W1[2, 2], W2[2]\nH[i] = tanh(sum(j) W1[i, j] * W2[j])\nL = sum(i) H[i] * H[i]\noutput Y[i] = H[i]\n";
  const inputs = { W1: Tensor.fromArray([[0.1, 0.2], [0.3, 0.4]]), W2: Tensor.fromArray([0.5, -0.5]) };

  test("grad(program, loss, wrt) adds outputs grad_<W>, equal to the language's form", () => {
    const { program } = check(source);
    const { program: withGrads, diagnostics } = grad(program!, "L", ["W1", "W2"]);
    expect(diagnostics).toEqual([]);
    const viaApi = compileProgram(withGrads!).run(inputs);
    const viaSource = compile(`${source}output g1 = grad(L, W1)\noutput g2 = grad(L, W2)\n`).run(inputs);
    expect(viaApi.grad_W1!.toArray()).toEqual(viaSource.g1!.toArray());
    expect(viaApi.grad_W2!.toArray()).toEqual(viaSource.g2!.toArray());
  });

  test("the compile option does the same", () => {
    const prog = compile(source, { grad: { loss: "L", wrt: ["W1", "W2"] } });
    expect(prog.outputs.map((o) => o.name)).toEqual(["Y", "grad_W1", "grad_W2"]);
    expect(prog.run(inputs).grad_W2!.toArray()).toEqual(compile(`${source}output g = grad(L, W2)\n`).run(inputs).g!.toArray());
  });

  test("mistakes are diagnostics, never exceptions", () => {
    const { program } = check(source);
    expect(grad(program!, "Y", ["W1"]).diagnostics.map((d) => d.code)).toEqual(["TNS0801"]);
    expect(grad(program!, "L", ["H"]).diagnostics.map((d) => d.code)).toEqual(["TNS0802"]);
    expect(grad(program!, "Nope", ["W1"]).program).toBeNull();
    expect(compile(source, { grad: { loss: "L", wrt: ["Q"] } }).diagnostics.map((d) => d.code)).toEqual(["TNS0101"]);
  });
});

describe("docs/language.md, Gradients", () => {
  test("the example checks and computes the gradient of a squared error", async () => {
    const { readFileSync } = await import("node:fs");
    const doc = readFileSync(new URL("../../docs/language.md", import.meta.url), "utf8");
    const section = doc.slice(doc.indexOf("## Gradients\n"));
    const code = /```tns\n([\s\S]*?)```/.exec(section)![1]!;
    const prog = compile(`size n = 3, d = 2, c = 2\n${code}`, { verify: true });
    expect(prog.ok, prog.formatDiagnostics()).toBe(true);
    const X = [[1, 2], [0, -1], [3, 1]];
    const T = [[0, 1], [1, 0], [2, 2]];
    const W = [[0.5, -1], [2, 0.25]];
    const out = prog.run({ X: Tensor.fromArray(X), T: Tensor.fromArray(T), W: Tensor.fromArray(W) });
    // dL/dW = (2 / n) Xᵀ (X W - T)
    const want = W.map((_, j) => W[0]!.map((_, k) => (2 / 3) * X.reduce((s, x, i) => s + x[j]! * (x[0]! * W[0]![k]! + x[1]! * W[1]![k]! - T[i]![k]!), 0)));
    const got = out.dW!.toArray() as number[][];
    got.forEach((row, j) => row.forEach((v, k) => expect(v).toBeCloseTo(want[j]![k]!, 5)));
    const W2 = out.W2!.toArray() as number[][];
    W2.forEach((row, j) => row.forEach((v, k) => expect(v).toBeCloseTo(W[j]![k]! - 0.1 * want[j]![k]!, 5)));
  });
});

describe("grad never crashes the compiler", () => {
  test("every pair of names, whole and indexed, gives diagnostics or a program that runs", () => {
    const names = ["X", "W", "ids", "H", "L", "n", "softmax", "nope", "inf", "i"];
    const base = `import softmax from "nn"\nsize n = 3\ninput X[n, n], ids[n]: i32\nweight W[n, n]\nH[i, j] = X[i, k] * W[k, j] + ids[i]\nL = sum(i, j) H[i, j] * H[i, j]\n`;
    const forms = (a: string, b: string): string[] => [
      `output G = grad(${a}, ${b})`,
      `output G[i, j] = X[i, j] - grad(${a}, ${b})[i, j]`,
      `output G = softmax(grad(${a}, ${b}))`,
    ];
    let ran = 0;
    for (const a of names) {
      for (const b of names) {
        for (const form of forms(a, b)) {
          const prog = compile(`${base}${form}\n`, { backend: "reference", weights: { W: Tensor.fromArray([[1, 0, 0], [0, 1, 0], [0, 0, 1]]) } });
          if (!prog.ok) {
            expect(prog.diagnostics.some((d) => d.severity === "error"), form).toBe(true);
            continue;
          }
          const out = prog.run({ X: Tensor.fromArray([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), ids: new Tensor("i32", [3], Int32Array.from([0, 1, 2])) });
          expect(out.G, form).toBeDefined();
          ran++;
        }
      }
    }
    // grad(L, X) and grad(L, W) in each of the three forms.
    expect(ran).toBe(6);
  });
});

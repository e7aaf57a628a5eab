/**
 * One case per diagnostic the checker emits: a snippet, the code, a piece of
 * the message and where it points (line:column of the span start).
 */
import { describe, expect, test } from "vitest";
import { Tensor } from "../../src/runtime/tensor.js";
import type { CheckOptions } from "../../src/checker/index.js";
import { check, memoryLoader } from "./helpers.js";

interface Case {
  readonly code: string;
  readonly src: string;
  readonly message: string;
  /** `line:col` of the span start, or null for diagnostics without a span. */
  readonly at: string | null;
  readonly options?: CheckOptions;
  readonly hint?: string;
}

const loader = memoryLoader({
  "/std/nn.tns": "fn relu2(X[n]) -> Y[n] {\n  Y[i] = relu(X[i])\n}\n",
  "/p/a.tns": 'import "./b.tns"\nfn fa(X[n]) -> Y { Y[i] = X[i] }\n',
  "/p/b.tns": 'import "./a.tns"\nfn fb(X[n]) -> Y { Y[i] = X[i] }\n',
});

const cases: Case[] = [
  { code: "TNS0001", message: "'output' cannot be used inside a function body", at: "1:19",
    src: "fn f(X[n]) -> Y { output Y[i] = X[i] }\ninput A[3]\noutput B = f(A)" },
  { code: "TNS0101", message: "unknown tensor 'Qx'", at: "2:15", hint: "did you mean 'Q'?",
    src: "input Q[4]\noutput Y[i] = Qx[i]" },
  { code: "TNS0103", message: "'Y' is defined twice", at: "3:8",
    src: "input X[4]\noutput Y[i] = X[i]\noutput Y[i] = X[i]" },
  { code: "TNS0103", message: "function 'f' is defined twice", at: "2:4",
    src: "fn f(X[n]) -> Y { Y[i] = X[i] }\nfn f(X[n]) -> Y { Y[i] = X[i] }\ninput A[2]\noutput B = f(A)" },
  { code: "TNS0103", message: "function 'exp' has the name of a builtin", at: "1:4",
    src: "fn exp(X[n]) -> Y { Y[i] = X[i] }\ninput A[2]\noutput B[i] = A[i]" },
  { code: "TNS0104", message: "unknown function 'expp'", at: "2:15", hint: "did you mean 'exp'?",
    src: "input X[4]\noutput Y[i] = expp(X[i])" },
  { code: "TNS0104", message: "unknown function 'sofmax'", at: "2:12",
    src: "input X[4, 4]\noutput Y = sofmax(X)" },
  { code: "TNS0104", message: "defines no function 'relu3'", at: "1:8", options: { loader },
    src: 'import relu3 from "nn"\ninput X[4]\noutput Y[i] = X[i]' },
  { code: "TNS0105", message: "size 'n' is declared twice", at: "1:20",
    src: "size n = 4, d = 2, n = 5\ninput X[n]\noutput Y[i] = X[i]" },
  { code: "TNS0106", message: "unknown size 'q'", at: "1:9",
    src: "input X[q]\noutput Y[i] = X[i]" },
  { code: "TNS0107", message: "cannot find module 'missing'", at: "1:8", options: { loader },
    src: 'import "missing"\ninput X[4]\noutput Y[i] = X[i]' },
  { code: "TNS0108", message: "import cycle", at: "1:8", options: { loader },
    src: 'import "./a.tns"\ninput X[4]\noutput Y[i] = X[i]' },
  { code: "TNS0109", message: "tensor 'X' has 1 dimension and needs indices here", at: "2:19",
    src: "input X[4]\noutput Y[i] = i * X" },
  { code: "TNS0109", message: "'n' is a size, not a tensor", at: "3:15",
    src: "size n = 4\ninput X[n]\noutput Y[i] = n[i] + X[i]" },
  { code: "TNS0112", message: "tensor 'B' is used before it is defined", at: "2:8",
    src: "input X[4]\nA[i] = B[i]\nB[i] = X[i]\noutput C[i] = A[i]" },
  { code: "TNS0201", message: "X has 2 dimensions but is indexed with 1 index", at: "2:15",
    src: "input X[4, 4]\noutput Y[i] = X[i]" },
  { code: "TNS0202", message: "index 'i' has extent 5 here", at: "2:24",
    src: "input A[4], B[5]\noutput Y[i] = A[i] * B[i]" },
  { code: "TNS0202", message: "dimension 2 of 'A' is 3, but 'n' of parameter 'X' is 2", at: "3:15",
    src: "fn sq(X[n, n]) -> Y { Y[i, j] = X[i, j] }\ninput A[2, 3]\noutput B = sq(A)" },
  { code: "TNS0203", message: "index 'j' is on the left but not used on the right", at: "2:13",
    hint: "broadcasting needs the index on the right",
    src: "input X[4]\noutput Y[i, j] = X[i]" },
  { code: "TNS0204", message: "the range of index 'j' cannot be inferred", at: "2:21",
    src: "input X[4]\noutput Y[i] = X[i + j]" },
  { code: "TNS0204", message: "the range of index 'j' cannot be inferred", at: "2:22",
    src: "input X[4]\noutput Y[i] = X[i] * j" },
  { code: "TNS0205", message: "index 'i' appears twice on the left", at: "2:13",
    src: "input X[4]\noutput Y[i, i] = X[i]" },
  { code: "TNS0206", message: "a product of two index variables", at: "2:20",
    src: "input X[16]\noutput Y[i, j] = X[i * j]" },
  { code: "TNS0206", message: "is not an integer", at: "2:17",
    src: "input X[16]\noutput Y[i] = X[0.5 * i]" },
  { code: "TNS0206", message: "only plain index variables can be grouped", at: "2:24",
    src: "input X[16]\noutput Y[i, j] = X[(i, j + 1)]" },
  { code: "TNS0207", message: "index 'i' would have to start at 1", at: "2:17",
    src: "input X[4]\noutput Y[i] = X[i - 1]" },
  { code: "TNS0203", message: "index 'i' is on the left but not used on the right", at: "2:10",
    hint: "the 'i' inside the reduction is its own variable",
    src: "input X[4]\noutput Y[i] = sum(i) X[i]" },
  { code: "TNS0208", message: "'sum' lists index 'j' twice", at: "2:22",
    src: "input X[4, 4]\noutput Y[i] = sum(j, j) X[i, j]" },
  { code: "TNS0209", message: "is not a multiple of 3", at: "2:20",
    src: "input X[10], A[3]\noutput Y[c, d] = X[(c, d)] * A[c]" },
  { code: "TNS0209", message: "has 12 values but dimension 1 of X has size 10", at: "2:20",
    src: "input X[10], A[3], B[4]\noutput Y[c, d] = X[(c, d)] * A[c] * B[d]" },
  { code: "TNS0210", message: "index 'n' has the name of a size", at: "3:10",
    src: "size n = 4\ninput X[n]\noutput Y[n] = X[n]" },
  { code: "TNS0212", message: "index i + 1 of X ranges over 1..4 but dimension 1 has size 4", at: "2:21",
    src: "input X[4]\noutput Y[i < 4] = X[i + 1]" },
  { code: "TNS0212", message: "is out of bounds for every value of 'i'", at: "2:17",
    src: "input X[4]\noutput Y[i] = X[i + 4]" },
  { code: "TNS0301", message: "more than 2147483647", at: "2:7",
    src: "size n = 65536\ninput X[n, n]\noutput Y[i] = X[i, 0]" },
  { code: "TNS0302", message: "not an exact integer division", at: "1:17",
    src: "size n = 5, h = n / 2\ninput X[h]\noutput Y[i] = X[i]" },
  { code: "TNS0302", message: "must be a positive integer, got 0", at: "1:10",
    src: "size n = 4 - 4\ninput X[n]\noutput Y[i] = X[i]" },
  { code: "TNS0302", message: "the extent of 'dy' must be a positive integer, got 0", at: "2:24",
    src: "input X[8]\noutput Y[y] = max(dy < 2 - 2) X[2*y + dy]" },
  { code: "TNS0302", message: "the extent of 'j' must be a size expression, but it uses the index 'i'", at: "2:23",
    hint: "where(j < i, body, 0)", src: "input X[4]\noutput Y[i] = sum(j < i) X[j]" },
  { code: "TNS0212", message: "index t of X ranges over 0..4 but dimension 1 has size 4", at: "2:25",
    src: "input X[4]\noutput Y = sum(t < 5) X[t]" },
  { code: "TNS0303", message: "size override 'm' names no size of the program", at: null, options: { sizes: { m: 3 } },
    src: "size n = 4\ninput X[n]\noutput Y[i] = X[i]" },
  { code: "TNS0304", message: "size 'm' has no value", at: "1:13",
    src: "size n = 4, m\ninput X[m]\noutput Y[i] = X[i]" },
  { code: "TNS0401", message: "'f' takes 1 argument, got 2", at: "3:12",
    src: "fn f(X[n]) -> Y { Y[i] = X[i] }\ninput A[3]\noutput B = f(A, A)" },
  { code: "TNS0402", message: "parameter 'X' takes a tensor", at: "3:14",
    src: "fn f(X[n]) -> Y { Y[i] = X[i] }\ninput A[3]\noutput B = f(3)" },
  { code: "TNS0402", message: "parameter 'X' of 'f' has 1 dimension, but 'A' has shape [3, 2]", at: "3:14",
    src: "fn f(X[n]) -> Y { Y[i] = X[i] }\ninput A[3, 2]\noutput B = f(A)" },
  { code: "TNS0403", message: "the result 'Z' of 'f' is not defined in its body", at: "1:15",
    src: "fn f(X[n]) -> Z { Y[i] = X[i] }\ninput A[3]\noutput B = f(A)" },
  { code: "TNS0404", message: "the result 'Y' has shape [3] but is declared [6]", at: "1:15",
    src: "fn f(X[n]) -> Y[2 * n] { Y[i] = X[i] }\ninput A[3]\noutput B = f(A)" },
  { code: "TNS0405", message: "function 'f' calls itself", at: "2:26",
    src: "fn f(X[n]) -> Y { Y[i] = g(X)[i] }\nfn g(X[n]) -> Y { Y[i] = f(X)[i] }\ninput A[3]\noutput B = f(A)" },
  { code: "TNS0406", message: "'f(...)' is a tensor; index it", at: "3:19",
    src: "fn f(X[n]) -> Y { Y[i] = X[i] }\ninput A[3]\noutput B[i] = 2 * f(A) + A[i]" },
  { code: "TNS0407", message: "'exp' takes 1 argument, got 2", at: "2:15",
    src: "input X[4]\noutput Y[i] = exp(X[i], 2)" },
  { code: "TNS0407", message: "builtin 'exp' is elementwise and cannot be indexed", at: "2:15",
    src: "input X[4]\noutput Y[i] = exp(X)[i]" },
  { code: "TNS0501", message: "unknown element type 'f16'", at: "1:13",
    src: "input X[4]: f16\noutput Y[i] = X[i]" },
  { code: "TNS0502", message: "weight 'W' is declared i32 but its data is f32", at: "1:8",
    options: { weights: { W: Tensor.fromArray([1, 2]) } },
    src: "weight W[2]: i32\noutput Y[i] = W[i]" },
  { code: "TNS0602", message: "weight 'W' is declared [2] but its data has shape [3]", at: "1:8",
    options: { weights: { W: Tensor.fromArray([1, 2, 3]) } },
    src: "weight W[2]\noutput Y[i] = W[i]" },
  { code: "TNS0606", message: "weight data given for 'V'", at: null,
    options: { weights: { V: Tensor.fromArray([1, 2]) } },
    src: "weight W[2]\noutput Y[i] = W[i]" },
  { code: "TNS0901", message: "returns several results", at: "1:18",
    src: "fn f(X[n]) -> Y, Z { Y[i] = X[i]\n Z[i] = X[i] }\ninput A[3]\noutput B = f(A)" },
];

const warnings: Case[] = [
  { code: "TNS0110", message: "no outputs", at: "1:1", src: "input X[4]\nY[i] = X[i]" },
  { code: "TNS0111", message: "input 'Z' is never used", at: "1:13", src: "input X[4], Z[4]\noutput Y[i] = X[i]" },
  { code: "TNS0211", message: "index 'j' is summed over the whole right side", at: "2:25",
    hint: "sum(j)", src: "input B[4, 3], C[4]\noutput A[i] = B[i, j] + C[i]" },
  { code: "TNS0220", message: "'sum(i)' binds tighter than '=='", at: "2:19",
    hint: "count where the comparison holds", src: "input bins[5]: i32\noutput H[b < 4] = sum(i) bins[i] == b" },
];

function run(c: Case, severity: "error" | "warning"): void {
  const r = check(c.src, c.options ?? {});
  const found = r.diags.find((d) => d.code === c.code && d.message.includes(c.message));
  expect(found, `diagnostics were ${JSON.stringify(r.diags.map((d) => [d.code, d.message]))}`).toBeDefined();
  expect(found!.severity).toBe(severity);
  expect(found!.span === undefined ? null : `${found!.span.start.line}:${found!.span.start.column}`).toBe(c.at);
  if (c.hint !== undefined) expect(found!.hint).toContain(c.hint);
  if (severity === "error") expect(r.program).toBeNull();
}

describe("checker errors", () => {
  test.each(cases.map((c) => [`${c.code} ${c.message}`, c] as const))("%s", (_, c) => run(c, "error"));
});

describe("checker warnings", () => {
  test.each(warnings.map((c) => [`${c.code} ${c.message}`, c] as const))("%s", (_, c) => run(c, "warning"));
  test("a warning alone still produces a program", () => {
    const r = check("input X[4], Z[4]\noutput Y[i] = X[i]");
    expect(r.program).not.toBeNull();
  });
});

describe("several errors in one file", () => {
  test("independent statements each report", () => {
    const r = check("input X[4]\noutput A[i] = Qx[i]\noutput B[i < 4] = X[i + 1]\noutput C[i, i] = X[i]");
    expect(r.diags.filter((d) => d.severity === "error").map((d) => d.code)).toEqual(["TNS0101", "TNS0212", "TNS0205"]);
  });
});

describe("no cascades", () => {
  test("a size without a value is reported once, not at every use", () => {
    const r = check("size n = 4, m\ninput X[m], Y[n, m]\noutput Z[i] = X[i]");
    expect(r.diags.filter((d) => d.severity === "error").map((d) => d.code)).toEqual(["TNS0304"]);
  });
});

describe("TNS0220 keeps quiet where the comparison is meant", () => {
  for (const src of [
    "input bins[5]: i32\noutput H[b < 4] = sum(i) (bins[i] == b)",
    "input x[5]\noutput Z = (sum(i) x[i]) > 0",
    "input x[5]\noutput M[i] = max(j) x[j] == x[i]",
    "input x[5]\noutput Z = 0 < sum(i) x[i]",
  ]) {
    test(src.split("\n")[1]!, () => {
      expect(check(src, {}).diags.filter((d) => d.code === "TNS0220")).toEqual([]);
    });
  }
});

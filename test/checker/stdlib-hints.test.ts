/**
 * An unknown function that a stdlib module defines gets a hint naming the
 * import, found through the loader's listing of the stdlib.
 */
import { describe, expect, test } from "vitest";
import { nodeLoader, type SourceLoader } from "../../src/checker/index.js";
import { stdlibModuleOf, unknownFunctionHint } from "../../src/checker/stdlib-index.js";
import { check, memoryLoader } from "./helpers.js";

/** The TNS0104 diagnostics of a check, as "line:col hint". */
function unknownFunctions(text: string, loader?: SourceLoader): string[] {
  return check(text, loader === undefined ? {} : { loader }).diags
    .filter((d) => d.code === "TNS0104")
    .map((d) => `${d.span?.start.line}:${d.span?.start.column} ${d.hint}`);
}

describe("a stdlib function used without its import", () => {
  test("a whole call names the module", () => {
    expect(unknownFunctions("input S[4, 5]\noutput P = softmax(S)")).toEqual([
      `2:12 'softmax' is in the standard library: add import "nn" (or import softmax from "nn")`,
    ]);
  });

  test("a linalg function names linalg", () => {
    expect(unknownFunctions("input A[3, 4], B[4, 2]\noutput C = matmul(A, B)", nodeLoader())).toEqual([
      `2:12 'matmul' is in the standard library: add import "linalg" (or import matmul from "linalg")`,
    ]);
  });

  test("a call inside an indexed expression names the module", () => {
    expect(unknownFunctions("input X[4]\noutput Y[i] = 1 + layernorm(X[i])")).toEqual([
      `2:19 'layernorm' is in the standard library: add import "nn" (or import layernorm from "nn")`,
    ]);
  });

  test("a call inside a function body names the module", () => {
    const src = "fn sq(A[n, n]) -> C[n, n] {\n  C = matmul(A, A)\n}\ninput M[3, 3]\noutput R = sq(M)";
    expect(unknownFunctions(src)).toEqual([
      `2:7 'matmul' is in the standard library: add import "linalg" (or import matmul from "linalg")`,
    ]);
  });

  test("importing another name from the module still points at the missing one", () => {
    expect(unknownFunctions('import softmax from "nn"\ninput X[4, 3]\noutput Y = logsumexp(X)')).toEqual([
      `3:12 'logsumexp' is in the standard library: add import "nn" (or import logsumexp from "nn")`,
    ]);
  });

  test("with the import there is no error", () => {
    expect(unknownFunctions('import "nn"\ninput S[4, 5]\noutput P = softmax(S)')).toEqual([]);
  });
});

describe("other unknown functions keep their hints", () => {
  test("a typo of a program function is a typo", () => {
    const src = "fn twice(X[n]) -> Y[n] { Y[i] = 2 * X[i] }\ninput A[4]\noutput B = twise(A)";
    expect(unknownFunctions(src)).toEqual(["3:12 did you mean 'twice'?"]);
  });

  test("a name in no module gets the generic hint", () => {
    expect(unknownFunctions("input A[4]\noutput B = zzyzx(A)")).toEqual(["2:12 define it with fn, or import it"]);
  });

  test("a loader that cannot list modules knows no stdlib", () => {
    expect(unknownFunctions("input S[4, 5]\noutput P = softmax(S)", memoryLoader({}))).toEqual(["2:12 define it with fn, or import it"]);
  });
});

describe("the stdlib index", () => {
  test("maps each function to its module", () => {
    const loader = nodeLoader();
    expect(stdlibModuleOf("attention", loader)).toBe("nn");
    expect(stdlibModuleOf("kron", loader)).toBe("linalg");
    expect(stdlibModuleOf("exp", loader)).toBeNull();
  });

  test("reads the stdlib once per loader, and only when asked", () => {
    const base = nodeLoader();
    let reads = 0;
    const counting: SourceLoader = { ...base, read: (f) => (reads++, base.read(f)) };
    expect(reads).toBe(0);
    expect(unknownFunctionHint("softmax", [], counting)).toContain('import "nn"');
    const first = reads;
    expect(first).toBeGreaterThan(0);
    expect(unknownFunctionHint("matmul", [], counting)).toContain('import "linalg"');
    expect(reads).toBe(first);
  });
});

/**
 * The parser's documented limits (docs/limits.md): nesting of any depth is
 * a located diagnostic (TNS0004), never a stack overflow; long flat chains
 * of any length check and run, and agree with a direct computation.
 */
import { describe, expect, it } from "vitest";
import { check, compile, compileAsync } from "../../src/compiler.js";
import { MAX_NESTING } from "../../src/parser/index.js";
import { MAX_ERRORS } from "../../src/diagnostics/diagnostic.js";
import { Tensor } from "../../src/runtime/tensor.js";

/** Programs nested `n` levels deep, one per construct that nests. */
const NESTED: Record<string, (n: number) => string> = {
  call: (n) => `input x[4]\noutput y[i] = ${"tanh(".repeat(n)}x[i]${")".repeat(n)}`,
  where: (n) => `input x[4]\noutput y[i] = ${"where(x[i] > 0, ".repeat(n)}x[i]${", 1)".repeat(n)}`,
  function: (n) => `fn f(A[n]) -> B[n] { B[i] = A[i] * 2 }\ninput x[4]\noutput y = ${"f(".repeat(n)}x${")".repeat(n)}`,
  parentheses: (n) => `input x[4]\noutput y[i] = ${"(".repeat(n)}x[i]${")".repeat(n)}`,
  minus: (n) => `input x[4]\noutput y[i] = ${"-".repeat(n)}x[i]`,
  "minus and parentheses": (n) => `input x[4]\noutput y[i] = ${"-(".repeat(Math.ceil(n / 2))}x[i]${")".repeat(Math.ceil(n / 2))}`,
  power: (n) => `input x[4]\noutput y[i] = ${Array(n + 1).fill("x[i]").join(" ^ ")}`,
  reduction: (n) => `input A[4, 4]\noutput y[i] = ${"sum(j) ".repeat(n)}A[i, j]`,
  index: (n) => `input x[4]\noutput y[i] = x[${"(".repeat(n)}i${")".repeat(n)}]`,
};

function expectClose(got: number, want: number, what: string): void {
  if (Number.isNaN(want)) expect(got, what).toBeNaN();
  else expect(Math.abs(got - want), what).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(want)));
}

describe("nesting limit", () => {
  for (const [what, make] of Object.entries(NESTED)) {
    for (const depth of [MAX_NESTING + 1, 600, 20_000]) {
      it(`${what} nested ${depth} deep is TNS0004 at a place in the statement`, () => {
        const { program, diagnostics } = check(make(depth), { file: "deep.tns" });
        expect(program).toBeNull();
        const d = diagnostics.find((x) => x.code === "TNS0004");
        expect(d, JSON.stringify(diagnostics.slice(0, 2))).toBeDefined();
        expect(d!.span!.file).toBe("deep.tns");
        expect(d!.span!.start.line).toBeGreaterThanOrEqual(2);
        expect(d!.hint).toBeDefined();
      });
    }
  }

  it("programs nested just under the limit compile and run on every backend alike", async () => {
    const x = Tensor.fromArray([0.5, -0.25, 0.75, -1]);
    for (const [what, make] of Object.entries(NESTED)) {
      if (what === "reduction") continue; // `sum(j) sum(j)` re-binds j: an error of its own
      const source = make(MAX_NESTING - 4);
      const reference = compile(source, { backend: "reference" });
      expect(reference.diagnostics, what).toEqual([]);
      const want = reference.run({ x }).y!.data;
      for (const backend of ["js", "wasm"] as const) {
        const got = (await compileAsync(source, { backend })).run({ x }).y!.data;
        for (let k = 0; k < 4; k++) expectClose(got[k]!, want[k]!, `${what} on ${backend}`);
      }
    }
  });

  it("refuses the statement that is too deep and still reports errors elsewhere", () => {
    const deep = NESTED["parentheses"]!(100).split("\n")[1];
    const { diagnostics } = check(`input x[4]\n${deep}\noutput z[i] = q[i]\n`);
    expect(diagnostics.map((d) => d.code)).toEqual(["TNS0004"]);
  });
});

describe("long flat expressions", () => {
  const x = Tensor.fromArray([0.5, -0.25, 0.75, -1]);
  const chains: Record<string, [string, (v: number) => number]> = {
    "2,000 additions": [Array(2000).fill("x[i]").join(" + "), (v) => 2000 * v],
    "5,000 multiplications by 1.0001": [["x[i]", ...Array(4999).fill("1.0001")].join(" * "), (v) => v * 1.0001 ** 4999],
    "3,001 alternating signs": [["x[i]", ...Array.from({ length: 3000 }, (_, k) => (k % 2 ? "+ x[i]" : "- 2 * x[i]"))].join(" "), (v) => v - 1500 * v],
    "2,001 divisions and products": [["x[i]", ...Array.from({ length: 2000 }, (_, k) => (k % 2 ? "* 3" : "/ 3"))].join(" "), (v) => v],
    "3,001 divisions and products of tensors": [["x[i]", ...Array.from({ length: 3000 }, (_, k) => (k % 2 ? "* x[i]" : "/ x[i]"))].join(" "), (v) => v],
  };
  for (const [what, [expr, value]] of Object.entries(chains)) {
    it(`${what}: check and run agree, on every backend`, async () => {
      const source = `input x[4]\noutput y[i] = ${expr}`;
      expect(check(source).program).not.toBeNull();
      for (const backend of ["js", "wasm", "reference"] as const) {
        const p = await compileAsync(source, { backend });
        expect(p.diagnostics).toEqual([]);
        const y = p.run({ x }).y!.data;
        for (let k = 0; k < 4; k++) expect(y[k]).toBeCloseTo(value(x.data[k]!), 2);
      }
    });
  }
});

describe("error cap", () => {
  it(`keeps ${MAX_ERRORS} errors of a file of noise and counts the rest`, () => {
    let seed = 7;
    const noise = Array.from({ length: 300_000 }, (_, k) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return k % 40 === 39 ? "\n" : String.fromCharCode(33 + (seed % 94));
    }).join("");
    const { diagnostics } = check(noise, { file: "noise.tns" });
    const errors = diagnostics.filter((d) => d.severity === "error");
    expect(errors.length).toBe(MAX_ERRORS);
    expect(errors[errors.length - 1]!.notes.some((n) => /more errors? not shown/.test(n.message))).toBe(true);
  });

  it("reports a binary source as one diagnostic at its first NUL", () => {
    const { diagnostics } = check("input x[4]\n\u0000\u0001ELF\u0000", { file: "bin.tns" });
    expect(diagnostics.map((d) => d.code)).toEqual(["TNS0006"]);
    expect(diagnostics[0]!.span!.start).toMatchObject({ line: 2, column: 1 });
  });

  it("refuses a source past the size limit without parsing it", () => {
    const { diagnostics } = check("# ".repeat(3 * 2 ** 20));
    expect(diagnostics.map((d) => d.code)).toEqual(["TNS0005"]);
  });
});

/**
 * The code blocks of docs/language.md check as written: each block is taken
 * from the document by its section heading (so an edit there is tested
 * here), given the declarations it leaves out, checked, and run where the
 * section makes a claim about values.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { interpret } from "../../src/interpret.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { defNode, lower } from "./helpers.js";

const LANGUAGE = readFileSync(fileURLToPath(new URL("../../docs/language.md", import.meta.url)), "utf8");

/** The `n`-th ```tns block under the heading `### title`. */
function block(title: string, n = 0): string {
  const start = LANGUAGE.indexOf(`### ${title}\n`);
  expect(start, `section '${title}'`).toBeGreaterThanOrEqual(0);
  const next = LANGUAGE.slice(start + 4).search(/\n##+ /);
  const section = LANGUAGE.slice(start, next === -1 ? undefined : start + 4 + next);
  const blocks = [...section.matchAll(/```tns\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks.length, `blocks in '${title}'`).toBeGreaterThan(n);
  return blocks[n]!;
}

describe("docs/language.md: Explicit reductions", () => {
  const lines = block("Explicit reductions").trim().split("\n");
  /** The declarations each line needs, by the tensor it defines. */
  const inputs: Record<string, string> = {
    M: "input S[3, 5]",
    N: "input X[3, 4, 5]",
    P: "input X[2, 3, 9, 8]",
    T: "input X[3, 4, 6]",
  };

  test("every line is covered here", () => {
    expect(lines.map((l) => l.split("[")[0])).toEqual(Object.keys(inputs));
  });

  test.each(lines.map((l) => [l.split("[")[0]!, l] as const))("%s checks", (name, line) => {
    const def = defNode(lower(`${inputs[name]}\noutput ${line}`), name);
    if (name === "P") {
      // The pooling line: dy, dx are stated, y = (9 - 2) / 2 + 1 rounded down.
      expect(def.shape).toEqual([2, 3, 4, 4]);
      expect(def.ranges).toMatchObject({ dy: 2, dx: 2, y: 4, x: 4 });
    }
    if (name === "T") expect(def.ranges).toMatchObject({ t: 4, j: 6 });
  });
});

describe("docs/language.md: Functions and imports", () => {
  const fns = block("Functions and imports");

  test("softmax, with its shadowing sum(j), computes the row softmax", () => {
    const p = lower(`${fns}\ninput S[2, 3]\noutput P = softmax(S)\n`);
    const S = [[0, 1, 2], [5, 5, -1]];
    const P = interpret(p, { S: Tensor.fromArray(S) }).P!;
    S.forEach((row, i) => {
      const z = row.reduce((a, x) => a + Math.exp(x), 0);
      row.forEach((x, j) => expect(P.get(i, j)).toBeCloseTo(Math.exp(x) / z, 6));
    });
  });

  test("conv2d checks with the default and an explicit stride", () => {
    const p = lower(`${fns}\ninput X[2, 7, 6], K[3, 2, 3, 2]\noutput A = conv2d(X, K)\noutput B = conv2d(X, K, 2)\n`);
    expect(p.tensors.find((t) => t.name === "A")!.shape).toEqual([3, 5, 5]);
    expect(p.tensors.find((t) => t.name === "B")!.shape).toEqual([3, 3, 3]);
  });
});

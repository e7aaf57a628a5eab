/**
 * Every function of stdlib/*.tns, called from a tiny program on small uneven
 * shapes, must match a plain-JavaScript implementation of its formula on the
 * reference interpreter, and the JS backend must match the interpreter.
 * A function added to the stdlib without a case here fails the coverage test.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "../../src/compiler.js";
import { checkClean, expectJsMatchesReference, randomInputs, REF_TOLERANCE, runReference } from "./harness.js";
import * as ref from "./reference.js";
import { CASES, FILE } from "./stdlib-cases.js";

const STDLIB = fileURLToPath(new URL("../../stdlib/", import.meta.url));


/** The functions each stdlib module defines, with the text just above each `fn`. */
function stdlibFunctions(): { module: string; fn: string; comment: string }[] {
  const found: { module: string; fn: string; comment: string }[] = [];
  for (const f of readdirSync(STDLIB).filter((x) => x.endsWith(".tns"))) {
    const text = readFileSync(join(STDLIB, f), "utf8");
    const { module, diagnostics } = parse(text, f);
    expect(diagnostics, f).toEqual([]);
    for (const item of module.items) {
      expect(item.kind, `${f} holds functions only`).toBe("fn");
      if (item.kind !== "fn") continue;
      const before = text.slice(0, item.span.start.offset).trimEnd().split("\n");
      found.push({ module: f.replace(/\.tns$/, ""), fn: item.name.name, comment: before[before.length - 1] ?? "" });
    }
  }
  return found;
}

describe("stdlib", () => {
  it("has a test case for every function, and a comment above each", () => {
    const fns = stdlibFunctions();
    const tested = new Set(CASES.map((c) => `${c.module}.${c.fn}`));
    expect(new Set(fns.map((f) => `${f.module}.${f.fn}`))).toEqual(tested);
    for (const { module, fn, comment } of fns) expect(comment.startsWith("#"), `${module}.${fn} is documented`).toBe(true);
  });

  describe.each(CASES.map((c) => [`${c.module}.${c.fn} (${c.label})`, c] as const))("%s", (_title, c) => {
    const source = `import ${c.fn} from "${c.module}"\n${c.body}\n`;

    it("matches the plain-JS formula on the interpreter, and the JS backend agrees", () => {
      const program = checkClean(source, FILE);
      const inputs = randomInputs(program, 99);
      const out = runReference(program, inputs);
      const want = c.expected(inputs);
      expect(out.Y!.shape).toEqual(want.shape);
      expect(ref.relativeError(out.Y!, want)).toBeLessThanOrEqual(REF_TOLERANCE);
      expectJsMatchesReference(source, FILE, {}, inputs, out);
    });
  });
});

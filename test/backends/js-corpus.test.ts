import { describe, expect, it } from "vitest";
import { jsBackend } from "../../src/backends/backend.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { CORPUS } from "./corpus.js";
import { expectMatchesInterpreter, inputsFor } from "./support.js";

describe("js backend on the corpus", () => {
  for (const [name, text] of Object.entries(CORPUS)) {
    it(`${name} agrees with the interpreter`, () => {
      const p = parseProgramText(text);
      const { executable } = jsBackend.compile(p);
      for (const seed of [1, 2]) expectMatchesInterpreter(p, (x) => executable.run(x), inputsFor(p, seed));
    });
  }

  it("emits the same code twice", () => {
    const p = parseProgramText(CORPUS["attention"]!);
    expect(jsBackend.compile(p).code).toBe(jsBackend.compile(p).code);
  });
});

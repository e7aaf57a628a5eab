import { describe, expect, it } from "vitest";
import { loadBackend } from "../../src/backends/index.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { CORPUS } from "./corpus.js";
import { expectMatchesInterpreter, inputsFor } from "./support.js";

const wasm = await loadBackend("wasm");

describe("wasm backend on the corpus", () => {
  for (const [name, text] of Object.entries(CORPUS)) {
    it(`${name} agrees with the interpreter`, () => {
      const p = parseProgramText(text);
      const { executable } = wasm.compile(p);
      for (const seed of [1, 2]) expectMatchesInterpreter(p, (x) => executable.run(x), inputsFor(p, seed));
    });
  }

  it("emits the same module text twice", () => {
    const p = parseProgramText(CORPUS["attention"]!);
    expect(wasm.compile(p).code).toBe(wasm.compile(p).code);
  });
});

import { describe, expect, it } from "vitest";
import { loadBackend } from "../../src/backends/index.js";
import { interpret } from "../../src/interpret.js";
import { parseProgramText } from "../../src/ir/parse-text.js";
import { CORPUS } from "./corpus.js";
import { inputsFor, relativeError } from "./support.js";

const wgsl = await loadBackend("wgsl");

describe("wgsl backend on the corpus", () => {
  for (const [name, text] of Object.entries(CORPUS)) {
    const p = parseProgramText(text);
    if (p.tensors.some((t) => t.dtype === "f64")) {
      it(`${name} is refused: WGSL has no float64 (TNS0902)`, () => {
        expect(() => wgsl.compile(p)).toThrow(/TNS0902: tensor '\w+' is f64/);
      });
      continue;
    }
    it(`${name} agrees with the interpreter`, async () => {
      const { executable } = wgsl.compile(p);
      for (const seed of [1, 2]) {
        const inputs = inputsFor(p, seed);
        const want = interpret(p, inputs);
        const got = await executable.runAsync!(inputs);
        for (const k of Object.keys(want)) {
          expect(got[k]!.shape).toEqual(want[k]!.shape);
          expect(relativeError(got[k]!.data, want[k]!.data), k).toBeLessThanOrEqual(1e-4);
        }
      }
      executable.dispose?.();
    });
  }
});

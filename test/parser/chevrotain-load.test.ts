import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { CHEVROTAIN_LOADED_FROM } from "../../src/parser/chevrotain.js";
import { parse } from "../../src/compiler.js";

describe("loading Chevrotain", () => {
  it("loads the single-file bundle in plain Node (the built compiler)", () => {
    const script = "import('./dist/parser/chevrotain.js').then((m) => process.stdout.write(m.CHEVROTAIN_LOADED_FROM))";
    expect(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" })).toBe("bundle");
  });

  it("parses with whichever copy this host loaded", () => {
    expect(["bundle", "package"]).toContain(CHEVROTAIN_LOADED_FROM);
    const { module, diagnostics } = parse("size n = 4\ninput x[n]\noutput y[i] = 2 * x[i]");
    expect(diagnostics).toEqual([]);
    expect(module.items.length).toBe(3);
  });
});

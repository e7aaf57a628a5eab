/**
 * Programs that must fail to compile, one per kind of mistake, in
 * `test/pipeline/fail/`. Each `<name>.tns` is compiled and its rendered
 * diagnostics are compared with `<name>.txt` beside it (regenerate with
 * `TNS_UPDATE_GOLDEN=1` and read the diff). Every rendering must locate
 * each error as file:line:col and show no stack trace.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/compiler.js";
import { expectGolden } from "../golden.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FAIL_DIR = "test/pipeline/fail/";

/** The error codes each program must report, as a multiset (the golden pins the full text; this says what the file is for). */
const EXPECTED: Readonly<Record<string, readonly string[]>> = {
  syntax_recovery: ["TNS0001", "TNS0001", "TNS0001"],
  unknown_tensor: ["TNS0101"],
  rank_mismatch: ["TNS0201"],
  size_mismatch: ["TNS0202"],
  free_lhs_index: ["TNS0203"],
  range_not_inferred: ["TNS0204", "TNS0204", "TNS0204", "TNS0204"],
  non_affine: ["TNS0206"],
  size_overflow: ["TNS0301", "TNS0301"],
  wrong_arg_count: ["TNS0401"],
  import_not_found: ["TNS0107", "TNS0107"],
  grad_misuse: ["TNS0801", "TNS0802", "TNS0802", "TNS0406"],
};

const PROGRAMS = readdirSync(ROOT + FAIL_DIR).filter((f) => f.endsWith(".tns")).map((f) => f.slice(0, -4)).sort();

describe("programs that must fail to compile", () => {
  it("the folder holds exactly the listed programs", () => {
    expect(PROGRAMS).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const name of PROGRAMS) {
    it(name, () => {
      // A root-relative file name keeps the rendered paths the same on every machine.
      const file = `${FAIL_DIR}${name}.tns`;
      const compiled = compile(readFileSync(ROOT + file, "utf8"), { file });
      expect(compiled.ok).toBe(false);
      const errors = compiled.diagnostics.filter((d) => d.severity === "error");
      expect(errors.map((d) => d.code).sort()).toEqual([...EXPECTED[name]!].sort());
      const rendered = compiled.formatDiagnostics();
      for (const d of errors) expect(rendered).toContain(`--> ${d.span!.file}:${d.span!.start.line}:${d.span!.start.column}`);
      expect(errors.every((d) => d.span?.file === file)).toBe(true);
      expect(rendered).not.toMatch(/^\s+at |internal compiler error|\bError:/m);
      // Notes may point into the stdlib by absolute path; the checkout's location is not part of the golden.
      const portable = rendered.split(ROOT).join("<root>/");
      // The golden lives beside the program: <test dir>/golden/../fail/<name>.txt.
      expectGolden(`../fail/${name}`, portable + "\n");
    });
  }
});

/**
 * Golden-file comparison for tests: `expectGolden(name, text)` compares `text`
 * with `golden/<name>.txt` next to the calling test file. Run the tests with
 * `TNS_UPDATE_GOLDEN=1` to (re)write the files instead, then review the diff.
 *
 * @example
 * ```ts
 * expectGolden("fold-constants/sqrt", printProgram(after));
 * ```
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { expect } from "vitest";

/** Whether golden files are being rewritten rather than compared. */
export const UPDATING_GOLDEN = process.env["TNS_UPDATE_GOLDEN"] === "1";

/**
 * Asserts that `text` equals the golden file `<test dir>/golden/<name>.txt`
 * (or writes it when `TNS_UPDATE_GOLDEN=1`). A missing file fails with a hint.
 *
 * @example
 * ```ts
 * expectGolden("inline-calls/softmax", printProgram(inlined));
 * ```
 */
export function expectGolden(name: string, text: string): void {
  const testPath = expect.getState().testPath;
  if (testPath === undefined) throw new Error("expectGolden must be called inside a test");
  const file = join(dirname(testPath), "golden", `${name}.txt`);
  if (UPDATING_GOLDEN) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    return;
  }
  if (!existsSync(file)) {
    throw new Error(`golden file ${file} is missing; run with TNS_UPDATE_GOLDEN=1 to create it`);
  }
  expect(text, `golden ${name} (rerun with TNS_UPDATE_GOLDEN=1 to update)`).toBe(readFileSync(file, "utf8"));
}

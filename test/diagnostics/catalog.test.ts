/**
 * The diagnostic catalog stays honest: every code is emitted somewhere in
 * src/ (no dead entries), and every code emitted in src/ is in the catalog.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { CATALOG } from "../../src/diagnostics/catalog.js";

const SRC = resolve(import.meta.dirname, "../../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

describe("diagnostic catalog", () => {
  const files = sourceFiles(SRC).filter((f) => !f.endsWith("catalog.ts"));
  const text = files.map((f) => readFileSync(f, "utf8")).join("\n");

  it("has no code that nothing emits", () => {
    const unused = Object.keys(CATALOG).filter((code) => !text.includes(`"${code}"`));
    expect(unused).toEqual([]);
  });

  it("lists every code the compiler emits", () => {
    const used = new Set(text.match(/"TNS\d{4}"/g)?.map((s) => s.slice(1, -1)) ?? []);
    expect([...used].filter((code) => !(code in CATALOG))).toEqual([]);
  });

  it("uses stable, well-formed codes with titles", () => {
    for (const [code, title] of Object.entries(CATALOG)) {
      expect(code).toMatch(/^TNS\d{4}$/);
      expect(title.length).toBeGreaterThan(3);
    }
  });
});

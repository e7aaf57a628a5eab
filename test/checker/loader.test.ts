/**
 * Import path resolution and the file-system loader.
 */
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { defaultStdlibDir, importTarget, nodeLoader } from "../../src/checker/index.js";
import { check } from "./helpers.js";

describe("import paths", () => {
  test("relative paths from the importing file, names from the stdlib", () => {
    expect(importTarget("/p/main.tns", "./lib/a", "/std")).toBe("/p/lib/a.tns");
    expect(importTarget("/p/sub/main.tns", "../b.tns", "/std")).toBe("/p/b.tns");
    expect(importTarget("/p/main.tns", "nn", "/std")).toBe("/std/nn.tns");
  });

  test("the file-system loader finds files and reports missing ones as null", () => {
    const dir = mkdtempSync(join(tmpdir(), "tns-loader-"));
    mkdirSync(join(dir, "lib"));
    writeFileSync(join(dir, "lib", "id.tns"), "fn id(X[n]) -> Y { Y[i] = X[i] }\n");
    const loader = nodeLoader(join(dir, "std"));
    const main = join(dir, "main.tns");
    expect(loader.resolve(main, "./lib/id.tns")).toBe(join(dir, "lib", "id.tns"));
    expect(loader.resolve(main, "./lib/none.tns")).toBeNull();
    expect(loader.resolve(main, "nn")).toBeNull();
    expect(loader.read(join(dir, "none.tns"))).toBeNull();
    const r = check('import "./lib/id.tns"\ninput A[2]\noutput B = id(A)', { loader }, main);
    expect(r.program).not.toBeNull();
    expect(r.sources.get(join(dir, "lib", "id.tns"))).toContain("fn id");
  });

  test("the default stdlib folder holds the stdlib modules", () => {
    const std = defaultStdlibDir();
    expect(nodeLoader(std).resolve("/anywhere/main.tns", "nn")).toBe(join(std, "nn.tns"));
  });
});

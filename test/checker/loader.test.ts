/**
 * Import path resolution and the file-system loader.
 */
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix, relative } from "node:path";
import { describe, expect, test } from "vitest";
import { defaultStdlibDir, diskPath, importKey, importTarget, nodeLoader } from "../../src/checker/index.js";
import { POSIX_PATH } from "../../src/checker/loader.js";
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

  test("the default stdlib folder holds the stdlib modules, named <stdlib>/... wherever it is installed", () => {
    const std = defaultStdlibDir();
    const loader = nodeLoader(std);
    expect(loader.resolve("/anywhere/main.tns", "nn")).toBe("<stdlib>/nn.tns");
    expect(loader.read("<stdlib>/nn.tns")).toContain("fn softmax");
  });
});

describe("file keys", () => {
  test("stdlib modules get a stable key, relative imports keep the user's form", () => {
    expect(importKey("/p/main.tns", "nn")).toBe("<stdlib>/nn.tns");
    expect(importKey("/p/main.tns", "nn.tns")).toBe("<stdlib>/nn.tns");
    expect(importKey("examples/main.tns", "./lib/a")).toBe(join("examples", "lib", "a.tns"));
    expect(importKey("examples/sub/main.tns", "../b.tns")).toBe(join("examples", "b.tns"));
    expect(importKey("main.tns", "./a.tns")).toBe("a.tns");
    expect(importKey("<stdlib>/nn.tns", "./linalg")).toBe(join("<stdlib>", "linalg.tns"));
  });

  test("keys map back to disk paths only for the stdlib", () => {
    expect(diskPath("<stdlib>/nn.tns", "/opt/std")).toBe(join("/opt/std", "nn.tns"));
    expect(diskPath("<stdlib>", "/opt/std")).toBe("/opt/std");
    expect(diskPath("lib/a.tns", "/opt/std")).toBe("lib/a.tns");
  });

  test("a relative main file gives relative keys in spans and sources, and they are read from disk", () => {
    const dir = mkdtempSync(join(tmpdir(), "tns-keys-"));
    mkdirSync(join(dir, "lib"));
    writeFileSync(join(dir, "lib", "id.tns"), "fn id(X[n]) -> Y { Y[i] = X[i] }\n");
    const main = join(relative(process.cwd(), dir), "main.tns");
    const r = check('import "./lib/id.tns"\ninput A[2]\noutput B = id(A, A)', { loader: nodeLoader() }, main);
    const key = join(relative(process.cwd(), dir), "lib", "id.tns");
    expect(r.sources.get(key)).toContain("fn id");
    const note = r.diags.find((d) => d.code === "TNS0401")?.notes[0];
    expect(note?.span?.file).toBe(key);
  });

  test("a note into the stdlib names <stdlib>/nn.tns, and the sources map holds its text under that key", () => {
    const r = check('import "nn"\ninput S[4, 5], T[4, 5]\noutput P = softmax(S, T)', { loader: nodeLoader() });
    const note = r.diags.find((d) => d.code === "TNS0401")?.notes[0];
    expect(note?.span?.file).toBe("<stdlib>/nn.tns");
    expect(r.sources.get("<stdlib>/nn.tns")).toContain("fn softmax");
    expect([...r.sources.keys()].some((k) => k.includes(defaultStdlibDir()))).toBe(false);
  });

  test("the file-system loader lists import paths written like the missing one", () => {
    const dir = mkdtempSync(join(tmpdir(), "tns-cands-"));
    mkdirSync(join(dir, "lib"));
    writeFileSync(join(dir, "lib", "helper.tns"), "");
    writeFileSync(join(dir, "lib", "notes.txt"), "");
    const loader = nodeLoader();
    const main = join(dir, "main.tns");
    expect(loader.candidates!(main, "./lib/hlper")).toEqual(["./lib/helper"]);
    expect(loader.candidates!(main, "./lib/hlper.tns")).toEqual(["./lib/helper.tns"]);
    expect(loader.candidates!(main, "nm")).toContain("nn");
    expect(loader.candidates!(main, "./nowhere/x")).toEqual([]);
  });
});

describe("path arithmetic without node:path (a browser)", () => {
  const paths = ["p/main.tns", "/p/q/main.tns", "main.tns", "/", ".", "p/", "<stdlib>/nn.tns", "a/b/c/", "/a", "../x/y.tns"];
  test("dirname, basename and isAbsolute agree with node:path/posix", () => {
    for (const p of paths) {
      expect(POSIX_PATH.dirname(p), `dirname ${p}`).toBe(posix.dirname(p));
      expect(POSIX_PATH.basename(p), `basename ${p}`).toBe(posix.basename(p));
      expect(POSIX_PATH.isAbsolute(p), `isAbsolute ${p}`).toBe(posix.isAbsolute(p));
    }
  });

  test("join agrees with node:path/posix", () => {
    const cases = [["p", "lib/a.tns"], ["p/", "./x.tns"], [".", "a.tns"], ["/p/q", "../a.tns"], ["p", "../../a.tns"],
      ["<stdlib>", "nn.tns"], ["/", "a"], ["/a", "../../b"], ["a", "..", ".."], ["p/q/", "", "r"]];
    for (const c of cases) expect(POSIX_PATH.join(...c), c.join(" + ")).toBe(posix.join(...c));
  });
});

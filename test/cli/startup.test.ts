/**
 * `tns --help` and `tns --version` stay cheap: they must not load the
 * compiler (parser, Chevrotain, passes, backends), which each command pulls
 * in only when it runs. A module-resolution hook in the child process logs
 * every module loaded from the built package (`npm test` builds dist/ first).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/tns.js");

/** Runs `tns args` and returns its exit code and every module URL it resolved. */
function loadedModules(args: string[]): { code: number; urls: string[] } {
  const dir = mkdtempSync(join(tmpdir(), "tns-startup-"));
  const log = join(dir, "modules.log");
  writeFileSync(log, "");
  const hooks = join(dir, "hooks.mjs");
  writeFileSync(hooks, `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + "\\n");
  return r;
}
`);
  const register = join(dir, "register.mjs");
  writeFileSync(register, `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const r = spawnSync(process.execPath, ["--import", pathToFileURL(register).href, BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, urls: readFileSync(log, "utf8").split("\n").filter((l) => l !== "") };
}

const compilerModule = (url: string): boolean => url.includes("chevrotain") || url.includes("/dist/compiler.js") || url.includes("/dist/parser/");

describe("startup", () => {
  it("--help and --version load no compiler module", () => {
    for (const flag of ["--help", "--version"]) {
      const { code, urls } = loadedModules([flag]);
      expect(code).toBe(0);
      expect(urls.some((u) => u.endsWith("/dist/cli/main.js"))).toBe(true);
      expect(urls.filter(compilerModule)).toEqual([]);
    }
  });

  it("a command loads the compiler when it runs", () => {
    const { code, urls } = loadedModules(["check", "examples/attention.tns"]);
    expect(code).toBe(0);
    expect(urls.some(compilerModule)).toBe(true);
  });
});

/**
 * Files the CLI reads and writes, as a hostile user would give them:
 * devices, folders, binaries, oversized sources, outputs under a regular
 * file or /proc, a compile whose last file cannot be written. Each is a
 * diagnostic with a code, exit 1, no stack trace, nothing left on disk,
 * within 5 s (the bound; spawnSync's timeout enforces it).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_SOURCE_BYTES } from "../../src/parser/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/tns.js");
const STACK = /\n\s+at .+:\d+:\d+/;

function tns(args: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", timeout: 5_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A scratch folder with a small program in it. */
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "tns-files-"));
  writeFileSync(join(dir, "prog.tns"), "input x[4]\noutput y[i] = x[i] * 2\n");
  return dir;
}

function expectRefused(r: ReturnType<typeof tns>, code: string): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toContain(`error[${code}]`);
  expect(r.stderr).toMatch(/= hint: /);
  expect(r.stderr).not.toMatch(STACK);
  expect(r.stderr).not.toContain("internal compiler error");
}

describe("sources that are not .tns programs", () => {
  it("refuses a device at once (/dev/zero never ends)", () => {
    expectRefused(tns(["check", "/dev/zero"], scratch()), "TNS0007");
    expectRefused(tns(["run", "/dev/zero", "--random-inputs"], scratch()), "TNS0007");
  });

  it("refuses a folder", () => {
    expectRefused(tns(["compile", ".", "-o", "out"], scratch()), "TNS0007");
  });

  it("refuses a binary file as one diagnostic", () => {
    const dir = scratch();
    const bytes = readFileSync(process.execPath).subarray(0, 300_000);
    writeFileSync(join(dir, "bin.tns"), bytes);
    const r = tns(["check", "bin.tns"], dir);
    expectRefused(r, "TNS0006");
    expect(r.stderr.length).toBeLessThan(1000);
  });

  it("refuses invalid UTF-8", () => {
    const dir = scratch();
    writeFileSync(join(dir, "latin1.tns"), Buffer.from([0x69, 0x6e, 0x70, 0x75, 0x74, 0x20, 0xe9, 0x5b, 0x34, 0x5d, 0x0a]));
    expectRefused(tns(["check", "latin1.tns"], dir), "TNS0006");
  });

  it("refuses a source past the size limit from its size, before reading it", () => {
    expectRefused(tns(["check", process.execPath], scratch()), "TNS0005");
    const dir = scratch();
    writeFileSync(join(dir, "big.tns"), "#".repeat(MAX_SOURCE_BYTES + 1));
    expectRefused(tns(["check", "big.tns"], dir), "TNS0005");
  });
});

describe("outputs that cannot be written leave nothing behind", () => {
  it("an output under a regular file", () => {
    const dir = scratch();
    expectRefused(tns(["run", "prog.tns", "--random-inputs", "--backend", "js", "-o", "prog.tns/out.npz"], dir), "TNS0608");
    expectRefused(tns(["compile", "prog.tns", "-o", "prog.tns"], dir), "TNS0608");
    expectRefused(tns(["compile", "prog.tns", "-o", "prog.tns/sub/dir"], dir), "TNS0608");
    expect(readdirSync(dir)).toEqual(["prog.tns"]);
  });

  it("an output under /proc fails at once", () => {
    const dir = scratch();
    expectRefused(tns(["compile", "prog.tns", "-o", "/proc/tns-out"], dir), "TNS0608");
    expectRefused(tns(["run", "prog.tns", "--random-inputs", "--backend", "js", "-o", "/proc/tns-out/y.npy"], dir), "TNS0608");
  });

  it("tns compile -o DIR writes all its files or none", () => {
    const dir = scratch();
    mkdirSync(join(dir, "out/manifest.json"), { recursive: true });
    writeFileSync(join(dir, "out/keep.txt"), "mine");
    expectRefused(tns(["compile", "prog.tns", "-o", "out"], dir), "TNS0608");
    expect(readdirSync(join(dir, "out")).sort()).toEqual(["keep.txt", "manifest.json"]);
    expect(readdirSync(join(dir, "out/manifest.json"))).toEqual([]);
    expect(readFileSync(join(dir, "out/keep.txt"), "utf8")).toBe("mine");
  });

  it("removes the folders it made for a failed write", () => {
    const dir = scratch();
    // The folders can be made, but a name 245 characters long leaves no room for the temporary file's.
    const long = "p".repeat(245);
    writeFileSync(join(dir, `${long}.tns`), "input x[4]\noutput y[i] = x[i] * 2\n");
    expectRefused(tns(["compile", `${long}.tns`, "-o", "new/deeper"], dir), "TNS0608");
    expect(existsSync(join(dir, "new"))).toBe(false);
    expect(tns(["compile", "prog.tns", "-o", "new/deeper"], dir).code).toBe(0);
    expect(readdirSync(join(dir, "new/deeper")).sort()).toEqual(["manifest.json", "prog.ir.txt", "prog.mjs"]);
  });

  it("sizes beyond memory are refused before anything is allocated, on every backend", () => {
    const dir = scratch();
    for (const backend of ["js", "reference", "wasm"]) {
      const r = tns(["run", join(ROOT, "examples/matmul.tns"), "--backend", backend, "--random-inputs", "--size", "n=46340", "--size", "k=46340", "--size", "m=46340"], dir);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/error\[TNS(0305|0901)\]: the program needs [\d.]+ GiB/);
    }
    // At n = 40000 the fused attention never stores its scores; with d = 40000 too, Q, K and V alone are 19 GiB.
    const attention = tns(["run", join(ROOT, "examples/attention.tns"), "--backend", "js", "--random-inputs", "--size", "n=40000", "--size", "d=40000"], dir);
    expectRefused(attention, "TNS0305");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });
});

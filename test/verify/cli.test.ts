/**
 * `--verify` on the command line, through `main` in this process: one line
 * per output for `tns run` and `tns compile`, and the flag in both helps.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";

function terminal(): { term: { out(l: string): void; err(l: string): void; color: boolean }; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { term: { out: (l) => void out.push(l), err: (l) => void err.push(l), color: false }, out, err };
}

const LINE = /^verify: (\w+) max \|Δ\| \S+ \(rel \S+\) vs -O0 \(reference\); backend (\w+) vs reference rel \S+$/;

describe("tns --verify", () => {
  const dir = mkdtempSync(join(tmpdir(), "tns-verify-"));
  const file = join(dir, "chain.tns");
  writeFileSync(file, "size n = 64\ninput A[n, n], B[n, n], x[n]\noutput y[i] = A[i, j] * B[j, k] * x[k]\noutput z[i] = 2 * y[i]\n");

  it("run prints one line per output, for the chosen backend", async () => {
    const t = terminal();
    const code = await main(["run", file, "--verify", "--random-inputs", "--size", "n=9", "--backend", "reference"], t.term);
    expect(t.err).toEqual([]);
    expect(code).toBe(0);
    const lines = t.out.filter((l) => l.startsWith("verify:"));
    expect(lines.map((l) => LINE.exec(l)?.slice(1, 3))).toEqual([["y", "reference"], ["z", "reference"]]);
  });

  it("compile prints the lines before writing its files; no lines without --verify", async () => {
    const t = terminal();
    expect(await main(["compile", file, "--verify", "-o", join(dir, "out")], t.term)).toBe(0);
    expect(t.out.filter((l) => LINE.test(l))).toHaveLength(2);
    expect(t.out.some((l) => l.startsWith("wrote "))).toBe(true);
    const plain = terminal();
    expect(await main(["compile", file, "-o", join(dir, "out2")], plain.term)).toBe(0);
    expect(plain.out.some((l) => l.startsWith("verify:"))).toBe(false);
  });

  it("is in the help of run and compile", async () => {
    for (const cmd of ["run", "compile"]) {
      const t = terminal();
      expect(await main([cmd, "--help"], t.term)).toBe(0);
      expect(t.out.join("\n")).toMatch(/--verify\s+check the optimized program against the unoptimized one/);
    }
  });
});

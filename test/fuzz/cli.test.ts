/**
 * Fuzzing the command line: random commands, options, values and paths
 * (devices, folders, files in the way, corrupted data files) through the
 * CLI's `main` in this process. Every exit code is 0, 1 or 2, no output
 * holds a stack trace or an internal error, and a failed command leaves
 * no file behind.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { writeNpy } from "../../src/runtime/npy.js";
import { writeNpz } from "../../src/runtime/npz.js";
import { randomTensor } from "../../src/runtime/random.js";
import { fuzzParameters, fuzzTimeout, STACK_TRACE } from "./support.js";

const ROOT = resolve(import.meta.dirname, "../..");
const DIR = mkdtempSync(join(tmpdir(), "tns-fuzz-cli-"));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const at = (name: string) => join(DIR, name);
writeFileSync(at("prog.tns"), "size n = 4\ninput x[n]\nweight w[n]\noutput y[i] = x[i] * w[i]\n");
writeFileSync(at("bad.tns"), "input x[4]\noutput y[i] = x[j] +\n");
writeFileSync(at("x.npy"), writeNpy(randomTensor([4], "f32", 1)));
writeFileSync(at("x8.npy"), writeNpy(randomTensor([8], "f64", 2)));
writeFileSync(at("w.npz"), writeNpz({ w: randomTensor([4], "f32", 3) }));
writeFileSync(at("corrupt.npy"), writeNpy(randomTensor([4], "f32", 4)).slice(0, 70));
writeFileSync(at("corrupt.npz"), writeNpz({ w: randomTensor([4], "f32", 5) }).slice(0, 40));
writeFileSync(at("binary.tns"), new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]));
mkdirSync(at("folder"));
const BEFORE = new Set(readdirSync(DIR));

const SOURCES = [at("prog.tns"), at("bad.tns"), at("binary.tns"), at("folder"), at("missing.tns"), "/dev/zero", "/dev/null",
  join(ROOT, "examples/matmul.tns"), join(ROOT, "examples/attention.tns"), join(ROOT, "examples/layernorm.tns")];
const DATA = [at("x.npy"), at("x8.npy"), at("w.npz"), at("corrupt.npy"), at("corrupt.npz"), at("prog.tns"), at("folder"), "/dev/zero", at("nope.npy")];
const OUTPUTS = [at("out.npz"), at("out.npy"), at("prog.tns/out.npz"), "/proc/tns-fuzz/out.npz", at("folder"), at("outdir"), at("prog.tns"), at("out.txt"), "/proc/tns-fuzz"];
const SIZES = ["n=2", "n=1", "k=3", "m=5", "d=4", "n=0", "n=-1", "n=x", "q=3", "n=46340", "k=46340", "m=46340", "n=99999999999999999999", "n"];

const word = fc.oneof(
  fc.constantFrom("--size", "--backend", "--input", "--inputs", "--weights", "-o", "--output", "--out-dir", "--target", "--emit", "--seed", "--threads",
    "--random-inputs", "-O0", "--no-optimize", "--verify", "--help", "-h", "--bogus", "-x", "js", "wasm", "reference", "wgsl", "wat", "x=", "=x.npy", "1", "0", "-1"),
  fc.constantFrom(...SOURCES), fc.constantFrom(...DATA), fc.constantFrom(...OUTPUTS), fc.constantFrom(...SIZES),
  fc.constantFrom(...DATA).map((p) => `x=${p}`), fc.constantFrom(...DATA).map((p) => `w=${p}`),
  fc.string({ maxLength: 8 }),
);

const anyArgs = fc.tuple(
  fc.constantFrom("run", "check", "compile", "einsum", "explain", "help", "--help", "--version", "nonsense", ""),
  fc.array(word, { maxLength: 8 }),
).map(([command, rest]) => (command === "" ? rest : [command, ...rest]));

/** Command lines shaped like real ones (a command, a source, options with values), so that many get as far as running. */
const option = fc.oneof(
  fc.constantFrom(...SIZES).map((v) => ["--size", v]),
  fc.constantFrom("js", "wasm", "reference", "wgsl").map((v) => ["--backend", v]),
  fc.constantFrom(...DATA).map((p) => ["--input", `x=${p}`]),
  fc.constantFrom(...DATA).map((p) => ["--weights", p]),
  fc.constantFrom(...OUTPUTS).map((p) => ["-o", p]),
  fc.constantFrom("js", "wasm").map((v) => ["--target", v]),
  fc.constantFrom(["--random-inputs"], ["-O0"], ["--verify"], ["--emit", "wat"], ["--seed", "3"], ["--threads", "2"]),
);
const shapedArgs = fc.tuple(fc.constantFrom("run", "check", "compile", "explain"), fc.constantFrom(...SOURCES), fc.array(option, { maxLength: 5 }))
  .map(([command, source, options]) => [command, source, ...options.flat()]);
const einsumArgs = fc.tuple(fc.constantFrom("ij,jk->ik", "i,i->", "ii->i", "i j->j i", ". . .", "ij->", "i\t->i"), fc.array(fc.constantFrom(...DATA), { maxLength: 3 }), fc.array(option, { maxLength: 2 }))
  .map(([spec, files, options]) => ["einsum", spec, ...files, ...options.flat()]);

const argv = fc.oneof(anyArgs, shapedArgs, shapedArgs, einsumArgs);

/** Sizes that would only make a valid program slow, not wrong: the property is about failures. */
function tooSlow(args: readonly string[]): boolean {
  return args.includes(join(ROOT, "examples/layernorm.tns")) && args.some((a) => /46340/.test(a));
}

function leftovers(): string[] {
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
  return walk(DIR).filter((p) => /\.tmp$/.test(p));
}

describe("fuzzing the command line", () => {
  it("exits 0, 1 or 2 with no stack trace, no internal error and nothing half-written", async () => {
    await fc.assert(fc.asyncProperty(argv, async (args) => {
      fc.pre(!tooSlow(args));
      const lines: string[] = [];
      const term = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), color: false };
      const code = await main(args, term);
      const text = lines.join("\n");
      expect([0, 1, 2], `${JSON.stringify(args)}\n${text}`).toContain(code);
      expect(text).not.toMatch(STACK_TRACE);
      expect(text).not.toContain("internal compiler error");
      expect(leftovers()).toEqual([]);
      const made = readdirSync(DIR).filter((name) => !BEFORE.has(name));
      for (const name of made) rmSync(at(name), { recursive: true, force: true });
      if (code !== 0) expect(made, `${JSON.stringify(args)} failed and left files`).toEqual([]);
    }), fuzzParameters(250));
  }, fuzzTimeout(250, 200));
});

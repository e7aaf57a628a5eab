/**
 * The training examples from the command line, as the README shows them:
 * `tns run examples/train_*.tns --random-inputs --verify` on the js and wasm
 * backends (at small sizes), through `main` in this process, and one SGD
 * step from parameters in an .npz file to an .npz file.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { readNpz, writeNpz } from "../../src/runtime/npz.js";
import { randomTensor } from "../../src/runtime/random.js";

function terminal(): { term: { out(l: string): void; err(l: string): void; color: boolean }; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { term: { out: (l) => void out.push(l), err: (l) => void err.push(l), color: false }, out, err };
}

const SIZES: Record<string, string[]> = {
  "examples/train_mlp.tns": ["--size", "n=6", "--size", "d=5", "--size", "hidden=7", "--size", "classes=3"],
  "examples/train_attention.tns": ["--size", "n=5", "--size", "d=4"],
};

describe("training examples on the command line", () => {
  for (const [file, sizes] of Object.entries(SIZES)) {
    for (const backend of ["js", "wasm"]) {
      it(`${file} --random-inputs --verify --backend ${backend}`, async () => {
        const t = terminal();
        const code = await main(["run", file, "--random-inputs", "--verify", "--backend", backend, ...sizes], t.term);
        expect(t.err).toEqual([]);
        expect(code).toBe(0);
        expect(t.out.filter((l) => l.startsWith("verify:")).length).toBeGreaterThan(1);
      });
    }
  }

  it("one SGD step of train_mlp from and to .npz files: W2_next = W2 - 0.1 dW2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tns-train-"));
    const shapes: Record<string, number[]> = { X: [6, 5], T: [6, 3], W1: [5, 7], b1: [7], W2: [7, 3], b2: [3] };
    const given = Object.fromEntries(Object.entries(shapes).map(([name, shape], k) => [name, randomTensor(shape, "f32", k + 1)]));
    const inputs = join(dir, "params.npz");
    writeFileSync(inputs, writeNpz(given));
    const out = join(dir, "step1.npz");
    const t = terminal();
    expect(await main(["run", "examples/train_mlp.tns", "--inputs", inputs, "-o", out, ...SIZES["examples/train_mlp.tns"]!], t.term)).toBe(0);
    const step = readNpz(readFileSync(out));
    expect(Object.keys(step).sort()).toEqual(["L", "W1_next", "W2_next", "b1_next", "b2_next", "dW2"]);
    const W2 = given["W2"]!.data;
    const dW2 = step["dW2"]!.data;
    const next = step["W2_next"]!.data;
    expect(Array.from(dW2).some((x) => x !== 0)).toBe(true);
    for (let k = 0; k < W2.length; k++) expect(next[k]!).toBeCloseTo(W2[k]! - 0.1 * dW2[k]!, 5);
  });
});

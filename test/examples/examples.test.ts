/**
 * Every program in examples/ (found by listing the folder, so a new example
 * is covered without editing this file) must check cleanly at its default
 * sizes, run on the reference interpreter at small sizes, agree with the JS
 * backend within JS_TOLERANCE, and, where a hand-written check exists below,
 * agree with a plain-JavaScript computation of the same math.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Tensor } from "../../src/runtime/tensor.js";
import {
  checkClean, EXAMPLE_FILES, EXAMPLES_DIR, expectJsMatchesReference, randomInputs, REF_TOLERANCE, runReference, SMALL_SIZES,
} from "./harness.js";
import * as ref from "./reference.js";

type Io = Record<string, Tensor>;
/** A hand-computed check: inputs, interpreter outputs, and a way to rerun the interpreter on other inputs. */
type Sanity = (inp: Io, out: Io, rerun: (inputs: Io) => Io) => void;

const close = (got: Tensor | undefined, want: Tensor, what: string): void => {
  expect(got, what).toBeDefined();
  expect(ref.relativeError(got!, want), what).toBeLessThanOrEqual(REF_TOLERANCE);
};

/** Row means and (population) variances of a matrix. */
function rowMoments(t: Tensor): { mean: number[]; variance: number[] } {
  const [n, d] = t.shape as [number, number];
  const mean: number[] = [];
  const variance: number[] = [];
  for (let i = 0; i < n; i++) {
    let mu = 0;
    for (let j = 0; j < d; j++) mu += t.get(i, j) / d;
    let v = 0;
    for (let j = 0; j < d; j++) v += (t.get(i, j) - mu) ** 2 / d;
    mean.push(mu);
    variance.push(v);
  }
  return { mean, variance };
}

const SANITY: Record<string, Sanity> = {
  "matmul.tns": (i, o) => close(o.C, ref.matmul(i.A!, i.B!), "C = A B"),
  "batched_einsum.tns": (i, o) => {
    const Q = i.Q!;
    const K = i.K!;
    const [b, h, nq, dk] = Q.shape as [number, number, number, number];
    const nk = K.shape[2]!;
    const want = ref.build([b, h, nq, nk], (p, q, x, y) => {
      let s = 0;
      for (let c = 0; c < dk; c++) s += Q.get(p!, q!, x!, c) * K.get(p!, q!, y!, c);
      return s / Math.sqrt(dk);
    });
    close(o.S, want, "bhqd,bhkd->bhqk");
  },
  "attention.tns": (i, o) => close(o.O, ref.attention(i.Q!, i.K!, i.V!), "softmax(Q Kᵀ / sqrt d) V"),
  "causal_attention.tns": (i, o) => {
    close(o.O, ref.attention(i.Q!, i.K!, i.V!, true), "causal attention");
    // Query 0 sees only key 0, so its output is exactly V's first row.
    const e = i.V!.shape[1]!;
    for (let c = 0; c < e; c++) expect(o.O!.get(0, c)).toBeCloseTo(i.V!.get(0, c), 6);
  },
  "conv2d.tns": (i, o) => {
    close(o.Y, ref.conv2d(i.X!, i.K!, 1, i.bias!, true), "relu(conv2d + bias)");
    expect(o.Y!.shape).toEqual([4, 7, 7]);
  },
  "maxpool.tns": (i, o) => {
    close(o.P, ref.maxpool2d(i.X!, 2, 2), "2×2 max pool, stride 2");
    expect(o.P!.shape).toEqual([3, 4, 4]); // h = 9 rounds down
  },
  "layernorm.tns": (i, o, rerun) => {
    close(o.Y, ref.layernorm(i.X!, i.gamma!, i.beta!), "layernorm");
    // With gain 1 and bias 0 every row is standardized.
    const d = i.gamma!.shape[0]!;
    const plain = rerun({ ...i, gamma: Tensor.fromArray(new Array(d).fill(1)), beta: Tensor.zeros([d]) });
    const { mean, variance } = rowMoments(plain.Y!);
    for (const m of mean) expect(Math.abs(m)).toBeLessThan(1e-6);
    for (const v of variance) expect(Math.abs(v - 1)).toBeLessThan(1e-3);
  },
  "mlp.tns": (i, o) => close(o.Y, ref.dense(ref.dense(i.X!, i.W1!, i.b1!), i.W2!, i.b2!), "two dense ReLU layers"),
  "kron_matvec.tns": (i, o) => {
    close(o.y, ref.kronMatvec(i.A!, i.B!, i.x!), "(A ⊗ B) x from the definition");
    const x = i.x!;
    const column = ref.build([x.size, 1], (k) => x.get(k!));
    const viaMatrix = ref.matmul(ref.kron(i.A!, i.B!), column);
    close(o.y, ref.build([viaMatrix.shape[0]!], (k) => viaMatrix.get(k!, 0)), "(A ⊗ B) x via the explicit matrix");
  },
  "tensor_train.tns": (i, o) => close(o.y, ref.ttMatvec(i.G1!, i.G2!, i.G3!, i.x!), "TT matvec"),
  "tucker.tns": (i, o) => close(o.T, ref.tucker(i.G!, i.U1!, i.U2!, i.U3!), "Tucker reconstruction"),
  "grouping.tns": (i, o) => {
    const [r, c] = i.M!.shape as [number, number];
    const v = i.v!;
    close(o.y, ref.build([c], (j) => {
      let s = 0;
      for (let k = 0; k < r; k++) s += v.get(k * c + j!) * i.u!.get(k);
      return s;
    }), "y = Vᵀ u");
    close(o.flat, ref.build([r * c], (k) => i.M!.get(Math.floor(k! / c), k! % c)), "flatten");
    close(o.T, ref.build([c * r], (k) => {
      const j = Math.floor(k! / r);
      const row = k! % r;
      return v.get(row * c + j) + i.M!.get(row, j);
    }), "transpose-flatten of v + M");
  },
  "softmax_stdlib.tns": (i, o) => {
    close(o.P, ref.softmax(i.S!), "softmax");
    close(o.L, ref.logsumexp(i.S!), "logsumexp");
    const [n, m] = o.P!.shape as [number, number];
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let c = 0; c < m; c++) s += o.P!.get(r, c);
      expect(s).toBeCloseTo(1, 6);
    }
  },
};

describe("examples", () => {
  it("has programs to test", () => {
    expect(EXAMPLE_FILES.length).toBeGreaterThanOrEqual(13);
  });

  it("lists every example in examples/README.md", () => {
    const readme = readFileSync(join(EXAMPLES_DIR, "README.md"), "utf8");
    for (const f of EXAMPLE_FILES) expect(readme, f).toContain(`\`${f}\``);
  });

  describe.each(EXAMPLE_FILES)("%s", (name) => {
    const file = join(EXAMPLES_DIR, name);
    const source = readFileSync(file, "utf8");
    const sizes = SMALL_SIZES[name] ?? {};

    it("starts with a header comment", () => {
      expect(source.startsWith("#")).toBe(true);
    });

    it("checks cleanly at its default sizes", () => {
      const program = checkClean(source, file);
      expect(program.tensors.some((t) => t.output)).toBe(true);
    });

    it("runs on the interpreter and the JS backend agrees", () => {
      const program = checkClean(source, file, sizes);
      const inputs = randomInputs(program, 1234);
      const out = runReference(program, inputs);
      for (const [outName, t] of Object.entries(out)) {
        for (const x of t.data) expect(Number.isFinite(x), `${outName} is finite`).toBe(true);
      }
      SANITY[name]?.(inputs, out, (other) => runReference(program, other));
      expectJsMatchesReference(source, file, sizes, inputs, out);
    });
  });
});

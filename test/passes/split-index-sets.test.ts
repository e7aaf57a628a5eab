/**
 * Index-set splitting of padded programs (passes/split-index-sets.ts,
 * ir/split.ts, backends/kernel/lower-split.ts): where the cuts go, and that
 * the split program computes what the unsplit one does on the js and wasm
 * backends, what the reference interpreter does, and what NumPy does in
 * float64 (an external oracle), for same-padded convolutions with stride 1
 * and 2, dilation, 1-D stencils padded on both sides and on one, reads with
 * a negative coefficient, padded max pooling, padding wider than the image
 * and images that are all border.
 */
import { describe, expect, it } from "vitest";
import { compile, compileAsync } from "../../src/compiler.js";
import type { DefNode, Program } from "../../src/ir/types.js";
import { interpret } from "../../src/interpret.js";
import { lowerToKernels } from "../../src/backends/kernel/lower.js";
import { loadBackend } from "../../src/backends/index.js";
import { defaultPipeline } from "../../src/passes/index.js";
import { splitIndexSets } from "../../src/passes/split-index-sets.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { visitKExpr } from "../../src/backends/kernel/walk.js";
import type { Stmt } from "../../src/backends/kernel/types.js";
import { loopSplit } from "../../src/backends/wasm/parallel.js";
import { wasmBackendFactory } from "../../src/backends/wasm/index.js";
import { NUMPY_CASES_SCRIPT, numpyPython, runNumpyScript } from "../support/numpy.js";
import { expectGolden } from "../golden.js";
import { printProgram } from "../../src/ir/print.js";
import { printKernels } from "../../src/backends/kernel/print.js";
import { expectSameBits, inputsFor, relativeError } from "../backends/support.js";

await loadBackend("wasm");
const python = numpyPython();
const UNSPLIT = defaultPipeline().filter((p) => p !== splitIndexSets);

interface Case {
  readonly name: string;
  readonly source: string;
  /** The output tensor the cases check, and its expected `split` (null: none). */
  readonly output: string;
  readonly split: DefNode["split"] | null;
  /**
   * Whether js gives the unsplit program's bits. The pieces sum the same
   * terms in the same order, but a piece without guards may get the loop
   * order the unpadded program gets (the output index innermost, where it
   * is contiguous), which accumulates in the float32 output where the
   * unsplit nest accumulated in a float64 local: then only close.
   */
  readonly sameBits: boolean;
  /** Python: `I` holds the inputs (float64), assign `O[output]`. */
  readonly numpy: string;
}

/** NumPy for a padded 2-D convolution: zero pad p, stride s, dilation d, kernel K[F, C, kh, kw], output [F, Ho, Wo]. */
const numpyConv = (p: number, s: number, d: number, ho: number, wo: number, out = "Y"): string => [
  `X = np.pad(I['X'], ((0, 0), (${p}, ${p}), (${p}, ${p}))); K = I['K']`,
  `Y = np.zeros((K.shape[0], ${ho}, ${wo}))`,
  "for dy in range(K.shape[2]):",
  "  for dx in range(K.shape[3]):",
  `    Y += np.einsum('fc,cyx->fyx', K[:, :, dy, dx], X[:, ${d}*dy:${d}*dy + ${s}*${ho - 1} + 1:${s}, ${d}*dx:${d}*dx + ${s}*${wo - 1} + 1:${s}])`,
  `O['${out}'] = Y`,
].join("\n");

const CASES: readonly Case[] = [
  {
    name: "nn.conv2d_same, 3x3",
    sameBits: true,
    source: 'import conv2d_same from "nn"\ninput X[3, 7, 9], K[4, 3, 3, 3]\noutput Y = conv2d_same(X, K)\n',
    output: "Y",
    split: [{ var: "y", cuts: [1, 6] }, { var: "x", cuts: [1, 8] }],
    numpy: numpyConv(1, 1, 1, 7, 9),
  },
  {
    name: "nn.conv2d_same, 5x5",
    sameBits: true,
    source: 'import conv2d_same from "nn"\ninput X[2, 8, 6], K[3, 2, 5, 5]\noutput Y = conv2d_same(X, K)\n',
    output: "Y",
    split: [{ var: "y", cuts: [1, 2, 6, 7] }, { var: "x", cuts: [1, 2, 4, 5] }],
    numpy: numpyConv(2, 1, 1, 8, 6),
  },
  {
    name: "issue 16 item 2, the output extent stated",
    sameBits: true,
    source: [
      "size F = 3, C = 2, H = 5, W = 6",
      "input X[C, H, W], K[F, C, 3, 3]",
      "output Y[f, y < H, x < W] = sum(c, dy, dx) where(y + dy >= 1 && y + dy <= H && x + dx >= 1 && x + dx <= W, X[c, y + dy - 1, x + dx - 1] * K[f, c, dy, dx], 0)",
      "",
    ].join("\n"),
    output: "Y",
    split: [{ var: "y", cuts: [1, 4] }, { var: "x", cuts: [1, 5] }],
    numpy: numpyConv(1, 1, 1, 5, 6),
  },
  {
    name: "same convolution with a bias and relu (the padded sum inside an epilogue)",
    source: [
      "size C = 2, H = 6, W = 5",
      "input X[C, H, W], K[3, C, 3, 3], b[3]",
      "output Y[f, y < H, x < W] = relu(b[f] + sum(c, dy, dx) where(y + dy >= 1 && y + dy <= H && x + dx >= 1 && x + dx <= W, X[c, y + dy - 1, x + dx - 1] * K[f, c, dy, dx], 0))",
      "",
    ].join("\n"),
    output: "Y",
    sameBits: true,
    split: [{ var: "y", cuts: [1, 5] }, { var: "x", cuts: [1, 4] }],
    numpy: numpyConv(1, 1, 1, 6, 5, "Z") + "\nO['Y'] = np.maximum(O['Z'] + I['b'][:, None, None], 0)",
  },
  {
    name: "stride 2, padding 1",
    sameBits: false,
    source: [
      "size C = 2, H = 9, W = 8",
      "input X[C, H, W], K[3, C, 3, 3]",
      "output Y[f, y < 5, x < 4] = sum(c, dy, dx) where(2*y + dy >= 1 && 2*y + dy <= H && 2*x + dx >= 1 && 2*x + dx <= W, X[c, 2*y + dy - 1, 2*x + dx - 1] * K[f, c, dy, dx], 0)",
      "",
    ].join("\n"),
    output: "Y",
    split: [{ var: "y", cuts: [1, 4] }, { var: "x", cuts: [1] }],
    numpy: numpyConv(1, 2, 1, 5, 4),
  },
  {
    name: "dilation 2, padding 2",
    sameBits: true,
    source: [
      "size C = 2, H = 7, W = 10",
      "input X[C, H, W], K[2, C, 3, 3]",
      "output Y[f, y < H, x < W] = sum(c, dy, dx) where(y + 2*dy >= 2 && y + 2*dy < H + 2 && x + 2*dx >= 2 && x + 2*dx < W + 2, X[c, y + 2*dy - 2, x + 2*dx - 2] * K[f, c, dy, dx], 0)",
      "",
    ].join("\n"),
    output: "Y",
    split: [{ var: "y", cuts: [1, 2, 5, 6] }, { var: "x", cuts: [1, 2, 8, 9] }],
    numpy: numpyConv(2, 1, 2, 7, 10),
  },
  {
    name: "1-D stencil padded on both sides",
    sameBits: false,
    source: "size N = 37\ninput x[N], k[5]\noutput y[i < N] = sum(d) where(i + d >= 2 && i + d < N + 2, x[i + d - 2] * k[d], 0)\n",
    output: "y",
    split: [{ var: "i", cuts: [1, 2, 35, 36] }],
    numpy: "x = np.pad(I['x'], 2); k = I['k']\nO['y'] = sum(k[d] * x[d:d + 37] for d in range(5))",
  },
  {
    name: "1-D causal stencil (padded on the left only)",
    sameBits: false,
    source: "size N = 20\ninput x[N], k[4]\noutput y[i < N] = sum(d) where(i + d >= 3, x[i + d - 3] * k[d], 0)\n",
    output: "y",
    split: [{ var: "i", cuts: [1, 2, 3] }],
    numpy: "x = np.pad(I['x'], (3, 0)); k = I['k']\nO['y'] = sum(k[d] * x[d:d + 20] for d in range(4))",
  },
  {
    name: "a read with a negative coefficient (a flipped kernel)",
    sameBits: false,
    source: "size N = 16\ninput x[N], k[3]\noutput y[i < N] = sum(d) where(i - d + 1 >= 0 && i - d + 1 < N, x[i - d + 1] * k[d], 0)\n",
    output: "y",
    split: [{ var: "i", cuts: [1, 15] }],
    numpy: "x = np.pad(I['x'], 1); k = I['k']\nO['y'] = sum(k[d] * x[2 - d:2 - d + 16] for d in range(3))",
  },
  {
    name: "max pooling with padding (-inf outside)",
    sameBits: true,
    source: "size C = 2, H = 6, W = 7\ninput X[C, H, W]\noutput P[c, y < H, x < W] = max(dy < 3, dx < 3) where(y + dy >= 1 && y + dy <= H && x + dx >= 1 && x + dx <= W, X[c, y + dy - 1, x + dx - 1], -inf)\n",
    output: "P",
    split: [{ var: "y", cuts: [1, 5] }, { var: "x", cuts: [1, 6] }],
    numpy: [
      "X = np.pad(I['X'], ((0, 0), (1, 1), (1, 1)), constant_values=-np.inf)",
      "O['P'] = np.max([X[:, dy:dy + 6, dx:dx + 7] for dy in range(3) for dx in range(3)], axis=0)",
    ].join("\n"),
  },
  {
    name: "padding wider than the image (all border: no split)",
    sameBits: true,
    source: 'import conv2d_same from "nn"\ninput X[2, 2, 3], K[2, 2, 5, 7]\noutput Y = conv2d_same(X, K)\n',
    output: "Y",
    split: null,
    numpy: [
      "X = np.pad(I['X'], ((0, 0), (2, 2), (3, 3))); K = I['K']",
      "Y = np.zeros((2, 2, 3))",
      "for dy in range(5):",
      "  for dx in range(7):",
      "    Y += np.einsum('fc,cyx->fyx', K[:, :, dy, dx], X[:, dy:dy + 2, dx:dx + 3])",
      "O['Y'] = Y",
    ].join("\n"),
  },
  {
    name: "a 1x1 image (all border: no split)",
    sameBits: true,
    source: 'import conv2d_same from "nn"\ninput X[3, 1, 1], K[2, 3, 3, 3]\noutput Y = conv2d_same(X, K)\n',
    output: "Y",
    split: null,
    numpy: numpyConv(1, 1, 1, 1, 1),
  },
  {
    name: "a 2x3 image: one interior column, no interior row",
    sameBits: true,
    source: 'import conv2d_same from "nn"\ninput X[2, 2, 3], K[2, 2, 3, 3]\noutput Y = conv2d_same(X, K)\n',
    output: "Y",
    split: [{ var: "x", cuts: [1, 2] }],
    numpy: numpyConv(1, 1, 1, 2, 3),
  },
];

function defOf(p: Program | null, name: string): DefNode {
  const t = p?.tensors.find((x) => x.name === name);
  if (t?.role !== "def") throw new Error(`no def ${name}`);
  return t;
}

describe("split-index-sets", () => {
  for (const c of CASES) {
    describe(c.name, () => {
      const split = compile(c.source, { backend: "js", verify: true });
      const unsplit = compile(c.source, { backend: "js", verify: true, passes: UNSPLIT });

      it("cuts where the padding reads leave the tensor", () => {
        expect(split.ok, split.formatDiagnostics()).toBe(true);
        expect(defOf(split.ir, c.output).split ?? null).toEqual(c.split);
        expect(defOf(unsplit.ir, c.output).split).toBeUndefined();
      });

      it("matches the unsplit program on js (bit for bit where its loop order is kept) and agrees with the interpreter on js and wasm", () => {
        const p = split.loweredIr!;
        const wasm = compile(c.source, { backend: "wasm", threads: 1 });
        const wasmUnsplit = compile(c.source, { backend: "wasm", threads: 1, passes: UNSPLIT });
        for (const seed of [1, 2]) {
          const inputs = inputsFor(p, seed);
          const want = interpret(p, inputs);
          if (c.sameBits) expectSameBits(split.run(inputs), unsplit.run(inputs));
          else expect(relativeError(split.run(inputs)[c.output]!.data, unsplit.run(inputs)[c.output]!.data)).toBeLessThanOrEqual(1e-6);
          for (const exe of [split, wasm, wasmUnsplit]) {
            const got = exe.run(inputs);
            expect(relativeError(got[c.output]!.data, want[c.output]!.data)).toBeLessThanOrEqual(1e-5);
          }
        }
      });
    });
  }

  it.skipIf(python === null)("agrees with NumPy in float64 on js and wasm", async () => {
    const runs: { c: Case; inputs: Record<string, Tensor> }[] = CASES.map((c) => {
      const p = compile(c.source, { backend: "js" }).loweredIr!;
      return { c, inputs: inputsFor(p, 3) };
    });
    const payload = runs.map(({ c, inputs }) => ({
      code: c.numpy,
      inputs: Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, { shape: t.shape, data: Array.from(t.data) }])),
    }));
    const want = runNumpyScript<Record<string, { data: number[] }>[]>(python!, NUMPY_CASES_SCRIPT, payload);
    for (const [k, { c, inputs }] of runs.entries()) {
      for (const backend of ["js", "wasm"] as const) {
        const exe = await compileAsync(c.source, { backend, threads: 1 });
        const got = exe.run(inputs)[c.output]!;
        expect(relativeError(got.data, want[k]![c.output]!.data), `${c.name} on ${backend}`).toBeLessThanOrEqual(1e-4);
      }
    }
  });

  for (const [k, pieces] of [[0, 9], [1, 25]] as const) {
    it(`lowers ${CASES[k]!.name} without guards or selects, under one outer loop`, () => {
      const p = compile(CASES[k]!.source, { backend: "js" }).ir!;
      const kernel = lowerToKernels(p).kernels.find((x) => x.target === "Y")!;
      // fill, then one loop over f holding the pieces (3x3: 3 by 3; 5x5: each border row apart, 5 by 5).
      expect(kernel.body.map((s) => s.kind)).toEqual(["fill", "loop"]);
      const outer = kernel.body[1] as Extract<Stmt, { kind: "loop" }>;
      expect(outer.var).toBe("f");
      expect(outer.body.filter((s) => s.kind === "loop")).toHaveLength(pieces);
      let guarded = 0;
      let selects = 0;
      const walk = (ss: readonly Stmt[]): void => {
        for (const s of ss) {
          if (s.kind === "loop") walk(s.body);
          else if (s.kind === "let" || s.kind === "update" || s.kind === "store") {
            visitKExpr(s.value, (e) => {
              if (e.kind === "load" && e.guard) guarded++;
              if (e.kind === "select") selects++;
            });
          }
        }
      };
      walk(outer.body);
      // The border pieces only sum the taps inside the image: no guard is left anywhere.
      expect(guarded).toBe(0);
      expect(selects).toBe(0);
      // The one loop over f still splits across threads.
      const split = loopSplit(kernel, { dtypeOf: () => "f32", inlineMath: true, threads: 2 });
      expect(split.ok, split.ok ? "" : split.reason).toBe(true);
    });
  }

  it("runs the split kernel on threads with the bits of one thread", async () => {
    const source = 'import conv2d_same from "nn"\ninput X[16, 12, 12], K[16, 16, 3, 3]\noutput Y = conv2d_same(X, K)\n';
    const p = compile(source, { backend: "js" }).ir!;
    const make = await wasmBackendFactory();
    const one = make({ threads: 1 }).compile(p).executable;
    const two = make({ threads: 2, parallelMinFlops: 0 }).compile(p).executable;
    try {
      for (const seed of [1, 2]) {
        const inputs = inputsFor(p, seed);
        expectSameBits(two.run(inputs), one.run(inputs));
      }
    } finally {
      two.dispose?.();
      one.dispose?.();
    }
  });

  it("golden: the item-2 program after the pipeline, and the kernel of a padded stencil", () => {
    const item2 = CASES.find((c) => c.name.startsWith("issue 16 item 2"))!;
    expectGolden("split-index-sets/item2-ir", printProgram(compile(item2.source, { backend: "js" }).ir!));
    const stencil = CASES.find((c) => c.name.startsWith("1-D stencil padded on both sides"))!;
    expectGolden("split-index-sets/stencil-kernel", printKernels(lowerToKernels(compile(stencil.source, { backend: "js" }).ir!)));
  });

  it("leaves the wgsl pipeline without it", () => {
    expect(defaultPipeline({ backend: "wgsl" })).not.toContain(splitIndexSets);
    expect(defaultPipeline()).toContain(splitIndexSets);
  });

  it("leaves programs without padding unchanged", () => {
    const p = compile('import conv2d from "nn"\ninput X[2, 6, 6], K[3, 2, 3, 3]\noutput Y = conv2d(X, K)\n', { backend: "js" }).ir!;
    expect(splitIndexSets.run(p)).toBe(p);
  });
});

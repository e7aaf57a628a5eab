/**
 * The programs practitioners write (index arithmetic, ranges, padding, the
 * math functions, index groups), each compiled and run on every backend and
 * compared with NumPy in float64 as an external oracle. Inputs are f32
 * values, so the backends and NumPy see the same numbers.
 */
import { describe, expect, it } from "vitest";
import { compileAsync } from "../../src/compiler.js";
import type { DType, Program } from "../../src/ir/types.js";
import { Tensor } from "../../src/runtime/tensor.js";
import { NUMPY_CASES_SCRIPT, numpyPython, relativeError, runNumpyScript } from "../support/numpy.js";

const python = numpyPython();
const BACKENDS = ["js", "wasm", "wgsl"] as const;
const TOLERANCE = 1e-4;

interface Case {
  readonly name: string;
  readonly source: string;
  /** i32 inputs: values drawn from 0 .. bound - 1. */
  readonly ints?: Readonly<Record<string, number>>;
  /** Float inputs are drawn from -scale .. scale (default 2). */
  readonly scale?: number;
  /** Python: `I` holds the inputs as float64 arrays, `np` and `math` are imported; assign `O[name]` per output. */
  readonly numpy: string;
}

export const CASES: readonly Case[] = [
  {
    name: "positional encoding (index values as reals)",
    source: "size T = 6, P = 8\noutput PE[t < T, p < P] = sin(t * pow(10000, -2 * p / P))\n",
    numpy: "t = np.arange(6.0)[:, None]; p = np.arange(8.0)[None, :]\nO['PE'] = np.sin(t * np.power(10000.0, -2 * p / 8))",
  },
  {
    name: "exact GELU",
    source: "size N = 64\ninput x[N]\noutput G[i] = 0.5 * x[i] * (1 + erf(x[i] / sqrt(2)))\n",
    scale: 4,
    numpy: "erf = np.vectorize(math.erf)\nx = I['x']\nO['G'] = 0.5 * x * (1 + erf(x / np.sqrt(2)))",
  },
  {
    name: "integer division and modulo of indices",
    source: "size C = 2, H = 3, W = 4\ninput X[C, H, W], M[2, 2]\noutput Y[c, h, w] = X[c, h / 2, w / 2] * M[h % 2, w % 2]\n",
    numpy: "X = I['X']; M = I['M']\nO['Y'] = np.repeat(np.repeat(X, 2, 1), 2, 2) * np.tile(M, (3, 4))",
  },
  {
    name: "every new function",
    source: [
      "size N = 40",
      "input x[N], y[N]",
      "output A[i] = sin(x[i]) + cos(y[i]) * tan(x[i] / 2) - atan(3 * y[i]) + atan2(x[i], y[i])",
      "output B[i] = log1p(x[i] * x[i]) + expm1(y[i]) + softplus(4 * x[i]) + softplus(-30 + x[i])",
      "output Cl[i] = sign(x[i]) + floor(3 * x[i]) + ceil(3 * y[i]) + round(5 * x[i]) + clamp(2 * y[i], -1, 0.5)",
      "output E[i] = erf(x[i]) + erf(3 * y[i]) + log1p(1e-6 * x[i]) * 1e6 + expm1(1e-6 * y[i]) * 1e6",
      "output Md[i] = x[i] % 0.75 + (3 * y[i]) % -1",
      "",
    ].join("\n"),
    numpy: [
      "x = I['x']; y = I['y']; erf = np.vectorize(math.erf)",
      "O['A'] = np.sin(x) + np.cos(y) * np.tan(x / 2) - np.arctan(3 * y) + np.arctan2(x, y)",
      "O['B'] = np.log1p(x * x) + np.expm1(y) + np.logaddexp(0, 4 * x) + np.logaddexp(0, -30 + x)",
      "O['Cl'] = np.sign(x) + np.floor(3 * x) + np.ceil(3 * y) + np.round(5 * x) + np.clip(2 * y, -1, 0.5)",
      "O['E'] = erf(x) + erf(3 * y) + np.log1p(1e-6 * x) * 1e6 + np.expm1(1e-6 * y) * 1e6",
      "O['Md'] = np.mod(x, 0.75) + np.mod(3 * y, -1)",
    ].join("\n"),
  },
  {
    name: "zero padding with the output extent stated",
    source: [
      "size F = 3, C = 2, H = 5, W = 6",
      "input X[C, H, W], K[F, C, 3, 3]",
      "output Y[f, y < H, x < W] = sum(c, dy, dx) where(y + dy >= 1 && y + dy <= H && x + dx >= 1 && x + dx <= W, X[c, y + dy - 1, x + dx - 1] * K[f, c, dy, dx], 0)",
      "",
    ].join("\n"),
    numpy: [
      "X = np.pad(I['X'], ((0, 0), (1, 1), (1, 1))); K = I['K']",
      "Y = np.zeros((3, 5, 6))",
      "for dy in range(3):",
      "  for dx in range(3):",
      "    Y += np.einsum('fc,cyx->fyx', K[:, :, dy, dx], X[:, dy:dy + 5, dx:dx + 6])",
      "O['Y'] = Y",
    ].join("\n"),
  },
  {
    name: "zero padding written without extents (symmetric padding)",
    source: [
      "size F = 2, C = 2, H = 4, W = 5",
      "input X[C, H, W], K[F, C, 3, 3]",
      "output Y[f, y, x] = sum(c, dy, dx) where(y + dy >= 1 && y + dy <= H && x + dx >= 1 && x + dx <= W, X[c, y + dy - 1, x + dx - 1] * K[f, c, dy, dx], 0)",
      "",
    ].join("\n"),
    numpy: [
      "X = np.pad(I['X'], ((0, 0), (1, 1), (1, 1))); K = I['K']",
      "Y = np.zeros((2, 4, 5))",
      "for dy in range(3):",
      "  for dx in range(3):",
      "    Y += np.einsum('fc,cyx->fyx', K[:, :, dy, dx], X[:, dy:dy + 4, dx:dx + 5])",
      "O['Y'] = Y",
    ].join("\n"),
  },
  {
    name: "zero padding of a computed tensor, then an activation",
    source: [
      "size C = 2, H = 4, W = 5",
      "input X[C, H, W], K[C, 3, 3], b[C]",
      "Xe[c, h, w] = exp(X[c, h, w]) + b[c]",
      "Z[y < H, x < W] = sum(c, dy, dx) where(y + dy - 1 >= 0 && y + dy - 1 < H && x + dx >= 1 && x + dx <= W, Xe[c, y + dy - 1, x + dx - 1] * K[c, dy, dx], 0)",
      "output Y[y, x] = tanh(Z[y, x] / 10)",
      "",
    ].join("\n"),
    numpy: [
      "Xe = np.pad(np.exp(I['X']) + I['b'][:, None, None], ((0, 0), (1, 1), (1, 1))); K = I['K']",
      "Z = np.zeros((4, 5))",
      "for dy in range(3):",
      "  for dx in range(3):",
      "    Z += np.einsum('c,cyx->yx', K[:, dy, dx], Xe[:, dy:dy + 4, dx:dx + 5])",
      "O['Y'] = np.tanh(Z / 10)",
    ].join("\n"),
  },
  {
    name: "neighbours under guards keep their producer",
    source: "size H = 6\ninput X[H]\nXe[h] = exp(X[h])\noutput Y[y < H] = where(y >= 1, Xe[y - 1], 0) + where(y + 1 < H, Xe[y + 1] * 2, 0)\n",
    numpy: "e = np.exp(I['X'])\nO['Y'] = np.concatenate([[0], e[:-1]]) + 2 * np.concatenate([e[1:], [0]])",
  },
  {
    name: "one-hot, diagonal and segment sum (an index only as a value)",
    source: [
      "size N = 7, C = 4, M = 9, Sg = 3, D = 2",
      "input labels[N]: i32, v[N], seg[M]: i32, X[M, D]",
      "output Oh[i, c < C] = labels[i] == c",
      "output Dg[i, j] = v[i] * (i == j)",
      "output S[s < Sg, d] = sum(i) where(seg[i] == s, X[i, d], 0)",
      "",
    ].join("\n"),
    ints: { labels: 4, seg: 3 },
    numpy: [
      "O['Oh'] = (I['labels'][:, None] == np.arange(4)[None, :]).astype(float)",
      "O['Dg'] = np.diag(I['v'])",
      "S = np.zeros((3, 2))",
      "np.add.at(S, I['seg'].astype(int), I['X'])",
      "O['S'] = S",
    ].join("\n"),
  },
  {
    name: "neighbour offsets",
    source: [
      "size N = 6, T = 5, B = 2",
      "input x[N], r[T], v[T + 1], U[N, N], X[B, N]",
      "output Df[i] = x[i + 1] - x[i]",
      "output delta[t] = r[t] + 0.99 * v[t + 1] - v[t]",
      "output J[i, j] = 0.25 * (U[i, j + 1] + U[i + 2, j + 1] + U[i + 1, j] + U[i + 1, j + 2])",
      "output Cs[b, i] = sum(j) where(j <= i, X[b, j], 0)",
      "",
    ].join("\n"),
    numpy: [
      "O['Df'] = np.diff(I['x'])",
      "O['delta'] = I['r'] + 0.99 * I['v'][1:] - I['v'][:-1]",
      "U = I['U']",
      "O['J'] = 0.25 * (U[:-2, 1:-1] + U[2:, 1:-1] + U[1:-1, :-2] + U[1:-1, 2:])",
      "O['Cs'] = np.cumsum(I['X'], axis=1)",
    ].join("\n"),
  },
  {
    name: "head split of a flat projection",
    source: "size T = 4, Dm = 8, Hh = 2, E = 4\ninput Q[T, Dm], K[T, Dm]\noutput S[h, i, j] = Q[i, (h < Hh, e)] * K[j, (h, e)] / sqrt(E)\n",
    numpy: "Q = I['Q'].reshape(4, 2, 4); K = I['K'].reshape(4, 2, 4)\nO['S'] = np.einsum('ihe,jhe->hij', Q, K) / 2",
  },
  {
    name: "pixel shuffle",
    source: "size C = 2, R = 2, H = 3, W = 3\ninput X[C * R * R, H, W]\noutput Y[c, (h, r1), (w, r2)] = X[(c, r1, r2), h, w]\n",
    numpy: "O['Y'] = I['X'].reshape(2, 2, 2, 3, 3).transpose(0, 3, 1, 4, 2).reshape(2, 6, 6)",
  },
  {
    name: "grouped convolution in PyTorch's layout",
    source: [
      "size G = 2, Cg = 2, F = 3, H = 5, W = 5",
      "input X[G * Cg, H, W], Wt[G * F, Cg, 3, 3]",
      "output Y[(g, f), y, x] = X[(g, c), y + dy, x + dx] * Wt[(g, f), c, dy, dx]",
      "",
    ].join("\n"),
    numpy: [
      "X = I['X'].reshape(2, 2, 5, 5); Wt = I['Wt'].reshape(2, 3, 2, 3, 3)",
      "Y = np.zeros((2, 3, 3, 3))",
      "for dy in range(3):",
      "  for dx in range(3):",
      "    Y += np.einsum('gfc,gcyx->gfyx', Wt[:, :, :, dy, dx], X[:, :, dy:dy + 3, dx:dx + 3])",
      "O['Y'] = Y.reshape(6, 3, 3)",
    ].join("\n"),
  },
  {
    name: "nearest upsampling",
    source: "size C = 2, H = 3, W = 2\ninput X[C, H, W]\noutput Up[c, (h, r1 < 2), (w, r2 < 2)] = X[c, h, w]\n",
    numpy: "O['Up'] = np.repeat(np.repeat(I['X'], 2, 1), 2, 2)",
  },
  {
    name: "stdlib: gelu_exact, conv2d_same, positional_encoding, one_hot, eye, diag",
    source: [
      'import gelu_exact, conv2d_same, positional_encoding, one_hot from "nn"',
      'import eye, diag from "linalg"',
      "size T = 5, D = 6",
      "input X[2, 5, 4], K[3, 2, 3, 3], labels[4]: i32, v[3], Z[2, 3]",
      "output G = gelu_exact(Z)",
      "output Y = conv2d_same(X, K)",
      "output PE = positional_encoding(T, D)",
      "output Oh = one_hot(labels, 3)",
      "output E = eye(4)",
      "output Dg = diag(v)",
      "",
    ].join("\n"),
    ints: { labels: 3 },
    numpy: [
      "erf = np.vectorize(math.erf); Z = I['Z']",
      "O['G'] = 0.5 * Z * (1 + erf(Z / np.sqrt(2)))",
      "X = np.pad(I['X'], ((0, 0), (1, 1), (1, 1))); K = I['K']",
      "Y = np.zeros((3, 5, 4))",
      "for dy in range(3):",
      "  for dx in range(3):",
      "    Y += np.einsum('fc,cyx->fyx', K[:, :, dy, dx], X[:, dy:dy + 5, dx:dx + 4])",
      "O['Y'] = Y",
      "pos = np.arange(5.0)[:, None]; k = np.arange(3.0)[None, :]",
      "ang = pos * np.power(10000.0, -2 * k / 6)",
      "PE = np.zeros((5, 6)); PE[:, 0::2] = np.sin(ang); PE[:, 1::2] = np.cos(ang)",
      "O['PE'] = PE",
      "O['Oh'] = np.eye(3)[I['labels'].astype(int)]",
      "O['E'] = np.eye(4)",
      "O['Dg'] = np.diag(I['v'])",
    ].join("\n"),
  },
  // Programs written the way they appear in papers and NumPy code, beyond the list.
  {
    name: "GRU over a sequence (a recurrence with a gate on the previous state)",
    source: [
      "size T = 6, D = 4, H = 5",
      "input X[T, D], Wz[D, H], Uz[H, H], Wr[D, H], Ur[H, H], Wh[D, H], Uh[H, H], h0[H]",
      "output Hs[t, j] = (1 - sigmoid(sum(k) X[t, k] * Wz[k, j] + sum(k) where(t > 0, Hs[t - 1, k], h0[k]) * Uz[k, j]))" +
        " * tanh(sum(k) X[t, k] * Wh[k, j] + sum(k) sigmoid(sum(m) X[t, m] * Wr[m, k] + sum(m) where(t > 0, Hs[t - 1, m], h0[m]) * Ur[m, k]) * where(t > 0, Hs[t - 1, k], h0[k]) * Uh[k, j])" +
        " + sigmoid(sum(k) X[t, k] * Wz[k, j] + sum(k) where(t > 0, Hs[t - 1, k], h0[k]) * Uz[k, j]) * where(t > 0, Hs[t - 1, j], h0[j])",
      "",
    ].join("\n"),
    scale: 1,
    numpy: [
      "X = I['X']; h = I['h0']; sig = lambda v: 1 / (1 + np.exp(-v)); Hs = []",
      "for t in range(6):",
      "  z = sig(X[t] @ I['Wz'] + h @ I['Uz']); r = sig(X[t] @ I['Wr'] + h @ I['Ur'])",
      "  h = (1 - z) * np.tanh(X[t] @ I['Wh'] + (r * h) @ I['Uh']) + z * h; Hs.append(h)",
      "O['Hs'] = np.array(Hs)",
    ].join("\n"),
  },
  {
    name: "Viterbi: a max-plus recurrence reading emissions by a gather, then argmax",
    source: [
      "size T = 7, S = 4, O = 5",
      "input obs[T]: i32, logA[S, S], logB[S, O], logpi[S]",
      "output V[t, j] = logB[j, obs[t]] + where(t > 0, max(i) (V[t - 1, i] + logA[i, j]), logpi[j])",
      "output best = argmax(j) V[T - 1, j]",
      "",
    ].join("\n"),
    ints: { obs: 5 },
    numpy: [
      "obs = I['obs'].astype(int); A = I['logA']; B = I['logB']",
      "V = np.zeros((7, 4)); V[0] = I['logpi'] + B[:, obs[0]]",
      "for t in range(1, 7): V[t] = B[:, obs[t]] + np.max(V[t - 1][:, None] + A, axis=0)",
      "O['V'] = V; O['best'] = np.argmax(V[-1])",
    ].join("\n"),
  },
  {
    name: "softmax cross-entropy picking each row's label by a gather",
    source: [
      "size N = 6, C = 5",
      "input logits[N, C], labels[N]: i32",
      "M[i] = max(c) logits[i, c]",
      "LSE[i] = M[i] + log(sum(c) exp(logits[i, c] - M[i]))",
      "output loss = sum(i) (LSE[i] - logits[i, labels[i]]) / N",
      "",
    ].join("\n"),
    ints: { labels: 5 },
    numpy: [
      "L = I['logits']; y = I['labels'].astype(int); M = L.max(1)",
      "lse = M + np.log(np.exp(L - M[:, None]).sum(1))",
      "O['loss'] = np.mean(lse - L[np.arange(6), y])",
    ].join("\n"),
  },
  {
    name: "max and average pooling, 2 x 2 with stride 2",
    source: [
      "size C = 3, H = 8, W = 6",
      "input X[C, H, W]",
      "output Mx[c, y, x] = max(dy < 2, dx < 2) X[c, 2 * y + dy, 2 * x + dx]",
      "output Av[c, y, x] = sum(dy < 2, dx < 2) X[c, 2 * y + dy, 2 * x + dx] / 4",
      "",
    ].join("\n"),
    numpy: "X = I['X'].reshape(3, 4, 2, 3, 2)\nO['Mx'] = X.max(axis=(2, 4)); O['Av'] = X.mean(axis=(2, 4))",
  },
  {
    name: "everyday one-liners: flip, trace, tril, tile, one-hot, EMA, cumprod, norm, softmax",
    source: [
      "size N = 6, M = 4",
      "input x[N], A[N, N], labels[N]: i32",
      "output flip[i] = x[N - 1 - i]",
      "output tr = sum(i) A[i, i]",
      "output tril[i, j] = where(j <= i, A[i, j], 0)",
      "output tile[i < 2 * N] = x[i % N]",
      "output oh[i, c < M] = labels[i] == c",
      "output ema[t] = 0.9 * where(t > 0, ema[t - 1], 0) + 0.1 * x[t]",
      "output cprod[i] = x[i] * where(i > 0, cprod[i - 1], 1)",
      "output norm = sqrt(sum(i) x[i] * x[i])",
      "output sm[i] = exp(x[i] - max(j) x[j]) / sum(j) exp(x[j] - max(k) x[k])",
      "",
    ].join("\n"),
    ints: { labels: 4 },
    scale: 1,
    numpy: [
      "x = I['x']; A = I['A']",
      "O['flip'] = x[::-1]; O['tr'] = np.trace(A); O['tril'] = np.tril(A); O['tile'] = np.tile(x, 2)",
      "O['oh'] = np.eye(4)[I['labels'].astype(int)]",
      "e = []; v = 0.0",
      "for t in range(6): v = 0.9 * v + 0.1 * x[t]; e.append(v)",
      "O['ema'] = np.array(e); O['cprod'] = np.cumprod(x); O['norm'] = np.linalg.norm(x)",
      "O['sm'] = np.exp(x - x.max()) / np.exp(x - x.max()).sum()",
    ].join("\n"),
  },
  {
    name: "rotary position embedding on pairs of features",
    source: [
      "size T = 5, P = 3",
      "input X[T, 2 * P]",
      "Th[t < T, p < P] = t * pow(10000, -2 * p / (2 * P))",
      "output R[t, (p, r < 2)] = where(r == 0, X[t, 2 * p] * cos(Th[t, p]) - X[t, 2 * p + 1] * sin(Th[t, p]), X[t, 2 * p] * sin(Th[t, p]) + X[t, 2 * p + 1] * cos(Th[t, p]))",
      "",
    ].join("\n"),
    numpy: [
      "X = I['X']; th = np.arange(5.0)[:, None] * np.power(10000.0, -2 * np.arange(3.0)[None, :] / 6)",
      "R = np.zeros((5, 6)); a = X[:, 0::2]; b = X[:, 1::2]",
      "R[:, 0::2] = a * np.cos(th) - b * np.sin(th); R[:, 1::2] = a * np.sin(th) + b * np.cos(th)",
      "O['R'] = R",
    ].join("\n"),
  },
  {
    name: "mixture-of-experts routing: top-2 gates, gathers by the chosen indices",
    source: [
      "size N = 5, E = 6, D = 3",
      "input X[N, D], Wg[D, E], Emb[E, D]",
      "G[n, e] = sum(d) X[n, d] * Wg[d, e]",
      "V[n, r], I[n, r] = topk(r < 2, e) G[n, e]",
      "output Sel[n, r, d] = Emb[I[n, r], d] * V[n, r]",
      "output Bemb[n, d] = Emb[argmax(e) G[n, e], d]",
      "",
    ].join("\n"),
    numpy: [
      "G = I['X'] @ I['Wg']; idx = np.argsort(-G, axis=1, kind='stable')[:, :2]",
      "V = np.take_along_axis(G, idx, 1); O['Sel'] = I['Emb'][idx] * V[:, :, None]",
      "O['Bemb'] = I['Emb'][np.argmax(G, axis=1)]",
    ].join("\n"),
  },
  {
    name: "distances, a bilinear form, a masked softmax, a histogram, a dilated convolution",
    source: [
      "size N = 5, M = 7, D = 3, C = 4, L = 12, K = 3",
      "input X[N, D], Y[M, D], x[N], y[M], A[N, M], mask[N, N], S[N, N], bins[N]: i32, s[C, L], w[C, K]",
      "output Dist[i, j] = sqrt(sum(d) pow(X[i, d] - Y[j, d], 2))",
      "output bil = sum(i, j) x[i] * A[i, j] * y[j]",
      "Sm[i, j] = where(mask[i, j] > 0 || i == j, S[i, j], -inf)",
      "output P[i, j] = exp(Sm[i, j] - max(k) Sm[i, k]) / sum(k) exp(Sm[i, k] - max(m) Sm[i, m])",
      "output Hist[b < C] = sum(i) (bins[i] == b)",
      "output Dil[c, t] = sum(k) s[c, t + 2 * k] * w[c, k]",
      "",
    ].join("\n"),
    ints: { bins: 4 },
    numpy: [
      "X = I['X']; Y = I['Y']",
      "O['Dist'] = np.sqrt(((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1))",
      "O['bil'] = I['x'] @ I['A'] @ I['y']",
      "Sm = np.where((I['mask'] > 0) | np.eye(5, dtype=bool), I['S'], -np.inf)",
      "E = np.exp(Sm - Sm.max(1, keepdims=True)); O['P'] = E / E.sum(1, keepdims=True)",
      "O['Hist'] = np.bincount(I['bins'].astype(int), minlength=4).astype(float)",
      "s = I['s']; w = I['w']",
      "O['Dil'] = np.stack([sum(s[:, t + 2 * k] * w[:, k] for k in range(3)) for t in range(8)], 1)",
    ].join("\n"),
  },
];

/** Deterministic inputs for a program: floats in -scale .. scale rounded to the input's type, ints below their bound. */
export function inputsOf(p: Program, c: Case, seed = 7): Record<string, Tensor> {
  let state = seed >>> 0;
  const next = (): number => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    state = (state ^ (state >>> 12)) >>> 0;
    return state / 2 ** 32;
  };
  const out: Record<string, Tensor> = {};
  for (const t of p.tensors) {
    if (t.role !== "input") continue;
    const n = t.shape.reduce((a, b) => a * b, 1);
    const dtype: DType = t.dtype;
    const data = dtype === "i32" ? new Int32Array(n) : dtype === "f64" ? new Float64Array(n) : new Float32Array(n);
    const bound = c.ints?.[t.name] ?? 4;
    const scale = c.scale ?? 2;
    for (let k = 0; k < n; k++) data[k] = dtype === "i32" ? Math.floor(next() * bound) : (2 * next() - 1) * scale;
    out[t.name] = new Tensor(dtype, t.shape, data);
  }
  return out;
}

describe.skipIf(python === null)("practitioners' programs agree with NumPy on every backend", () => {
  for (const c of CASES) {
    for (const backend of BACKENDS) {
      it(`${c.name} (${backend})`, async () => {
        const compiled = await compileAsync(c.source, { file: "case.tns", backend, verify: true });
        expect(compiled.ok, compiled.formatDiagnostics()).toBe(true);
        const inputs = inputsOf(compiled.loweredIr!, c);
        const payload = [{ code: c.numpy, inputs: Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, { shape: t.shape, data: Array.from(t.data) }])) }];
        const [want] = runNumpyScript<Record<string, { shape: number[]; data: number[] }>[]>(python!, NUMPY_CASES_SCRIPT, payload);
        const got = await compiled.runAsync(inputs);
        try {
          for (const [name, w] of Object.entries(want!)) {
            expect(got[name], name).toBeDefined();
            expect(got[name]!.shape, name).toEqual(w.shape);
            expect(relativeError(got[name]!.data, w.data), name).toBeLessThanOrEqual(TOLERANCE);
          }
        } finally {
          compiled.dispose();
        }
      });
    }
  }
});

/**
 * Plain-JavaScript reference implementations of the stdlib functions and the
 * example programs, written with explicit loops and no tns code, so the
 * compiler's answers are checked against an independent source.
 * All arithmetic is float64; results are f64 tensors.
 */
import { Tensor } from "../../src/runtime/tensor.js";

/** A deterministic generator of floats in [-1, 1) (mulberry32). */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

/** A tensor of the given shape filled from a seeded generator. */
export function randomTensor(shape: readonly number[], next: () => number, dtype: "f32" | "f64" = "f32"): Tensor {
  const t = Tensor.zeros(shape, dtype);
  for (let k = 0; k < t.data.length; k++) t.data[k] = next();
  return t;
}

/** An f64 tensor from a shape and a function of the multi-index. */
export function build(shape: readonly number[], f: (...idx: number[]) => number): Tensor {
  const t = Tensor.zeros(shape, "f64");
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = 0; k < t.data.length; k++) {
    t.data[k] = f(...idx);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return t;
}

/**
 * The error measure used across these tests: max |a - b| / (max |ref| + 1e-6).
 * Throws when the shapes differ.
 */
export function relativeError(got: Tensor, ref: Tensor): number {
  if (got.shape.join(",") !== ref.shape.join(",")) {
    throw new Error(`shape [${got.shape.join(", ")}] differs from reference [${ref.shape.join(", ")}]`);
  }
  let diff = 0;
  let scale = 0;
  for (let k = 0; k < ref.data.length; k++) {
    const a = got.data[k]!;
    const b = ref.data[k]!;
    diff = Math.max(diff, a === b ? 0 : Math.abs(a - b));
    if (Number.isNaN(a) !== Number.isNaN(b)) diff = Infinity;
    scale = Math.max(scale, Math.abs(b));
  }
  return diff / (scale + 1e-6);
}

const g = (t: Tensor, ...i: number[]): number => t.get(...i);

/** C = A B. */
export function matmul(A: Tensor, B: Tensor): Tensor {
  const [n, k] = A.shape as [number, number];
  const m = B.shape[1]!;
  return build([n, m], (i, j) => {
    let s = 0;
    for (let l = 0; l < k; l++) s += g(A, i!, l) * g(B, l, j!);
    return s;
  });
}

/** C[p] = A[p] B[p]. */
export function bmm(A: Tensor, B: Tensor): Tensor {
  const [b, n, k] = A.shape as [number, number, number];
  const m = B.shape[2]!;
  return build([b, n, m], (p, i, j) => {
    let s = 0;
    for (let l = 0; l < k; l++) s += g(A, p!, i!, l) * g(B, p!, l, j!);
    return s;
  });
}

/** Row softmax of a matrix. */
export function softmax(X: Tensor): Tensor {
  const [n, m] = X.shape as [number, number];
  const out = Tensor.zeros([n, m], "f64");
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let j = 0; j < m; j++) mx = Math.max(mx, g(X, i, j));
    let s = 0;
    for (let j = 0; j < m; j++) s += Math.exp(g(X, i, j) - mx);
    for (let j = 0; j < m; j++) out.data[i * m + j] = Math.exp(g(X, i, j) - mx) / s;
  }
  return out;
}

/** Row log-sum-exp of a matrix. */
export function logsumexp(X: Tensor): Tensor {
  const [n, m] = X.shape as [number, number];
  return build([n], (i) => {
    let s = 0;
    for (let j = 0; j < m; j++) s += Math.exp(g(X, i!, j));
    return Math.log(s);
  });
}

/** Row layer norm with gain G and bias B, eps 1e-5. */
export function layernorm(X: Tensor, G: Tensor, B: Tensor): Tensor {
  const [n, d] = X.shape as [number, number];
  const out = Tensor.zeros([n, d], "f64");
  for (let i = 0; i < n; i++) {
    let mu = 0;
    for (let j = 0; j < d; j++) mu += g(X, i, j);
    mu /= d;
    let v = 0;
    for (let j = 0; j < d; j++) v += (g(X, i, j) - mu) ** 2;
    v /= d;
    for (let j = 0; j < d; j++) out.data[i * d + j] = ((g(X, i, j) - mu) / Math.sqrt(v + 1e-5)) * g(G, j) + g(B, j);
  }
  return out;
}

/** softmax(Q Kᵀ / sqrt(d) [+ causal mask]) V. */
export function attention(Q: Tensor, K: Tensor, V: Tensor, causal = false): Tensor {
  const [n, d] = Q.shape as [number, number];
  const m = K.shape[0]!;
  const e = V.shape[1]!;
  const S = build([n, m], (i, j) => {
    if (causal && j! > i!) return -Infinity;
    let s = 0;
    for (let k = 0; k < d; k++) s += g(Q, i!, k) * g(K, j!, k);
    return s / Math.sqrt(d);
  });
  const P = softmax(S);
  return build([n, e], (i, c) => {
    let s = 0;
    for (let j = 0; j < m; j++) s += g(P, i!, j) * g(V, j, c!);
    return s;
  });
}

/** relu(X W + b). */
export function dense(X: Tensor, W: Tensor, b: Tensor): Tensor {
  const XW = matmul(X, W);
  return build(XW.shape, (i, j) => Math.max(0, g(XW, i!, j!) + g(b, j!)));
}

/** A tanh RNN over the rows of X: H[t] = tanh(X[t]·Wx + H[t-1]·Wh + b), H[-1] = h0. */
export function rnn(X: Tensor, Wx: Tensor, Wh: Tensor, b: Tensor, h0: Tensor): Tensor {
  const [T, d] = X.shape as [number, number];
  const h = b.shape[0]!;
  const out = new Float64Array(T * h);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < h; j++) {
      let acc = g(b, j);
      for (let k = 0; k < d; k++) acc += g(X, t, k) * g(Wx, k, j);
      for (let k = 0; k < h; k++) acc += (t > 0 ? out[(t - 1) * h + k]! : g(h0, k)) * g(Wh, k, j);
      out[t * h + j] = Math.tanh(acc);
    }
  }
  return build([T, h], (t, j) => out[t! * h + j!]!);
}

/** Cumulative sum along the last axis of a matrix. */
export function cumsum(X: Tensor): Tensor {
  const [n, m] = X.shape as [number, number];
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[i * m + j] = g(X, i, j) + (j > 0 ? out[i * m + j - 1]! : 0);
  return build([n, m], (i, j) => out[i! * m + j!]!);
}

/** Valid 2-D cross-correlation with stride s, optional per-output-channel bias and ReLU. */
export function conv2d(X: Tensor, K: Tensor, s = 1, bias?: Tensor, relu = false): Tensor {
  const [c, h, w] = X.shape as [number, number, number];
  const [o, , kh, kw] = K.shape as [number, number, number, number];
  const ho = Math.floor((h - kh) / s) + 1;
  const wo = Math.floor((w - kw) / s) + 1;
  return build([o, ho, wo], (f, y, x) => {
    let acc = 0;
    for (let ci = 0; ci < c; ci++)
      for (let dy = 0; dy < kh; dy++)
        for (let dx = 0; dx < kw; dx++) acc += g(X, ci, s * y! + dy, s * x! + dx) * g(K, f!, ci, dy, dx);
    if (bias) acc += g(bias, f!);
    return relu ? Math.max(0, acc) : acc;
  });
}

/** Per-channel max pooling with a k×k window and stride s (valid). */
export function maxpool2d(X: Tensor, k: number, s: number): Tensor {
  const [c, h, w] = X.shape as [number, number, number];
  const ho = Math.floor((h - k) / s) + 1;
  const wo = Math.floor((w - k) / s) + 1;
  return build([c, ho, wo], (ch, y, x) => {
    let m = -Infinity;
    for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) m = Math.max(m, g(X, ch!, s * y! + dy, s * x! + dx));
    return m;
  });
}

/** The Kronecker product A ⊗ B as a (p r)×(q s) matrix. */
export function kron(A: Tensor, B: Tensor): Tensor {
  const [p, q] = A.shape as [number, number];
  const [r, s] = B.shape as [number, number];
  return build([p * r, q * s], (row, col) => g(A, Math.floor(row! / r), Math.floor(col! / s)) * g(B, row! % r, col! % s));
}

/** (A ⊗ B) x from the definition of the Kronecker product, without forming it. */
export function kronMatvec(A: Tensor, B: Tensor, x: Tensor): Tensor {
  const [p, q] = A.shape as [number, number];
  const [r, s] = B.shape as [number, number];
  return build([p * r], (row) => {
    const a = Math.floor(row! / r);
    const b = row! % r;
    let acc = 0;
    for (let c = 0; c < q; c++) for (let d = 0; d < s; d++) acc += g(A, a, c) * g(B, b, d) * g(x, c * s + d);
    return acc;
  });
}

/** Tensor-train matvec: materializes the TT matrix entry by entry, then multiplies. */
export function ttMatvec(G1: Tensor, G2: Tensor, G3: Tensor, x: Tensor): Tensor {
  const [m1, n1, r1] = G1.shape as [number, number, number];
  const [, m2, n2, r2] = G2.shape as [number, number, number, number];
  const [, m3, n3] = G3.shape as [number, number, number];
  const entry = (i1: number, i2: number, i3: number, j1: number, j2: number, j3: number): number => {
    let acc = 0;
    for (let u = 0; u < r1; u++) for (let v = 0; v < r2; v++) acc += g(G1, i1, j1, u) * g(G2, u, i2, j2, v) * g(G3, v, i3, j3);
    return acc;
  };
  return build([m1 * m2 * m3], (row) => {
    const i1 = Math.floor(row! / (m2 * m3));
    const i2 = Math.floor(row! / m3) % m2;
    const i3 = row! % m3;
    let acc = 0;
    for (let j1 = 0; j1 < n1; j1++)
      for (let j2 = 0; j2 < n2; j2++)
        for (let j3 = 0; j3 < n3; j3++) acc += entry(i1, i2, i3, j1, j2, j3) * g(x, (j1 * n2 + j2) * n3 + j3);
    return acc;
  });
}

/** Tucker reconstruction G ×1 U1 ×2 U2 ×3 U3, one mode at a time. */
export function tucker(G: Tensor, U1: Tensor, U2: Tensor, U3: Tensor): Tensor {
  const [r1, r2, r3] = G.shape as [number, number, number];
  const n1 = U1.shape[0]!;
  const n2 = U2.shape[0]!;
  const n3 = U3.shape[0]!;
  const T1 = build([n1, r2, r3], (i, b, c) => {
    let s = 0;
    for (let a = 0; a < r1; a++) s += g(G, a, b!, c!) * g(U1, i!, a);
    return s;
  });
  const T2 = build([n1, n2, r3], (i, j, c) => {
    let s = 0;
    for (let b = 0; b < r2; b++) s += g(T1, i!, b, c!) * g(U2, j!, b);
    return s;
  });
  return build([n1, n2, n3], (i, j, k) => {
    let s = 0;
    for (let c = 0; c < r3; c++) s += g(T2, i!, j!, c) * g(U3, k!, c);
    return s;
  });
}

/** Σ_i A[i, i]. */
export function trace(A: Tensor): Tensor {
  let s = 0;
  for (let i = 0; i < A.shape[0]!; i++) s += g(A, i, i);
  return build([], () => s);
}

/** x yᵀ. */
export function outer(x: Tensor, y: Tensor): Tensor {
  return build([x.shape[0]!, y.shape[0]!], (i, j) => g(x, i!) * g(y, j!));
}

/** Row ids[t] of W for each t, where ids is the row-wise argmax of S (the first maximum). */
export function embeddingOfArgmax(S: Tensor, W: Tensor): Tensor {
  const [n, m] = S.shape as [number, number];
  const ids = Array.from({ length: n }, (_, t) => {
    let best = 0;
    for (let j = 1; j < m; j++) if (g(S, t, j) > g(S, t, best)) best = j;
    return best;
  });
  return build([n, W.shape[1]!], (t, c) => g(W, ids[t!]!, c!));
}

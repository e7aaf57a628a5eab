/**
 * One small f64 program per stdlib function (and the strided and
 * overlapping variants of convolution and pooling), each calling it on its
 * inputs as the output `Y`; shared by the gradient tests.
 */
export const STDLIB_CASES: Readonly<Record<string, string>> = {
  matmul: `input A[3, 4]: f64, B[4, 5]: f64\noutput Y = matmul(A, B)`,
  bmm: `input A[2, 3, 4]: f64, B[2, 4, 3]: f64\noutput Y = bmm(A, B)`,
  kron: `input A[2, 3]: f64, B[3, 2]: f64\noutput Y = kron(A, B)`,
  kron_matvec: `input A[2, 3]: f64, B[3, 2]: f64, x[6]: f64\noutput Y = kron_matvec(A, B, x)`,
  kron_matvec_factored: `input A[2, 3]: f64, B[3, 2]: f64, x[6]: f64\noutput Y = kron_matvec_factored(A, B, x)`,
  tt_matvec: `input G1[2, 2, 2]: f64, G2[2, 2, 3, 2]: f64, G3[2, 2, 2]: f64, x[12]: f64\noutput Y = tt_matvec(G1, G2, G3, x)`,
  tucker: `input G[2, 3, 2]: f64, U1[3, 2]: f64, U2[4, 3]: f64, U3[2, 2]: f64\noutput Y = tucker(G, U1, U2, U3)`,
  trace: `input A[4, 4]: f64\noutput Y = trace(A)`,
  outer: `input x[3]: f64, y[4]: f64\noutput Y = outer(x, y)`,
  softmax: `input X[3, 5]: f64\noutput Y = softmax(X)`,
  embedding: `input S[4, 6]: f64, W[6, 3]: f64\nI[t] = argmax(j) S[t, j]\noutput Y = embedding(I, W)`,
  logsumexp: `input X[3, 5]: f64\noutput Y = logsumexp(X)`,
  layernorm: `input X[3, 6]: f64, G[6]: f64, B[6]: f64\noutput Y = layernorm(X, G, B)`,
  attention: `input Q[3, 4]: f64, K[5, 4]: f64, V[5, 2]: f64\noutput Y = attention(Q, K, V)`,
  causal_attention: `input Q[4, 3]: f64, K[4, 3]: f64, V[4, 2]: f64\noutput Y = causal_attention(Q, K, V)`,
  mlp: `input X[3, 4]: f64, W[4, 5]: f64, b[5]: f64\noutput Y = mlp(X, W, b)`,
  conv2d: `input X[2, 5, 6]: f64, K[3, 2, 2, 3]: f64\noutput Y = conv2d(X, K)`,
  "conv2d stride 2": `input X[2, 7, 6]: f64, K[3, 2, 3, 2]: f64\noutput Y = conv2d(X, K, 2)`,
  "conv2d stride 2, rows left over": `input X[2, 10, 9]: f64, K[2, 2, 3, 3]: f64\noutput Y = conv2d(X, K, 2)`,
  "conv2d stride 3": `input X[1, 11, 10]: f64, K[2, 1, 2, 4]: f64\noutput Y = conv2d(X, K, 3)`,
  maxpool2d: `input X[2, 6, 5]: f64\noutput Y = maxpool2d(X)`,
  "maxpool2d overlapping": `input X[2, 5, 5]: f64\noutput Y = maxpool2d(X, 3, 1)`,
  gelu_exact: `input X[3, 4]: f64\noutput Y = gelu_exact(X)`,
  conv2d_same: `input X[2, 5, 4]: f64, K[3, 2, 3, 3]: f64\noutput Y = conv2d_same(X, K)`,
  positional_encoding: `input x[6]: f64\nP = positional_encoding(5, 6)\noutput Y[p] = P[p, j] * x[j]`,
  one_hot: `input L[5]: i32, x[4]: f64\nOh = one_hot(L, 4)\noutput Y[i] = Oh[i, k] * x[k]`,
  eye: `input x[4]: f64\nE = eye(4)\noutput Y[i] = E[i, j] * x[j] * x[i]`,
  diag: `input v[3]: f64\noutput Y = diag(v)`,
  rnn: `input X[4, 3]: f64, Wx[3, 5]: f64, Wh[5, 5]: f64, b[5]: f64, h0[5]: f64\noutput Y = rnn(X, Wx, Wh, b, h0)`,
  cumsum: `input X[3, 6]: f64\noutput Y = cumsum(X)`,
};

/** The source of a case: the stdlib imported, then the case's lines. */
export function stdlibSource(body: string): string {
  return `import "nn"\nimport "linalg"\n${body}\n`;
}

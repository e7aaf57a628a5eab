/**
 * Hand-written programs (IR text) that every backend must run like the
 * reference interpreter: the shapes of real workloads at odd sizes.
 */
export const CORPUS: Readonly<Record<string, string>> = {
  matmul: `
input A: f32[3, 17]
input B: f32[17, 5]
output C: f32[3, 5] = [i:3, j:5] sum(k:17) A[i, k] * B[k, j]
`,
  "matmul-blocked": `
input A: f32[9, 7]
input B: f32[7, 10]
output C: f32[9, 10] = [i:9, j:10] sum(k:7) A[i, k] * B[k, j]
`,
  "matmul-1x1x1": `
input A: f32[1, 1]
input B: f32[1, 1]
output C: f32[1, 1] = [i:1, j:1] sum(k:1) A[i, k] * B[k, j]
`,
  "matmul-transposed-b": `
input A: f32[5, 3]
input B: f32[4, 3]
output C: f32[5, 4] = [i:5, j:4] sum(k:3) A[i, k] * B[j, k]
`,
  "batched-matmul": `
input A: f32[2, 5, 3]
input B: f32[2, 3, 6]
output C: f32[2, 5, 6] = [b:2, i:5, j:6] sum(k:3) A[b, i, k] * B[b, k, j]
`,
  "batched-matmul-shared-b": `
input A: f32[3, 6, 17]
input B: f32[17, 9]
output C: f32[3, 6, 9] = [b:3, i:6, j:9] sum(k:17) B[k, j] * A[b, i, k]
`,
  attention: `
input Q: f32[5, 8]
input K: f32[5, 8]
input V: f32[5, 3]
S: f32[5, 5] = [i:5, j:5] sum(k:8) Q[i, k] * K[j, k] / sqrt(8)
M: f32[5] = [i:5] max(j:5) S[i, j]
E: f32[5, 5] = [i:5, j:5] exp(S[i, j] - M[i])
output O: f32[5, 3] = [i:5, e:3] sum(j:5) E[i, j] * V[j, e] / sum(j_1:5) E[i, j_1]
`,
  "conv2d-stride2": `
input X: f32[2, 9, 9]
input W: f32[3, 2, 3, 3]
output Y: f32[3, 4, 4] = [o:3, y:4, x:4] sum(c:2, dy:3, dx:3) X[c, 2*y + dy, 2*x + dx] * W[o, c, dy, dx]
`,
  "conv1d-valid": `
input X: f32[17]
input K: f32[3]
output Y: f32[15] = [x:15] sum(d:3) X[x + d] * K[d]
`,
  "max-pool": `
input X: f32[2, 8, 8]
output P: f32[2, 4, 4] = [c:2, y:4, x:4] max(dy:2, dx:2) X[c, 2*y + dy, 2*x + dx]
`,
  kronecker: `
input A: f32[2, 4]
input B: f32[3, 5]
output W: f32[6, 20] = [(a:2, b:3), (c:4, d:5)] A[a, c] * B[b, d]
`,
  "reshape-view": `
input x: f32[12]
output Y: f32[3, 4] = [c:3, d:4] x[4*c + d] * 2
`,
  "causal-mask": `
input S: f32[4, 4]
output Y: f32[4, 4] = [i:4, j:4] where(j <= i, S[i, j], -inf)
`,
  "masked-softmax": `
input S: f32[6, 6]
M: f32[6] = [i:6] max(j:6) where(j <= i, S[i, j], -inf)
output P: f32[6, 6] = [i:6, j:6] where(j <= i, exp(S[i, j] - M[i]), 0) / sum(j_1:6) where(j_1 <= i, exp(S[i, j_1] - M[i]), 0)
`,
  "nested-reductions": `
input A: f32[3, 4]
input B: f32[4, 5]
input C: f32[3, 5]
output R: f32[3] = [i:3] sum(j:4) A[i, j] * max(k:5) B[j, k] + min(k_1:5) C[i, k_1]
`,
  "prod-and-min": `
input A: f32[3, 4]
output P: f32[3] = [i:3] prod(j:4) (1 + A[i, j] / 4)
output N: f32[4] = [j:4] min(i:3) A[i, j]
`,
  "transposed-matvec": `
input A: f32[7, 3]
input x: f32[7]
output y: f32[3] = [i:3] sum(j:7) A[j, i] * x[j]
`,
  "scalar-total": `
input A: f32[3, 4]
output T: f32[] = [] sum(i:3, j:4) A[i, j] * A[i, j]
`,
  layernorm: `
input X: f32[3, 17]
Mu: f32[3] = [i:3] sum(j:17) X[i, j] / 17
Var: f32[3] = [i:3] sum(j:17) (X[i, j] - Mu[i]) * (X[i, j] - Mu[i]) / 17
output Y: f32[3, 17] = [i:3, j:17] (X[i, j] - Mu[i]) * rsqrt(Var[i] + 0.00001)
`,
  "elementwise-ops": `
input A: f32[2, 3]
input B: f32[2, 3]
output Y: f32[2, 3] = [i:2, j:3] tanh(A[i, j]) + sigmoid(B[i, j]) - relu(A[i, j]) * abs(B[i, j]) + max(A[i, j], B[i, j]) - min(A[i, j], 0.5) + pow(abs(A[i, j]) + 1, 1.5) + log(abs(B[i, j]) + 1) + (A[i, j] > B[i, j]) + (A[i, j] != B[i, j])
`,
  "int-input-f64": `
input ids: i32[4]
input w: f64[4]
output Y: f64[4, 4] = [i:4, j:4] ids[i] * w[j] + i - 2 * j
`,
};

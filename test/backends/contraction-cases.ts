/**
 * Programs exercising recognised contractions whose `B` is read transposed
 * (`B[j, k]`: the output's `j` is not contiguous in `B`), shared by the JS and
 * wasm contraction tests: every size pair at tile edges, batches, base offsets.
 */

/** Sizes around the register-block edges (4 rows; 8, 4 and fewer than 4 columns). */
export const SIZES = [1, 3, 17, 33, 100];

/** `C[i, j] = sum_k A[i, k] * B[j, k]` in `dtype`. */
export const transposedB = (m: number, n: number, k: number, dtype = "f32"): string => `
input A: ${dtype}[${m}, ${k}]
input B: ${dtype}[${n}, ${k}]
output C: ${dtype}[${m}, ${n}] = [i:${m}, j:${n}] sum(k:${k}) A[i, k] * B[j, k]
`;

/** Every (m, n) pair of {@link SIZES}, `k` cycling through them, so each size appears in each role. */
export const sizeTriples = (): [number, number, number][] =>
  SIZES.flatMap((m, a) => SIZES.map((n, b): [number, number, number] => [m, n, SIZES[(a + b + 2) % SIZES.length]!]));

/** Transposed-`B` programs beyond the plain product: name and text. */
export const TRANSPOSED_CASES: readonly (readonly [string, string])[] = [
  ["attention scores (4-D, both operands batched)", `
input Q: f32[2, 3, 17, 9]
input K: f32[2, 3, 13, 9]
output S: f32[2, 3, 17, 13] = [b:2, h:3, q:17, t:13] sum(d:9) Q[b, h, q, d] * K[b, h, t, d]
`],
  ["operands in the other order", `
input Q: f32[2, 5, 7]
input K: f32[2, 12, 7]
output S: f32[2, 5, 12] = [b:2, q:5, t:12] sum(d:7) K[b, t, d] * Q[b, q, d]
`],
  ["shared transposed B across a batch", `
input A: f32[3, 6, 11]
input B: f32[10, 11]
output C: f32[3, 6, 10] = [b:3, i:6, j:10] sum(k:11) A[b, i, k] * B[j, k]
`],
  ["both operands transposed", `
input A: f32[19, 6]
input B: f32[9, 19]
output C: f32[6, 9] = [i:6, j:9] sum(k:19) A[k, i] * B[j, k]
`],
  ["non-zero base offsets in A and B", `
input A: f32[2, 8, 12]
input B: f32[2, 15, 14]
output C: f32[2, 5, 11] = [b:2, i:5, j:11] sum(k:10) A[b, i + 2, k + 1] * B[b, j + 3, k + 2]
`],
  ["a transposed B that is itself computed (output after other buffers)", `
input X: f32[12, 6]
input A: f32[5, 6]
B: f32[12, 6] = [j:12, k:6] X[j, k] * 2
output C: f32[5, 12] = [i:5, j:12] sum(k:6) A[i, k] * B[j, k]
`],
  ["a Gram matrix (A and B the same buffer)", `
input X: f32[14, 9]
output G: f32[14, 14] = [i:14, j:14] sum(k:9) X[i, k] * X[j, k]
`],
  ["B read with a column stride of 2 and a k stride of 1 (overlapping windows)", `
input A: f32[9, 5]
input B: f32[30]
output C: f32[9, 12] = [i:9, j:12] sum(k:5) A[i, k] * B[2 * j + k]
`],
];

/** `B` read with a negative column stride (columns reversed): the JS path blocks it, the wasm SIMD path leaves it to the scalar loop nest. */
export const REVERSED_B = `
input A: f32[6, 5]
input B: f32[11, 5]
output C: f32[6, 11] = [i:6, j:11] sum(k:5) A[i, k] * B[10 - j, k]
`;

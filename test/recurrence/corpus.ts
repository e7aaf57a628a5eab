/**
 * Recurrence programs (docs/language.md, "Recurrences") shared by the
 * recurrence tests: each compiles clean and runs on every backend.
 */

/** A named program and the sizes it runs at. */
export interface RecurrenceCase {
  readonly name: string;
  readonly source: string;
}

export const RECURRENCES: readonly RecurrenceCase[] = [
  {
    name: "issue program 4: tanh RNN and cumulative sum",
    source: `size T = 7, D = 5, H = 6
input X[T, D], W[D, H], U[H, H], h0[H], x[T]
output Hs[t, j] = tanh(sum(k) X[t, k] * W[k, j] + where(t > 0, sum(k) Hs[t - 1, k] * U[k, j], sum(k) h0[k] * U[k, j]))
output Cs[i] = x[i] + where(i > 0, Cs[i - 1], 0)
`,
  },
  {
    name: "cumulative sum along the second index of a batch",
    source: `input X[3, 9]
output C[b, i] = X[b, i] + where(i > 0, C[b, i - 1], 0)
`,
  },
  {
    name: "two steps back (a linear recurrence of order 2), guarded by t >= 2",
    source: `input a[10]
output F[t] = where(t >= 2, 0.5 * F[t - 1] + 0.25 * F[t - 2] + a[t], a[t])
`,
  },
  {
    name: "base case in the else branch of t < 1",
    source: `input x[8], s[1]
output P[t] = where(t < 1, s[0], P[t - 1] * 0.9 + x[t])
`,
  },
  {
    name: "HMM forward pass in log space (logsumexp over the previous states)",
    source: `size T = 6, S = 4, O = 5
input logA[S, S], logB[S, O], logpi[S], obs[T, O]
# obs is one-hot: the emission log-probability of step t in state j is sum(o) obs[t, o] * logB[j, o]
E[t, j] = sum(o) obs[t, o] * logB[j, o]
output La[t, j] = E[t, j] + where(t > 0, log(sum(i) exp(La[t - 1, i] + logA[i, j] - max(i2) (La[t - 1, i2] + logA[i2, j]))) + max(i3) (La[t - 1, i3] + logA[i3, j]), logpi[j])
`,
  },
  {
    name: "Viterbi scores (max-product in log space)",
    source: `input logA[4, 4], E[6, 4], logpi[4]
output V[t, j] = E[t, j] + where(t > 0, max(i) (V[t - 1, i] + logA[i, j]), logpi[j])
`,
  },
  {
    name: "a recurrence read by later definitions and fed by an elementwise producer",
    source: `input X[5, 4], U[4, 4]
Z[t, j] = 2 * X[t, j] + 1
Hs[t, j] = tanh(Z[t, j] + where(t > 0, sum(k) Hs[t - 1, k] * U[k, j], 0))
output Y[t, j] = Hs[t, j] * Hs[t, j] + 1
output S[j] = sum(t) Hs[t, j]
`,
  },
  {
    name: "a three-operand contraction inside the step",
    source: `input X[5, 4], A[4, 3], B[3, 4]
output Hs[t, j] = X[t, j] + where(t > 0, sum(k, l) Hs[t - 1, k] * A[k, l] * B[l, j], 0) * 0.3
`,
  },
  {
    name: "the sequential index second, state first",
    source: `input M[4, 4], v[4], u[4, 6]
output A[j, t] = u[j, t] + where(t > 0, 0.5 * sum(k) A[k, t - 1] * M[k, j], v[j])
`,
  },
];

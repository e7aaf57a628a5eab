/**
 * The derivative rule of every IR operator, reduction and index form,
 * each in a small program, against central finite differences in float64 on
 * the reference interpreter. The loss is half the sum of squares of the
 * outputs; inputs are smooth random data in [-1, 1), shifted where an
 * operator needs positive arguments.
 */
import { describe, expect, it } from "vitest";
import { check } from "../../src/compiler.js";
import { checkGradients, smoothInputs, withSquareLoss } from "../support/gradcheck.js";

const TOLERANCE = 1e-6;

const HEADER = "size n = 4, m = 3\ninput X[n, m]: f64, Y[n, m]: f64, v[m]: f64\n";

const CASES: Readonly<Record<string, string>> = {
  neg: "output Z[i, j] = -X[i, j] * Y[i, j]",
  exp: "output Z[i, j] = exp(X[i, j])",
  log: "output Z[i, j] = log(X[i, j] + 2)",
  sqrt: "output Z[i, j] = sqrt(X[i, j] + 2)",
  rsqrt: "output Z[i, j] = rsqrt(X[i, j] + 2)",
  tanh: "output Z[i, j] = tanh(2 * X[i, j])",
  sigmoid: "output Z[i, j] = sigmoid(3 * X[i, j])",
  relu: "output Z[i, j] = relu(X[i, j]) * Y[i, j]",
  abs: "output Z[i, j] = abs(X[i, j]) * Y[i, j]",
  "add sub": "output Z[i, j] = X[i, j] + Y[i, j] - v[j]",
  "mul div": "output Z[i, j] = X[i, j] * Y[i, j] / (v[j] + 2)",
  "pow constant exponent": "output Z[i, j] = X[i, j] ^ 3",
  "pow tensor exponent": "output Z[i, j] = pow(X[i, j] + 2, Y[i, j])",
  "min max": "output Z[i, j] = max(X[i, j], Y[i, j]) * min(X[i, j], v[j])",
  "where and comparisons": "output Z[i, j] = where(X[i, j] < Y[i, j], X[i, j] * v[j], Y[i, j] - v[j]) + (X[i, j] >= 0) * Y[i, j]",
  "index values": "output Z[i, j] = where(j <= i, X[i, j] * i, -X[i, j]) + j * Y[i, j]",
  sum: "output Z[i] = sum(j) X[i, j] * Y[i, j]",
  "einstein sum": "output Z[j] = X[i, j] * Y[i, j] * v[j]",
  prod: "output Z[j] = prod(i) X[i, j] + Y[i, j]",
  max: "output Z[i] = max(j) X[i, j] * v[j]",
  min: "output Z[j] = min(i) X[i, j] - Y[i, j]",
  "nested reductions": "output Z[i] = sum(j) X[i, j] * max(k) (Y[k, j] + v[j])",
  "reduction inside an expression": "output Z[i, j] = exp(X[i, j]) / sum(l) exp(X[i, l]) + Y[i, j]",
  "shifted read": "output Z[i, j] = X[i + 1, j] * v[j]",
  "reversed read": "output Z[i, j] = X[3 - i, j] * Y[i, 2 - j]",
  "strided read": "input W[9]: f64\noutput Z[i] = W[2*i] * v[i]",
  "window read": "input W[9]: f64\noutput Z[y] = sum(dy < 3) W[2*y + dy] * W[y + dy]",
  "strided window with an offset": "input W[12]: f64\noutput Z[y] = sum(dy < 3) W[3*y + dy + 1] * v[y] * W[3*y + dy + 2]",
  "stride larger than the window": "input W[9]: f64\noutput Z[y] = sum(dy < 2) W[3*y + dy] * v[y]",
  "window tiling the input": "input W[9]: f64\noutput Z[y] = sum(dy < 3) W[3*y + dy] * W[3*y + dy] * v[y]",
  "diagonal read": "input A[4, 4]: f64\noutput Z[i] = A[i, i] * A[i, 3 - i]",
  "constant index": "output Z[j] = X[0, j] * X[3, j]",
  "grouped output": "output Z[(i, j)] = X[i, j] * v[j]",
  "grouped read (view)": "input W[12]: f64\noutput Z[i, j] = W[(i, j)] * X[i, j]",
  "kronecker product": "input A[2, 3]: f64, B[2, 2]: f64\nK[(a, b), (c, d)] = A[a, c] * B[b, d]\noutput Z[r] = K[r, s] * K[r, s]",
  "bounded prefix": "input W[6]: f64\noutput Z = sum(t < 4) W[t] * W[t + 1]",
  "broadcast scalar": "input s: f64\noutput Z[i, j] = s * X[i, j] + s * s",
  "gradient used in an update": "L = sum(i, j) X[i, j] * X[i, j] * Y[i, j]\noutput X2[i, j] = X[i, j] - 0.1 * grad(L, X)[i, j]",
  "sin cos tan atan": "output Z[i, j] = sin(X[i, j]) * cos(Y[i, j]) + tan(X[i, j] / 2) - atan(3 * Y[i, j])",
  atan2: "output Z[i, j] = atan2(X[i, j], Y[i, j] + 2) + atan2(v[j] + 2, X[i, j])",
  erf: "output Z[i, j] = erf(2 * X[i, j]) * Y[i, j]",
  "log1p expm1 softplus": "output Z[i, j] = log1p(X[i, j] + 1) + expm1(Y[i, j]) + softplus(3 * X[i, j])",
  "clamp": "output Z[i, j] = clamp(3 * X[i, j], -1, 1) * Y[i, j]",
  "floor ceil round sign (zero derivative)": "output Z[i, j] = (floor(3 * X[i, j]) + ceil(3 * Y[i, j]) + round(5 * X[i, j]) + sign(Y[i, j])) * X[i, j]",
  "logical and or not": "output Z[i, j] = where(X[i, j] > 0 && Y[i, j] < 0.5 || !(v[j] < 0), X[i, j] * Y[i, j], -X[i, j])",
  "index division and modulo": "input W[8]: f64, M[2]: f64\noutput Z[h] = W[h / 2] * M[h % 2] * W[h]",
  "zero padding": "input W[6]: f64, K[3]: f64\noutput Z[y < 6] = sum(dy) where(y + dy >= 1 && y + dy <= 6, W[y + dy - 1] * K[dy], 0)",
  "second derivative": "L = sum(i, j) X[i, j] * X[i, j] * X[i, j] * Y[i, j]\nG = grad(L, X)\nL2 = sum(i, j) G[i, j] * G[i, j]\noutput H = grad(L2, X)",
};

describe("derivative rules agree with central differences (f64, interpreter)", () => {
  for (const [name, body] of Object.entries(CASES)) {
    it(name, () => {
      const { program, diagnostics } = check(HEADER + body + "\n");
      expect(diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
      const { program: withGrads } = withSquareLoss(program!);
      const reports = checkGradients(withGrads, smoothInputs(withGrads, 11));
      for (const r of reports) expect(r.relError, `${name}: d/d${r.wrt}`).toBeLessThan(TOLERANCE);
    });
  }
});

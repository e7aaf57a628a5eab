/**
 * The checker never throws on user input: mutated programs either check or
 * report errors (and then produce no IR).
 */
import fc from "fast-check";
import { expect, test } from "vitest";
import { DiagnosticBag } from "../../src/diagnostics/diagnostic.js";
import { parseModule } from "../../src/parser/index.js";
import { checkProgram } from "../../src/checker/index.js";
import { verifyProgramErrors } from "../../src/ir/verify.js";
import { memoryLoader } from "./helpers.js";

const CORPUS = [
  `size n = 6, d = 4
input Q[n, d], K[n, d], V[n, d]
S[i, j] = Q[i, k] * K[j, k] / sqrt(d)
M[i] = max(j) S[i, j]
E[i, j] = exp(S[i, j] - M[i])
output O[i, e] = E[i, j] * V[j, e] / sum(j) E[i, j]
`,
  `size C = 2, H = 7, O = 3, KH = 3
input X[C, H, H], W[O, C, KH, KH], x[12], u[3]
output Y[o, y, x] = X[c, 2*y + dy, x + dx] * W[o, c, dy, dx]
output R[c, i] = X[c, H - 1 - i, 0]
output G[(a, b), c] = x[(a, c)] * u[a] * Y[0, b, 0]
`,
  `fn softmax(X[n, m]) -> Y[n, m] {
  M[i] = max(j) X[i, j]
  E[i, j] = exp(X[i, j] - M[i])
  Y[i, j] = E[i, j] / sum(l) E[i, l]
}
fn conv(X[c, h], K[o, c, kh], size s = 1) -> Y { Y[f, y] = X[ci, s*y + dy] * K[f, ci, dy] }
import "nn"
input S[3, 4], A[2, 9], B[3, 2, 3]
output P = softmax(S)
output Z[i, j] = softmax(S)[i, j] * 2 + where(j <= i, 1, -inf)
output Q = conv(A, B, 2)
`,
];

const loader = memoryLoader({ "/std/nn.tns": "fn twice(X[n]) -> Y { Y[i] = 2 * X[i] }\n" });
const TOKENS = ["i", "j", "n", "[", "]", "(", ")", ",", "+", "-", "*", "/", "=", "sum(j)", "max", "0", "2", "S", "softmax(", "output", "\n", "(a, b)", "-1", "1.5"];

test("mutated programs check or fail cleanly", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: CORPUS.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.constantFrom(...TOKENS)), { minLength: 1, maxLength: 4 }),
      (which, edits) => {
        let text = CORPUS[which]!;
        for (const [pos, del, token] of edits) {
          const at = pos % (text.length + 1);
          text = text.slice(0, at) + token + text.slice(at + del);
        }
        const diags = new DiagnosticBag();
        const module = parseModule(text, "/p/main.tns", diags);
        const p = checkProgram(module, { loader }, diags);
        expect(p === null).toBe(diags.hasErrors);
        if (p !== null) expect(verifyProgramErrors(p)).toEqual([]);
        for (const d of diags.items) if (d.severity === "error") expect(d.span === undefined && !["TNS0303", "TNS0606"].includes(d.code)).toBe(false);
      },
    ),
    { numRuns: 400, seed: 7 },
  );
});

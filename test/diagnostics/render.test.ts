import { describe, expect, it } from "vitest";
import { DiagnosticBag, spanAt, type Diagnostic } from "../../src/diagnostics/diagnostic.js";
import { formatLocation, renderDiagnostic, renderDiagnostics } from "../../src/diagnostics/index.js";
import { parseModule } from "../../src/parser/index.js";

const attention = [
  "size n = 256, d = 64",
  "input Q[n, d], K[n, 32]",
  "",
  "",
  "S[i, j] = Q[i, k] * K[j, k]",
].join("\n");
const sources = (file: string): string | undefined => (file === "examples/attention.tns" ? attention : undefined);

const mismatch: Diagnostic = {
  code: "TNS0202",
  severity: "error",
  message: "index 'k' has extent 64 here but 32 elsewhere",
  span: spanAt("examples/attention.tns", 5, 16),
  notes: [{ message: "'k' has extent 32 here", span: spanAt("examples/attention.tns", 5, 25) }, { message: "extents must agree" }],
  hint: "use the same size for every dimension 'k' indexes",
};

describe("renderDiagnostic", () => {
  it("prints the code, location, code frame, notes and hint", () => {
    expect(renderDiagnostic(mismatch, sources)).toBe(
      [
        "error[TNS0202]: index 'k' has extent 64 here but 32 elsewhere",
        "  --> examples/attention.tns:5:16",
        "   |",
        " 5 | S[i, j] = Q[i, k] * K[j, k]",
        "   |                ^",
        "   = note: 'k' has extent 32 here",
        "  --> examples/attention.tns:5:25",
        "   |",
        " 5 | S[i, j] = Q[i, k] * K[j, k]",
        "   |                         ^",
        "   = note: extents must agree",
        "   = hint: use the same size for every dimension 'k' indexes",
      ].join("\n"),
    );
  });

  it("renders a parser diagnostic with carets under the whole span and a wide gutter", () => {
    const text = `${"\n".repeat(11)}output Y[i] = X[i] +* 2\n`;
    const diags = new DiagnosticBag();
    parseModule(text, "w.tns", diags);
    expect(renderDiagnostics(diags.items, (f) => (f === "w.tns" ? text : undefined))).toBe(
      [
        "error[TNS0001]: expected an expression but found '*'",
        "   --> w.tns:12:21",
        "    |",
        " 12 | output Y[i] = X[i] +* 2",
        "    |                     ^",
      ].join("\n"),
    );
    const long: Diagnostic = { code: "TNS0101", severity: "warning", message: "unused", span: spanAt("w.tns", 12, 15, 12, 19), notes: [] };
    expect(renderDiagnostic(long, () => text).split("\n")[4]).toBe("    |               ^^^^");
    expect(renderDiagnostic(long, () => text).split("\n")[0]).toBe("warning[TNS0101]: unused");
  });

  it("expands tabs so carets line up", () => {
    const d: Diagnostic = { code: "TNS0102", severity: "error", message: "unknown name 'q'", span: spanAt("t.tns", 1, 11, 1, 12), notes: [] };
    expect(renderDiagnostic(d, () => "\tY = a *\t\tq").split("\n").slice(3)).toEqual([" 1 |     Y = a *     q", `   | ${" ".repeat(16)}^`]);
  });

  it("underlines the rest of the first line of a multi-line span, with at least one caret", () => {
    const d: Diagnostic = { code: "TNS0001", severity: "error", message: "m", span: spanAt("t.tns", 1, 5, 3, 2), notes: [] };
    expect(renderDiagnostic(d, () => "Y = (a +\n b\n)").split("\n")[4]).toBe("   |     ^^^^");
    const empty: Diagnostic = { ...d, span: spanAt("t.tns", 1, 9, 1, 9) };
    expect(renderDiagnostic(empty, () => "Y = (a +").split("\n")[4]).toBe("   |         ^");
  });

  it("falls back to the location alone without the source or the span", () => {
    expect(renderDiagnostic(mismatch, () => undefined).split("\n").slice(0, 3)).toEqual([
      "error[TNS0202]: index 'k' has extent 64 here but 32 elsewhere",
      "  --> examples/attention.tns:5:16",
      "   = note: 'k' has extent 32 here",
    ]);
    const bare: Diagnostic = { code: "TNS0110", severity: "error", message: "program has no outputs", notes: [] };
    expect(renderDiagnostic(bare, () => { throw new Error("no files"); })).toBe("error[TNS0110]: program has no outputs");
  });

  it("colors only when asked", () => {
    expect(renderDiagnostic(mismatch, sources)).not.toContain("\x1b[");
    const colored = renderDiagnostic(mismatch, sources, { color: true });
    expect(colored).toContain("\x1b[1;31merror[TNS0202]\x1b[0m");
    expect(colored.replace(/\x1b\[[0-9;]*m/g, "")).toBe(renderDiagnostic(mismatch, sources));
  });

  it("separates several diagnostics with blank lines", () => {
    const bare: Diagnostic = { code: "TNS0110", severity: "error", message: "a", notes: [] };
    expect(renderDiagnostics([bare, { ...bare, message: "b" }], sources)).toBe("error[TNS0110]: a\n\nerror[TNS0110]: b");
  });
});

describe("formatLocation", () => {
  it("prints file:line:col of the start", () => {
    expect(formatLocation(spanAt("a/b.tns", 3, 7, 4, 1))).toBe("a/b.tns:3:7");
  });
});

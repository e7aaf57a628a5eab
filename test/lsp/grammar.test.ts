// The TextMate grammar (editors/tns.tmLanguage.json) tokenized by the
// engine VS Code and shiki use: every example and stdlib file goes through
// it, and a few lines get the scopes an editor colours them by.
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import vsctm from "vscode-textmate";
import { GRAMMAR, loadTnsGrammar, ROOT, TNS_FILES } from "../support/textmate.js";


let grammar: vsctm.IGrammar;

interface Token { text: string; scopes: string[] }

function tokenize(source: string): Token[][] {
  let stack = vsctm.INITIAL;
  return source.split("\n").map((line) => {
    const r = grammar.tokenizeLine(line, stack);
    stack = r.ruleStack;
    return r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });
}

/** The innermost scope of each token whose text is `text`, on one line. */
function scopesOf(line: Token[], text: string): string[] {
  return line.filter((t) => t.text.trim() === text).map((t) => t.scopes.at(-1)!);
}

const files = TNS_FILES;

describe("the TextMate grammar", () => {
  beforeAll(async () => {
    grammar = await loadTnsGrammar();
  });

  it.each(files)("tokenizes %s, every comment as a comment", (file) => {
    const source = readFileSync(`${ROOT}${file}`, "utf8");
    const lines = tokenize(source);
    expect(lines).toHaveLength(source.split("\n").length);
    lines.forEach((tokens, k) => {
      // Tokens cover the line exactly, and a line starting with # is one comment.
      expect(tokens.map((t) => t.text).join("")).toBe(source.split("\n")[k]);
      if (/^\s*#/.test(source.split("\n")[k]!)) expect(tokens.at(-1)!.scopes).toContain("comment.line.number-sign.tns");
    });
  });

  it("gives keywords, sizes, tensors, indices, reductions, functions and numbers their scopes", () => {
    const [size, input, def, reduce, fn, imp, typed] = tokenize([
      "size n = 256, d = 64",
      "input Q[n, d], K[n, d]   # queries",
      "output O[i, e] = E[i, j] * V[j, e] / sum(j) E[i, j]",
      "M[i] = max(dy < 2, dx < 2) X[2*i + dy] + max(a, 1e-5)",
      "fn softmax(X[n, m]) -> Y[n, m] {",
      'import softmax from "nn"',
      "input ids[n]: i32",
    ].join("\n"));
    expect(scopesOf(size!, "size")).toEqual(["keyword.other.size.tns"]);
    expect(scopesOf(size!, "n")).toEqual(["variable.other.constant.size.tns"]);
    expect(scopesOf(size!, "256")).toEqual(["constant.numeric.tns"]);
    expect(scopesOf(input!, "input")).toEqual(["keyword.other.input.tns"]);
    expect(scopesOf(input!, "Q")).toEqual(["variable.other.tensor.declaration.tns"]);
    expect(scopesOf(input!, "# queries")).toEqual(["comment.line.number-sign.tns"]);
    expect(scopesOf(def!, "output")).toEqual(["keyword.other.output.tns"]);
    expect(scopesOf(def!, "O")).toEqual(["entity.name.tensor.definition.tns"]);
    expect(scopesOf(def!, "V")).toEqual(["variable.other.tensor.tns"]);
    expect(scopesOf(def!, "e")).toEqual(["variable.parameter.index.tns", "variable.parameter.index.tns"]);
    expect(scopesOf(def!, "sum")).toEqual(["keyword.operator.reduction.tns"]);
    expect(scopesOf(reduce!, "max")).toEqual(["keyword.operator.reduction.tns", "support.function.builtin.tns"]);
    expect(scopesOf(reduce!, "dy")).toEqual(["variable.parameter.index.tns", "variable.parameter.index.tns"]);
    expect(scopesOf(reduce!, "1e-5")).toEqual(["constant.numeric.tns"]);
    expect(scopesOf(fn!, "fn")).toEqual(["keyword.other.fn.tns"]);
    expect(scopesOf(fn!, "softmax")).toEqual(["entity.name.function.tns"]);
    expect(scopesOf(imp!, "import")).toEqual(["keyword.control.import.tns"]);
    expect(scopesOf(imp!, "nn")).toEqual(["string.quoted.double.tns"]);
    expect(scopesOf(typed!, "i32")).toEqual(["storage.type.tns"]);
  });
});

describe("the VS Code extension", () => {
  const manifest = JSON.parse(readFileSync(`${ROOT}editors/vscode/package.json`, "utf8"));

  it("declares the language, the grammar's scope and a main that parses", async () => {
    const tm = JSON.parse(readFileSync(GRAMMAR, "utf8"));
    expect(manifest.contributes.languages[0].extensions).toEqual([".tns"]);
    expect(manifest.contributes.grammars[0].scopeName).toBe(tm.scopeName);
    // The packaging step copies the grammar next to the manifest, where a .vsix needs it.
    expect(manifest.scripts["vscode:prepublish"]).toContain("../tns.tmLanguage.json");
    expect(manifest.contributes.grammars[0].path).toBe("./syntaxes/tns.tmLanguage.json");
    const { spawnSync } = await import("node:child_process");
    const check = spawnSync(process.execPath, ["--check", `${ROOT}editors/vscode/${manifest.main}`], { encoding: "utf8" });
    expect(check.stderr).toBe("");
    expect(readFileSync(`${ROOT}editors/vscode/${manifest.main}`, "utf8")).toContain('"lsp", "--stdio"');
  });
});

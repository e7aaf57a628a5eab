// The playground's CodeMirror mode (playground/src/tns-language.ts) against
// the TextMate grammar (editors/tns.tmLanguage.json) that VS Code and shiki
// use: every word, number and comment of every example and stdlib file gets
// the same kind from both.
import { StringStream } from "@codemirror/language";
import { readFileSync } from "node:fs";
import vsctm from "vscode-textmate";
import { loadTnsGrammar, ROOT, TNS_FILES } from "../support/textmate.js";
import { beforeAll, describe, expect, it } from "vitest";
import { readToken, startState, type TokenKind } from "../../playground/src/tns-language.js";


/** The kind a TextMate scope stands for. */
const SCOPE_KINDS: readonly [RegExp, TokenKind][] = [
  [/^comment\./, "comment"],
  [/^(string\.|punctuation\.definition\.string)/, "string"],
  [/^keyword\.(other\.(size|input|weight|output|fn)|control\.import)\.tns$/, "keyword"],
  [/^keyword\.operator\.reduction/, "reduction"],
  [/^support\.function\.builtin/, "builtin"],
  [/^entity\.name\.function/, "function"],
  [/^storage\.type/, "type"],
  [/^constant\.numeric/, "number"],
  [/^constant\.language/, "constant"],
  [/^variable\.other\.constant\.size/, "size"],
  [/^entity\.name\.tensor\.definition/, "definition"],
  [/^variable\.(other\.tensor|parameter\.tensor)/, "tensor"],
  [/^variable\.parameter\.index/, "index"],
  [/^variable\.other\.tns$/, "name"],
];

function kindOfScope(scope: string): TokenKind | null {
  return SCOPE_KINDS.find(([re]) => re.test(scope))?.[1] ?? null;
}

interface Tok { from: number; to: number; kind: TokenKind | null }

/** The playground mode's tokens of each line. */
function streamTokens(source: string): Tok[][] {
  const state = startState();
  return source.split("\n").map((line) => {
    const stream = new StringStream(line, 2, 2);
    const out: Tok[] = [];
    while (!stream.eol()) {
      const kind = readToken(stream, state);
      expect(stream.pos, `no progress at ${stream.pos} of ${JSON.stringify(line)}`).toBeGreaterThan(stream.start);
      out.push({ from: stream.start, to: stream.pos, kind });
      stream.start = stream.pos;
    }
    return out;
  });
}

let grammar: vsctm.IGrammar;

/** The TextMate grammar's kind at each token start, per line. */
function textMateKinds(source: string): ((at: number) => TokenKind | null)[] {
  let stack = vsctm.INITIAL;
  return source.split("\n").map((line) => {
    const r = grammar.tokenizeLine(line, stack);
    stack = r.ruleStack;
    return (at: number) => {
      const t = r.tokens.find((t) => t.startIndex <= at && at < t.endIndex);
      return t ? kindOfScope(t.scopes.at(-1)!) : null;
    };
  });
}

const files = TNS_FILES;

describe("the playground's highlighting", () => {
  beforeAll(async () => {
    grammar = await loadTnsGrammar();
  });

  it.each(files)("gives every word, number and comment of %s the TextMate grammar's kind", (file) => {
    const source = readFileSync(`${ROOT}${file}`, "utf8");
    const lines = source.split("\n");
    const ours = streamTokens(source);
    const theirs = textMateKinds(source);
    const differences: string[] = [];
    ours.forEach((tokens, k) => {
      for (const t of tokens) {
        const text = lines[k]!.slice(t.from, t.to);
        if (!/^([A-Za-z_0-9.]|#)/.test(text) || t.kind === "reduction") continue;
        const want = theirs[k]!(t.from);
        if (want !== t.kind) differences.push(`${file}:${k + 1}:${t.from + 1} '${text}': ${t.kind} here, ${want} in the grammar`);
      }
    });
    expect(differences).toEqual([]);
  });

  it("marks reductions, indices, sizes, definitions and builtins", () => {
    const kinds = (line: string): [string, TokenKind | null][] => streamTokens(line)[0]!.filter((t) => t.kind !== null).map((t) => [line.slice(t.from, t.to), t.kind]);
    expect(kinds("size n = 4")).toEqual([["size", "keyword"], ["n", "size"], ["=", "operator"], ["4", "number"]]);
    expect(kinds("M[i] = max(j) S[i, j]")).toEqual([
      ["M", "definition"], ["[", "punctuation"], ["i", "index"], ["]", "punctuation"], ["=", "operator"], ["max(", "reduction"], ["j", "index"],
      [")", "punctuation"], ["S", "tensor"], ["[", "punctuation"], ["i", "index"], [",", "operator"], ["j", "index"], ["]", "punctuation"],
    ]);
    expect(kinds("output Y[i] = max(X[i], 0) # relu")).toContainEqual(["max", "builtin"]);
    expect(kinds("output Y[i] = max(X[i], 0) # relu")).toContainEqual(["# relu", "comment"]);
  });
});

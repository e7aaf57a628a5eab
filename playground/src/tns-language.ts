/**
 * Highlighting of .tns source in CodeMirror: a small stream tokenizer that
 * follows the TextMate grammar (editors/tns.tmLanguage.json) rule for rule,
 * without its regex engine. test/playground/language.test.ts tokenizes every
 * example and stdlib file with both and checks that they agree.
 *
 *     size n = 256, d = 64            keyword, size name, number
 *     input Q[n, d]                   keyword, declared tensor, indices
 *     S[i, j] = Q[i, k] * K[j, k]     defined tensor, indices, tensor reads
 *     M[i] = max(j) S[i, j]           reduction keyword, its index
 *
 * Token names are highlight tags, modifiers after dots (see {@link TOKEN_TAGS}).
 */
import { StreamLanguage, type StringStream } from "@codemirror/language";

/** What the tokenizer remembers between tokens and lines. */
export interface TnsState {
  /** The statement the line started: its keyword, or "def" for `Name[...] =`, or null. */
  statement: "import" | "size" | "input" | "weight" | "fn" | "def" | null;
  /** Open `[` brackets. */
  brackets: number;
  /** Open reduction binders `sum(` ... `)`. */
  binder: boolean;
  /** The next identifier names the function of `fn`. */
  fnName: boolean;
}

/** The kinds of token, as CodeMirror highlight tag names. */
export const TOKEN_TAGS = {
  comment: "comment",
  string: "string",
  keyword: "keyword",
  reduction: "controlKeyword",
  builtin: "variableName.function.standard",
  function: "variableName.function",
  type: "typeName",
  number: "number",
  constant: "atom",
  size: "variableName.constant",
  definition: "variableName.definition",
  tensor: "variableName",
  index: "variableName.special",
  operator: "operator",
  punctuation: "punctuation",
  name: "name",
} as const;

/** A token kind (the keys of {@link TOKEN_TAGS}). */
export type TokenKind = keyof typeof TOKEN_TAGS;

const KEYWORDS = new Set(["size", "input", "weight", "output", "fn", "import", "from"]);
const BUILTINS = new Set([
  "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "relu", "abs", "pow", "min", "max", "where", "grad",
  "sin", "cos", "tan", "atan", "atan2", "erf", "log1p", "expm1", "softplus", "sign", "floor", "ceil", "round", "clamp",
]);
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;
const NUMBER = /^(?:[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)/;
/** `(i, j < n)` then an operand: what makes `max(` / `min(` a reduction, not a call (as in the grammar). */
const BINDER = /^\s*\(\s*[A-Za-z_][A-Za-z0-9_]*\s*(?:<[^,)]*)?(?:,\s*[A-Za-z_][A-Za-z0-9_]*\s*(?:<[^,)]*)?)*\)\s*[A-Za-z_0-9(]/;

/** A fresh state: before the first line. */
export function startState(): TnsState {
  return { statement: null, brackets: 0, binder: false, fnName: false };
}

/** Reads one token from the stream and returns its kind (null for whitespace). */
export function readToken(stream: StringStream, state: TnsState): TokenKind | null {
  if (stream.sol()) {
    state.brackets = 0;
    state.binder = false;
    state.fnName = false;
    state.statement = null;
  }
  if (stream.eatSpace()) return null;
  const ch = stream.peek()!;
  if (ch === "#") {
    stream.skipToEnd();
    return "comment";
  }
  if (ch === '"') {
    stream.next();
    while (!stream.eol()) if (stream.next() === '"') break;
    return "string";
  }
  if (stream.match(NUMBER)) return "number";
  const word = stream.match(IDENT) as RegExpMatchArray | null;
  if (word) return identifier(word[0], stream, state);
  if (stream.match("->")) return "operator";
  if (stream.match(/^(?:<=|>=|==|!=|&&|\|\||<|>|[-+*/%^=!])/)) return "operator";
  if (ch === "[") state.brackets++;
  if (ch === "]") state.brackets = Math.max(0, state.brackets - 1);
  if (ch === ")" && state.binder) state.binder = false;
  stream.next();
  return ch === "," ? "operator" : "punctuation";
}

function identifier(word: string, stream: StringStream, state: TnsState): TokenKind {
  const first = state.statement === null && stream.string.slice(0, stream.start).trim() === "";
  if (first && (word === "import" || word === "size" || word === "input" || word === "weight" || word === "fn")) {
    state.statement = word;
    state.fnName = word === "fn";
    return "keyword";
  }
  if (first && word === "output") {
    state.statement = "def";
    return "keyword";
  }
  if (state.fnName) {
    state.fnName = false;
    return "function";
  }
  if (state.statement === "import") return word === "from" ? "keyword" : "function";
  if (state.binder) return stream.match(/^\s*(?:<|,|\))/, false) ? "index" : "size";
  if (state.brackets > 0 && state.statement !== "size") {
    if (stream.match(/^\s*\(/, false)) return BUILTINS.has(word) ? "builtin" : "function";
    return "index";
  }
  if (word === "f32" || word === "f64" || word === "i32") {
    if (/:\s*$/.test(stream.string.slice(0, stream.start))) return "type";
  }
  if (word === "inf") return "constant";
  if (["sum", "prod", "max", "min", "argmax", "argmin", "topk"].includes(word) && stream.match(BINDER, false)) {
    stream.match(/^\s*\(/);
    state.binder = true;
    return "reduction";
  }
  if (stream.match(/^\s*\(/, false)) return BUILTINS.has(word) ? "builtin" : "function";
  const before = stream.string.slice(0, stream.start);
  if (state.statement === "size" && stream.match(/^\s*(?:=|,|$|#)/, false)) return "size";
  if ((state.statement === "input" || state.statement === "weight") && stream.match(/^\s*(?:\[|,|:|$|#)/, false)) return "tensor";
  if (/^\s*(?:output\s+)?$/.test(before) && stream.match(/^\s*(?:\[|=(?!=))/, false)) {
    state.statement ??= "def";
    return "definition";
  }
  if (stream.match(/^\s*\[/, false)) return "tensor";
  if (KEYWORDS.has(word) && state.statement === "fn" && word === "size") return "keyword";
  return "name";
}

/** The tns language for CodeMirror 6. */
export const tnsLanguage = StreamLanguage.define<TnsState>({
  name: "tns",
  startState,
  copyState: (s) => ({ ...s }),
  token: (stream, state) => {
    const kind = readToken(stream, state);
    return kind === null ? null : TOKEN_TAGS[kind];
  },
  languageData: { commentTokens: { line: "#" } },
});

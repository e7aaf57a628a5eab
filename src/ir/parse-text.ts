/**
 * Reads the IR text form written by `print.ts` back into a {@link Program};
 * `parseProgramText(printProgram(p))` equals `p` except for weight data,
 * which the text does not hold (pass it in `options.weights`).
 *
 * A small hand-written recursive-descent parser: the format is internal, so
 * it trades error recovery for brevity. One statement per line; `#` starts a
 * comment. Words with a meaning here (`inf`, `nan`, `where`, the operator
 * names) cannot name index variables used as values.
 */
import type { Affine, AffineTerm, BinaryOp, DType, Expr, GatherIndex, GatherMode, IndexSplit, InputNode, IRFunction, Program, ReduceOp, TensorNode, UnaryOp } from "./types.js";
import { affine, binary, gather, num, reduce, select, unary, UNARY_OPS } from "./types.js";

/** A malformed IR text, with the 1-based position of the offending token. */
export class IrTextError extends Error {
  constructor(message: string, readonly line: number, readonly column: number) {
    super(`${line}:${column}: ${message}`);
    this.name = "IrTextError";
  }
}

/** Options of {@link parseProgramText}. */
export interface ParseTextOptions {
  /** Data for weights, by name (the text form only marks bound weights with `(data)`). */
  readonly weights?: Readonly<Record<string, Float64Array>>;
}

interface Token {
  readonly kind: "name" | "number" | "punct" | "eof";
  readonly text: string;
  readonly line: number;
  readonly column: number;
}

const PUNCT = ["?", "->", "<=", ">=", "==", "!=", "[", "]", "(", ")", "{", "}", ",", ":", ";", "=", "*", "/", "+", "-", "<", ">"];
const NUMBER = /[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
// Factor tensors of structured layers and approximated weights are named `W.U`, `W.G1`, ...
const NAME = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/y;

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let lineStart = 0;
  let k = 0;
  const matchAt = (re: RegExp): string | undefined => {
    re.lastIndex = k;
    return re.exec(text)?.[0];
  };
  while (k < text.length) {
    const c = text[k]!;
    if (c === "\n") {
      line++;
      lineStart = ++k;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      k++;
      continue;
    }
    if (c === "#") {
      while (k < text.length && text[k] !== "\n") k++;
      continue;
    }
    const column = k - lineStart + 1;
    let tok = matchAt(NUMBER);
    let kind: Token["kind"] = "number";
    if (tok === undefined) {
      tok = matchAt(NAME);
      kind = "name";
    }
    if (tok === undefined) {
      tok = PUNCT.find((p) => text.startsWith(p, k));
      kind = "punct";
    }
    if (tok === undefined) throw new IrTextError(`unexpected character '${c}'`, line, column);
    out.push({ kind, text: tok, line, column });
    k += tok.length;
  }
  out.push({ kind: "eof", text: "end of text", line, column: k - lineStart + 1 });
  return out;
}

const DTYPES: readonly string[] = ["f32", "f64", "i32"];
const UNARY: readonly string[] = UNARY_OPS.filter((op) => op !== "neg");
const CALLABLE_BINARY: readonly string[] = ["pow", "min", "max", "atan2"];
const REDUCE: readonly string[] = ["sum", "prod", "max", "min"];
const COMPARE: Readonly<Record<string, BinaryOp>> = { "<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne" };

class Parser {
  private pos = 0;
  /** Extents seen on reduction variables of the expression being parsed. */
  reduceRanges: Record<string, number> = {};
  /** Whether a reduction variable must carry its extent (`k:8`), as in a program. */
  extentsRequired = true;

  constructor(private readonly toks: readonly Token[]) {}

  get peek(): Token {
    return this.toks[this.pos]!;
  }

  at(offset: number): Token {
    return this.toks[Math.min(this.pos + offset, this.toks.length - 1)]!;
  }

  is(text: string, offset = 0): boolean {
    const t = this.at(offset);
    return t.kind !== "eof" && t.kind !== "number" && t.text === text;
  }

  fail(message: string, t: Token = this.peek): never {
    throw new IrTextError(message, t.line, t.column);
  }

  next(): Token {
    const t = this.peek;
    if (t.kind !== "eof") this.pos++;
    return t;
  }

  expect(text: string): Token {
    if (!this.is(text)) this.fail(`expected '${text}', found '${this.peek.text}'`);
    return this.next();
  }

  name(what = "a name"): string {
    if (this.peek.kind !== "name") this.fail(`expected ${what}, found '${this.peek.text}'`);
    return this.next().text;
  }

  int(what = "an integer"): number {
    const t = this.peek;
    if (t.kind !== "number" || !/^[0-9]+$/.test(t.text)) this.fail(`expected ${what}, found '${t.text}'`);
    this.next();
    return Number(t.text);
  }

  /** Items separated by commas up to (not including) `close`. */
  list<T>(close: string, item: () => T): T[] {
    const out: T[] = [];
    if (this.is(close)) return out;
    out.push(item());
    while (this.is(",")) {
      this.next();
      out.push(item());
    }
    return out;
  }

  endOfStatement(startLine: number): void {
    const t = this.peek;
    if (t.kind !== "eof" && t.line === startLine && !this.is("}")) this.fail(`unexpected '${t.text}' after the statement`);
  }

  // --- program structure ---------------------------------------------------

  program(options: ParseTextOptions): Program {
    const sizes: Record<string, number> = {};
    const functions: Record<string, IRFunction> = {};
    const tensors: TensorNode[] = [];
    if (this.is("sizes") && !this.is(":", 1)) {
      const line = this.next().line;
      for (const [k, v] of this.sizeList(line)) sizes[k] = v;
      this.endOfStatement(line);
    }
    while (this.peek.kind !== "eof") {
      if (this.is("fn") && !this.is(":", 1)) {
        const f = this.fn(options);
        if (functions[f.name] !== undefined) this.fail(`function '${f.name}' is defined twice`);
        functions[f.name] = f;
      } else tensors.push(this.node(options));
    }
    return { sizes, tensors, functions };
  }

  sizeList(line: number): [string, number][] {
    const out: [string, number][] = [];
    while (this.peek.kind === "name" && this.peek.line === line) {
      const n = this.name("a size name");
      this.expect("=");
      out.push([n, this.int("a size")]);
      if (!this.is(",")) break;
      this.next();
    }
    return out;
  }

  type(): { dtype: DType; shape: number[] } {
    const d = this.name("an element type");
    if (!DTYPES.includes(d)) this.fail(`unknown element type '${d}'`, this.at(-1));
    this.expect("[");
    const shape = this.list("]", () => this.int("an extent"));
    this.expect("]");
    return { dtype: d as DType, shape };
  }

  fn(options: ParseTextOptions): IRFunction {
    const line = this.expect("fn").line;
    const name = this.name("a function name");
    this.expect("(");
    const params = this.list(")", (): InputNode => {
      const output = this.keyword("output");
      const pname = this.name("a parameter name");
      this.expect(":");
      return { role: "input", name: pname, ...this.type(), output };
    });
    this.expect(")");
    this.expect("->");
    const result = this.name("the result's name");
    this.expect("{");
    this.endOfStatement(line);
    const tensors: TensorNode[] = [];
    while (!this.is("}")) {
      if (this.peek.kind === "eof") this.fail(`function '${name}' is missing its '}'`);
      tensors.push(this.node(options));
    }
    const close = this.next();
    this.endOfStatement(close.line);
    return { name, params, tensors, result };
  }

  /** Consumes `word` when it is used as a keyword (not as a name followed by ':'). */
  keyword(word: string): boolean {
    if (this.is(word) && !this.is(":", 1)) {
      this.next();
      return true;
    }
    return false;
  }

  node(options: ParseTextOptions): TensorNode {
    const line = this.peek.line;
    const output = this.keyword("output");
    let node: TensorNode;
    if (this.keyword("input")) {
      const name = this.name("an input name");
      this.expect(":");
      node = { role: "input", name, ...this.type(), output };
    } else if (this.keyword("weight")) {
      const name = this.name("a weight name");
      this.expect(":");
      const type = this.type();
      if (this.is("(")) {
        this.next();
        this.expect("data");
        this.expect(")");
      }
      node = { role: "weight", name, ...type, output, data: options.weights?.[name] ?? null };
    } else {
      const name = this.name("a tensor name");
      this.expect(":");
      const type = this.type();
      this.expect("=");
      if (this.keyword("call")) {
        const fn = this.name("a function name");
        this.expect("(");
        const args = this.list(")", () => this.name("an argument"));
        this.expect(")");
        node = { role: "call", name, ...type, output, fn, args };
      } else if (this.keyword("grad")) {
        this.expect("(");
        const loss = this.name("a loss tensor");
        this.expect(",");
        const wrt = this.name("a tensor name");
        this.expect(")");
        node = { role: "grad", name, ...type, output, loss, wrt };
      } else node = this.def(name, type, output);
    }
    this.endOfStatement(line);
    return node;
  }

  def(name: string, type: { dtype: DType; shape: number[] }, output: boolean): TensorNode {
    let recurrence: string | undefined;
    if (this.keyword("recur")) {
      this.expect("(");
      recurrence = this.name("a sequential index");
      this.expect(")");
    }
    let scatter: { index: string; mode: GatherMode } | undefined;
    if (this.keyword("scatter")) {
      this.expect("(");
      const index = this.name("a scattered index");
      let mode: GatherMode = "check";
      if (this.is(";")) {
        this.next();
        if (this.keyword("clamp")) mode = "clamp";
        else this.fail("expected a scatter mode (clamp)");
      }
      this.expect(")");
      scatter = { index, mode };
    }
    const resumed = this.keyword("resume");
    const split = this.keyword("split") ? this.splitList() : undefined;
    const indices: string[] = [];
    const groups: number[] = [];
    const ranges: Record<string, number> = {};
    const varExt = (): string => {
      const v = this.name("an index variable");
      this.expect(":");
      const n = this.int("an extent");
      if (ranges[v] !== undefined) this.fail(`index variable '${v}' is listed twice`, this.at(-3));
      ranges[v] = n;
      return v;
    };
    this.expect("[");
    if (!this.is("]") && !this.is(";")) {
      do {
        if (this.is(",")) this.next();
        if (this.is("(")) {
          this.next();
          const g = this.list(")", varExt);
          this.expect(")");
          indices.push(...g);
          groups.push(g.length);
        } else {
          indices.push(varExt());
          groups.push(1);
        }
      } while (this.is(","));
    }
    if (this.is(";")) {
      this.next();
      this.list("]", varExt);
    }
    this.expect("]");
    this.reduceRanges = {};
    const body = this.expr();
    for (const [v, n] of Object.entries(this.reduceRanges)) {
      if (ranges[v] !== undefined && ranges[v] !== n) this.fail(`variable '${v}' has two extents, ${ranges[v]} and ${n}`);
      ranges[v] = n;
    }
    return {
      role: "def", name, ...type, output, indices, groups, ranges, body,
      ...(recurrence === undefined ? {} : { recurrence }),
      ...(scatter === undefined ? {} : { scatter }),
      ...(split === undefined ? {} : { split }),
      ...(resumed ? { resumed: true as const } : {}),
    };
  }

  /** `(y: 1, 55; x: 1, 55)`: the cut points of each split index (after the keyword `split`). */
  splitList(): IndexSplit[] {
    this.expect("(");
    const out: IndexSplit[] = [];
    do {
      if (this.is(";")) this.next();
      const v = this.name("a split index");
      this.expect(":");
      const cuts = [this.int("a cut point")];
      while (this.is(",")) {
        this.next();
        cuts.push(this.int("a cut point"));
      }
      out.push({ var: v, cuts });
    } while (this.is(";"));
    this.expect(")");
    return out;
  }

  // --- expressions -----------------------------------------------------------

  expr(): Expr {
    const lhs = this.additive();
    const op = COMPARE[this.peek.text];
    if (op === undefined || this.peek.kind !== "punct") return lhs;
    this.next();
    return binary(op, lhs, this.additive());
  }

  additive(): Expr {
    let e = this.multiplicative();
    while (this.is("+") || this.is("-")) {
      const op = this.next().text === "+" ? "add" : "sub";
      e = binary(op, e, this.multiplicative());
    }
    return e;
  }

  multiplicative(): Expr {
    let e = this.mulOperand();
    while (this.is("*") || this.is("/")) {
      const op = this.next().text === "*" ? "mul" : "div";
      e = binary(op, e, this.mulOperand());
    }
    return e;
  }

  startsReduce(): boolean {
    const t = this.peek;
    if (t.kind !== "name" || !REDUCE.includes(t.text) || !this.is("(", 1)) return false;
    if (t.text === "sum" || t.text === "prod") return true;
    return this.at(2).kind === "name" && this.is(":", 3);
  }

  mulOperand(): Expr {
    if (!this.startsReduce()) return this.unary();
    const op = this.next().text as ReduceOp;
    this.expect("(");
    const vars = this.list(")", () => {
      const vt = this.peek;
      const v = this.name("a reduction variable");
      if (this.is(":")) {
        this.next();
        const n = this.int("an extent");
        if (this.extentsRequired && this.reduceRanges[v] !== undefined) this.fail(`reduction variable '${v}' is bound twice in one definition`, vt);
        this.reduceRanges[v] = n;
      } else if (this.extentsRequired) this.fail(`reduction variable '${v}' needs an extent ('${v}:N')`, vt);
      return v;
    });
    this.expect(")");
    if (vars.length === 0) this.fail("a reduction needs at least one variable");
    return reduce(op, vars, this.multiplicative());
  }

  unary(): Expr {
    if (!this.is("-")) return this.primary();
    this.next();
    const t = this.peek;
    if (t.kind === "number" || (t.kind === "name" && (t.text === "inf" || t.text === "nan") && !this.is("[", 1) && !this.is("(", 1))) {
      return num(-this.literal());
    }
    return unary("neg", this.unary());
  }

  literal(): number {
    const t = this.next();
    if (t.text === "inf") return Infinity;
    if (t.text === "nan") return NaN;
    return Number(t.text);
  }

  primary(): Expr {
    const t = this.peek;
    if (t.kind === "number") return num(this.literal());
    if (this.is("(")) {
      this.next();
      const e = this.expr();
      this.expect(")");
      return e;
    }
    if (t.kind !== "name") this.fail(`expected an expression, found '${t.text}'`);
    this.next();
    const guarded = this.is("?");
    if (guarded) this.next();
    if (this.is("[")) {
      this.next();
      const dims = this.list("]", () => this.gatherIndex());
      let mode: GatherMode = "check";
      if (this.is(";")) {
        this.next();
        const m = this.name("a gather mode");
        if (m !== "check" && m !== "clamp") this.fail(`unknown gather mode '${m}' (check or clamp)`, this.at(-1));
        mode = m;
      }
      this.expect("]");
      if (dims.every((d) => d.value === null)) {
        if (mode !== "check") this.fail("a gather mode needs a data-dependent index {...}");
        const index = dims.map((d) => d.affine);
        return guarded ? { kind: "access", tensor: t.text, index, guarded: true } : { kind: "access", tensor: t.text, index };
      }
      if (guarded) this.fail("a gather cannot be a padding read '?'");
      return gather(t.text, dims, mode);
    }
    if (guarded) this.fail("expected '[' after '?'");
    if (this.is("(")) return this.call(t);
    if (t.text === "inf") return num(Infinity);
    if (t.text === "nan") return num(NaN);
    return { kind: "index", var: t.text };
  }

  call(fn: Token): Expr {
    this.expect("(");
    const args = this.list(")", () => this.expr());
    this.expect(")");
    const arity = (n: number): void => {
      if (args.length !== n) this.fail(`'${fn.text}' takes ${n} argument${n === 1 ? "" : "s"}, got ${args.length}`, fn);
    };
    if (UNARY.includes(fn.text)) {
      arity(1);
      return unary(fn.text as UnaryOp, args[0]!);
    }
    if (CALLABLE_BINARY.includes(fn.text)) {
      arity(2);
      return binary(fn.text as BinaryOp, args[0]!, args[1]!);
    }
    if (fn.text === "where") {
      arity(3);
      return select(args[0]!, args[1]!, args[2]!);
    }
    return this.fail(`unknown operator '${fn.text}'`, fn);
  }

  /** One index of a bracket list: an affine form, or `{value}` optionally followed by `+ affine` or `- affine`. */
  gatherIndex(): GatherIndex {
    if (!this.is("{")) return { affine: this.affine(), value: null };
    this.next();
    const value = this.expr();
    this.expect("}");
    if (!this.is("+") && !this.is("-")) return { affine: affine([]), value };
    const sign = this.next().text === "+" ? 1 : -1;
    const a = this.affine();
    return { affine: affine(a.terms.map((t) => ({ var: t.var, coef: sign * t.coef })), sign * a.constant), value };
  }

  affine(): Affine {
    const terms: AffineTerm[] = [];
    let constant = 0;
    let sign = 1;
    if (this.is("-")) {
      this.next();
      sign = -1;
    }
    for (;;) {
      if (this.peek.kind === "number") {
        const n = this.int("an integer coefficient");
        if (this.is("*")) {
          this.next();
          terms.push({ var: this.name("an index variable"), coef: sign * n });
        } else constant += sign * n;
      } else terms.push({ var: this.name("an index variable"), coef: sign });
      if (!this.is("+") && !this.is("-")) break;
      sign = this.next().text === "+" ? 1 : -1;
    }
    return affine(terms, constant);
  }
}

/**
 * Parses the text form of a program (the inverse of `printProgram`).
 * Throws {@link IrTextError} on malformed text; the result is not verified.
 *
 * @example
 * ```ts
 * const p = parseProgramText("input A: f32[3]\noutput B: f32[3] = [i:3] exp(A[i])\n");
 * p.tensors[1]!.role; // "def"
 * ```
 */
export function parseProgramText(text: string, options: ParseTextOptions = {}): Program {
  return new Parser(tokenize(text)).program(options);
}

/**
 * Parses one expression (the inverse of `printExpr`); reduction extents
 * are optional here and returned in `ranges` when given.
 *
 * @example
 * ```ts
 * parseExprText("sum(k:4) A[i, k] * B[k]").ranges; // { k: 4 }
 * ```
 */
export function parseExprText(text: string): { expr: Expr; ranges: Record<string, number> } {
  const p = new Parser(tokenize(text));
  p.extentsRequired = false;
  const expr = p.expr();
  if (p.peek.kind !== "eof") p.fail(`unexpected '${p.peek.text}' after the expression`);
  return { expr, ranges: p.reduceRanges };
}

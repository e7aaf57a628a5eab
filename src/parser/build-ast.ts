/**
 * CST → AST. Walks the concrete syntax tree the grammar built and produces
 * the plain, immutable nodes of ast.ts, each with an accurate span. The few
 * rules the grammar leaves loose on purpose are enforced here with clearer
 * messages than a parser could give: chained comparisons, groups outside an
 * index, calling something that is not a name, unknown element types.
 *
 * Before (CST): def { Identifier "M", slot "i", expression > ... > reduction }
 * After (AST):  { kind: "def", name: M, indices: [var i],
 *                 rhs: { kind: "reduce", op: "max", vars: [j], extents: [null], body: Access S[i, j] } }
 */
import type { CstElement, CstNode, IToken } from "./chevrotain.js";
import type { DiagnosticBag, Span } from "../diagnostics/diagnostic.js";
import type {
  DType, Def, Expr, FnDecl, ImportDecl, IndexSlot, Item, Name, Param, ReduceOpToken,
  ResultDecl, SizeDecl, SizeEntry, Structure, TensorDecl, BinaryOpToken, Call,
} from "./ast.js";
import { tokenSpan } from "./lexer.js";

const DTYPES: readonly DType[] = ["f32", "f64", "i32"];

/**
 * Chains of `+ -` or `* /` with more operands than this are built as
 * balanced trees (reassociated; docs/limits.md); shorter ones left to right.
 */
const BALANCE_CHAINS_OVER = 32;

/** Builds AST nodes for one file, reporting the loose-grammar problems to `diags`. */
export class AstBuilder {
  constructor(
    private readonly file: string,
    private readonly diags: DiagnosticBag,
  ) {}

  /**
   * The AST items of one `item` CST node (a multi-tensor declaration gives several).
   *
   * @example
   * ```ts
   * new AstBuilder("a.tns", diags).item(itemCst); // [{ kind: "size", entries: [...] }]
   * ```
   */
  item(node: CstNode): Item[] {
    const inner = onlyNode(node);
    switch (inner.name) {
      case "importDecl": return [this.importDecl(inner)];
      case "sizeDecl": return [this.sizeDecl(inner)];
      case "tensorDecl": return this.tensorDecl(inner);
      case "fnDecl": return [this.fnDecl(inner)];
      case "def": return [this.def(inner)];
      default: throw new Error(`unexpected item '${inner.name}'`);
    }
  }

  /** The span a CST node covers (end exclusive). */
  nodeSpan(node: CstNode): Span {
    const loc = node.location;
    if (!loc || !Number.isFinite(loc.startOffset) || !Number.isFinite(loc.endOffset ?? NaN)) {
      throw new Error(`CST node '${node.name}' has no location`);
    }
    return {
      file: this.file,
      start: { offset: loc.startOffset, line: loc.startLine ?? 1, column: loc.startColumn ?? 1 },
      end: { offset: loc.endOffset! + 1, line: loc.endLine ?? 1, column: (loc.endColumn ?? 0) + 1 },
    };
  }

  private importDecl(node: CstNode): ImportDecl {
    const pathToken = lastToken(node, "StringLiteral");
    const names = node.children["Identifier"] ? tokens(node, "Identifier").map((t) => this.name(t)) : null;
    return { kind: "import", path: pathToken.image.slice(1, -1), pathSpan: this.tokenSpan(pathToken), names, span: this.nodeSpan(node) };
  }

  private sizeDecl(node: CstNode): SizeDecl {
    const entries = nodes(node, "sizeEntry").map((e): SizeEntry => ({
      name: this.name(firstToken(e, "Identifier")),
      value: e.children["expression"] ? this.expression(firstNode(e, "expression")) : null,
      span: this.nodeSpan(e),
    }));
    return { kind: "size", entries, span: this.nodeSpan(node) };
  }

  /** One decl per tensor; the first one's span includes the keyword, so the decls cover the statement. */
  private tensorDecl(node: CstNode): TensorDecl[] {
    const role = node.children["Input"] ? "input" : "weight";
    const keyword = this.tokenSpan(firstToken(node, role === "input" ? "Input" : "Weight"));
    return nodes(node, "tensorSig").map((sig, i) => {
      const decl = this.tensorSig(sig);
      return { kind: "tensor", role, ...decl, span: i === 0 ? join(keyword, decl.span) : decl.span };
    });
  }

  private tensorSig(node: CstNode): { name: Name; dims: Expr[]; dtype: DType; span: Span; structure?: Structure } {
    const dims = node.children["bracketList"] ? this.bracketList(firstNode(node, "bracketList"), false) : [];
    const structure = node.children["structure"] ? this.structure(firstNode(node, "structure")) : undefined;
    return { name: this.name(firstToken(node, "Identifier")), dims, dtype: this.dtype(node), span: this.nodeSpan(node), ...(structure ? { structure } : {}) };
  }

  private structure(node: CstNode): Structure {
    // Arguments in source order: bracketed lists and plain expressions interleave.
    const lists = nodes(node, "bracketList").map((b) => ({ kind: "list" as const, items: this.bracketList(b, false), span: this.nodeSpan(b) }));
    const exprs = nodes(node, "expression").map((e) => ({ at: this.nodeSpan(e).start.offset, arg: this.expression(e) }));
    const args = [...lists.map((l) => ({ at: l.span.start.offset, arg: l as Structure["args"][number] })), ...exprs]
      .sort((a, b) => a.at - b.at).map((a) => a.arg);
    return { name: this.name(firstToken(node, "Identifier")), args, span: this.nodeSpan(node) };
  }

  private dtype(node: CstNode): DType {
    if (!node.children["dtype"]) return "f32";
    const token = firstToken(node, "dtype");
    const known = DTYPES.find((d) => d === token.image);
    if (known) return known;
    this.diags.error("TNS0501", `unknown element type '${token.image}'`, this.tokenSpan(token), {
      hint: "element types are f32 (the default), f64 and i32",
    });
    return "f32";
  }

  private def(node: CstNode): Def {
    const names = tokens(node, "Identifier");
    // A second result `V[i, r], I[i, r] = ...`: its name and slots come after the first's.
    const split = names[1]?.startOffset ?? Infinity;
    const brackets = tokens(node, "LBracket");
    const slots = nodes(node, "slot");
    const before = (offset: number | undefined): boolean => (offset ?? Infinity) < split;
    const indices = brackets.some((b) => before(b.startOffset))
      ? slots.filter((s) => before(s.location?.startOffset)).map((s) => this.slot(s))
      : null;
    const second = names[1] === undefined ? {} : {
      second: {
        name: this.name(names[1]),
        indices: brackets.some((b) => !before(b.startOffset)) ? slots.filter((s) => !before(s.location?.startOffset)).map((s) => this.slot(s)) : null,
        span: this.tokenSpan(names[1]),
      },
    };
    return {
      kind: "def",
      output: node.children["Output"] !== undefined,
      name: this.name(names[0]!),
      indices,
      ...second,
      rhs: this.expression(firstNode(node, "expression")),
      span: this.nodeSpan(node),
    };
  }

  private slot(node: CstNode): IndexSlot {
    const vars = nodes(node, "slotVar");
    const names = vars.map((v) => this.name(firstToken(v, "Identifier")));
    const extents = vars.map((v) => (v.children["additive"] ? this.additive(firstNode(v, "additive")) : null));
    if (!node.children["LParen"] && names.length === 1) return { kind: "var", name: names[0]!, extent: extents[0]!, span: this.nodeSpan(vars[0]!) };
    // `(a)` is one index written with parentheses, not a group of one.
    if (names.length === 1) return { kind: "var", name: names[0]!, extent: extents[0]!, span: this.nodeSpan(node) };
    return { kind: "group", vars: names, extents, span: this.nodeSpan(node) };
  }

  private fnDecl(node: CstNode): FnDecl {
    return {
      kind: "fn",
      name: this.name(firstToken(node, "Identifier")),
      params: nodes(node, "param").map((p) => this.param(p)),
      results: nodes(node, "result").map((r): ResultDecl => ({
        name: this.name(firstToken(r, "Identifier")),
        dims: r.children["bracketList"] ? this.bracketList(firstNode(r, "bracketList"), false) : null,
        span: this.nodeSpan(r),
      })),
      body: nodes(node, "def").map((d) => this.def(d)),
      span: this.nodeSpan(node),
    };
  }

  private param(node: CstNode): Param {
    if (node.children["tensorSig"]) return { kind: "tensor", ...this.tensorSig(firstNode(node, "tensorSig")) };
    return {
      kind: "size",
      name: this.name(firstToken(node, "Identifier")),
      value: node.children["expression"] ? this.expression(firstNode(node, "expression")) : null,
      span: this.nodeSpan(node),
    };
  }

  /** `[e, ...]`; in an access (`groups` true) an item that is exactly `(a, b)` is a Group. */
  private bracketList(node: CstNode, groups: boolean): Expr[] {
    return nodes(node, "expression").map((e) => {
      const paren = groups ? bareParenthesized(e) : null;
      return paren ? this.parenthesized(paren, true) : this.expression(e);
    });
  }

  /**
   * `a < b && c < d || e`: the operands and operators of the flat rule,
   * grouped by precedence: `||` of `&&` of comparisons, each left to right.
   */
  private expression(node: CstNode): Expr {
    const operands = nodes(node, "additive").map((a) => this.additive(a));
    const ops = [...tokens(node, "ComparisonOp"), ...tokens(node, "AndAnd"), ...tokens(node, "OrOr")]
      .sort((a, b) => a.startOffset - b.startOffset);
    if (ops.length === 0) return operands[0]!;
    const split = (from: number, to: number, level: "||" | "&&" | "cmp"): Expr => {
      if (level === "cmp") {
        const cmps = ops.slice(from, to - 1);
        if (cmps.length > 1) {
          this.diags.error("TNS0001", `comparisons do not chain: unexpected '${cmps[1]!.image}'`, this.tokenSpan(cmps[1]!), {
            hint: "compare two things at a time and combine them with &&, e.g. a < b && b < c",
          });
        }
        return this.foldLeft(operands.slice(from, to), cmps);
      }
      const inner = level === "||" ? "&&" : "cmp";
      const parts: Expr[] = [];
      const seps: IToken[] = [];
      let start = from;
      for (let k = from; k < to - 1; k++) {
        if (ops[k]!.image !== level) continue;
        parts.push(split(start, k + 1, inner));
        seps.push(ops[k]!);
        start = k + 1;
      }
      parts.push(split(start, to, inner));
      return this.foldLeft(parts, seps);
    };
    return split(0, operands.length, "||");
  }

  private additive(node: CstNode): Expr {
    return this.chain(nodes(node, "multiplicative").map((m) => this.multiplicative(m)), tokens(node, "AdditiveOp"), "+", "-");
  }

  private multiplicative(node: CstNode): Expr {
    const operands = nodes(node, "unary").map((u) => this.unary(u));
    const ops = tokens(node, "MultiplicativeOp");
    // `%` does not associate with `*` and `/` the way the balancing assumes; such chains stay left to right.
    if (ops.some((op) => op.image === "%")) return this.foldLeft(operands, ops);
    return this.chain(operands, ops, "*", "/");
  }

  /**
   * A chain of one precedence level: left to right as written, or, past
   * {@link BALANCE_CHAINS_OVER} operands, a balanced tree of depth log2(n),
   * so that `x + x + ... + x` of any length is no deeper to check, optimize
   * and emit than a few nested calls. The split uses
   * `a ⊕ (b ⊖ c) = a ⊕ b ⊖ c`: the right half of `... - c + d` is `c - d`.
   */
  private chain(operands: Expr[], ops: IToken[], plus: BinaryOpToken, minus: BinaryOpToken): Expr {
    if (operands.length <= BALANCE_CHAINS_OVER) return this.foldLeft(operands, ops);
    const signs = ops.map((op) => op.image === minus);
    const build = (from: number, to: number, flipped: boolean): Expr => {
      if (to - from === 1) return operands[from]!;
      const mid = (from + to) >> 1;
      const inverse = signs[mid - 1]! !== flipped;
      const lhs = build(from, mid, flipped);
      const rhs = build(mid, to, flipped !== inverse);
      return { kind: "binary", op: inverse ? minus : plus, lhs, rhs, span: join(lhs.span, rhs.span) };
    };
    return build(0, operands.length, false);
  }

  private foldLeft(operands: Expr[], ops: IToken[]): Expr {
    let acc = operands[0]!;
    ops.forEach((op, i) => {
      const rhs = operands[i + 1]!;
      acc = { kind: "binary", op: op.image as BinaryOpToken, lhs: acc, rhs, span: join(acc.span, rhs.span) };
    });
    return acc;
  }

  private unary(node: CstNode): Expr {
    let acc = this.postfix(firstNode(node, "postfix"));
    if (node.children["Caret"]) {
      const exponent = this.unary(firstNode(node, "unary"));
      acc = { kind: "binary", op: "^", lhs: acc, rhs: exponent, span: join(acc.span, exponent.span) };
    }
    const prefixes = [...tokens(node, "Minus"), ...tokens(node, "Bang")].sort((a, b) => a.startOffset - b.startOffset);
    for (let i = prefixes.length - 1; i >= 0; i--) {
      const op = prefixes[i]!.image === "!" ? "!" : "-";
      acc = { kind: "unary", op, arg: acc, span: join(this.tokenSpan(prefixes[i]!), acc.span) };
    }
    return acc;
  }

  private postfix(node: CstNode): Expr {
    const atomNode = firstNode(node, "atom");
    const args = node.children["callArgs"] ? firstNode(node, "callArgs") : null;
    const index = node.children["bracketList"] ? firstNode(node, "bracketList") : null;
    const calleeToken = (atomNode.children["Identifier"] ?? atomNode.children["MaxMin"])?.[0] as IToken | undefined;
    let target: Expr | Call;
    if (args && calleeToken) {
      target = {
        kind: "call",
        callee: this.name(calleeToken),
        args: nodes(args, "expression").map((e) => this.expression(e)),
        span: join(this.tokenSpan(calleeToken), this.nodeSpan(args)),
      };
    } else {
      target = this.atom(atomNode, index !== null);
      if (args) {
        this.diags.error("TNS0001", "only a function name can be called", this.tokenSpan(firstToken(args, "LParen")), {
          hint: "use '*' to multiply: (a)(b) is not a product",
        });
      }
    }
    if (!index) return target;
    const indices = this.bracketList(index, true);
    const span = join(target.span, this.nodeSpan(index));
    if (target.kind === "call") return { kind: "access", target, indices, span };
    if (target.kind === "ident") return { kind: "access", target: { name: target.name, span: target.span }, indices, span };
    this.diags.error("TNS0001", "only a tensor name or a function call can be indexed", this.nodeSpan(index), {
      hint: "index the tensor itself, e.g. X[i], or a call's result, e.g. softmax(S)[i, j]",
    });
    return target;
  }

  private atom(node: CstNode, indexed: boolean): Expr {
    const child = node.children;
    if (child["NumberLiteral"]) {
      const token = firstToken(node, "NumberLiteral");
      return { kind: "number", value: Number(token.image), isInteger: /^\d+$/.test(token.image), span: this.tokenSpan(token) };
    }
    if (child["Identifier"]) {
      const token = firstToken(node, "Identifier");
      // `inf` is the one named constant; `inf[i]` would be a tensor named inf.
      if (token.image === "inf" && !indexed) return { kind: "number", value: Infinity, isInteger: false, span: this.tokenSpan(token) };
      return { kind: "ident", name: token.image, span: this.tokenSpan(token) };
    }
    if (child["MaxMin"]) {
      const token = firstToken(node, "MaxMin");
      this.diags.error("TNS0001", `'${token.image}' needs arguments`, this.tokenSpan(token), {
        hint: `write ${token.image}(a, b) for the elementwise ${token.image}, or ${token.image}(j) X[i, j] to reduce over j`,
      });
      return { kind: "ident", name: token.image, span: this.tokenSpan(token) };
    }
    if (child["reduction"]) return this.reduction(firstNode(node, "reduction"));
    return this.parenthesized(firstNode(node, "parenthesized"), false);
  }

  private parenthesized(node: CstNode, groupAllowed: boolean): Expr {
    const items = nodes(node, "expression").map((e) => this.expression(e));
    if (items.length === 1) {
      const only = items[0]!;
      return only.kind === "reduce" ? { ...only, parenthesized: true } : only;
    }
    const span = this.nodeSpan(node);
    if (!groupAllowed) {
      this.diags.error("TNS0001", "a parenthesized list is only allowed as a whole index inside [...]", span, {
        hint: "(a, b) groups indices into one flattened dimension, as in x[(c, d)]",
      });
    }
    return { kind: "group", items, span };
  }

  private reduction(node: CstNode): Expr {
    const op = firstToken(node, "ReduceKeyword");
    const body = this.multiplicative(firstNode(node, "multiplicative"));
    const items = nodes(node, "reductionVar");
    return {
      kind: "reduce",
      op: op.image as ReduceOpToken,
      vars: items.map((v) => this.name(firstToken(v, "Identifier"))),
      extents: items.map((v) => (v.children["additive"] ? this.additive(firstNode(v, "additive")) : null)),
      body,
      span: join(this.tokenSpan(op), body.span),
    };
  }

  private name(token: IToken): Name {
    return { name: token.image, span: this.tokenSpan(token) };
  }

  private tokenSpan(token: IToken): Span {
    if (token.isInsertedInRecovery || !Number.isFinite(token.startOffset)) throw new Error("token inserted by recovery");
    return tokenSpan(this.file, token);
  }
}

/** The span from the start of `a` to the end of `b`. */
function join(a: Span, b: Span): Span {
  return { file: a.file, start: a.start, end: b.end };
}

function nodes(node: CstNode, key: string): CstNode[] {
  return (node.children[key] ?? []) as CstNode[];
}

function tokens(node: CstNode, key: string): IToken[] {
  return (node.children[key] ?? []) as IToken[];
}

function firstNode(node: CstNode, key: string): CstNode {
  const found = node.children[key]?.[0];
  if (!found) throw new Error(`CST node '${node.name}' lacks '${key}'`);
  return found as CstNode;
}

function firstToken(node: CstNode, key: string): IToken {
  const found = node.children[key]?.[0];
  if (!found) throw new Error(`CST node '${node.name}' lacks '${key}'`);
  return found as IToken;
}

function lastToken(node: CstNode, key: string): IToken {
  const list = tokens(node, key);
  if (list.length === 0) throw new Error(`CST node '${node.name}' lacks '${key}'`);
  return list[list.length - 1]!;
}

function onlyNode(node: CstNode): CstNode {
  const first = Object.values(node.children)[0]?.[0] as CstElement | undefined;
  if (!first || !("children" in first)) throw new Error(`CST node '${node.name}' is empty`);
  return first;
}

/**
 * The `parenthesized` node when an expression is nothing but `( ... , ... )`
 * (no operators, calls or indices around it), else null.
 */
function bareParenthesized(expression: CstNode): CstNode | null {
  let node = expression;
  for (const [key, ...operators] of PASS_THROUGH) {
    const kids = node.children;
    if (kids[key]?.length !== 1 || operators.some((op) => kids[op] !== undefined)) return null;
    node = kids[key][0] as CstNode;
  }
  return nodes(node, "expression").length >= 2 ? node : null;
}

/** Each level from expression down to a parenthesized atom: the child to follow and the children that make it more than a wrapper. */
const PASS_THROUGH: readonly (readonly string[])[] = [
  ["additive", "ComparisonOp", "AndAnd", "OrOr"],
  ["multiplicative", "AdditiveOp"],
  ["unary", "MultiplicativeOp"],
  ["postfix", "Minus", "Bang", "Caret"],
  ["atom", "callArgs", "bracketList"],
  ["parenthesized"],
];

/**
 * The tns abstract syntax tree: plain immutable data with a source span on
 * every node. The parser builds it; the checker reads it. Nothing here knows
 * about sizes being bound or indices being resolved: names are just names.
 */
import type { Span } from "../diagnostics/diagnostic.js";

/** Element types of the language. `f32` is the default. */
export type DType = "f32" | "f64" | "i32";

/** An identifier with where it was written. */
export interface Name {
  readonly name: string;
  readonly span: Span;
}

/** A whole `.tns` file. */
export interface Module {
  readonly kind: "module";
  readonly file: string;
  readonly items: readonly Item[];
  readonly span: Span;
}

/** A top-level statement. Function bodies hold {@link Def}s only. */
export type Item = ImportDecl | SizeDecl | TensorDecl | Def | FnDecl;

/**
 * `import "nn"` (every function of stdlib/nn.tns) or
 * `import softmax, layernorm from "nn"`. A path starting with `.` is relative
 * to the importing file; any other path names a stdlib module.
 */
export interface ImportDecl {
  readonly kind: "import";
  readonly path: string;
  readonly pathSpan: Span;
  /** The imported function names; `null` imports all. */
  readonly names: readonly Name[] | null;
  readonly span: Span;
}

/** `size n = 256, d = 64, m` — one {@link SizeEntry} per symbol. */
export interface SizeDecl {
  readonly kind: "size";
  readonly entries: readonly SizeEntry[];
  readonly span: Span;
}

/** One size symbol; `value` is its default (a size expression), or null when it must be given. */
export interface SizeEntry {
  readonly name: Name;
  readonly value: Expr | null;
  readonly span: Span;
}

/**
 * `input Q[n, d]`, `input X[n]: f64`, `weight W[m, n]`. A statement declaring
 * several tensors (`input Q[n, d], K[n, d]`) becomes several decls sharing a
 * role. Dims are size expressions (`n`, `2*n`, `64`).
 */
export interface TensorDecl {
  readonly kind: "tensor";
  readonly role: "input" | "weight";
  readonly name: Name;
  readonly dims: readonly Expr[];
  readonly dtype: DType;
  readonly span: Span;
  /** `~ lowrank(8)`: the tensor is a structured layer given by its factors. */
  readonly structure?: Structure;
}

/** `~ kron([m1, m2], [n1, n2])`: a structure's name and arguments (sizes, or bracketed lists of sizes). */
export interface Structure {
  readonly name: Name;
  readonly args: readonly (Expr | { readonly kind: "list"; readonly items: readonly Expr[]; readonly span: Span })[];
  readonly span: Span;
}

/**
 * One slot of a definition's left side: an index, or a group `(a, b)` that
 * is one flattened dimension. `extent` (`y < H`) states an index's range
 * where the right side does not fix it.
 */
export type IndexSlot =
  | { readonly kind: "var"; readonly name: Name; readonly extent: Expr | null; readonly span: Span }
  | { readonly kind: "group"; readonly vars: readonly Name[]; readonly extents: readonly (Expr | null)[]; readonly span: Span };

/**
 * `S[i, j] = ...`, `output O[i, e] = ...`, or the tensor-level form
 * `output O = attention(Q, K, V)` (indices null; the right side must then
 * be a call to a user function).
 */
export interface Def {
  readonly kind: "def";
  readonly output: boolean;
  readonly name: Name;
  readonly indices: readonly IndexSlot[] | null;
  /**
   * The second result of a two-result definition `V[i, r], I[i, r] = topk(...)`
   * (absent for one result).
   */
  readonly second?: { readonly name: Name; readonly indices: readonly IndexSlot[] | null; readonly span: Span };
  readonly rhs: Expr;
  readonly span: Span;
}

/**
 * `fn softmax(X[n, m]) -> Y[n, m] { ... }`. Parameter dims name size symbols
 * local to the function, bound from the argument shapes at each call.
 * `size s = 1` parameters are compile-time integers given positionally.
 */
export interface FnDecl {
  readonly kind: "fn";
  readonly name: Name;
  readonly params: readonly Param[];
  readonly results: readonly ResultDecl[];
  readonly body: readonly Def[];
  readonly span: Span;
}

/** A function parameter: a tensor with declared dims, or a size with an optional default. */
export type Param =
  | { readonly kind: "tensor"; readonly name: Name; readonly dims: readonly Expr[]; readonly dtype: DType; readonly span: Span }
  | { readonly kind: "size"; readonly name: Name; readonly value: Expr | null; readonly span: Span };

/** `-> Y[n, m]` declares the result shape; `-> Y` lets the body decide it. */
export interface ResultDecl {
  readonly name: Name;
  readonly dims: readonly Expr[] | null;
  readonly span: Span;
}

/** Elementwise binary operators as written. */
export type BinaryOpToken = "+" | "-" | "*" | "/" | "%" | "^" | "<" | "<=" | ">" | ">=" | "==" | "!=" | "&&" | "||";

/**
 * Reduction operators. `argmax`/`argmin` give the index of the extreme
 * element; `topk` (only as the right side of a two-result definition)
 * its largest values and their indices.
 */
export type ReduceOpToken = "sum" | "max" | "min" | "prod" | "argmax" | "argmin" | "topk";

/** An expression (used for values, index expressions and size expressions alike). */
export type Expr = NumberLit | Ident | Access | Unary | Binary | Call | Reduce | Group;

/** `3`, `1e-5`, `0.5`. `isInteger` is true when written without `.` or exponent. */
export interface NumberLit {
  readonly kind: "number";
  readonly value: number;
  readonly isInteger: boolean;
  readonly span: Span;
}

/** A bare name: an index variable, a size symbol, or (as a call argument) a tensor. */
export interface Ident {
  readonly kind: "ident";
  readonly name: string;
  readonly span: Span;
}

/**
 * `X[c, y + dy]`, `x[(c, d)]`, or the indexed result of a user-function call
 * `softmax(S)[i, j]` (then `target` is a {@link Call}).
 */
export interface Access {
  readonly kind: "access";
  readonly target: Name | Call;
  readonly indices: readonly Expr[];
  readonly span: Span;
}

/** `-x`, or the logical negation `!c`. */
export interface Unary {
  readonly kind: "unary";
  readonly op: "-" | "!";
  readonly arg: Expr;
  readonly span: Span;
}

/** `a + b`, `a ^ b`, `a <= b`, ... */
export interface Binary {
  readonly kind: "binary";
  readonly op: BinaryOpToken;
  readonly lhs: Expr;
  readonly rhs: Expr;
  readonly span: Span;
}

/** `exp(x)`, `where(c, a, b)`, `max(a, b)`, or a user function `softmax(S)`. */
export interface Call {
  readonly kind: "call";
  readonly callee: Name;
  readonly args: readonly Expr[];
  readonly span: Span;
}

/**
 * `sum(j) E[i, j]`, `max(dy < k, dx < k) X[...]`: reduce `body` over the
 * listed indices. `extents` runs parallel to `vars`: the size expression of
 * a bounded index `dy < k` (it ranges over `0 .. k-1`), or null when the
 * range is inferred from the body.
 */
export interface Reduce {
  readonly kind: "reduce";
  readonly op: ReduceOpToken;
  readonly vars: readonly Name[];
  readonly extents: readonly (Expr | null)[];
  readonly body: Expr;
  readonly span: Span;
  /** Written inside parentheses, `(sum(i) x[i]) == 0`: its extent was made explicit (TNS0220 keeps quiet). */
  readonly parenthesized?: true;
}

/** `(c, d)` inside an index list: a grouped (flattened) index. */
export interface Group {
  readonly kind: "group";
  readonly items: readonly Expr[];
  readonly span: Span;
}

/**
 * Random well-formed IR programs for property tests (fast-check): the
 * round-trip of the text form here, and differential tests of passes and
 * backends against the reference interpreter elsewhere.
 *
 * A program has 1–3 inputs or weights of small shapes and 1–4 defs whose
 * bodies mix accesses with plain and affine in-bounds indices (shifts,
 * strides, reversals, sliding windows, row-major views of grouped dims),
 * nested reductions, top-level "Einstein" sums, unary and binary operators,
 * comparisons and masks; optionally grouped outputs and calls of generated
 * functions; optionally a scalar loss with grad nodes of it. By default NaN-prone operators are guarded (`log(abs(x) + 1)`,
 * `x / (abs(y) + 1)`, `exp(tanh(x))`), so values stay finite and moderate.
 *
 * Every generated program passes `verifyProgram`. This module depends on
 * fast-check, a development dependency: import it from tests only.
 */
import fc from "fast-check";
import type { Affine, BinaryOp, DefNode, DType, Expr, InputNode, IRFunction, Program, ReduceOp, TensorNode, UnaryOp } from "./types.js";
import { affine, binary, indexValue, num, numel, reduce, select, unary } from "./types.js";
import { Tensor, arrayTypeOf } from "../runtime/tensor.js";

/** Knobs of {@link arbProgram}; every feature is on by default. */
export interface ArbProgramOptions {
  /** Most inputs and weights (1–3 by default). */
  readonly maxInputs?: number;
  /** Most defs and calls at the top level (default 4). */
  readonly maxDefs?: number;
  /** Largest extent of a dimension or index variable (default 5). */
  readonly maxExtent?: number;
  /** Deepest expression nesting (default 3). */
  readonly maxDepth?: number;
  /** Generate grouped output dimensions (default true). */
  readonly groups?: boolean;
  /** Generate functions and call nodes (default true). */
  readonly calls?: boolean;
  /** Make some inputs weights with bound data (default true). */
  readonly weights?: boolean;
  /** Give some inputs the f64 or i32 element type (default true). */
  readonly dtypes?: boolean;
  /** Use `log`, `sqrt`, `rsqrt`, `div`, `pow`, `exp` unguarded (default false: may give NaN or infinity). */
  readonly unsafeOps?: boolean;
  /**
   * Also draw the trigonometric, error and rounding functions (`sin ... round`,
   * `atan2`); off by default so that existing seeds keep their programs.
   */
  readonly mathOps?: boolean;
  /**
   * End with a scalar loss (the sum of squares of the last def), output
   * grad nodes of it by some float inputs and weights, and sometimes an
   * update that reads a gradient (default false).
   */
  readonly grads?: boolean;
}

/** The draws a program is built from; one fast-check generator value underneath. */
class Draw {
  constructor(private readonly g: fc.GeneratorValue) {}

  int(min: number, max: number): number {
    return this.g(fc.integer, { min, max });
  }

  /** True with probability `p` (in percent). */
  chance(p: number): boolean {
    return this.int(0, 99) < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)]!;
  }

  /** One key of `weights`, drawn with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = (Object.entries(weights) as [K, number][]).filter(([, w]) => w > 0);
    let r = this.int(0, entries.reduce((a, [, w]) => a + w, 0) - 1);
    for (const [k, w] of entries) {
      if (r < w) return k;
      r -= w;
    }
    return entries[entries.length - 1]![0];
  }
}

/** A tensor an expression may read. */
interface Visible {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

const VAR_POOL = ["i", "j", "k", "l", "m", "n", "p", "q", "r", "s", "t", "u", "v", "w"];
const CONSTS = [-2, -1, -0.5, 0, 0.25, 0.5, 1, 2, 3];
const CMP: readonly BinaryOp[] = ["lt", "le", "gt", "ge", "eq", "ne"];

interface Resolved {
  readonly maxInputs: number;
  readonly maxDefs: number;
  readonly maxExtent: number;
  readonly maxDepth: number;
  readonly groups: boolean;
  readonly calls: boolean;
  readonly weights: boolean;
  readonly dtypes: boolean;
  readonly unsafeOps: boolean;
  readonly mathOps: boolean;
  readonly grads: boolean;
}

/** Builds one def: fresh variables, extents and a body over the visible tensors. */
class DefBuilder {
  private readonly ranges: Record<string, number> = {};
  private readonly reads = new Set<string>();
  private used = 0;

  constructor(
    private readonly d: Draw,
    private readonly o: Resolved,
    private readonly visible: readonly Visible[],
  ) {}

  private fresh(extent: number): string {
    const v = this.used < VAR_POOL.length ? VAR_POOL[this.used]! : `v${this.used}`;
    this.used++;
    this.ranges[v] = extent;
    return v;
  }

  /** An extent, often one of a visible dimension so that plain full-range accesses are common. */
  private extent(): number {
    const dims = this.visible.flatMap((t) => t.shape).filter((n) => n <= this.o.maxExtent);
    if (dims.length > 0 && this.d.chance(60)) return this.d.pick(dims);
    return this.d.int(1, this.o.maxExtent);
  }

  build(name: string, output: boolean): DefNode {
    const rank = this.d.pick([0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3]);
    const indices = Array.from({ length: rank }, () => this.fresh(this.extent()));
    const groups = this.grouping(indices.length);
    let body: Expr;
    if (this.d.chance(30)) {
      // The Einstein rule lowers to a sum over the whole right-hand side.
      const vars = Array.from({ length: this.d.int(1, 2) }, () => this.fresh(this.extent()));
      body = reduce("sum", vars, this.expr(this.o.maxDepth, [...indices, ...vars]));
    } else body = this.expr(this.o.maxDepth, indices);
    const shape: number[] = [];
    let k = 0;
    for (const g of groups) {
      shape.push(indices.slice(k, k + g).reduce((a, v) => a * this.ranges[v]!, 1));
      k += g;
    }
    const readsF64 = [...this.reads].some((t) => this.visible.find((x) => x.name === t)?.dtype === "f64");
    return { role: "def", name, dtype: readsF64 ? "f64" : "f32", shape, output, indices, groups, ranges: { ...this.ranges }, body };
  }

  private grouping(n: number): number[] {
    const groups: number[] = [];
    const grouped = this.o.groups && n >= 2 && this.d.chance(25);
    for (let k = 0; k < n; k++) {
      if (k > 0 && grouped && this.d.chance(50)) groups[groups.length - 1]!++;
      else groups.push(1);
    }
    return groups;
  }

  private expr(depth: number, scope: readonly string[]): Expr {
    if (depth <= 0) return this.leaf(scope);
    const kind = this.d.weighted({ leaf: 3, access: 2, unary: 3, binary: 5, select: 1, reduce: 2 });
    const sub = (): Expr => this.expr(depth - 1, scope);
    switch (kind) {
      case "leaf":
        return this.leaf(scope);
      case "access":
        return this.access(scope);
      case "unary":
        return this.unaryOf(sub());
      case "binary":
        return this.binaryOf(sub(), sub());
      case "select": {
        const cond = this.d.chance(50) && scope.length > 0
          ? binary(this.d.pick(CMP), indexValue(this.d.pick(scope)), indexValue(this.d.pick(scope)))
          : this.d.chance(50) ? binary(this.d.pick(CMP), sub(), sub()) : sub();
        return select(cond, sub(), sub());
      }
      case "reduce": {
        const op = this.d.weighted<ReduceOp>({ sum: 6, max: 2, min: 2, prod: 1 });
        const vars = Array.from({ length: this.d.chance(75) ? 1 : 2 }, () => this.fresh(this.extent()));
        const body = this.expr(depth - 1, [...scope, ...vars]);
        // A product of many sums can overflow float32; keep its factors in (-1, 1).
        return reduce(op, vars, op === "prod" && !this.o.unsafeOps ? unary("tanh", body) : body);
      }
    }
  }

  private leaf(scope: readonly string[]): Expr {
    const kind = this.d.weighted({ access: 6, const: 2, index: scope.length > 0 ? 2 : 0 });
    if (kind === "access") return this.access(scope);
    if (kind === "index") return indexValue(this.d.pick(scope));
    return num(this.d.pick(CONSTS));
  }

  private access(scope: readonly string[]): Expr {
    if (this.visible.length === 0) return num(this.d.pick(CONSTS));
    const t = this.d.pick(this.visible);
    this.reads.add(t.name);
    return { kind: "access", tensor: t.name, index: t.shape.map((n) => this.affineWithin(n, scope)) };
  }

  /** An affine form of the variables in scope whose values all lie in `0 .. n-1`; plain variables are the most common. */
  private affineWithin(n: number, scope: readonly string[]): Affine {
    const r = (v: string): number => this.ranges[v]!;
    const options: [number, () => Affine][] = [[1, () => affine([], this.d.int(0, n - 1))]];
    const plain = scope.filter((v) => r(v) === n);
    if (plain.length > 0) options.push([8, () => affine([{ var: this.d.pick(plain), coef: 1 }])]);
    const fits = scope.filter((v) => r(v) <= n);
    if (fits.length > 0) {
      options.push([2, () => {
        const v = this.d.pick(fits);
        return affine([{ var: v, coef: 1 }], this.d.int(0, n - r(v)));
      }]);
      options.push([1, () => {
        const v = this.d.pick(fits);
        return affine([{ var: v, coef: -1 }], this.d.int(r(v) - 1, n - 1));
      }]);
    }
    const stride2 = scope.filter((v) => 2 * (r(v) - 1) <= n - 1);
    if (stride2.length > 0) {
      options.push([1, () => {
        const v = this.d.pick(stride2);
        return affine([{ var: v, coef: 2 }], this.d.int(0, n - 1 - 2 * (r(v) - 1)));
      }]);
    }
    const pairs = scope.flatMap((v) => scope.filter((w) => w !== v).map((w) => [v, w] as const));
    const windows = pairs.filter(([v, w]) => r(v) - 1 + r(w) - 1 <= n - 1);
    if (windows.length > 0) {
      options.push([2, () => {
        const [v, w] = this.d.pick(windows);
        return affine([{ var: v, coef: 1 }, { var: w, coef: 1 }], this.d.int(0, n - 1 - (r(v) - 1) - (r(w) - 1)));
      }]);
    }
    const views = pairs.filter(([v, w]) => r(v) * r(w) <= n && r(w) > 1);
    if (views.length > 0) {
      options.push([2, () => {
        const [v, w] = this.d.pick(views);
        return affine([{ var: v, coef: r(w) }, { var: w, coef: 1 }]);
      }]);
    }
    const weights: Record<string, number> = {};
    options.forEach(([w], k) => (weights[String(k)] = w));
    return options[Number(this.d.weighted(weights))]![1]();
  }

  private unaryOf(x: Expr): Expr {
    const m = this.o.mathOps ? 1 : 0;
    const op = this.d.weighted<UnaryOp>({
      neg: 3, abs: 2, relu: 2, tanh: 2, sigmoid: 2, exp: 2, log: 1, sqrt: 1, rsqrt: 1,
      sin: m, cos: m, tan: m, atan: m, erf: m, log1p: m, expm1: m, sign: m, floor: m, ceil: m, round: m,
    });
    if (this.o.unsafeOps) return unary(op, x);
    const absPlus1 = binary("add", unary("abs", x), num(1));
    switch (op) {
      case "exp": return unary("exp", unary("tanh", x));
      case "log": return unary("log", absPlus1);
      case "sqrt": return unary("sqrt", unary("abs", x));
      case "rsqrt": return unary("rsqrt", absPlus1);
      case "log1p": return unary("log1p", unary("abs", x));
      case "tan": return unary("tan", unary("tanh", x));
      case "expm1": return unary("expm1", unary("tanh", x));
      default: return unary(op, x);
    }
  }

  private binaryOf(x: Expr, y: Expr): Expr {
    const op = this.d.weighted<BinaryOp>({
      add: 4, sub: 3, mul: 4, div: 2, pow: 1, min: 1, max: 1, lt: 1, le: 1, gt: 1, ge: 1, eq: 1, ne: 1, atan2: this.o.mathOps ? 1 : 0,
    });
    if (this.o.unsafeOps) return binary(op, x, y);
    if (op === "div") return binary("div", x, binary("add", unary("abs", y), num(1)));
    if (op === "pow") return binary("pow", binary("add", unary("abs", x), num(1)), num(this.d.pick([-1, 0.5, 2])));
    return binary(op, x, y);
  }
}

/** Builds a program from draws. */
function buildProgram(d: Draw, o: Resolved): Program {
  const tensors: TensorNode[] = [];
  const visible: Visible[] = [];
  const functions: Record<string, IRFunction> = {};
  const nInputs = d.int(1, o.maxInputs);
  for (let k = 0; k < nInputs; k++) {
    const name = String.fromCharCode(65 + k);
    const shape = Array.from({ length: d.pick([0, 1, 1, 1, 2, 2, 2, 2, 3, 3]) }, () => d.int(1, o.maxExtent));
    const dtype: DType = o.dtypes ? d.weighted<DType>({ f32: 8, f64: 1, i32: 1 }) : "f32";
    if (o.weights && d.chance(20)) {
      const data = seededValues(numel(shape), d.int(0, 0x7fffffff), dtype);
      tensors.push({ role: "weight", name, dtype, shape, output: false, data });
    } else tensors.push({ role: "input", name, dtype, shape, output: false });
    visible.push({ name, shape, dtype });
  }
  const nDefs = d.int(1, o.maxDefs);
  for (let k = 0; k < nDefs; k++) {
    const name = `T${k}`;
    const output = k === nDefs - 1 || d.chance(25);
    let node: TensorNode;
    if (o.calls && d.chance(20)) node = callNode(d, o, name, output, visible, functions);
    else node = new DefBuilder(d, o, visible).build(name, output);
    tensors.push(node);
    visible.push({ name, shape: node.shape, dtype: node.dtype });
  }
  if (o.grads) tensors.push(...gradientNodes(d, tensors));
  const sizes: Record<string, number> = d.chance(50) ? { n: d.int(1, 8) } : {};
  return { sizes, tensors, functions };
}

/** A loss `Loss = sum(...) T[...] * T[...]` of the last def, grad nodes of it, and maybe an update reading one. */
function gradientNodes(d: Draw, tensors: readonly TensorNode[]): TensorNode[] {
  const last = tensors[tensors.length - 1]!;
  const vars = last.shape.map((_, k) => `l${k}`);
  const read: Expr = { kind: "access", tensor: last.name, index: vars.map((v) => affine([{ var: v, coef: 1 }])) };
  const square = binary("mul", read, read);
  const out: TensorNode[] = [{
    role: "def", name: "Loss", dtype: last.dtype === "f64" ? "f64" : "f32", shape: [], output: d.chance(50), indices: [], groups: [],
    ranges: Object.fromEntries(vars.map((v, k) => [v, last.shape[k]!])), body: vars.length > 0 ? reduce("sum", vars, square) : square,
  }];
  const floats = tensors.filter((t) => (t.role === "input" || t.role === "weight") && t.dtype !== "i32");
  const chosen = floats.filter((_, k) => k === 0 || d.chance(60));
  for (const w of chosen) out.push({ role: "grad", name: `G_${w.name}`, dtype: w.dtype, shape: w.shape, output: true, loss: "Loss", wrt: w.name });
  if (chosen.length > 0 && d.chance(50)) {
    const w = chosen[0]!;
    const idx = w.shape.map((_, k) => `u${k}`);
    const at = (t: string): Expr => ({ kind: "access", tensor: t, index: idx.map((v) => affine([{ var: v, coef: 1 }])) });
    out.push({
      role: "def", name: `U_${w.name}`, dtype: w.dtype === "f64" ? "f64" : "f32", shape: w.shape, output: true, indices: idx, groups: w.shape.map(() => 1),
      ranges: Object.fromEntries(idx.map((v, k) => [v, w.shape[k]!])), body: binary("sub", at(w.name), binary("mul", num(0.5), at(`G_${w.name}`))),
    });
  }
  return out;
}

/** A new function of 1–2 parameters (shaped like visible tensors) and a call of it. */
function callNode(d: Draw, o: Resolved, name: string, output: boolean, visible: readonly Visible[], functions: Record<string, IRFunction>): TensorNode {
  const fname = `f${Object.keys(functions).length}`;
  const args = Array.from({ length: Math.min(visible.length, d.int(1, 2)) }, () => d.pick(visible));
  const params: InputNode[] = args.map((a, k) => ({ role: "input", name: `X${k}`, dtype: a.dtype, shape: a.shape, output: false }));
  const inner: Visible[] = params.map((p) => ({ name: p.name, shape: p.shape, dtype: p.dtype }));
  const body: TensorNode[] = [];
  const nBody = d.int(1, 2);
  for (let k = 0; k < nBody; k++) {
    const def = new DefBuilder(d, o, inner).build(`F${k}`, false);
    body.push(def);
    inner.push({ name: def.name, shape: def.shape, dtype: def.dtype });
  }
  const result = body[body.length - 1]!;
  functions[fname] = { name: fname, params, tensors: body, result: result.name };
  return { role: "call", name, dtype: result.dtype, shape: result.shape, output, fn: fname, args: args.map((a) => a.name) };
}

/**
 * A fast-check arbitrary of small well-formed programs (see the module
 * comment); each one passes `verifyProgram`.
 *
 * @example
 * ```ts
 * fc.assert(fc.property(arbProgram(), (p) => verifyProgramErrors(p).length === 0));
 * ```
 */
export function arbProgram(options: ArbProgramOptions = {}): fc.Arbitrary<Program> {
  const o: Resolved = {
    maxInputs: options.maxInputs ?? 3,
    maxDefs: options.maxDefs ?? 4,
    maxExtent: options.maxExtent ?? 5,
    maxDepth: options.maxDepth ?? 3,
    groups: options.groups ?? true,
    calls: options.calls ?? true,
    weights: options.weights ?? true,
    dtypes: options.dtypes ?? true,
    unsafeOps: options.unsafeOps ?? false,
    mathOps: options.mathOps ?? false,
    grads: options.grads ?? false,
  };
  return fc.gen().map((g) => buildProgram(new Draw(g), o));
}

/** mulberry32: a tiny seeded generator, enough for test data. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values exactly representable in every dtype: eighths in [-2, 2] (integers in [-4, 4] for i32). */
function seededValues(n: number, seed: number, dtype: DType): Float64Array {
  const next = mulberry32(seed);
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) out[k] = dtype === "i32" ? Math.floor(next() * 9) - 4 : (Math.floor(next() * 33) - 16) / 8;
  return out;
}

/**
 * Seeded inputs for every input node of a program, of the node's dtype and
 * shape, holding values exactly representable in float32.
 *
 * @example
 * ```ts
 * const inputs = randomInputs(program, 42);
 * interpret(program, inputs);
 * ```
 */
export function randomInputs(program: Program, seed: number): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  program.tensors.forEach((t, k) => {
    if (t.role !== "input") return;
    const values = seededValues(numel(t.shape), (seed * 7919 + k) | 0, t.dtype);
    out[t.name] = new Tensor(t.dtype, t.shape, arrayTypeOf(t.dtype).from(values));
  });
  return out;
}

/**
 * A fast-check arbitrary of inputs for a program (values as in
 * {@link randomInputs}, shrinking toward zero).
 *
 * @example
 * ```ts
 * fc.assert(fc.property(arbProgram().chain((p) => arbInputs(p).map((x) => [p, x] as const)), ([p, x]) => { interpret(p, x); }));
 * ```
 */
export function arbInputs(program: Program): fc.Arbitrary<Record<string, Tensor>> {
  const fields: Record<string, fc.Arbitrary<Tensor>> = {};
  for (const t of program.tensors) {
    if (t.role !== "input") continue;
    const n = numel(t.shape);
    const value = t.dtype === "i32" ? fc.integer({ min: -4, max: 4 }) : fc.integer({ min: -16, max: 16 }).map((k) => k / 8);
    fields[t.name] = fc.array(value, { minLength: n, maxLength: n }).map((xs) => new Tensor(t.dtype, t.shape, arrayTypeOf(t.dtype).from(xs)));
  }
  return fc.record(fields);
}

/**
 * The reference interpreter: the oracle every pass and backend is tested
 * against. It favors being obviously right over being fast, but compiles
 * each def's body once into a tree of closures over a frame of index values,
 * with every access's flat offset folded into one linear form, so that
 * examples of 64×64×64 points run in well under a second.
 *
 * Semantics (all arithmetic in float64):
 * - Defs are NOT rounded to their dtype: an `f32` or `i32` def holds the
 *   exact float64 value of its expression. The oracle states what the
 *   program means; rounding is a property of a backend, and tests compare
 *   backends against it with a tolerance. Inputs are read as given (an f32
 *   input holds float32 values already).
 * - Comparisons yield 1 or 0; `where(c, a, b)` is `a` when `c` is nonzero
 *   (NaN counts as nonzero); `relu(x)` is `max(0, x)`; `sigmoid(x)` is
 *   `1 / (1 + exp(-x))`; `rsqrt(x)` is `1 / sqrt(x)`; `pow` is `Math.pow`.
 * - `min`/`max`, elementwise or reducing, propagate NaN (`Math.min`/`Math.max`).
 * - A reduction starts from its identity (`reduceIdentity`).
 * - A call evaluates the function body with its parameters bound to the
 *   arguments, so a program before and after inlining gives the same values.
 */
import type { DefNode, Expr, Gather, IRFunction, Program, ReduceOp, TensorNode } from "./types.js";
import { gatherRangeError, resolveGatherIndex } from "./gather.js";
import { resumedSumForm, type ResumedSumForm } from "./resume.js";
import { scatterAddForm, type ScatterAddForm } from "./scatter.js";
import { gatheredTensors } from "./walk.js";
import { numel, reduceIdentity, stridesOf } from "./types.js";
import { erf } from "./erf.js";
import { roundHalfEven, signOf } from "./ops.js";
import { Tensor } from "../runtime/tensor.js";
import { CompileError } from "../diagnostics/diagnostic.js";
import { verifyProgram } from "./verify.js";

/** A computed tensor: its shape and row-major float64 values. */
interface Value {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

type Env = Map<string, Value>;
type Thunk = () => number;

/** Options of {@link interpret}. */
export interface InterpretOptions {
  /** Verify the program first (default true), so a malformed program fails with a clear message. */
  readonly verify?: boolean;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, k) => n === b[k]);
}

function shapeText(s: readonly number[]): string {
  return `[${s.join(", ")}]`;
}

/** A run-time error of the interpreter, with the code the backends give the same mistake. */
function runError(code: "TNS0601" | "TNS0602" | "TNS0603", message: string, hint: string): CompileError {
  return new CompileError([{ code, severity: "error", notes: [], message, hint }]);
}

/** The value of an input or weight, checked against the node's shape. */
function boundValue(t: TensorNode, inputs: Readonly<Record<string, Tensor>>): Value {
  const given = Object.prototype.hasOwnProperty.call(inputs, t.name) ? inputs[t.name] : undefined;
  if (given !== undefined) {
    if (!sameShape(given.shape, t.shape)) {
      throw runError("TNS0602", `${t.role} '${t.name}' has shape ${shapeText(given.shape)}, expected ${shapeText(t.shape)}`, `give '${t.name}' the shape ${shapeText(t.shape)}`);
    }
    return { shape: t.shape, data: Float64Array.from(given.data) };
  }
  if (t.role === "weight") {
    if (t.data === null) throw runError("TNS0603", `weight '${t.name}' has no data: bind it or pass it as an input`, "pass it with --weights FILE.npz or the `weights` option");
    return { shape: t.shape, data: t.data };
  }
  throw runError("TNS0601", `missing input '${t.name}' (${t.dtype}${shapeText(t.shape)})`, `give '${t.name}' as an input`);
}

/** Compiles an expression to a closure reading index values from `frame` at `slots`. */
function compile(e: Expr, env: Env, frame: Int32Array, slots: ReadonlyMap<string, number>, ranges: Readonly<Record<string, number>>, reader = ""): Thunk {
  const rec = (x: Expr): Thunk => compile(x, env, frame, slots, ranges, reader);
  switch (e.kind) {
    case "const": {
      const v = e.value;
      return () => v;
    }
    case "index": {
      const s = slots.get(e.var)!;
      return () => frame[s]!;
    }
    case "access":
      return compileAccess(e, env, frame, slots);
    case "gather":
      return compileGather(e, env, frame, slots, rec, reader);
    case "unary": {
      const a = rec(e.arg);
      switch (e.op) {
        case "neg": return () => -a();
        case "exp": return () => Math.exp(a());
        case "log": return () => Math.log(a());
        case "sqrt": return () => Math.sqrt(a());
        case "rsqrt": return () => 1 / Math.sqrt(a());
        case "tanh": return () => Math.tanh(a());
        case "sigmoid": return () => 1 / (1 + Math.exp(-a()));
        case "relu": return () => Math.max(0, a());
        case "abs": return () => Math.abs(a());
        case "sin": return () => Math.sin(a());
        case "cos": return () => Math.cos(a());
        case "tan": return () => Math.tan(a());
        case "atan": return () => Math.atan(a());
        case "erf": return () => erf(a());
        case "log1p": return () => Math.log1p(a());
        case "expm1": return () => Math.expm1(a());
        case "sign": return () => signOf(a());
        case "floor": return () => Math.floor(a());
        case "ceil": return () => Math.ceil(a());
        case "round": return () => roundHalfEven(a());
      }
      break;
    }
    case "binary": {
      const l = rec(e.lhs);
      const r = rec(e.rhs);
      switch (e.op) {
        case "add": return () => l() + r();
        case "sub": return () => l() - r();
        case "mul": return () => l() * r();
        case "div": return () => l() / r();
        case "pow": return () => Math.pow(l(), r());
        case "min": return () => Math.min(l(), r());
        case "max": return () => Math.max(l(), r());
        case "atan2": return () => Math.atan2(l(), r());
        case "lt": return () => (l() < r() ? 1 : 0);
        case "le": return () => (l() <= r() ? 1 : 0);
        case "gt": return () => (l() > r() ? 1 : 0);
        case "ge": return () => (l() >= r() ? 1 : 0);
        case "eq": return () => (l() === r() ? 1 : 0);
        case "ne": return () => (l() !== r() ? 1 : 0);
      }
      break;
    }
    case "select": {
      const c = rec(e.cond);
      const t = rec(e.then);
      const f = rec(e.else);
      // A gather is checked even in the branch `where` does not pick, as the backends evaluate both (docs/language.md).
      if (gatheredTensors(e.then).size > 0 || gatheredTensors(e.else).size > 0) {
        return () => {
          const [a, b] = [t(), f()];
          return c() !== 0 ? a : b;
        };
      }
      return () => (c() !== 0 ? t() : f());
    }
    case "reduce":
      return compileReduce(e.op, e.vars.map((v) => slots.get(v)!), e.vars.map((v) => ranges[v]!), rec(e.body), frame);
  }
  throw new Error(`cannot interpret operator '${(e as { op?: string }).op}'`);
}

/** An access as `data[c + Σ w_k * frame[s_k]]`: the strides and affine indices folded into one linear form. */
function compileAccess(e: Extract<Expr, { kind: "access" }>, env: Env, frame: Int32Array, slots: ReadonlyMap<string, number>): Thunk {
  const value = env.get(e.tensor);
  if (value === undefined) throw new Error(`access to '${e.tensor}' before it is computed`);
  const data = value.data;
  const strides = stridesOf(value.shape);
  if (e.guarded) {
    // A padding read: 0 wherever any index is outside its dimension.
    const dims = e.index.map((a) => ({ c: a.constant, terms: a.terms.map((t) => ({ s: slots.get(t.var)!, w: t.coef })) }));
    const shape = value.shape;
    return () => {
      let off = 0;
      for (let d = 0; d < dims.length; d++) {
        const dim = dims[d]!;
        let v = dim.c;
        for (const t of dim.terms) v += t.w * frame[t.s]!;
        if (v < 0 || v >= shape[d]!) return 0;
        off += v * strides[d]!;
      }
      return data[off]!;
    };
  }
  let c = 0;
  const weights = new Map<number, number>();
  e.index.forEach((a, d) => {
    c += strides[d]! * a.constant;
    for (const t of a.terms) {
      const s = slots.get(t.var)!;
      weights.set(s, (weights.get(s) ?? 0) + strides[d]! * t.coef);
    }
  });
  const live = [...weights].filter(([, w]) => w !== 0);
  const ss = Int32Array.from(live.map(([s]) => s));
  const ws = Int32Array.from(live.map(([, w]) => w));
  switch (live.length) {
    case 0: return () => data[c]!;
    case 1: {
      const [s0, w0] = [ss[0]!, ws[0]!];
      return () => data[c + w0 * frame[s0]!]!;
    }
    case 2: {
      const [s0, w0, s1, w1] = [ss[0]!, ws[0]!, ss[1]!, ws[1]!];
      return () => data[c + w0 * frame[s0]! + w1 * frame[s1]!]!;
    }
    case 3: {
      const [s0, w0, s1, w1, s2, w2] = [ss[0]!, ws[0]!, ss[1]!, ws[1]!, ss[2]!, ws[2]!];
      return () => data[c + w0 * frame[s0]! + w1 * frame[s1]! + w2 * frame[s2]!]!;
    }
    default:
      return () => {
        let off = c;
        for (let k = 0; k < ss.length; k++) off += ws[k]! * frame[ss[k]!]!;
        return data[off]!;
      };
  }
}

/** A gather: each dimension's index is its affine part plus its value, resolved under the gather's mode. */
function compileGather(e: Gather, env: Env, frame: Int32Array, slots: ReadonlyMap<string, number>, rec: (x: Expr) => Thunk, reader: string): Thunk {
  const value = env.get(e.tensor);
  if (value === undefined) throw new Error(`gather from '${e.tensor}' before it is computed`);
  const data = value.data;
  const strides = stridesOf(value.shape);
  const dims = e.index.map((d, k) => ({
    constant: d.affine.constant,
    terms: d.affine.terms.map((t) => ({ slot: slots.get(t.var)!, coef: t.coef })),
    value: d.value === null ? null : rec(d.value),
    stride: strides[k]!,
    extent: value.shape[k]!,
  }));
  return () => {
    let off = 0;
    for (let k = 0; k < dims.length; k++) {
      const d = dims[k]!;
      let i = d.constant;
      for (const t of d.terms) i += t.coef * frame[t.slot]!;
      if (d.value !== null) {
        const raw = i + d.value();
        i = resolveGatherIndex(raw, d.extent, e.mode);
        if (i < 0) throw gatherRangeError({ tensor: e.tensor, dim: k, extent: d.extent, reader }, raw);
      }
      off += d.stride * i;
    }
    return data[off]!;
  };
}

/** A reduction over `vs`, from its identity or, given `start`, from `start()` (a resumed sum). */
function compileReduce(op: ReduceOp, vs: readonly number[], extents: readonly number[], body: Thunk, frame: Int32Array, start?: Thunk): Thunk {
  const id = reduceIdentity(op);
  if (vs.length === 1 && op === "sum") {
    const s = vs[0]!;
    const n = extents[0]!;
    return () => {
      let acc = start === undefined ? 0 : start();
      for (let v = 0; v < n; v++) {
        frame[s] = v;
        acc += body();
      }
      return acc;
    };
  }
  const combine: (a: number, b: number) => number =
    op === "sum" ? (a, b) => a + b : op === "prod" ? (a, b) => a * b : op === "max" ? Math.max : Math.min;
  const total = extents.reduce((a, b) => a * b, 1);
  return () => {
    let acc = start === undefined ? id : start();
    for (const s of vs) frame[s] = 0;
    for (let k = 0; k < total; k++) {
      acc = combine(acc, body());
      // Odometer step over the reduced variables, last fastest.
      for (let j = vs.length - 1; j >= 0; j--) {
        const s = vs[j]!;
        if (++frame[s]! < extents[j]!) break;
        frame[s] = 0;
      }
    }
    return acc;
  };
}

/**
 * Evaluates a def over its output indices, in storage (row-major over
 * `indices`) order; a recurrence with its sequential index outermost, reading
 * the elements it has already computed.
 */
function evalDef(d: DefNode, env: Env): Value {
  const scatter = scatterAddForm(d);
  if (scatter !== null) return evalScatterAdd(d, scatter, env);
  const slots = new Map<string, number>();
  for (const v of Object.keys(d.ranges)) slots.set(v, slots.size);
  for (const v of d.indices) if (!slots.has(v)) slots.set(v, slots.size);
  const frame = new Int32Array(slots.size);
  const out = new Float64Array(numel(d.shape));
  const value: Value = { shape: d.shape, data: out };
  if (d.recurrence !== undefined) env.set(d.name, value);
  const resumed = resumedSumForm(d);
  const body = resumed === null ? compile(d.body, env, frame, slots, d.ranges, d.name) : compileResumed(d, resumed, env, frame, slots);
  const strides = stridesOf(d.indices.map((v) => d.ranges[v]!));
  const order = d.indices.map((v, k) => k);
  const seq = d.recurrence === undefined ? -1 : d.indices.indexOf(d.recurrence);
  if (seq > 0) order.unshift(...order.splice(seq, 1));
  const idx = order.map((k) => slots.get(d.indices[k]!)!);
  const ext = order.map((k) => d.ranges[d.indices[k]!]!);
  const stride = order.map((k) => strides[k]!);
  let flat = 0;
  for (let n = 0; n < out.length; n++) {
    out[flat] = body();
    flat = nextPoint(frame, idx, ext, stride, flat);
  }
  return value;
}

/**
 * The body of a resumed sum (invariant 12): at each point, the element of
 * the tensor it resumes from, then each term added in the reduction's order.
 */
function compileResumed(d: DefNode, form: ResumedSumForm, env: Env, frame: Int32Array, slots: ReadonlyMap<string, number>): Thunk {
  const start = compile(d.body.kind === "binary" ? d.body.lhs : d.body, env, frame, slots, d.ranges, d.name);
  const term = compile(form.sum.body, env, frame, slots, d.ranges, d.name);
  return compileReduce("sum", form.sum.vars.map((v) => slots.get(v)!), form.sum.vars.map((v) => d.ranges[v]!), term, frame, start);
}

/**
 * Advances the frame's variables `idx` (extents `ext`, last fastest) to the
 * next point and returns `flat` moved by their `stride`s.
 */
function nextPoint(frame: Int32Array, idx: readonly number[], ext: readonly number[], stride: readonly number[], flat: number): number {
  for (let j = idx.length - 1; j >= 0; j--) {
    const s = idx[j]!;
    flat += stride[j]!;
    if (++frame[s]! < ext[j]!) return flat;
    flat -= stride[j]! * ext[j]!;
    frame[s] = 0;
  }
  return flat;
}

/**
 * A scatter-add (invariant 10) in one pass over its summed variables and its
 * other output indices: each term is added to the element its index selects.
 */
function evalScatterAdd(d: DefNode, form: ScatterAddForm, env: Env): Value {
  const slots = new Map<string, number>();
  for (const v of Object.keys(d.ranges)) slots.set(v, slots.size);
  const frame = new Int32Array(slots.size);
  const out = new Float64Array(numel(d.shape));
  const value = compile(form.value, env, frame, slots, d.ranges, d.name);
  const term = compile(form.term, env, frame, slots, d.ranges, d.name);
  const strides = stridesOf(d.indices.map((v) => d.ranges[v]!));
  const dim = d.indices.indexOf(form.index);
  const extent = d.ranges[form.index]!;
  const vars = [...d.indices.filter((v) => v !== form.index), ...form.summed];
  const idx = vars.map((v) => slots.get(v)!);
  const ext = vars.map((v) => d.ranges[v]!);
  const stride = vars.map((v) => (d.indices.includes(v) ? strides[d.indices.indexOf(v)]! : 0));
  const points = ext.reduce((a, b) => a * b, 1);
  let flat = 0;
  for (let n = 0; n < points; n++) {
    const raw = value();
    const u = resolveGatherIndex(raw, extent, form.mode);
    if (u < 0) throw gatherRangeError({ tensor: d.name, dim, extent, reader: d.name }, Math.trunc(raw));
    out[flat + u * strides[dim]!]! += term();
    flat = nextPoint(frame, idx, ext, stride, flat);
  }
  return { shape: d.shape, data: out };
}

function evalCall(f: IRFunction, args: readonly string[], p: Program, env: Env): Value {
  const inner: Env = new Map();
  f.params.forEach((param, k) => {
    const v = env.get(args[k]!);
    if (v === undefined) throw new Error(`call of '${f.name}' reads '${args[k]}' before it is computed`);
    inner.set(param.name, v);
  });
  evalGraph(f.tensors, p, inner, {});
  const result = inner.get(f.result);
  if (result === undefined) throw new Error(`function '${f.name}' does not compute its result '${f.result}'`);
  return result;
}

function evalGraph(nodes: readonly TensorNode[], p: Program, env: Env, inputs: Readonly<Record<string, Tensor>>): void {
  for (const t of nodes) {
    switch (t.role) {
      case "input":
      case "weight":
        env.set(t.name, boundValue(t, inputs));
        break;
      case "def":
        env.set(t.name, evalDef(t, env));
        break;
      case "call": {
        const f = p.functions[t.fn];
        if (f === undefined) throw new Error(`call '${t.name}' names unknown function '${t.fn}'`);
        env.set(t.name, evalCall(f, t.args, p, env));
        break;
      }
      case "grad":
        // The package's `interpret` (src/interpret.ts) expands grad nodes into the backward program first.
        throw new Error(`grad node '${t.name}' was not expanded (interpret the program after the differentiate pass)`);
    }
  }
}

/**
 * Every tensor of the program's top-level graph, computed, as f64 tensors
 * (handy for finding the first tensor where two programs disagree).
 *
 * @example
 * ```ts
 * interpretAll(program, { A: Tensor.fromArray([1, 2]) }).get("B")!.toArray();
 * ```
 */
export function interpretAll(p: Program, inputs: Readonly<Record<string, Tensor>>, options: InterpretOptions = {}): Map<string, Tensor> {
  if (options.verify ?? true) verifyProgram(p, "before interpreting");
  const env: Env = new Map();
  evalGraph(p.tensors, p, env, inputs);
  const out = new Map<string, Tensor>();
  for (const t of p.tensors) {
    const v = env.get(t.name)!;
    out.set(t.name, new Tensor("f64", t.shape, Float64Array.from(v.data)));
  }
  return out;
}

/**
 * Runs a program on inputs (by name; a weight given here overrides its
 * bound data) and returns every `output` tensor as an f64 tensor of the
 * node's shape. Throws an `Error` naming the tensor on a missing input, a
 * shape mismatch or an unbound weight.
 *
 * @example
 * ```ts
 * const p = parseProgramText("input A: f32[2, 3]\noutput R: f32[2] = [i:2] sum(j:3) A[i, j]\n");
 * interpret(p, { A: Tensor.fromArray([[1, 2, 3], [4, 5, 6]]) }).R!.toArray(); // [6, 15]
 * ```
 */
export function interpret(p: Program, inputs: Readonly<Record<string, Tensor>>, options: InterpretOptions = {}): Record<string, Tensor> {
  if (options.verify ?? true) verifyProgram(p, "before interpreting");
  const env: Env = new Map();
  evalGraph(p.tensors, p, env, inputs);
  const out: Record<string, Tensor> = {};
  for (const t of p.tensors) {
    if (t.output) out[t.name] = new Tensor("f64", t.shape, Float64Array.from(env.get(t.name)!.data));
  }
  return out;
}

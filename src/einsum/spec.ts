/**
 * NumPy einsum specifications as a second front end: `"ij,jk->ik"` plus the
 * operand shapes become an IR program with one def, so einsum runs through
 * the same passes and backends as `.tns` programs.
 *
 * Semantics follow `numpy.einsum`: implicit output (labels used exactly once,
 * in character-code order, ellipsis dimensions first), explicit `->` output,
 * repeated labels within an operand (diagonals, traces), `...` ellipsis
 * broadcasting, and size-1 broadcasting of labeled and ellipsis dimensions.
 */
import { DiagnosticBag } from "../diagnostics/diagnostic.js";
import {
  affine, access, binary, reduce, numel,
  type Affine, type DType, type Expr, type Program, type TensorNode,
} from "../ir/types.js";

/** One parsed operand (or the output): labels, with `"..."` standing for the ellipsis dims. */
export interface EinsumTerm {
  readonly labels: readonly string[];
  readonly hasEllipsis: boolean;
}

/** A parsed specification. `output` is null in implicit mode. */
export interface EinsumSpec {
  readonly inputs: readonly EinsumTerm[];
  readonly output: EinsumTerm | null;
}

const ELLIPSIS = "...";

/**
 * Parses a specification string; problems are TNS0604 diagnostics.
 *
 * @example
 * ```ts
 * const bag = new DiagnosticBag();
 * parseEinsumSpec("ij,jk->ik", bag)?.inputs.length; // 2
 * ```
 */
export function parseEinsumSpec(spec: string, diags: DiagnosticBag): EinsumSpec | null {
  // As NumPy: spaces between labels are ignored (by parseTerm), other white space is an invalid subscript.
  const text = spec;
  const arrow = text.indexOf("->");
  if (arrow !== text.lastIndexOf("->")) return fail(diags, `'->' appears more than once in "${spec}"`);
  const stray = /-(?!>)|(?<!-)>/.exec(text);
  if (stray) return fail(diags, `invalid subscript '${stray[0]}' in einsum specification "${spec}": the output follows '->'`);
  const lhs = arrow < 0 ? text : text.slice(0, arrow);
  const rhs = arrow < 0 ? null : text.slice(arrow + 2);
  const inputs: EinsumTerm[] = [];
  for (const part of lhs.split(",")) {
    const term = parseTerm(part, spec, diags);
    if (!term) return null;
    inputs.push(term);
  }
  let output: EinsumTerm | null = null;
  if (rhs !== null) {
    if (rhs.includes(",")) return fail(diags, `the output of "${spec}" must be a single term`);
    output = parseTerm(rhs, spec, diags);
    if (!output) return null;
    const seen = new Set<string>();
    for (const l of output.labels) {
      if (l === ELLIPSIS) continue;
      if (seen.has(l)) return fail(diags, `output label '${l}' appears more than once in "${spec}"`);
      seen.add(l);
      if (!inputs.some((t) => t.labels.includes(l))) return fail(diags, `output label '${l}' does not appear in any operand of "${spec}"`);
    }
  }
  return { inputs, output };
}

function parseTerm(part: string, spec: string, diags: DiagnosticBag): EinsumTerm | null {
  const labels: string[] = [];
  let hasEllipsis = false;
  for (let k = 0; k < part.length; ) {
    if (part.startsWith(ELLIPSIS, k)) {
      if (hasEllipsis) return fail(diags, `an operand of "${spec}" has two ellipses`);
      hasEllipsis = true;
      labels.push(ELLIPSIS);
      k += 3;
      continue;
    }
    const ch = part[k]!;
    if (ch === " ") {
      k++;
      continue;
    }
    if (ch === ".") return fail(diags, `a '.' in "${spec}" is not part of an ellipsis ('...')`);
    if (!/[A-Za-z]/.test(ch)) return fail(diags, `invalid character ${JSON.stringify(ch)} in einsum specification "${spec}": subscripts are letters`);
    labels.push(ch);
    k++;
  }
  return { labels, hasEllipsis };
}

function fail(diags: DiagnosticBag, message: string): null {
  diags.error("TNS0604", message, undefined, {
    hint: "write operands as letter groups separated by commas, e.g. \"ij,jk->ik\"; '...' stands for broadcast dimensions",
  });
  return null;
}

/** Operand metadata needed to build the program. */
export interface EinsumOperand {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** The output shape and the IR program of an einsum call; `program` is null when the result is empty (a zero extent). */
export interface EinsumLowering {
  readonly outputShape: readonly number[];
  readonly outputDtype: DType;
  readonly program: Program | null;
}

/**
 * Builds the IR program computing `spec` on operands of the given shapes.
 * Inputs are named `x0, x1, ...`; the output is `out`.
 *
 * @example
 * ```ts
 * const bag = new DiagnosticBag();
 * const spec = parseEinsumSpec("ij,jk", bag)!;
 * lowerEinsum(spec, [{ shape: [2, 3], dtype: "f32" }, { shape: [3, 4], dtype: "f32" }], bag)?.outputShape; // [2, 4]
 * ```
 */
export function lowerEinsum(spec: EinsumSpec, operands: readonly EinsumOperand[], diags: DiagnosticBag): EinsumLowering | null {
  if (operands.length !== spec.inputs.length) {
    return fail(diags, `the specification has ${spec.inputs.length} operand(s) but ${operands.length} tensor(s) were given`);
  }
  // Resolve how many dims each ellipsis covers and the broadcast ellipsis shape.
  let ellipsisRank = 0;
  const perOperandEllipsis: number[] = [];
  for (let t = 0; t < operands.length; t++) {
    const term = spec.inputs[t]!;
    const named = term.labels.length - (term.hasEllipsis ? 1 : 0);
    const rank = operands[t]!.shape.length;
    if (term.hasEllipsis ? rank < named : rank !== named) {
      return fail(diags, `operand ${t} has rank ${rank} but its term '${term.labels.join("")}' names ${named} dimension(s)`);
    }
    const covered = term.hasEllipsis ? rank - named : 0;
    perOperandEllipsis.push(covered);
    ellipsisRank = Math.max(ellipsisRank, covered);
  }
  const ellipsisVars = Array.from({ length: ellipsisRank }, (_, k) => `_e${k}`);
  const extents = new Map<string, number>();
  const dimsOf: string[][] = [];
  for (let t = 0; t < operands.length; t++) {
    const term = spec.inputs[t]!;
    const shape = operands[t]!.shape;
    const vars: string[] = [];
    for (const l of term.labels) {
      if (l === ELLIPSIS) vars.push(...ellipsisVars.slice(ellipsisRank - perOperandEllipsis[t]!));
      else vars.push(l);
    }
    dimsOf.push(vars);
    const own = new Map<string, number>();
    for (let d = 0; d < vars.length; d++) {
      const v = vars[d]!;
      const n = shape[d]!;
      // A label repeated in one operand takes its diagonal: the extents must be equal (NumPy does not broadcast them).
      const mine = own.get(v);
      if (mine !== undefined && mine !== n) return fail(diags, `label '${v}' is repeated in operand ${t} with extents ${mine} and ${n}, which differ`);
      own.set(v, n);
      const prev = extents.get(v);
      if (prev === undefined || prev === 1) extents.set(v, n);
      else if (n !== 1 && n !== prev) {
        const what = v.startsWith("_e") ? "broadcast (ellipsis) dimension" : `label '${v}'`;
        return fail(diags, `${what} has extent ${prev} in one operand and ${n} in operand ${t}`);
      }
    }
  }
  for (const v of ellipsisVars) if (!extents.has(v)) extents.set(v, 1);

  const outVars = outputVars(spec, ellipsisVars);
  if (spec.output && !spec.output.hasEllipsis && ellipsisRank > 0) {
    // NumPy refuses this even when every broadcast dimension is 1.
    return fail(diags, "the output term has no '...' but the operands have broadcast dimensions");
  }
  const outputShape = outVars.map((v) => extents.get(v)!);
  const outputDtype: DType = operands.some((o) => o.dtype === "f64") ? "f64" : "f32";
  const total = [...extents.values()];
  if (total.some((n) => n === 0) || operands.some((o) => numel(o.shape) === 0)) {
    return { outputShape, outputDtype, program: null };
  }

  const tensors: TensorNode[] = operands.map((o, t) => ({
    role: "input", name: `x${t}`, dtype: o.dtype, shape: [...o.shape], output: false,
  }));
  let body: Expr | null = null;
  for (let t = 0; t < operands.length; t++) {
    const shape = operands[t]!.shape;
    const index: Affine[] = dimsOf[t]!.map((v, d) =>
      shape[d] === 1 && extents.get(v)! > 1 ? affine([], 0) : affine([{ var: v, coef: 1 }]),
    );
    const a = access(`x${t}`, index);
    body = body === null ? a : binary("mul", body, a);
  }
  const summed = [...extents.keys()].filter((v) => !outVars.includes(v));
  if (summed.length > 0) body = reduce("sum", summed, body!);
  const ranges: Record<string, number> = {};
  for (const [v, n] of extents) ranges[v] = n;
  tensors.push({
    role: "def", name: "out", dtype: outputDtype, shape: outputShape, output: true,
    indices: outVars, groups: outVars.map(() => 1), ranges, body: body!,
  });
  return { outputShape, outputDtype, program: { sizes: {}, tensors, functions: {} } };
}

function outputVars(spec: EinsumSpec, ellipsisVars: readonly string[]): string[] {
  if (spec.output) {
    return spec.output.labels.flatMap((l) => (l === ELLIPSIS ? [...ellipsisVars] : [l]));
  }
  const counts = new Map<string, number>();
  for (const term of spec.inputs) for (const l of term.labels) if (l !== ELLIPSIS) counts.set(l, (counts.get(l) ?? 0) + 1);
  const once = [...counts].filter(([, c]) => c === 1).map(([l]) => l);
  once.sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0));
  return [...ellipsisVars, ...once];
}

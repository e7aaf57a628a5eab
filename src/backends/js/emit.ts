/**
 * JavaScript code generation from the kernel IR. The output is the body of a
 * function (run it with `new Function`) that defines one function per kernel
 * and returns `run(b)`, which calls them in order on the buffers in `b`:
 *
 *     before: kernel S  (loops i, j)
 *               for i < 2:
 *                 t0 = sum identity
 *                 for j < 3:
 *                   t0 += A[3*i + j]
 *                 S[i] = t0
 *     after:  function k0_S(A, S) {
 *               for (let i = 0; i < 2; i++) {
 *                 const o0 = 3 * i;
 *                 let t0 = 0;
 *                 for (let j = 0; j < 3; j++) {
 *                   t0 += A[o0 + j];
 *                 }
 *                 S[i] = t0;
 *               }
 *             }
 *
 * Loops run over typed arrays with strides folded into integer constants;
 * storing into a Float32Array rounds, so no `Math.fround` is needed.
 */
import { kernelName } from "../kernel/names.js";
import { erfFunctionText } from "../../ir/erf.js";
import type { ReduceOp } from "../../ir/types.js";
import { reduceIdentity } from "../../ir/types.js";
import type { Kernel, KernelProgram, Stmt } from "../kernel/types.js";
import { emitContraction } from "./emit-contraction.js";
import { emitScatterAdd } from "./emit-scatter.js";
import { type EmitState, jsExpr, jsNumber, jsOffset, unwrap } from "./emit-expr.js";
import { jsName } from "./names.js";

const HELPERS: Record<string, string> = {
  relu: "function relu(x) { return Math.max(0, x); }",
  sigmoid: "function sigmoid(x) { return 1 / (1 + Math.exp(-x)); }",
  sign: "function sign(x) { return x > 0 ? 1 : x < 0 ? -1 : x; }",
  round: "function round(x) { const r = Math.round(x); return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r === 0 ? x * 0 : r; }",
  erf: erfFunctionText({
    header: "function erf(x)", lit: jsNumber, decl: "let", abs: "Math.abs", exp: "Math.exp",
    nanCheck: (a) => `${a} !== ${a}`, signOf: (a) => `(${a} < 0 ? -1 : 1)`,
  }),
  // An out-of-range gather index stops the run; the executable turns the error into TNS0620 (runtime/executable.ts).
  gatherCheck: "function gatherCheck(v, n, t, d, r) { const k = Math.trunc(v); if (k >= 0 && k < n) return k; "
    + "const e = new Error(`index ${k} is out of range 0..${n - 1} in dimension ${d} of '${t}' (gathered by '${r}')`); "
    + "e.tnsGather = { site: { tensor: t, dim: d, extent: n, reader: r }, index: k }; throw e; }",
  gatherClamp: "function gatherClamp(v, n) { const k = Math.trunc(v); return k >= 0 ? (k < n ? k : n - 1) : 0; }",
};

function combine(op: ReduceOp, target: string, value: string): string {
  switch (op) {
    case "sum": return `${target} += ${unwrap(value)};`;
    case "prod": return `${target} *= ${unwrap(value)};`;
    case "max": return `${target} = Math.max(${target}, ${unwrap(value)});`;
    case "min": return `${target} = Math.min(${target}, ${unwrap(value)});`;
  }
}

function emitStmts(stmts: readonly Stmt[], st: EmitState, indent: string, out: string[]): void {
  for (const s of stmts) {
    switch (s.kind) {
      case "loop": {
        const v = jsName(s.var);
        const scope = { var: s.var, prelude: [] as string[], memo: new Map<string, string>() };
        st.scopes.push(scope);
        const body: string[] = [];
        emitStmts(s.body, st, indent + "  ", body);
        st.scopes.pop();
        out.push(`${indent}for (let ${v} = 0; ${v} < ${s.extent}; ${v}++) {`);
        out.push(...scope.prelude.map((l) => indent + "  " + l), ...body, `${indent}}`);
        break;
      }
      case "let": out.push(`${indent}const ${s.name} = ${unwrap(jsExpr(s.value, st))};`); break;
      case "declare": out.push(`${indent}let ${s.name} = ${s.init === undefined ? jsNumber(reduceIdentity(s.op)) : unwrap(jsExpr(s.init, st))};`); break;
      case "update": out.push(indent + combine(s.op, s.name, jsExpr(s.value, st))); break;
      case "store": {
        const target = `${jsName(s.buffer)}[${jsOffset(s.offset, st)}]`;
        const value = jsExpr(s.value, st);
        out.push(indent + (s.op ? combine(s.op, target, value) : `${target} = ${unwrap(value)};`));
        break;
      }
      case "fill": out.push(s.from === undefined ? `${indent}${jsName(s.buffer)}.fill(${jsNumber(s.value)});` : `${indent}${jsName(s.buffer)}.set(${jsName(s.from)});`); break;
    }
  }
}

/**
 * The parameter list of a kernel function: the buffers it reads, then its target.
 *
 * @example
 * ```ts
 * kernelParams(kernel); // ["A", "B", "C"] for C[i, j] = A[i, k] * B[k, j]
 * ```
 */
export function kernelParams(k: Kernel): string[] {
  return [...k.reads.filter((r) => r !== k.target), k.target];
}

/**
 * The name of the JavaScript function for the kernel at a position.
 *
 * @example
 * ```ts
 * kernelFunctionName(kernel, 0); // "k0_C"
 * ```
 */
export function kernelFunctionName(k: Kernel, position: number): string {
  return kernelName(k.target, position);
}

function emitKernel(k: Kernel, position: number, helpers: Set<string>): string[] {
  const params = kernelParams(k).map(jsName);
  const root = { var: null, prelude: [] as string[], memo: new Map<string, string>() };
  const st: EmitState = { scopes: [root], helpers, offsetCounter: 0 };
  const body: string[] = [];
  const fused = k.epilogueContraction;
  if (k.contraction) body.push(...emitContraction(k.contraction, "  "));
  else if (fused) body.push(...emitContraction(fused.contraction, "  ", { row: fused.row, col: fused.col, value: fused.epilogue, helpers }));
  else if (k.scatterAdd) emitScatterAdd(k.scatterAdd, k.target, st, "  ", body);
  else emitStmts(k.body, st, "  ", body);
  return [`function ${kernelFunctionName(k, position)}(${params.join(", ")}) {`, ...root.prelude.map((l) => "  " + l), ...body, "}"];
}

/**
 * The JavaScript source for a kernel program: a function body that returns
 * `run(b)`, where `b` maps every buffer name to its typed array.
 *
 * @example
 * ```ts
 * const source = emitJs(lowerToKernels(program));
 * const run = new Function(source)();
 * run({ A: new Float32Array(6), S: new Float32Array(2) });
 * ```
 */
export function emitJs(kp: KernelProgram): string {
  const helpers = new Set<string>();
  const functions = kp.kernels.map((k, n) => emitKernel(k, n, helpers).join("\n"));
  const calls = kp.kernels.map((k, n) => `  ${kernelFunctionName(k, n)}(${kernelParams(k).map((p) => `b[${JSON.stringify(p)}]`).join(", ")});`);
  const lines = [
    '"use strict";',
    `// tns: ${kp.kernels.length} kernel${kp.kernels.length === 1 ? "" : "s"}, ${kp.buffers.length} buffers`,
    ...[...helpers].sort().map((h) => HELPERS[h]!),
    ...functions,
    "return function run(b) {",
    ...calls,
    "};",
  ];
  return lines.join("\n") + "\n";
}

/**
 * The text form of the kernel IR, for golden tests and `tns explain`.
 *
 *     buffer A: f32[4, 8] input
 *     kernel C -> C  (loops i, k, j; contraction m 4 n 3 k 8)
 *       fill C = 0
 *       for i < 4:
 *         for k < 8:
 *           t0 = A[8*i + k]
 *           for j < 3:
 *             C[3*i + j] += t0 * B[3*k + j]
 */
import type { Affine, BinaryOp, ReduceOp } from "../../ir/types.js";
import type { KExpr, Kernel, KernelProgram, Stmt } from "./types.js";

const BINARY_SYMBOL: Partial<Record<BinaryOp, string>> = {
  add: "+", sub: "-", mul: "*", div: "/", lt: "<", le: "<=", gt: ">", ge: ">=", eq: "==", ne: "!=", pow: "^",
};

/**
 * An affine form as text.
 *
 * @example
 * ```ts
 * printAffine(affine([{ var: "i", coef: 8 }, { var: "k", coef: 1 }], -1)); // "8*i + k - 1"
 * ```
 */
export function printAffine(a: Affine): string {
  const parts: string[] = [];
  for (const t of a.terms) {
    const mag = Math.abs(t.coef) === 1 ? t.var : `${Math.abs(t.coef)}*${t.var}`;
    parts.push(parts.length === 0 ? (t.coef < 0 ? `-${mag}` : mag) : `${t.coef < 0 ? "-" : "+"} ${mag}`);
  }
  if (a.constant !== 0 || parts.length === 0) {
    const c = a.constant;
    parts.push(parts.length === 0 ? String(c) : `${c < 0 ? "-" : "+"} ${Math.abs(c)}`);
  }
  return parts.join(" ");
}

function printNumber(x: number): string {
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  return String(x);
}

/**
 * A kernel expression as text; infix operands that are themselves infix are parenthesised.
 *
 * @example
 * ```ts
 * printKExpr({ kind: "binary", op: "mul", lhs: { kind: "local", name: "t0" }, rhs: { kind: "const", value: 2 } }); // "t0 * 2"
 * ```
 */
export function printKExpr(e: KExpr): string {
  switch (e.kind) {
    case "const": return printNumber(e.value);
    case "index": return e.var;
    case "local": return e.name;
    case "load": return `${e.buffer}[${printAffine(e.offset)}]`;
    case "gather": {
      const dims = e.dims.map((d) => `${d.stride === 1 ? "" : `${d.stride}*`}${e.mode}(${printKExpr(d.value)} < ${d.extent})`);
      return `${e.buffer}[${[printAffine(e.offset), ...dims].join(" + ")}]`;
    }
    case "unary": return e.op === "neg" ? `-${wrap(e.arg)}` : `${e.op}(${printKExpr(e.arg)})`;
    case "binary": {
      const sym = BINARY_SYMBOL[e.op];
      return sym ? `${wrap(e.lhs)} ${sym} ${wrap(e.rhs)}` : `${e.op}(${printKExpr(e.lhs)}, ${printKExpr(e.rhs)})`;
    }
    case "select": return `where(${printKExpr(e.cond)}, ${printKExpr(e.then)}, ${printKExpr(e.else)})`;
  }
}

function wrap(e: KExpr): string {
  const s = printKExpr(e);
  return (e.kind === "binary" && BINARY_SYMBOL[e.op]) || (e.kind === "const" && e.value < 0) ? `(${s})` : s;
}

function printCombine(op: ReduceOp, target: string, value: string): string {
  switch (op) {
    case "sum": return `${target} += ${value}`;
    case "prod": return `${target} *= ${value}`;
    case "max": return `${target} max= ${value}`;
    case "min": return `${target} min= ${value}`;
  }
}

function printStmts(stmts: readonly Stmt[], indent: string, out: string[]): void {
  for (const s of stmts) {
    switch (s.kind) {
      case "loop":
        out.push(`${indent}for ${s.var} < ${s.extent}:`);
        printStmts(s.body, indent + "  ", out);
        break;
      case "let": out.push(`${indent}${s.name} = ${printKExpr(s.value)}`); break;
      case "declare": out.push(`${indent}${s.name} = ${s.init === undefined ? `${s.op} identity` : printKExpr(s.init)}`); break;
      case "update": out.push(indent + printCombine(s.op, s.name, printKExpr(s.value))); break;
      case "store": {
        const target = `${s.buffer}[${printAffine(s.offset)}]`;
        const value = printKExpr(s.value);
        out.push(indent + (s.op ? printCombine(s.op, target, value) : `${target} = ${value}`));
        break;
      }
      case "fill": out.push(`${indent}fill ${s.buffer} = ${s.from ?? printNumber(s.value)}`); break;
    }
  }
}

/**
 * One kernel as text: a title line with its loop order, then its statements.
 *
 * @example
 * ```ts
 * printKernel(lowerToKernels(program).kernels[0]); // "kernel C  (loops i, k, j; ...)\n  fill C = 0\n..."
 * ```
 */
export function printKernel(k: Kernel): string {
  const c = k.contraction ?? k.epilogueContraction?.contraction;
  const epilogue = k.epilogueContraction ? `; epilogue ${printKExpr(k.epilogueContraction.epilogue)}` : "";
  const extra = c ? `; contraction m ${c.m} n ${c.n} k ${c.k}${c.batch.length ? ` batch ${c.batch.map((b) => b.var).join(", ")}` : ""}${epilogue}` : "";
  const out = [`kernel ${k.target}  (loops ${k.loopOrder.join(", ") || "none"}${extra})`];
  printStmts(k.body, "  ", out);
  return out.join("\n");
}

/**
 * A kernel program as text: its buffers, then each kernel.
 *
 * @example
 * ```ts
 * printKernels(lowerToKernels(program)); // "buffer A: f32[4, 8] input\n...\nkernel C ..."
 * ```
 */
export function printKernels(kp: KernelProgram): string {
  const lines = kp.buffers.map((b) => `buffer ${b.name}: ${b.dtype}[${b.shape.join(", ")}] ${b.role}`);
  return [lines.join("\n"), ...kp.kernels.map(printKernel)].join("\n\n") + "\n";
}

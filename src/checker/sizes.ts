/**
 * Size symbols and size expressions: binds `size n = 256, h = n / 4` (with
 * overrides) to concrete positive integers and evaluates the dims of tensor
 * declarations.
 *
 *     size n = 256, h = n / 4, m      + overrides { m: 3 }
 *     ->  Map { n => 256, h => 64, m => 3 }
 */
import type { DiagnosticBag, Span } from "../diagnostics/diagnostic.js";
import type { Expr, SizeEntry } from "../parser/ast.js";
import { suggestion } from "./scope.js";

/**
 * The largest element count of one tensor (typed arrays and 32-bit offsets).
 *
 * @example
 * ```ts
 * 65536 * 65536 > MAX_ELEMENTS; // true
 * ```
 */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/**
 * Evaluates a size expression (integers, sizes, `+ - * /` with exact
 * division). Reports TNS0106 (unknown size), TNS0302 (not an integer
 * expression, inexact division) or TNS0301 (overflow) and returns null.
 *
 * @example
 * ```ts
 * evalSize(parsedExpr("n / 4"), new Map([["n", 256]]), diags); // 64
 * ```
 */
export function evalSize(expr: Expr, sizes: ReadonlyMap<string, number>, diags: DiagnosticBag): number | null {
  const v = evalInner(expr, sizes, diags);
  if (v !== null && !Number.isSafeInteger(v)) {
    diags.error("TNS0301", `size expression overflows (${v})`, expr.span);
    return null;
  }
  return v;
}

function evalInner(expr: Expr, sizes: ReadonlyMap<string, number>, diags: DiagnosticBag): number | null {
  switch (expr.kind) {
    case "number":
      if (!expr.isInteger || !Number.isSafeInteger(expr.value)) {
        diags.error("TNS0302", `size expressions use integers only, not ${expr.value}`, expr.span);
        return null;
      }
      return expr.value;
    case "ident": {
      const v = sizes.get(expr.name);
      if (v === undefined) {
        const near = suggestion(expr.name, sizes.keys());
        diags.error("TNS0106", `unknown size '${expr.name}'`, expr.span,
          near === null ? { hint: `declare it first: size ${expr.name} = ...` } : { hint: `did you mean '${near}'?` });
        return null;
      }
      // NaN marks a size whose own declaration already failed: stay quiet, no cascade.
      return Number.isNaN(v) ? null : v;
    }
    case "unary": {
      if (expr.op === "!") {
        diags.error("TNS0302", "a size expression may only use integers, sizes and + - * /", expr.span);
        return null;
      }
      const a = evalInner(expr.arg, sizes, diags);
      return a === null ? null : -a;
    }
    case "binary": {
      const a = evalInner(expr.lhs, sizes, diags);
      const b = evalInner(expr.rhs, sizes, diags);
      if (a === null || b === null) return null;
      return applySizeOp(expr.op, a, b, expr.span, diags);
    }
    default:
      diags.error("TNS0302", "a size expression may only use integers, sizes and + - * /", expr.span);
      return null;
  }
}

function applySizeOp(op: string, a: number, b: number, span: Span, diags: DiagnosticBag): number | null {
  let v: number;
  switch (op) {
    case "+": v = a + b; break;
    case "-": v = a - b; break;
    case "*": v = a * b; break;
    case "/":
      if (b === 0 || a % b !== 0) {
        diags.error("TNS0302", `${a} / ${b} is not an exact integer division`, span, {
          hint: "size divisions must divide exactly",
        });
        return null;
      }
      v = a / b;
      break;
    default:
      diags.error("TNS0302", `operator '${op}' is not allowed in a size expression`, span);
      return null;
  }
  if (!Number.isSafeInteger(v)) {
    diags.error("TNS0301", `size expression overflows (${v})`, span);
    return null;
  }
  return v;
}

/**
 * Evaluates a size expression that must be a positive integer (a size value
 * or a tensor dimension); reports TNS0302 otherwise.
 *
 * @example
 * ```ts
 * evalPositiveSize(parsedExpr("n - 256"), new Map([["n", 256]]), diags, "dimension"); // null, TNS0302
 * ```
 */
export function evalPositiveSize(
  expr: Expr, sizes: ReadonlyMap<string, number>, diags: DiagnosticBag, what: string,
): number | null {
  const v = evalSize(expr, sizes, diags);
  if (v === null) return null;
  if (v <= 0) {
    diags.error("TNS0302", `${what} must be a positive integer, got ${v}`, expr.span);
    return null;
  }
  return v;
}

/**
 * Binds a module's size symbols in order, applying overrides. Reports
 * TNS0105 (declared twice), TNS0304 (no value), TNS0303 (override of an
 * unknown size) and the errors of {@link evalSize}. A size that failed maps
 * to NaN, so later uses of it stay quiet instead of cascading.
 *
 * @example
 * ```ts
 * bindSizes(entriesOf("size n = 8, h = n / 2, m"), { m: 3 }, diags); // Map { n => 8, h => 4, m => 3 }
 * ```
 */
export function bindSizes(
  entries: readonly SizeEntry[],
  overrides: Readonly<Record<string, number>>,
  diags: DiagnosticBag,
): Map<string, number> {
  const sizes = new Map<string, number>();
  const declared = new Map<string, Span>();
  for (const e of entries) {
    const name = e.name.name;
    const first = declared.get(name);
    if (first !== undefined) {
      diags.error("TNS0105", `size '${name}' is declared twice`, e.name.span, {
        notes: [{ message: "first declared here", span: first }],
      });
      continue;
    }
    declared.set(name, e.name.span);
    if (Object.prototype.hasOwnProperty.call(overrides, name)) {
      const v = overrides[name]!;
      if (!Number.isSafeInteger(v) || v <= 0) {
        diags.error("TNS0302", `size override ${name}=${v} must be a positive integer`, e.name.span);
        sizes.set(name, NaN);
        continue;
      }
      sizes.set(name, v);
      continue;
    }
    if (e.value === null) {
      diags.error("TNS0304", `size '${name}' has no value`, e.name.span, {
        hint: `give it a default (size ${name} = 128) or a value when compiling (--size ${name}=128)`,
      });
      sizes.set(name, NaN);
      continue;
    }
    sizes.set(name, evalPositiveSize(e.value, sizes, diags, `size '${name}'`) ?? NaN);
  }
  for (const name of Object.keys(overrides)) {
    if (!declared.has(name)) {
      const near = suggestion(name, declared.keys());
      diags.error("TNS0303", `size override '${name}' names no size of the program`, undefined,
        { hint: near !== null ? `did you mean '${near}'?` : declared.size === 0 ? "the program declares no sizes" : `its sizes are ${[...declared.keys()].join(", ")}` });
    }
  }
  return sizes;
}

/**
 * Checks that a shape's element count fits one tensor (TNS0301 otherwise).
 *
 * @example
 * ```ts
 * checkElementCount([65536, 65536], "A", span, diags); // false, TNS0301
 * ```
 */
export function checkElementCount(shape: readonly number[], name: string, span: Span, diags: DiagnosticBag): boolean {
  let n = 1;
  for (const d of shape) n *= d;
  if (n > MAX_ELEMENTS) {
    diags.error("TNS0301", `tensor '${name}' of shape [${shape.join(", ")}] has ${n} elements, more than ${MAX_ELEMENTS}`, span);
    return false;
  }
  return true;
}

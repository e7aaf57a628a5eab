/**
 * The WebAssembly text format (WAT) of a module built by the encoder
 * (encoder.ts), in the folded style binaryen prints: one instruction per
 * line, operands nested below it, one space of indent per level.
 *
 *     (module
 *      (type $0 (func))
 *      (import "env" "memory" (memory $arena 1 65536))
 *      (export "run" (func $run))
 *      (func $run (type $0)
 *       (call $k0_C)
 *      )
 *     )
 *
 * Locals are named by their index (`$0`, `$1`, ...), labels and functions
 * by the names the emitter gave them. Blocks without a label are printed
 * in line (the encoder encodes them so), except where they yield a value.
 * This text is what `tns compile --emit wat`, the playground and the
 * golden tests show; the binary is encoded from the same trees.
 */
import type { EncodedTree } from "./encoder-tree.js";
import type { Ref, ValueType } from "./facade.js";

function signature(params: readonly ValueType[], result: ValueType, named: boolean): string {
  const ps = named ? params.map((p, k) => ` (param $${k} ${p})`).join("") : params.length > 0 ? ` (param ${params.join(" ")})` : "";
  return `${ps}${result === "none" ? "" : ` (result ${result})`}`;
}

function floatText(v: number): string {
  if (Number.isNaN(v)) return "nan";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  return Object.is(v, -0) ? "-0" : String(v);
}

/**
 * The module's text.
 *
 * @example
 * ```ts
 * const m = wasmEncoder().createModule() as EncoderModule;
 * m.addFunction("f", [], "f64", [], m.f64Const(1.5));
 * printWat(m); // "(module\n (type $0 (func (result f64)))\n (func $f (type $0) (result f64)\n  (f64.const 1.5)\n )\n)\n"
 * ```
 */
export function printWat(m: EncodedTree): string {
  const lines: string[] = ["(module"];
  const types: string[] = [];
  const typeIndex = (params: readonly ValueType[], result: ValueType): number => {
    const text = `(func${signature(params, result, false)})`;
    let k = types.indexOf(text);
    if (k < 0) {
      k = types.length;
      types.push(text);
    }
    return k;
  };
  const importTypes = m.imports.map((f) => typeIndex(f.params, f.result));
  for (const f of m.functions) typeIndex(f.params, f.result);
  types.forEach((t, k) => lines.push(` (type $${k} ${t})`));
  if (m.memory !== null) lines.push(` (import "env" "memory" (memory $arena ${m.memory.pages} 65536${m.memory.shared ? " shared" : ""}))`);
  m.imports.forEach((f, k) => lines.push(` (import "env" "${f.name}" (func $${f.name} (type $${importTypes[k]})${signature(f.params, f.result, false)}))`));
  for (const name of m.exports) lines.push(` (export "${name}" (func $${name}))`);
  m.functions.forEach((f, k) => {
    lines.push(` (func $${f.name}${signature(f.params, f.result, true)}`);
    f.locals.forEach((l, j) => lines.push(`  (local $${f.params.length + j} ${l})`));
    statement(m, f.body, 2, lines);
    lines.push(" )");
  });
  lines.push(")");
  return `${lines.join("\n")}\n`;
}

/** Prints `r` at `indent`; a block without label and value prints its children in line. */
function statement(m: EncodedTree, r: Ref, indent: number, lines: string[]): void {
  const n = m.node(r);
  if (n.kind === "block" && n.label === null && n.type === "none") {
    for (const c of n.children) statement(m, c, indent, lines);
    return;
  }
  expression(m, r, indent, lines);
}

function expression(m: EncodedTree, r: Ref, indent: number, lines: string[]): void {
  const n = m.node(r);
  const pad = " ".repeat(indent);
  const nested = (head: string, children: readonly Ref[], asStatements = false): void => {
    if (children.length === 0) {
      lines.push(`${pad}(${head})`);
      return;
    }
    lines.push(`${pad}(${head}`);
    for (const c of children) (asStatements ? statement : expression)(m, c, indent + 1, lines);
    lines.push(`${pad})`);
  };
  switch (n.kind) {
    case "const":
      lines.push(`${pad}(${n.type}.const ${n.type === "i32" ? String(n.value) : floatText(n.value)})`);
      return;
    case "v128": {
      const words = new Uint32Array(n.bytes.slice().buffer);
      lines.push(`${pad}(v128.const i32x4 ${Array.from(words, (w) => `0x${w.toString(16).padStart(8, "0")}`).join(" ")})`);
      return;
    }
    case "get":
      lines.push(`${pad}(local.get $${n.index})`);
      return;
    case "set":
      nested(`local.set $${n.index}`, [n.value]);
      return;
    case "op": {
      let head = n.name;
      if (n.memarg) {
        if (n.memarg.offset !== 0) head += ` offset=${n.memarg.offset}`;
        const natural = n.name.startsWith("f64.") ? 3 : n.name.startsWith("v128.load32") ? 2 : n.name.startsWith("v128.") ? 4 : 2;
        if (n.memarg.align !== natural) head += ` align=${2 ** n.memarg.align}`;
      }
      if (n.lane !== undefined) head += ` ${n.lane}`;
      nested(head, n.args);
      return;
    }
    case "select":
      nested("select", [n.ifTrue, n.ifFalse, n.cond]);
      return;
    case "call":
      nested(`call $${n.name}`, n.args);
      return;
    case "block":
      nested(`block${n.label === null ? "" : ` $${n.label}`}${n.type === "none" ? "" : ` (result ${n.type})`}`, n.children, true);
      return;
    case "loop":
      nested(`loop $${n.label}${n.type === "none" || n.type === "unreachable" ? "" : ` (result ${n.type})`}`, [n.body], true);
      return;
    case "br":
      nested(`${n.cond === null ? "br" : "br_if"} $${n.label}`, n.cond === null ? [] : [n.cond]);
      return;
    case "if": {
      const t = n.type === "none" || n.type === "unreachable" ? "" : ` (result ${n.type})`;
      lines.push(`${pad}(if${t}`);
      expression(m, n.cond, indent + 1, lines);
      const arm = (head: string, body: Ref): void => {
        lines.push(`${pad} (${head}`);
        statement(m, body, indent + 2, lines);
        lines.push(`${pad} )`);
      };
      arm("then", n.then);
      if (n.otherwise !== null) arm("else", n.otherwise);
      lines.push(`${pad})`);
      return;
    }
    case "nop":
      lines.push(`${pad}(nop)`);
      return;
  }
}

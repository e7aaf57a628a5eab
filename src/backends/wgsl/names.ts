/**
 * WGSL identifiers for tns names. Every name the emitted code takes from the
 * program gets a prefix by kind: buffers `b_`, loop and index variables
 * `v_`. No WGSL keyword or reserved word starts with either, and the names
 * the emitters make up (`t0`, `acc`, `lid`, `wg`, `tile_a`, `c_0_1`...)
 * never do, so the result cannot collide with either; characters outside
 * `[A-Za-z0-9_]` (none in names the checker accepts) are spelled `_xHH_`
 * and `_` itself `_` (kept: the prefix already separates the namespaces).
 *
 *     wgslBuffer("Q")   → b_Q
 *     wgslVar("j_1")    → v_j_1
 *     wgslVar("loop")   → v_loop        (loop is a WGSL keyword)
 */

/**
 * WGSL's keywords and reserved words (WGSL spec, "Keyword and Reserved
 * Word"), for tests and for {@link isWgslReserved}.
 */
export const WGSL_RESERVED: ReadonlySet<string> = new Set([
  // keywords
  "alias", "break", "case", "const", "const_assert", "continue", "continuing", "default", "diagnostic", "discard",
  "else", "enable", "false", "fn", "for", "if", "let", "loop", "override", "requires", "return", "struct", "switch",
  "true", "var", "while",
  // reserved words
  "NULL", "Self", "abstract", "active", "alignas", "alignof", "as", "asm", "asm_fragment", "async", "attribute",
  "auto", "await", "become", "cast", "catch", "class", "co_await", "co_return", "co_yield", "coherent",
  "column_major", "common", "compile", "compile_fragment", "concept", "const_cast", "consteval", "constexpr",
  "constinit", "crate", "debugger", "decltype", "delete", "demote", "demote_to_helper", "do", "dynamic_cast", "enum",
  "explicit", "export", "extends", "extern", "external", "fallthrough", "filter", "final", "finally", "friend",
  "from", "fxgroup", "get", "goto", "groupshared", "highp", "impl", "implements", "import", "inline", "instanceof",
  "interface", "layout", "lowp", "macro", "macro_rules", "match", "mediump", "meta", "mod", "module", "move", "mut",
  "mutable", "namespace", "new", "nil", "noexcept", "noinline", "nointerpolation", "non_coherent", "noncoherent",
  "noperspective", "null", "nullptr", "of", "operator", "package", "packoffset", "partition", "pass", "patch",
  "pixelfragment", "precise", "precision", "premerge", "priv", "protected", "pub", "public", "readonly", "ref",
  "regardless", "register", "reinterpret_cast", "require", "resource", "restrict", "self", "set", "shared", "sizeof",
  "smooth", "snorm", "static", "static_assert", "static_cast", "std", "subroutine", "super", "target", "template",
  "this", "thread_local", "throw", "trait", "try", "type", "typedef", "typeid", "typename", "typeof", "union",
  "unless", "unorm", "unsafe", "unsized", "use", "using", "varying", "virtual", "volatile", "wgsl", "where", "with",
  "writeonly", "yield",
  // predeclared types and functions the emitted code uses by name
  "f32", "i32", "u32", "bool", "vec4", "vec3u", "array", "select", "bitcast", "max", "min", "exp", "log", "sqrt",
  "inverseSqrt", "tanh", "abs", "pow", "clamp", "workgroupBarrier", "main",
  "sin", "cos", "tan", "atan", "atan2", "sign", "floor", "ceil", "round",
]);

/**
 * Whether a string is a WGSL keyword, a reserved word or a predeclared name
 * the emitted code relies on.
 *
 * @example
 * ```ts
 * isWgslReserved("loop"); // true
 * ```
 */
export function isWgslReserved(name: string): boolean {
  return WGSL_RESERVED.has(name) || name.startsWith("__");
}

function spell(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, (c) => `_x${c.codePointAt(0)!.toString(16)}_`);
}

/**
 * The WGSL name of a buffer (a tensor of the program).
 *
 * @example
 * ```ts
 * wgslBuffer("Q"); // "b_Q"
 * ```
 */
export function wgslBuffer(name: string): string {
  return `b_${spell(name)}`;
}

/**
 * The WGSL name of a loop or index variable.
 *
 * @example
 * ```ts
 * wgslVar("j_1"); // "v_j_1"
 * ```
 */
export function wgslVar(name: string): string {
  return `v_${spell(name)}`;
}

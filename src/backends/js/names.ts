/**
 * JavaScript identifiers for tns names. Generated locals are `t0`, `o0`...;
 * a tns name that could collide with them, with a reserved word or with a
 * global the generated code uses gets a `$` suffix (`$` never appears in a
 * tns identifier, so the result cannot collide with another tns name).
 */

const RESERVED = new Set([
  "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do", "else", "enum",
  "export", "extends", "false", "finally", "for", "function", "if", "import", "in", "instanceof", "new", "null",
  "return", "super", "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while", "with", "yield",
  "let", "static", "implements", "interface", "package", "private", "protected", "public", "await", "async",
  "arguments", "eval", "undefined", "NaN", "Infinity", "Math", "run", "b", "relu", "sigmoid", "erf", "sign", "round",
  // the packed panel of a register-blocked contraction (emit-contraction.ts)
  "P",
]);

/**
 * A safe JavaScript identifier for a tns tensor or index name.
 *
 * @example
 * ```ts
 * jsName("Q"); // "Q"
 * jsName("t0"); // "t0$"
 * jsName("in"); // "in$"
 * ```
 */
export function jsName(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_$]/g, "_");
  const safe = /^[0-9]/.test(clean) ? `_${clean}` : clean;
  return RESERVED.has(safe) || /^[a-z]\d+$/.test(safe) || safe !== name ? `${safe}$` : safe;
}

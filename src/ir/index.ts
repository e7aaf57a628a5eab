/**
 * The IR toolkit: types and checking constructors, traversals, the text form
 * (print and parse), the verifier and the reference interpreter.
 *
 * @example
 * ```ts
 * import { parseProgramText, verifyProgram, interpret } from "./ir/index.js";
 * const p = parseProgramText("input A: f32[2]\noutput B: f32[2] = [i:2] exp(A[i])\n");
 * verifyProgram(p);
 * ```
 */
export * from "./types.js";
export * from "./walk.js";
export * from "./print.js";
export * from "./parse-text.js";
export * from "./verify.js";
export * from "./interpret.js";
export * from "./ops.js";

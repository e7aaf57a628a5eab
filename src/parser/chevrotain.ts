/**
 * The one door to Chevrotain. Its package entry (`lib/src/api.js`) is some
 * forty modules plus lodash-es's hundreds, about 0.4 s of module loading on a
 * cold start; the same release ships a single-file ES bundle of the same API
 * (`lib/chevrotain.mjs`, listed in its package `files`) that loads in about
 * 20 ms. The package's `exports` map hides the bundle, so it is found next to
 * the resolved entry; where that is not possible (a host without
 * `import.meta.resolve` on files, a bundler, a test transform) the package
 * entry is imported instead. Both are the same version of the same code.
 *
 *     import { createToken, Lexer } from "./chevrotain.js";
 *
 * Types come from `chevrotain` itself (`import type`), which costs nothing at
 * run time.
 */
import type * as ChevrotainApi from "chevrotain";

async function loadChevrotain(): Promise<{ api: typeof ChevrotainApi; from: "bundle" | "package" }> {
  try {
    const entry = import.meta.resolve("chevrotain");
    if (entry.startsWith("file:") && entry.endsWith("/lib/src/api.js")) {
      const api = (await import(new URL("../chevrotain.mjs", entry).href)) as typeof ChevrotainApi;
      return { api, from: "bundle" };
    }
  } catch {
    // No resolvable bundle here: use the package entry below.
  }
  return { api: await import("chevrotain"), from: "package" };
}

const { api: chevrotain, from } = await loadChevrotain();

/** Where Chevrotain was loaded from: its single-file bundle, or its package entry (slower to load). */
export const CHEVROTAIN_LOADED_FROM: "bundle" | "package" = from;

export const { CstParser, EOF, Lexer, createToken, tokenMatcher } = chevrotain;
export type {
  CstElement, CstNode, ILexerConfig, IParserConfig, IParserErrorMessageProvider, IRecognitionException, IToken, TokenType,
} from "chevrotain";

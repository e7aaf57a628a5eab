/**
 * The longest source text the parser takes, in a module of its own so that
 * a reader of files (the CLI) can check it without loading the parser.
 */

/** The longest source text, in bytes of UTF-8 (and so at most this many characters). */
export const MAX_SOURCE_BYTES = 4 * 2 ** 20;

/**
 * Command-line argument parsing for `tns`, on top of Node's `util.parseArgs`.
 * Usage mistakes are {@link UsageError}s (exit code 2), never stack traces.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** A mistake in how the command was invoked (exit code 2). */
export class UsageError extends Error {
  constructor(message: string, readonly command?: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Parsed options and positionals of one command. */
export interface ParsedArgs {
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
}

/** Parses `argv` against an option table; unknown options are usage errors. */
export function parseCommandArgs(command: string, argv: string[], options: NonNullable<ParseArgsConfig["options"]>): ParsedArgs {
  try {
    // util.parseArgs would read `-O0` as the short options O and 0; compilers spell it `-O0`.
    const args = argv.map((a) => (a === "-O0" ? "--O0" : a));
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: values as ParsedArgs["values"], positionals };
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ""), command);
  }
}

/** Parses repeated `name=value` options (`--size n=512`) into a record of integers. */
export function parseSizeOptions(items: readonly string[] | undefined, command: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items ?? []) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(\d+)$/.exec(item.trim());
    if (!m) throw new UsageError(`--size expects name=positive-integer, got '${item}'`, command);
    const value = Number(m[2]);
    if (!Number.isSafeInteger(value) || value <= 0) throw new UsageError(`--size ${m[1]} must be a positive integer`, command);
    out[m[1]!] = value;
  }
  return out;
}

/** Parses repeated `name=path` options (`--input Q=q.npy`). */
export function parseNamedPaths(items: readonly string[] | undefined, flag: string, command: string): Array<[string, string]> {
  return (items ?? []).map((item) => {
    const eq = item.indexOf("=");
    if (eq <= 0 || eq === item.length - 1) throw new UsageError(`${flag} expects NAME=FILE, got '${item}'`, command);
    return [item.slice(0, eq), item.slice(eq + 1)];
  });
}

/** Parses a non-negative integer option. */
export function parseIntOption(value: string | undefined, flag: string, fallback: number, command: string): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} expects a non-negative integer, got '${value}'`, command);
  return Number(value);
}

/**
 * Parses `--threads N`: a positive integer, for the wasm backend only;
 * undefined when not given (the backend's default).
 */
export function parseThreadsOption(value: string | undefined, backend: string, command: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--threads expects a positive integer, got '${value}'`, command);
  if (backend !== "wasm") throw new UsageError(`--threads applies to the wasm backend only (this run uses --backend ${backend})`, command);
  return Number(value);
}

const BYTE_UNITS: Readonly<Record<string, number>> = {
  "": 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, kb: 1000, mb: 1000 ** 2, gb: 1000 ** 3, k: 1024, m: 1024 ** 2, g: 1024 ** 3,
};

/**
 * Parses `--memory-budget`: bytes, or a number with a unit (`64KiB`,
 * `10MiB`, `1.5GiB`; `KB`, `MB`, `GB` are powers of 1000); undefined when
 * not given.
 *
 * @example
 * ```ts
 * parseMemoryBudget("64KiB", "run"); // 65536
 * ```
 */
export function parseMemoryBudget(value: string | undefined, command: string): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(value.trim());
  const unit = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new UsageError(`--memory-budget expects bytes or a size such as 64KiB, 10MiB or 1GiB, got '${value}'`, command);
  }
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new UsageError(`--memory-budget must be a positive size, got '${value}'`, command);
  return bytes;
}

export { formatBytes } from "./format.js";

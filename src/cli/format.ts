/**
 * Formatting for people, without Node: what the report builders that also
 * run in a browser page (explain) share with the commands.
 */

/**
 * Bytes for people: `512 B`, `64.0 KiB`, `10.00 MiB`.
 *
 * @example
 * ```ts
 * formatBytes(65536); // "64.0 KiB"
 * ```
 */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(2)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/**
 * The name every backend gives the code of one kernel: its position and its
 * target, with characters other than letters, digits and `_` made `_`
 * (`k0_C`), so that emitted JS functions, wasm functions and WGSL
 * dispatches of one program line up.
 */

/**
 * The name of the kernel at a position.
 *
 * @example
 * ```ts
 * kernelName("C", 0); // "k0_C"
 * ```
 */
export function kernelName(target: string, position: number): string {
  return `k${position}_${target.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

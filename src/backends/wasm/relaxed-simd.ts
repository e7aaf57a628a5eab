/**
 * Whether the host WebAssembly engine runs relaxed SIMD, so the matrix-product
 * micro-kernel may use the fused `f32x4.relaxed_madd` instead of a separate
 * `f32x4.mul` and `f32x4.add`. Engines differ (Node 20 accepts it only with
 * `--experimental-wasm-relaxed-simd`; Node 22+ and Chromium 114+ always), so
 * the answer comes from validating a tiny module once per process:
 *
 *     before: emit the micro-kernel with mul + add everywhere
 *     after:  hostRunsRelaxedSimd()  // validates PROBE once, then cached
 *             ? c = f32x4.relaxed_madd(a, b, c)
 *             : c = f32x4.add(c, f32x4.mul(a, b))
 */

/** The host's WebAssembly `validate` (the Node typings omit the WebAssembly namespace). */
const validate = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly.validate;

/**
 * `(func (param v128) (result v128) (f32x4.relaxed_madd (local.get 0) (local.get 0) (local.get 0)))`,
 * as binaryen 132 emits it.
 */
export const RELAXED_SIMD_PROBE: Uint8Array = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7b, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00, 0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x00, 0x20, 0x00, 0xfd,
  0x85, 0x02, 0x0b,
]);

let answer: boolean | null = null;

/**
 * Whether this process's WebAssembly engine accepts relaxed SIMD; the probe
 * runs on the first call only.
 *
 * @example
 * ```ts
 * hostRunsRelaxedSimd(); // false on Node 20 started without --experimental-wasm-relaxed-simd
 * ```
 */
export function hostRunsRelaxedSimd(): boolean {
  answer ??= validate(RELAXED_SIMD_PROBE);
  return answer;
}

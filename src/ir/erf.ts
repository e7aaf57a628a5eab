/**
 * The error function, as every stage computes it: the reference interpreter
 * and constant folding call {@link erf}; the JavaScript, WebAssembly and WGSL
 * backends emit the same piecewise polynomial from {@link ERF_PIECES} (no
 * target has an `erf` of its own). For |x| < 1,
 *
 *     erf(x) = x · NEAR(2x² − 1)
 *
 * and for larger |x|, erf(x) = sign(x) · (1 − e^(−x²) · Q(u)) with Q = MID in
 * u = (2|x| − 3.5) / 1.5 on [1, 2.5) and Q = FAR in u = (2/|x| − 17/30) / (7/30)
 * on [2.5, 6); from 6 on erf is ±1 to double precision. Each polynomial is a
 * Chebyshev least-squares fit of erf(x)/x or erfc(x)·e^(x²), written in the
 * monomial basis of u ∈ [−1, 1] (Horner's order, highest degree first). Against
 * Python's `math.erf`, the relative error is below 1e-14 over the whole line
 * in double precision (test/ir/erf.test.ts); evaluated in float32 (WGSL) it is
 * within a few float32 ulps.
 */

/** NEAR: erf(x)/x as a polynomial in u = 2x² − 1, for |x| < 1. */
export const ERF_NEAR: readonly number[] = [
  -3.8899394227888745e-13, 9.22278946345711e-12, -2.0350223389270418e-10, 4.1157251227849426e-09,
  -7.511571119785943e-08, 1.2233827837175647e-06, -1.7537169433826573e-05, 0.00021751715603035573,
  -0.002285485561145682, 0.01985249668898442, -0.14053608902271694, 0.9654687386698672,
];

/** MID: erfc(x)·e^(x²) as a polynomial in u = (2x − 3.5)/1.5, for 1 ≤ x < 2.5. */
export const ERF_MID: readonly number[] = [
  4.8908603564634944e-11, -2.506919059721688e-10, 1.0758127011206505e-09, -5.347578776392858e-09,
  2.6216520235532756e-08, -1.2372062960364124e-07, 5.680067055920276e-07, -2.53447951828676e-06,
  1.0962897262020824e-05, -4.585617629261693e-05, 0.00018495607756431932, -0.0007168914442025232,
  0.002659179124283516, -0.009390935492555666, 0.031367041923981896, -0.09823225913586213,
  0.28497223473743644,
];

/** FAR: erfc(x)·e^(x²) as a polynomial in u = (2/x − 17/30)/(7/30), for 2.5 ≤ x < 6. */
export const ERF_FAR: readonly number[] = [
  3.7525355852654087e-13, 1.2834109461210539e-12, 3.465175608395187e-12, -7.132398930109726e-11,
  3.294416132205639e-10, -8.10754420173981e-11, -1.1135002533133996e-08, 8.961096655223536e-08,
  -2.2465886550252026e-07, -2.633975726203221e-06, 3.595721882070851e-05, -0.00013617635131296478,
  -0.0023316669965852952, 0.05915361899749132, 0.1540874111691921,
];

/** The breakpoints of the pieces: |x| < 1 NEAR, < 2.5 MID, < 6 FAR, else ±1. */
export const ERF_BREAKS = { near: 1, mid: 2.5, far: 6 } as const;

/**
 * The pieces as data for emitters: for |x| below `below`, the polynomial
 * `coefs` in `u = scale · t + shift` where t is x² (NEAR), |x| (MID) or 1/|x|
 * (FAR).
 */
export const ERF_PIECES = {
  near: { coefs: ERF_NEAR, scale: 2, shift: -1 },
  mid: { coefs: ERF_MID, scale: 2 / 1.5, shift: -3.5 / 1.5 },
  far: { coefs: ERF_FAR, scale: 2 / (7 / 30), shift: -(17 / 30) / (7 / 30) },
} as const;

function horner(coefs: readonly number[], u: number): number {
  let acc = coefs[0]!;
  for (let k = 1; k < coefs.length; k++) acc = acc * u + coefs[k]!;
  return acc;
}

/**
 * The error function of a double; NaN for NaN, ±1 for ±inf, ±0 for ±0.
 *
 * @example
 * ```ts
 * erf(0.5); // 0.5204998778130465
 * ```
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a < ERF_BREAKS.near) return x * horner(ERF_NEAR, ERF_PIECES.near.scale * x * x + ERF_PIECES.near.shift);
  if (!(a < ERF_BREAKS.far)) return Number.isNaN(x) ? x : Math.sign(x);
  const q = a < ERF_BREAKS.mid
    ? horner(ERF_MID, ERF_PIECES.mid.scale * a + ERF_PIECES.mid.shift)
    : horner(ERF_FAR, ERF_PIECES.far.scale / a + ERF_PIECES.far.shift);
  const r = 1 - Math.exp(-a * a) * q;
  return x < 0 ? -r : r;
}

/**
 * `erf` as the text of a function in a C-like target language: `header` is
 * the function's first line (its argument is `x`), `lit` writes a number,
 * `decl` declares a mutable local, `abs`/`exp` name those functions.
 * Used by the JavaScript and WGSL backends so that both evaluate exactly the
 * pieces above.
 */
export function erfFunctionText(opts: {
  readonly header: string;
  readonly lit: (x: number) => string;
  readonly decl: string;
  readonly abs: string;
  readonly exp: string;
  readonly nanCheck: (a: string) => string;
  /** -1 where `x` is negative, else 1. */
  readonly signOf: (x: string) => string;
}): string {
  const { lit, decl } = opts;
  const hornerText = (coefs: readonly number[], u: string): string => {
    let s = lit(coefs[0]!);
    for (let k = 1; k < coefs.length; k++) s = `(${s} * ${u} + ${lit(coefs[k]!)})`;
    return s;
  };
  const p = ERF_PIECES;
  return [
    `${opts.header} {`,
    `  ${decl} a = ${opts.abs}(x);`,
    `  if (a < ${lit(ERF_BREAKS.near)}) {`,
    `    ${decl} u = ${lit(p.near.scale)} * x * x + ${lit(p.near.shift)};`,
    `    return x * ${hornerText(p.near.coefs, "u")};`,
    `  }`,
    `  if (${opts.nanCheck("x")}) { return x; }`,
    `  ${decl} s = ${opts.signOf("x")};`,
    `  if (a >= ${lit(ERF_BREAKS.far)}) { return s; }`,
    `  ${decl} q = ${lit(0)};`,
    `  if (a < ${lit(ERF_BREAKS.mid)}) {`,
    `    ${decl} u = ${lit(p.mid.scale)} * a + ${lit(p.mid.shift)};`,
    `    q = ${hornerText(p.mid.coefs, "u")};`,
    `  } else {`,
    `    ${decl} u = ${lit(p.far.scale)} / a + ${lit(p.far.shift)};`,
    `    q = ${hornerText(p.far.coefs, "u")};`,
    `  }`,
    `  return s * (${lit(1)} - ${opts.exp}(-a * a) * q);`,
    `}`,
  ].join("\n");
}

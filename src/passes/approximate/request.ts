/**
 * Approximation requests: what `--approx` and the API's `approx` option ask
 * for, parsed from their text form.
 *
 *     lowrank:tol=1e-4              every eligible weight, smallest rank within 1e-4
 *     lowrank:rank=8                every eligible weight at rank 8
 *     lowrank:W1:tol=1e-3           weight W1 only
 *     kron:tol=1e-5                 nearest A ⊗ B, factor shapes searched over divisors
 *     kron:W:shape=32x32,32x32      W ≈ A ⊗ B with A 32×32 and B 32×32
 *     tucker:tol=1e-4               order ≥ 3: truncated HOSVD (a core and one factor per mode)
 *     tt:tol=1e-4                   order ≥ 3: TT-SVD (a train of three-way cores)
 *
 * Several requests are separated by `;` (or given as several flags). A
 * request naming a weight overrides a general one of the same kind for it.
 */

/** The kinds of approximation: matrices (lowrank, kron) and tensors of order 3 or more (tucker, tt). */
export type ApproxKind = "lowrank" | "kron" | "tucker" | "tt";

/** One parsed request. */
export interface ApproxRequest {
  readonly kind: ApproxKind;
  /** The weight it is for; null for every eligible weight. */
  readonly weight: string | null;
  /** Relative Frobenius error bound of the weight. */
  readonly tol?: number;
  /** `lowrank`: the rank. */
  readonly rank?: number;
  /** `kron`: the factor shapes [[m1, n1], [m2, n2]] (W is m1·m2 × n1·n2). */
  readonly shape?: readonly [readonly [number, number], readonly [number, number]];
  /** The text it was parsed from. */
  readonly text: string;
}

/** A request that could not be parsed: the text and why. */
export interface RequestError {
  readonly text: string;
  readonly message: string;
}

/** The tolerance a request without `tol`, `rank` or `shape` gets. */
export const DEFAULT_TOLERANCE = 1e-3;

const KINDS: readonly ApproxKind[] = ["lowrank", "kron", "tucker", "tt"];

/**
 * Parses request text (requests separated by `;`).
 *
 * @example
 * ```ts
 * parseApproxRequests("lowrank:W1:tol=1e-3").requests[0]; // { kind: "lowrank", weight: "W1", tol: 0.001, ... }
 * parseApproxRequests("lowrank:rank=0").errors[0]!.message; // "rank must be a positive integer, got '0'"
 * ```
 */
export function parseApproxRequests(text: string): { requests: ApproxRequest[]; errors: RequestError[] } {
  const requests: ApproxRequest[] = [];
  const errors: RequestError[] = [];
  for (const raw of text.split(";")) {
    const item = raw.trim();
    if (item === "") continue;
    const parsed = parseOne(item);
    if ("message" in parsed) errors.push(parsed);
    else requests.push(parsed);
  }
  if (requests.length === 0 && errors.length === 0) errors.push({ text, message: "no approximation requested" });
  return { requests, errors };
}

function parseOne(text: string): ApproxRequest | RequestError {
  const [kindText, ...parts] = text.split(":");
  const kind = KINDS.find((k) => k === kindText);
  if (kind === undefined) return { text, message: `unknown approximation '${kindText}' (known: ${KINDS.join(", ")})` };
  let weight: string | null = null;
  let tol: number | undefined;
  let rank: number | undefined;
  let shape: ApproxRequest["shape"];
  for (const [k, part] of parts.entries()) {
    const eq = part.indexOf("=");
    if (eq < 0) {
      if (k !== 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) return { text, message: `'${part}' is neither a weight name (first, before the parameters) nor a parameter key=value` };
      weight = part;
      continue;
    }
    const key = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (key === "tol") {
      const v = Number(value);
      if (value === "" || !Number.isFinite(v) || v <= 0 || v >= 1) return { text, message: `tol must be a number in (0, 1), got '${value}'` };
      tol = v;
    } else if (key === "rank" && kind === "lowrank") {
      const v = Number(value);
      if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(v) || v < 1) return { text, message: `rank must be a positive integer, got '${value}'` };
      rank = v;
    } else if (key === "shape" && kind === "kron") {
      const m = /^([0-9]+)x([0-9]+),([0-9]+)x([0-9]+)$/.exec(value);
      const dims = m ? m.slice(1).map(Number) : [];
      if (!m || dims.some((d) => d < 1)) return { text, message: `shape must be M1xN1,M2xN2 (the shapes of A and B in A ⊗ B), got '${value}'` };
      shape = [[dims[0]!, dims[1]!], [dims[2]!, dims[3]!]];
    } else {
      const keys = kind === "lowrank" ? "tol, rank" : kind === "kron" ? "tol, shape" : "tol";
      return { text, message: `unknown parameter '${key}' of ${kind} (known: ${keys})` };
    }
  }
  if (tol === undefined && rank === undefined && shape === undefined) tol = DEFAULT_TOLERANCE;
  return { kind, weight, text, ...(tol !== undefined ? { tol } : {}), ...(rank !== undefined ? { rank } : {}), ...(shape ? { shape } : {}) };
}

/**
 * How much memory a program's tensors take, checked before any backend
 * allocates them: a size that does not fit is a diagnostic (TNS0305) at
 * compile time, not an allocation that grows until the machine stops the
 * process. The limit (docs/limits.md) is the smaller of
 * {@link MAX_PROGRAM_BYTES} and most of the memory the host has available;
 * one tensor must also fit one typed array.
 *
 * Before: `matmul.tns --size n=46340 --size k=46340 --size m=46340` on js
 * After:  error[TNS0305]: the program needs 24.00 GiB of memory ...
 */
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { numel, type DType, type Program } from "../ir/types.js";

/** The most memory one program's tensors may take, whatever the host has. */
export const MAX_PROGRAM_BYTES = 8 * 2 ** 30;

/** The most elements of one tensor (one typed array). */
export const MAX_TENSOR_ELEMENTS = 2 ** 32 - 1;

const BYTES: Readonly<Record<DType, number>> = { f32: 4, f64: 8, i32: 4 };

/** Memory the host can give now, where it can say (Node); null elsewhere (browsers). */
function availableBytes(): number | null {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  const os = get?.("node:os") as { availableMemory?: () => number; freemem?: () => number } | undefined;
  const bytes = os?.availableMemory?.() ?? os?.freemem?.();
  return typeof bytes === "number" && bytes > 0 ? bytes : null;
}

/** The limit of this host: {@link MAX_PROGRAM_BYTES}, or 3/4 of the available memory when that is less. */
export function memoryLimitBytes(): number {
  const available = availableBytes();
  return available === null ? MAX_PROGRAM_BYTES : Math.min(MAX_PROGRAM_BYTES, Math.floor(available * 0.75));
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

/**
 * A diagnostic when the tensors of `program` (each stored once, with
 * `elementBytes` per element where the backend stores every type alike,
 * as the float64 interpreter does) do not fit the limit; else null.
 *
 * @example
 * ```ts
 * memoryProblem(program, null); // null for any program of ordinary size
 * ```
 */
export function memoryProblem(program: Program, elementBytes: number | null, limit = memoryLimitBytes()): Diagnostic | null {
  let total = 0;
  let largest = program.tensors[0];
  for (const t of program.tensors) {
    if (t.role === "call") continue;
    const n = numel(t.shape);
    total += n * (elementBytes ?? BYTES[t.dtype]);
    if (largest === undefined || n > numel(largest.shape)) largest = t;
    if (n > MAX_TENSOR_ELEMENTS) {
      return {
        code: "TNS0305", severity: "error", notes: [],
        message: `tensor '${t.name}' has ${n} elements [${t.shape.join(", ")}], more than one array can hold (${MAX_TENSOR_ELEMENTS})`,
        hint: "use smaller sizes (--size or the `sizes` option)",
      };
    }
  }
  if (total <= limit) return null;
  const what = largest ? `; the largest tensor is '${largest.name}' [${largest.shape.join(", ")}]` : "";
  return {
    code: "TNS0305", severity: "error", notes: [],
    message: `the program needs ${gib(total)} of memory for its tensors, more than the limit of ${gib(limit)}${what}`,
    hint: `use smaller sizes (--size or the \`sizes\` option); the limit is ${gib(MAX_PROGRAM_BYTES)} or 3/4 of the memory available, whichever is less`,
  };
}

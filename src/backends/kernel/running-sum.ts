/**
 * The type in which a backend's kernel for a reduction keeps its running
 * sum, element by element, when it adds the terms one at a time in order;
 * null when it groups them. A sum sliced into partial sums, each resuming
 * from the one before (IR invariant 12), gives the whole kernel's bits when
 * the partial sums are kept in that type (`passes/slice-batch.ts`):
 *
 * - js: its products and its scalar accumulators keep float64 and round
 *   once at the store; a loop nest that sums into its output (`fill`, then
 *   `+=` at the output's element) rounds to the output's type every step;
 * - wasm: the float32 micro-kernel keeps float32 lanes in `k` order (a
 *   skinny form groups the terms: null); its loop nests as js's;
 * - a product with a scale applies it after the sum (the slices cannot), and
 *   a loop nest other than a bare sum may move factors into its terms.
 *
 *     runningSumType(kernelOf("dW[k, j] = sum(i) X[i, k] * G[i, j]"), def, "wasm"); // "f32"
 *     runningSumType(kernelOf("db[j] = sum(i) G[i, j]"), def, "js");                // "f32": summed into db
 */
import type { DefNode, DType, Program } from "../../ir/types.js";
import { lowerToKernels } from "./lower.js";
import { skinnyPlan } from "./skinny.js";
import type { Kernel } from "./types.js";

/**
 * The running sum's type of `kernel`, the kernel of `def` on `backend`
 * (`js` or `wasm`; any other backend: null).
 *
 * @example
 * ```ts
 * runningSumType(kernel, def, "js"); // "f64" for a product
 * ```
 */
export function runningSumType(kernel: Kernel, def: DefNode, backend: string): DType | null {
  if (backend !== "js" && backend !== "wasm") return null;
  const product = kernel.contraction ?? kernel.epilogueContraction?.contraction;
  if (product !== undefined) {
    if (product.scale !== undefined) return null;
    if (backend === "js") return "f64";
    // wasm: the float32 micro-kernel; a skinny form groups the terms; a float64 product runs the loop nest below.
    if (def.dtype === "f32") return skinnyPlan(product) === null ? "f32" : null;
  }
  if (kernel.sequential !== undefined || kernel.scatterAdd !== undefined || kernel.onlineSoftmax !== undefined) return null;
  // A loop nest: only a bare sum (factors around it may move into its terms as it is lowered, `sumOutermost`).
  if (def.body.kind !== "reduce" || def.body.op !== "sum") return null;
  return kernel.body.some((s) => s.kind === "fill" && s.buffer === def.name) ? def.dtype : "f64";
}

/**
 * {@link runningSumType} for every def of `program` on `backend`, from the
 * kernels it lowers to (null for a name it does not define).
 *
 * @example
 * ```ts
 * runningSums(trainStep, "wasm")(dW2); // "f32"
 * ```
 */
export function runningSums(program: Program, backend: string): (def: DefNode) => DType | null {
  const kernels = new Map(lowerToKernels(program).kernels.map((k) => [k.target, k]));
  return (def) => {
    const kernel = kernels.get(def.name);
    return kernel === undefined ? null : runningSumType(kernel, def, backend);
  };
}

/**
 * Lowers an inlined program to the kernel IR: one buffer per tensor and one
 * loop nest per def, in program order.
 *
 *     before: input A[4, 8]; input B[8, 3]; output C[i, j] = A[i, k] * B[k, j]
 *     after:  buffers A (input), B (input), C (output)
 *             kernel C: fill C = 0; for i: for k: t0 = A[8*i + k]; for j: C[3*i + j] += t0 * B[3*k + j]
 */
import { scatterAddOf } from "./scatter-add.js";
import { resumedSumForm } from "../../ir/resume.js";
import { InternalCompilerError } from "../../diagnostics/diagnostic.js";
import type { DefNode, Program } from "../../ir/types.js";
import { numel } from "../../ir/types.js";
import { matchContraction, matchEpilogueContraction } from "./contraction.js";
import { lowerDef, lowerOnlineSoftmax, type LowerDefOptions } from "./lower-def.js";
import { lowerSplitDef } from "./lower-split.js";
import { blockedAttentionOf, matchOnlineSoftmax } from "./online-softmax.js";
import { sumOutermost } from "./reassociate.js";
import type { Contraction, Kernel, KernelBuffer, KernelProgram } from "./types.js";

/**
 * Lowers a program whose calls have been inlined. `options` choose the loop
 * order of every def's general nest (see {@link LowerDefOptions}).
 *
 * @throws InternalCompilerError when the program still holds a call node
 * @example
 * ```ts
 * const kp = lowerToKernels(parseProgramText("input A[2, 3]\noutput S[i] = sum(j) A[i, j]"));
 * kp.kernels[0].loopOrder; // ["i", "j"]
 * ```
 */
export function lowerToKernels(program: Program, options: LowerDefOptions = {}): KernelProgram {
  const shapes = new Map<string, readonly number[]>();
  const dtypes = new Map<string, string>();
  const buffers: KernelBuffer[] = [];
  const kernels: Kernel[] = [];
  const inputs: string[] = [];
  const outputs: string[] = [];
  for (const node of program.tensors) {
    if (node.role === "call") throw new InternalCompilerError(`call node ${node.name} reached the backend; inline calls first`);
    if (node.role === "grad") throw new InternalCompilerError(`grad node ${node.name} reached the backend; differentiate first`);
    shapes.set(node.name, node.shape);
    dtypes.set(node.name, node.dtype);
    const base = { name: node.name, dtype: node.dtype, shape: [...node.shape], size: numel(node.shape) };
    if (node.output) outputs.push(node.name);
    switch (node.role) {
      case "input":
        inputs.push(node.name);
        buffers.push({ ...base, role: "input" });
        break;
      case "weight":
        buffers.push({ ...base, role: "weight", data: node.data });
        break;
      case "def": {
        buffers.push({ ...base, role: node.output ? "output" : "temp" });
        const online = matchOnlineSoftmax(node);
        if (online) {
          const blocked = blockedAttentionOf(node, online, shapes, (b) => dtypes.get(b) ?? "");
          kernels.push({ ...lowerOnlineSoftmax(node, online, shapes), onlineSoftmax: online, ...(blocked ? { blockedAttention: blocked } : {}) });
          break;
        }
        // A resumed sum (IR invariant 12) is one loop nest that starts from its start's element.
        if (node.resumed) {
          const kernel = lowerDef(node, shapes, options);
          // As a product (the backends' register-blocked kernels, whose sums start from the start's elements); not
          // with the outputs outermost (one GPU thread per element: its loop nest is the product there).
          const product = options.outputsOuter === true ? null : resumedProductOf(node, shapes);
          kernels.push(product !== null ? { ...kernel, contraction: product } : kernel);
          break;
        }
        const def = { ...node, body: sumOutermost(node.body) };
        // Index-set splitting (padding reads cut into interior and border pieces); with
        // the outputs outermost (one GPU thread per element) the whole def is one nest.
        if (node.split !== undefined && node.recurrence === undefined && node.scatter === undefined && options.outputsOuter !== true) {
          kernels.push(lowerSplitDef(def, shapes, options));
          break;
        }
        const kernel = lowerDef(def, shapes, options);
        // A recurrence is never one product: its steps run in order (Kernel.sequential).
        const contraction = node.recurrence === undefined ? matchContraction(def, shapes) : null;
        // The epilogue form is matched on the def as written: `sumOutermost`
        // would pull the epilogue's factors into the sum.
        const epilogueContraction = contraction || node.recurrence !== undefined ? null : matchEpilogueContraction(node, shapes);
        const scatterAdd = node.scatter === undefined ? null : scatterAddOf(node, shapes);
        if (contraction) kernels.push({ ...kernel, contraction });
        else if (epilogueContraction) kernels.push({ ...kernel, epilogueContraction });
        else if (scatterAdd) kernels.push({ ...kernel, scatterAdd });
        else kernels.push(kernel);
        break;
      }
    }
  }
  const donated = (program.donated ?? []).filter((d) => inputs.includes(d));
  return donated.length > 0 ? { buffers, kernels, inputs, outputs, donated } : { buffers, kernels, inputs, outputs };
}

/**
 * The program with every input kept (its `donated` list dropped): for code
 * whose loader or buffer pool reads inputs in place (standalone modules,
 * WebGPU), where a donated input's storage must not be reused.
 *
 * @example
 * ```ts
 * lowerToKernels(withoutDonation(program)).donated; // undefined
 * ```
 */
export function withoutDonation(program: Program): Program {
  if (program.donated === undefined) return program;
  const { donated: _, ...kept } = program;
  return kept;
}

/**
 * The plain matrix product a def computes (`Kernel.contraction`), or null.
 *
 * @example
 * ```ts
 * matrixProductOf(matmul, shapes)?.m; // 4 for C[i, j] = A[i, k] * B[k, j] with A[4, 8]
 * ```
 */
export function matrixProductOf(def: DefNode, shapes: ReadonlyMap<string, readonly number[]>): Contraction | null {
  return matchContraction({ ...def, body: sumOutermost(def.body) }, shapes);
}

/** A resumed sum (IR invariant 12) of a product without a scale, as a product whose sums start from the start's elements; else null. */
function resumedProductOf(def: DefNode, shapes: ReadonlyMap<string, readonly number[]>): Contraction | null {
  const form = resumedSumForm(def);
  const product = form === null ? null : matchContraction({ ...def, resumed: undefined, body: form.sum }, shapes);
  return product === null || product.scale !== undefined ? null : { ...product, start: form!.from };
}

/**
 * How the backends run a def: as a register-blocked matrix product, plain
 * (`Kernel.contraction`) or with an elementwise epilogue
 * (`Kernel.epilogueContraction`), or as a general loop nest. `shapes` gives
 * the shape of every tensor the def reads.
 *
 * @example
 * ```ts
 * kernelForm(denseLayer, shapes); // "matrix-product-epilogue" for relu(sum(k) X[i, k] * W[k, j] + b[j])
 * ```
 */
export function kernelForm(def: DefNode, shapes: ReadonlyMap<string, readonly number[]>): "matrix-product" | "matrix-product-epilogue" | "online-softmax" | "loop-nest" | "recurrence" {
  // A recurrence is a loop nest whose outermost loop runs its steps in order (Kernel.sequential).
  if (def.recurrence !== undefined) return "recurrence";
  if (def.resumed) return resumedProductOf(def, shapes) !== null ? "matrix-product" : "loop-nest";
  if (matchOnlineSoftmax(def)) return "online-softmax";
  if (matchContraction({ ...def, body: sumOutermost(def.body) }, shapes)) return "matrix-product";
  return matchEpilogueContraction(def, shapes) ? "matrix-product-epilogue" : "loop-nest";
}

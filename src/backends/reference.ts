/**
 * The reference backend: runs the IR with the float64 interpreter and stores
 * outputs in their declared element types. It is the oracle every other
 * backend is compared with, and a `--backend reference` for users who want
 * float64 answers without code generation.
 */
import type { Program } from "../ir/types.js";
import { interpret } from "../ir/interpret.js";
import { Tensor } from "../runtime/tensor.js";
import { checkRunInputs } from "../runtime/executable.js";
import type { Backend } from "./backend.js";

/** The reference (interpreter) backend. */
export const referenceBackend: Backend = {
  name: "reference",
  compile(program: Program) {
    return {
      code: "",
      executable: {
        run(inputs: Record<string, Tensor> = {}) {
          checkRunInputs(program, inputs);
          const out = interpret(program, inputs);
          const typed: Record<string, Tensor> = {};
          for (const t of program.tensors) if (t.output) typed[t.name] = out[t.name]!.astype(t.dtype);
          return typed;
        },
      },
    };
  },
};

/**
 * `tns einsum SPEC A.npy B.npy ... [-o OUT.npy]`: NumPy's einsum on .npy files.
 */
import { loadBackend } from "../../backends/index.js";
import { einsumWith } from "../../einsum/index.js";
import { parseCommandArgs, UsageError } from "../args.js";
import { readTensorFile, summarize, writeOutputs } from "../io.js";
import { EXIT, backendOption, type Terminal } from "./common.js";

/** Help text of `tns einsum`. */
export const EINSUM_HELP = `Usage: tns einsum SPEC FILE.npy [FILE.npy ...] [options]

Evaluate a NumPy einsum specification ("ij,jk->ik", "ii", "...ij,...jk") on
.npy operands, compiled through the tns pipeline.

Options:
  -o, --output FILE     write the result to a .npy file
  --backend NAME        js (default), wasm or reference
  -O0, --no-optimize    skip the optimizing passes
  -h, --help            show this help`;

/** Runs `tns einsum`. */
export async function einsumCommand(argv: string[], term: Terminal): Promise<number> {
  const { values, positionals } = parseCommandArgs("einsum", argv, {
    output: { type: "string", short: "o" },
    backend: { type: "string" },
    "no-optimize": { type: "boolean" },
    O0: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values["help"]) {
    term.out(EINSUM_HELP);
    return EXIT.ok;
  }
  if (positionals.length < 2) throw new UsageError("expected a specification and at least one .npy operand", "einsum");
  const [spec, ...files] = positionals as [string, ...string[]];
  const output = values["output"] as string | undefined;
  if (output && !/\.npy$/i.test(output)) throw new UsageError(`-o expects a .npy file name, got '${output}'`, "einsum");
  const backend = backendOption(values["backend"] as string | undefined, "js", "einsum");
  const operands = files.map(readTensorFile);
  await loadBackend(backend);
  const result = einsumWith(spec, operands, { backend, optimize: !(values["O0"] || values["no-optimize"]) });
  term.out(summarize("result", result));
  if (output) writeOutputs(output, { result }, "einsum");
  return EXIT.ok;
}

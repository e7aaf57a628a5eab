/**
 * `tns check FILE`: diagnostics only; no code is generated.
 */
import { check } from "../../compiler.js";
import { parseCommandArgs, parseSizeOptions } from "../args.js";
import { readText, readTensorArchive } from "../io.js";
import { EXIT, reportDiagnostics, sourceFileArg, type Terminal } from "./common.js";

/** Help text of `tns check`. */
export const CHECK_HELP = `Usage: tns check FILE [options]

Parse and check a .tns program and print its diagnostics. Exit code 0 when it
has no errors (warnings are printed), 1 when it has errors.

Options:
  --size NAME=N       override a size default (repeatable)
  --weights FILE      weight data from a .npz file (checks their shapes)
  -h, --help          show this help`;

/** Runs `tns check`. */
export function checkCommand(argv: string[], term: Terminal): number {
  const { values, positionals } = parseCommandArgs("check", argv, {
    size: { type: "string", multiple: true },
    weights: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values["help"]) {
    term.out(CHECK_HELP);
    return EXIT.ok;
  }
  const file = sourceFileArg(positionals, "check");
  const sizes = parseSizeOptions(values["size"] as string[] | undefined, "check");
  const weights = values["weights"] ? readTensorArchive(values["weights"] as string) : {};
  const { program, diagnostics, sources } = check(readText(file), { file, sizes, weights });
  reportDiagnostics(term, diagnostics, sources);
  if (!program) return EXIT.diagnostics;
  const inputs = program.tensors.filter((t) => t.role === "input" || t.role === "weight").length;
  const outputs = program.tensors.filter((t) => t.output).length;
  const warnings = diagnostics.filter((d) => d.severity === "warning").length;
  term.out(`${file}: ok (${inputs} input${inputs === 1 ? "" : "s"}, ${outputs} output${outputs === 1 ? "" : "s"}${warnings ? `, ${warnings} warning${warnings === 1 ? "" : "s"}` : ""})`);
  return EXIT.ok;
}

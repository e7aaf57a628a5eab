/**
 * `tns compile FILE --target js -o DIR`: writes the emitted module (with its
 * standalone loader), manifest.json and the optimized IR text. Every file is
 * generated in memory first and written through a rename, so a failure never
 * leaves partial output.
 */
import { basename, extname, join } from "node:path";
import { emitJsModule } from "../../backends/js/module.js";
import { printProgram } from "../../ir/print.js";
import { parseCommandArgs, UsageError } from "../args.js";
import { writeFileAtomic } from "../io.js";
import { COMPILE_OPTIONS, EXIT, compileFile, reportDiagnostics, sourceFileArg, type Terminal } from "./common.js";

/** Help text of `tns compile`. */
export const COMPILE_HELP = `Usage: tns compile FILE --target js -o DIR [options]

Compile a .tns program and write to DIR:
  NAME.mjs        the emitted kernels and a standalone loader: import { run, manifest }
  manifest.json   inputs, outputs and buffers (names, shapes, element types)
  NAME.ir.txt     the optimized IR

Options:
  --target NAME       js (the only code target so far; default js)
  -o, --out-dir DIR   output folder (created if missing)
  --size NAME=N       override a size default (repeatable)
  --weights FILE      weight data from a .npz file, embedded in the module
  -O0, --no-optimize  skip the optimizing passes
  -h, --help          show this help`;

/** Runs `tns compile`. */
export function compileCommand(argv: string[], term: Terminal): number {
  const { values, positionals } = parseCommandArgs("compile", argv, {
    ...COMPILE_OPTIONS,
    target: { type: "string" },
    "out-dir": { type: "string", short: "o" },
  });
  if (values["help"]) {
    term.out(COMPILE_HELP);
    return EXIT.ok;
  }
  const file = sourceFileArg(positionals, "compile");
  const target = (values["target"] as string | undefined) ?? "js";
  if (target !== "js") throw new UsageError(`unknown target '${target}' (available: js)`, "compile");
  const outDir = values["out-dir"] as string | undefined;
  if (!outDir) throw new UsageError("missing -o DIR (the output folder)", "compile");
  const { result } = compileFile(file, values, "compile", { backend: "js", randomData: false, seed: 1 });
  reportDiagnostics(term, result.diagnostics, result.sources);
  if (!result.ok || !result.ir) return EXIT.diagnostics;
  const name = basename(file, extname(file)).replace(/[^A-Za-z0-9_.-]/g, "_") || "program";
  const { module, manifest } = emitJsModule(result.ir, name);
  const files: Array<[string, string]> = [
    [join(outDir, `${name}.mjs`), module],
    [join(outDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n"],
    [join(outDir, `${name}.ir.txt`), printProgram(result.ir)],
  ];
  for (const [path, text] of files) writeFileAtomic(path, text);
  for (const [path] of files) term.out(`wrote ${path}`);
  return EXIT.ok;
}

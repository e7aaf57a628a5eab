/**
 * `tns compile FILE --target js|wasm -o DIR`: writes the emitted module (with
 * its standalone loader), manifest.json and the optimized IR text. Every file
 * is generated in memory first and the set is written all or nothing
 * (`writeFilesAtomic`), so a failure never leaves partial output.
 */
import { basename, extname, join } from "node:path";
import { emitJsModule } from "../../backends/js/module.js";
import type { Program } from "../../ir/types.js";
import { printProgram } from "../../ir/print.js";
import { parseCommandArgs, UsageError } from "../args.js";
import { checkOutputPath, writeFilesAtomic } from "../io.js";
import {
  COMPILE_OPTIONS, EXIT, compileFile, reportDiagnostics, reportVerification, sourceFileArg, type Terminal,
} from "./common.js";

/** Help text of `tns compile`. */
export const COMPILE_HELP = `Usage: tns compile FILE --target js|wasm -o DIR [options]

Compile a .tns program and write to DIR, for --target js (the default):
  NAME.mjs        the emitted kernels and a standalone loader: import { run, manifest }
  manifest.json   inputs, outputs and buffers (names, shapes, element types)
  NAME.ir.txt     the optimized IR
for --target wasm:
  NAME.wasm       the WebAssembly module (SIMD128; imports env.memory and host Math functions)
  NAME.mjs        a standalone loader: const { run } = await load(); run({ A, B })
  manifest.json   buffers with arena offsets, sizes and element types, inputs,
                  outputs, memory pages and imports
  NAME.wat        the module's text format (with --emit wat)
  NAME.ir.txt     the optimized IR

Options:
  --target NAME       js (default) or wasm
  -o, --out-dir DIR   output folder (created if missing)
  --emit wat          with --target wasm, also write the text format
  --size NAME=N       override a size default (repeatable)
  --weights FILE      weight data from a .npz file, embedded in the module
  -O0, --no-optimize  skip the optimizing passes
  --verify            check the optimized program against the unoptimized one, and the
                      js backend against the reference interpreter, on random data
  -h, --help          show this help`;

/** Runs `tns compile`. */
export async function compileCommand(argv: string[], term: Terminal): Promise<number> {
  const { values, positionals } = parseCommandArgs("compile", argv, {
    ...COMPILE_OPTIONS,
    target: { type: "string" },
    "out-dir": { type: "string", short: "o" },
    emit: { type: "string" },
  });
  if (values["help"]) {
    term.out(COMPILE_HELP);
    return EXIT.ok;
  }
  const file = sourceFileArg(positionals, "compile");
  const target = (values["target"] as string | undefined) ?? "js";
  if (target !== "js" && target !== "wasm") throw new UsageError(`unknown target '${target}' (available: js, wasm)`, "compile");
  const emit = values["emit"] as string | undefined;
  if (emit !== undefined && (emit !== "wat" || target !== "wasm")) {
    throw new UsageError(`--emit ${emit}: only --emit wat, with --target wasm, is supported`, "compile");
  }
  const outDir = values["out-dir"] as string | undefined;
  if (!outDir) throw new UsageError("missing -o DIR (the output folder)", "compile");
  checkOutputPath(outDir, "folder");
  const { result } = compileFile(file, values, "compile", { backend: "js", randomData: false, seed: 1 });
  reportDiagnostics(term, result.diagnostics, result.sources);
  if (!result.ok || !result.ir) return EXIT.diagnostics;
  reportVerification(term, result);
  const name = basename(file, extname(file)).replace(/[^A-Za-z0-9_.-]/g, "_") || "program";
  const files = target === "wasm" ? await wasmFiles(result.ir, name, emit === "wat") : jsFiles(result.ir, name);
  files.push([`${name}.ir.txt`, printProgram(result.ir)]);
  writeFilesAtomic(outDir, files);
  for (const [file] of files) term.out(`wrote ${join(outDir, file)}`);
  return EXIT.ok;
}

type OutputFile = [name: string, content: string | Uint8Array];

function jsFiles(ir: Program, name: string): OutputFile[] {
  const { module, manifest } = emitJsModule(ir, name);
  return [[`${name}.mjs`, module], ["manifest.json", JSON.stringify(manifest, null, 2) + "\n"]];
}

/** The wasm build; binaryen is loaded only for this target. */
async function wasmFiles(ir: Program, name: string, wat: boolean): Promise<OutputFile[]> {
  const { loadBinaryen } = await import("../../backends/wasm/binaryen.js");
  const { emitWasmModule } = await import("../../backends/wasm/module.js");
  const built = emitWasmModule(await loadBinaryen(), ir, name, { wat });
  const files: OutputFile[] = [
    [`${name}.wasm`, built.binary],
    [`${name}.mjs`, built.loader],
    ["manifest.json", JSON.stringify(built.manifest, null, 2) + "\n"],
  ];
  if (built.wat !== null) files.push([`${name}.wat`, built.wat]);
  return files;
}

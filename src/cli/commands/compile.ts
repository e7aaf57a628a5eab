/**
 * `tns compile FILE --target js|wasm -o DIR`: writes the emitted module (with
 * its standalone loader), manifest.json and the optimized IR text. Every file
 * is generated in memory first and the set is written all or nothing
 * (`writeFilesAtomic`), so a failure never leaves partial output.
 */
import { basename, extname, join } from "node:path";
import { emitJsModule } from "../../backends/js/module.js";
import { emitWgslModule } from "../../backends/wgsl/module.js";
import type { Program } from "../../ir/types.js";
import { printProgram } from "../../ir/print.js";
import { APPROX_HELP } from "./approx-report.js";
import { parseCommandArgs, parseMemoryBudget, UsageError } from "../args.js";
import { loadBackend } from "../../backends/index.js";
import { loadMilpSolver } from "../../passes/rematerialize.js";
import { checkOutputPath, writeFilesAtomic } from "../io.js";
import {
  MAX_INTERMEDIATE_OPTION, parseMaxIntermediate, COMPILE_OPTIONS, EXIT, MEMORY_BUDGET_HELP, MEMORY_BUDGET_OPTION, compileFile, reportDiagnostics, reportVerification, sourceFileArg, type Terminal,
} from "./common.js";

/** Help text of `tns compile`. */
export const COMPILE_HELP = `Usage: tns compile FILE --target js|wasm|wgsl -o DIR [options]

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
for --target wgsl:
  NAME.KERNEL.wgsl  one WebGPU compute shader per dispatch
  NAME.mjs        a standalone loader (shaders and weights embedded):
                  const p = await load(device); await p.run({ A, B })
  manifest.json   buffers (sizes, element types), and per dispatch, in the
                  order they run: its file, bindings, workgroup size and grid
  NAME.ir.txt     the optimized IR

Options:
  --target NAME       js (default), wasm or wgsl
  -o, --out-dir DIR   output folder (created if missing)
  --emit wat          with --target wasm, also write the text format
  --size NAME=N       override a size default (repeatable)
  --weights FILE      weight data from a .npz file, embedded in the module
  -O0, --no-optimize  skip the optimizing passes
${MEMORY_BUDGET_HELP.replace(/^ {2}--memory-budget B {5}/, "  --memory-budget B   ").replace(/\n {24}/g, "\n                      ")}
  --max-intermediate B
                      the most memory one tensor a contraction forms may take (64KiB, 64MiB,
                      or bytes): a contraction with a larger intermediate runs slice by slice
${APPROX_HELP.replace(/^ {2}--approx SPEC {9}/, "  --approx SPEC       ").replace(/\n {24}/g, "\n                      ")}
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
    ...MEMORY_BUDGET_OPTION,
    ...MAX_INTERMEDIATE_OPTION,
  });
  if (values["help"]) {
    term.out(COMPILE_HELP);
    return EXIT.ok;
  }
  const file = sourceFileArg(positionals, "compile");
  const target = (values["target"] as string | undefined) ?? "js";
  if (target !== "js" && target !== "wasm" && target !== "wgsl") throw new UsageError(`unknown target '${target}' (available: js, wasm, wgsl)`, "compile");
  const emit = values["emit"] as string | undefined;
  if (emit !== undefined && (emit !== "wat" || target !== "wasm")) {
    throw new UsageError(`--emit ${emit}: only --emit wat, with --target wasm, is supported`, "compile");
  }
  const outDir = values["out-dir"] as string | undefined;
  if (!outDir) throw new UsageError("missing -o DIR (the output folder)", "compile");
  checkOutputPath(outDir, "folder");
  const memoryBudget = parseMemoryBudget(values["memory-budget"] as string | undefined, "compile");
  const maxIntermediateBytes = parseMaxIntermediate(values["max-intermediate"] as string | undefined, "compile");
  // Under a budget, the memory is planned for the target (a standalone wasm module runs on one thread).
  const backend = memoryBudget !== undefined && target === "wasm" ? "wasm" : "js";
  if (memoryBudget !== undefined) await Promise.all([loadBackend(backend), loadMilpSolver()]);
  const { result } = await compileFile(file, values, "compile", {
    backend, randomData: false, seed: 1, memoryBudget, maxIntermediateBytes, threads: backend === "wasm" ? 1 : undefined,
  });
  reportDiagnostics(term, result.diagnostics, result.sources);
  if (!result.ok || !result.ir) return EXIT.diagnostics;
  reportVerification(term, result);
  const name = basename(file, extname(file)).replace(/[^A-Za-z0-9_.-]/g, "_") || "program";
  const files = target === "wasm" ? await wasmFiles(result.ir, name, emit === "wat") : target === "wgsl" ? wgslFiles(result.ir, name) : jsFiles(result.ir, name);
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

function wgslFiles(ir: Program, name: string): OutputFile[] {
  const { manifest, loader, shaders } = emitWgslModule(ir, name);
  return [...shaders.map(([file, text]): OutputFile => [file, text]), [`${name}.mjs`, loader], ["manifest.json", JSON.stringify(manifest, null, 2) + "\n"]];
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

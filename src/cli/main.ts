/**
 * The `tns` command: dispatches to one file per command and turns every
 * user-caused failure into a message and an exit code, never a stack trace.
 *
 * Commands are imported only when they run: each one pulls in the whole
 * compiler (parser, passes, backends), which `tns --help` and
 * `tns --version` do not need.
 *
 *     tns --help    loads main.js, args.js, version.js      (no compiler)
 *     tns run x.tns loads the above, then commands/run.js   (the compiler)
 */
import { CompileError, InternalCompilerError } from "../diagnostics/diagnostic.js";
import { renderDiagnostics } from "../diagnostics/render.js";
import { UsageError } from "./args.js";
import type { Terminal } from "./commands/common.js";
import { EXIT } from "./exit.js";
import { VERSION } from "../version.js";


/** A command's entry point and full help, loaded when it is used. */
interface LoadedCommand {
  readonly run: (argv: string[], term: Terminal) => number | Promise<number>;
  readonly help: string;
}

const COMMANDS: Record<string, { load: () => Promise<LoadedCommand>; summary: string }> = {
  run: {
    load: async () => import("./commands/run.js").then((m) => ({ run: m.runCommand, help: m.RUN_HELP })),
    summary: "compile and run a program, print its outputs",
  },
  check: {
    load: async () => import("./commands/check.js").then((m) => ({ run: m.checkCommand, help: m.CHECK_HELP })),
    summary: "report diagnostics only",
  },
  compile: {
    load: async () => import("./commands/compile.js").then((m) => ({ run: m.compileCommand, help: m.COMPILE_HELP })),
    summary: "emit code, a manifest and a loader to a folder",
  },
  einsum: {
    load: async () => import("./commands/einsum.js").then((m) => ({ run: m.einsumCommand, help: m.EINSUM_HELP })),
    summary: "NumPy einsum on .npy files",
  },
  explain: {
    load: async () => import("./commands/explain.js").then((m) => ({ run: m.explainCommand, help: m.EXPLAIN_HELP })),
    summary: "what each optimizing pass did and what it saved",
  },
  path: {
    load: async () => import("./commands/path.js").then((m) => ({ run: m.pathCommand, help: m.PATH_HELP })),
    summary: "the contraction path of an einsum over given shapes",
  },
  lsp: { load: async () => import("./commands/lsp.js").then((m) => ({ run: m.lspCommand, help: m.LSP_HELP })), summary: "the language server, for editors (stdio)" },
};

/** The top-level help text. */
export const MAIN_HELP = `tns ${VERSION}: a tensor language in index notation and its optimizing compiler

Usage: tns COMMAND [options]

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`).join("\n")}
  help CMD  show a command's help

Examples:
  tns run examples/attention.tns --random-inputs
  tns run model.tns --size n=1024 --input Q=q.npy -o out.npz
  tns check model.tns
  tns compile model.tns --target js -o build/
  tns einsum "ij,jk->ik" a.npy b.npy -o c.npy
  tns explain examples/tensor_train.tns
  tns path "ij,jk,kl->il" --shapes 64x64,64x64,64x8

Run 'tns COMMAND --help' for a command's options.`;

/**
 * Runs the CLI with arguments (without `node` and the script) and returns the exit code.
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * await main(["--version"], { out: (l) => lines.push(l), err: (l) => lines.push(l), color: false }); // 0
 * ```
 */
export async function main(argv: string[], term: Terminal = processTerminal()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === "--help" || command === "-h") {
      term.out(MAIN_HELP);
      return command === undefined ? EXIT.usage : EXIT.ok;
    }
    if (command === "--version" || command === "-v") {
      term.out(VERSION);
      return EXIT.ok;
    }
    if (command === "help") {
      const topic = rest[0];
      if (topic === undefined) term.out(MAIN_HELP);
      else if (COMMANDS[topic]) term.out((await COMMANDS[topic].load()).help);
      else throw new UsageError(`unknown command '${topic}'`);
      return EXIT.ok;
    }
    const entry = COMMANDS[command];
    if (!entry) throw new UsageError(`unknown command '${command}'`);
    const { run } = await entry.load();
    return await run(rest, term);
  } catch (e) {
    return await reportFailure(e, term);
  }
}

async function reportFailure(e: unknown, term: Terminal): Promise<number> {
  // io.js reads .npy/.npz and loads a zip library: only a failure needs its error class.
  const { DataFileError } = await import("./io.js");
  if (e instanceof UsageError) {
    term.err(`error: ${e.message}`);
    term.err(e.command ? `Run 'tns ${e.command} --help' for usage.` : "Run 'tns --help' for usage.");
    return EXIT.usage;
  }
  if (e instanceof CompileError) {
    term.err(renderDiagnostics(e.diagnostics, () => undefined, { color: term.color }).trimEnd());
    return EXIT.diagnostics;
  }
  if (e instanceof DataFileError) {
    const diagnostic = {
      code: e.code, severity: "error" as const, message: e.message, notes: [], ...(e.hint ? { hint: e.hint } : {}), ...(e.span ? { span: e.span } : {}),
    };
    term.err(renderDiagnostics([diagnostic], () => undefined, { color: term.color }).trimEnd());
    return EXIT.diagnostics;
  }
  if (e instanceof InternalCompilerError) {
    term.err(`${e.message}\nThis is a bug in tns; please report it with the program that triggered it.`);
    return EXIT.internal;
  }
  const message = e instanceof Error ? e.message : String(e);
  term.err(`internal compiler error: ${message}\nThis is a bug in tns; please report it with the program that triggered it.`);
  return EXIT.internal;
}

function processTerminal(): Terminal {
  return {
    out: (line) => process.stdout.write(line + "\n"),
    err: (line) => process.stderr.write(line + "\n"),
    color: Boolean(process.stderr.isTTY) && !process.env["NO_COLOR"],
  };
}

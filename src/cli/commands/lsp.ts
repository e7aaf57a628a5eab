/**
 * `tns lsp`: the language server over stdio, for editors (VS Code through
 * editors/vscode, or any LSP client). It runs until the client sends `exit`.
 */
import { parseCommandArgs, UsageError } from "../args.js";
import { EXIT, type Terminal } from "./common.js";

/** Help text of `tns lsp`. */
export const LSP_HELP = `Usage: tns lsp [options]

Run the tns language server on stdin/stdout (the Language Server Protocol,
JSON-RPC with Content-Length framing). An editor starts it; it is not meant
to be typed at. It offers the compiler's diagnostics as you type (the codes,
ranges and hints of 'tns check'), hover (shapes, element types, extents,
FLOPs and what the optimizer did), go to definition (into stdlib and
imported files), completion, document symbols and rename.

Options:
  --stdio             talk over stdin/stdout (the default; accepted for clients that pass it)
  --debounce MS       publish diagnostics MS milliseconds after the last edit (default 200)
  -h, --help          show this help`;

/** Runs `tns lsp`: resolves only when the connection ends (the server exits the process on 'exit'). */
export async function lspCommand(argv: string[], term: Terminal): Promise<number> {
  const { values, positionals } = parseCommandArgs("lsp", argv, {
    stdio: { type: "boolean" },
    debounce: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values["help"]) {
    term.out(LSP_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`, "lsp");
  const debounce = values["debounce"] === undefined ? 200 : Number(values["debounce"]);
  if (!Number.isInteger(debounce) || debounce < 0) throw new UsageError(`--debounce wants a whole number of milliseconds, got '${String(values["debounce"])}'`, "lsp");
  const { createConnection, ProposedFeatures } = await import("vscode-languageserver/node.js");
  const { startLanguageServer } = await import("../../lsp/server.js");
  const connection = createConnection(ProposedFeatures.all, process.stdin, process.stdout);
  startLanguageServer(connection, { debounceMs: debounce });
  return new Promise<number>((resolve) => connection.onExit(() => resolve(EXIT.ok)));
}

/**
 * The tns language server: the compiler's diagnostics as the user types,
 * hover, go to definition, completion, document symbols and rename, over
 * any connection `vscode-languageserver` offers (`tns lsp` uses stdio).
 * Each open document is analysed again after an edit once the user pauses
 * (debounced per document); requests analyse the current text on demand.
 *
 *     client -> didOpen / didChange      server -> publishDiagnostics (after `debounceMs`)
 *     client -> hover, definition, ...  server -> answers from analyze(text)
 */
import { type Connection, TextDocuments, TextDocumentSyncKind, type InitializeResult } from "vscode-languageserver";
import { TextDocument } from "vscode-languageserver-textdocument";
import { VERSION } from "../version.js";
import { analyze, overlayLoader, type Analysis } from "./analysis.js";
import { completionsAt } from "./completion.js";
import { definitionAt } from "./definition.js";
import { documentDiagnostics } from "./diagnostics.js";
import { documentSymbols } from "./document-symbols.js";
import { hoverAt } from "./hover.js";
import { fileOfUri, offsetAt } from "./locations.js";
import { prepareRename, renameAt } from "./rename.js";

/** Options of {@link startLanguageServer}. */
export interface LanguageServerOptions {
  /** How long after the last edit a document's diagnostics are published, in ms (default 200). */
  readonly debounceMs?: number;
}

/**
 * Serves the language on a connection until the client says `exit`.
 *
 * @example
 * ```ts
 * import { createConnection, ProposedFeatures } from "vscode-languageserver/node.js";
 * startLanguageServer(createConnection(ProposedFeatures.all, process.stdin, process.stdout));
 * ```
 */
export function startLanguageServer(connection: Connection, options: LanguageServerOptions = {}): void {
  const debounceMs = options.debounceMs ?? 200;
  const documents = new TextDocuments(TextDocument);
  const cache = new Map<string, { version: number; analysis: Analysis }>();
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  // Imports of open files read their unsaved text.
  const openByFile = (file: string): string | undefined => documents.all().find((d) => fileOfUri(d.uri) === file)?.getText();
  const loader = overlayLoader(openByFile);

  const analysisOf = (uri: string): Analysis | null => {
    const doc = documents.get(uri);
    if (!doc) return null;
    const hit = cache.get(uri);
    if (hit && hit.version === doc.version) return hit.analysis;
    const analysis = analyze(doc.getText(), fileOfUri(uri), loader);
    cache.set(uri, { version: doc.version, analysis });
    return analysis;
  };
  const publish = (uri: string): void => {
    timers.delete(uri);
    const analysis = analysisOf(uri);
    if (analysis) void connection.sendDiagnostics({ uri, version: documents.get(uri)?.version, diagnostics: documentDiagnostics(analysis, uri) });
  };
  const schedule = (uri: string, ms: number): void => {
    clearTimeout(timers.get(uri));
    timers.set(uri, setTimeout(() => publish(uri), ms));
  };
  const at = <T>(params: { textDocument: { uri: string }; position: { line: number; character: number } }, f: (a: Analysis, offset: number) => T): T | null => {
    const analysis = analysisOf(params.textDocument.uri);
    return analysis ? f(analysis, offsetAt(analysis.text, params.position)) : null;
  };

  connection.onInitialize((): InitializeResult => ({
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      definitionProvider: true,
      completionProvider: { triggerCharacters: ['"', "["] },
      documentSymbolProvider: true,
      renameProvider: { prepareProvider: true },
    },
    serverInfo: { name: "tns", version: VERSION },
  }));
  // An opened document also reports a content change; it gets its diagnostics at once, not after the pause.
  const justOpened = new Set<string>();
  documents.onDidOpen((e) => {
    justOpened.add(e.document.uri);
    schedule(e.document.uri, 0);
  });
  documents.onDidChangeContent((e) => {
    if (justOpened.delete(e.document.uri)) return;
    schedule(e.document.uri, debounceMs);
  });
  documents.onDidClose((e) => {
    clearTimeout(timers.get(e.document.uri));
    timers.delete(e.document.uri);
    cache.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });
  connection.onHover((p) => at(p, hoverAt));
  connection.onDefinition((p) => at(p, (a, offset) => definitionAt(a, offset, p.textDocument.uri)));
  connection.onCompletion((p) => at(p, completionsAt) ?? []);
  connection.onDocumentSymbol((p) => {
    const analysis = analysisOf(p.textDocument.uri);
    return analysis ? documentSymbols(analysis) : [];
  });
  connection.onPrepareRename((p) => at(p, prepareRename));
  connection.onRenameRequest((p) => at(p, (a, offset) => renameAt(a, offset, p.newName, p.textDocument.uri)));
  documents.listen(connection);
  connection.listen();
}

// The tns extension: the grammar is declared in package.json; this starts
// `tns lsp` (the language server) for .tns files and stops it on exit.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

/** The tns command: the setting, else the workspace's own install, else the PATH. */
function serverCommand() {
  const configured = vscode.workspace.getConfiguration("tns").get("server.command");
  if (configured) return configured;
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const local = path.join(folder.uri.fsPath, "node_modules", ".bin", process.platform === "win32" ? "tns.cmd" : "tns");
    if (fs.existsSync(local)) return local;
    const own = path.join(folder.uri.fsPath, "bin", "tns.js");
    if (fs.existsSync(own)) return own;
  }
  return "tns";
}

function activate(context) {
  const command = serverCommand();
  const run = command.endsWith(".js")
    ? { command: process.execPath, args: [command, "lsp", "--stdio"], transport: TransportKind.stdio, options: { env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" } } }
    : { command, args: ["lsp", "--stdio"], transport: TransportKind.stdio };
  client = new LanguageClient("tns", "tns", { run, debug: run }, { documentSelector: [{ scheme: "file", language: "tns" }, { scheme: "untitled", language: "tns" }] });
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

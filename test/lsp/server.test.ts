// `tns lsp` driven over stdio as an editor drives it: initialize, open a
// broken file, diagnostics with the compiler's code and range; hover, go
// to definition (into stdlib/nn.tns), completion, symbols, rename.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { LspClient } from "./client.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const uri = (name: string): string => pathToFileURL(`${ROOT}test/lsp/${name}`).href;

const BROKEN = "size n = 4\ninput X[n]\noutput Y[i] = Q[i] * 2\n";
const GOOD = `import "nn"
size n = 8, d = 4
input X[n, d]
S[i, j] = X[i, k] * X[j, k]
output P = softmax(S)
output R[i] = sum(j) S[i, j] + S[i, i]
`;

let client: LspClient;

function open(name: string, text: string): string {
  const u = uri(name);
  client.notify("textDocument/didOpen", { textDocument: { uri: u, languageId: "tns", version: 1, text } });
  return u;
}

const at = (u: string, line: number, character: number) => ({ textDocument: { uri: u }, position: { line, character } });

describe("tns lsp over stdio", () => {
  beforeAll(async () => {
    client = new LspClient();
    const init = await client.request("initialize", { processId: process.pid, rootUri: pathToFileURL(ROOT).href, capabilities: {} });
    expect(init.capabilities.hoverProvider).toBe(true);
    expect(init.capabilities.definitionProvider).toBe(true);
    expect(init.serverInfo.name).toBe("tns");
    client.notify("initialized", {});
  });

  afterAll(async () => {
    if (client) expect(await client.close()).toBe(0);
  });

  it("publishes the compiler's diagnostic with its code, range and hint", async () => {
    const u = open("broken.tns", BROKEN);
    const { diagnostics } = await client.notification("textDocument/publishDiagnostics", (p: any) => p.uri === u);
    expect(diagnostics).toHaveLength(1);
    const [d] = diagnostics;
    expect(d.code).toBe("TNS0101");
    expect(d.severity).toBe(1);
    expect(d.source).toBe("tns");
    expect(d.message).toContain("unknown tensor 'Q'");
    // Q sits on line 2 (0-based), columns 14..15.
    expect(d.range).toEqual({ start: { line: 2, character: 14 }, end: { line: 2, character: 15 } });
  });

  it("publishes again after an edit, and nothing once it is fixed", async () => {
    const u = uri("broken.tns");
    client.notify("textDocument/didChange", {
      textDocument: { uri: u, version: 2 },
      contentChanges: [{ range: { start: { line: 2, character: 14 }, end: { line: 2, character: 15 } }, text: "X" }],
    });
    const fixed = await client.notification("textDocument/publishDiagnostics", (p: any) => p.uri === u && p.version === 2);
    expect(fixed.diagnostics).toEqual([]);
  });

  it("hovers a tensor with its shape, element type and extents", async () => {
    const u = open("good.tns", GOOD);
    const ok = await client.notification("textDocument/publishDiagnostics", (p: any) => p.uri === u);
    expect(ok.diagnostics.filter((d: any) => d.severity === 1)).toEqual([]);
    const onInput = await client.request("textDocument/hover", at(u, 2, 6));
    expect(onInput.contents.value).toContain("f32[8, 4]");
    expect(onInput.contents.value).toContain("input");
    const onDef = await client.request("textDocument/hover", at(u, 3, 0));
    expect(onDef.contents.value).toContain("**S**: `f32[8, 8]`");
    expect(onDef.contents.value).toContain("summed: k < 4");
    expect(onDef.contents.value).toMatch(/FLOPs: [\d,]+/);
    expect(onDef.contents.value).toContain("optimizer:");
    const onIndex = await client.request("textDocument/hover", at(u, 3, 15));
    expect(onIndex.contents.value).toContain("0 ≤ k < 4");
    const onSize = await client.request("textDocument/hover", at(u, 1, 5));
    expect(onSize.contents.value).toContain("size = 8");
  });

  it("goes to a function's definition in stdlib/nn.tns", async () => {
    const u = uri("good.tns");
    const loc = await client.request("textDocument/definition", at(u, 4, 13));
    expect(loc.uri).toMatch(/\/stdlib\/nn\.tns$/);
    const nn = readFileSync(fileURLToPath(loc.uri), "utf8").split("\n");
    expect(nn[loc.range.start.line]!.slice(loc.range.start.character)).toMatch(/^softmax\(/);
    const onImport = await client.request("textDocument/definition", at(u, 0, 9));
    expect(onImport.uri).toMatch(/\/stdlib\/nn\.tns$/);
    const local = await client.request("textDocument/definition", at(u, 4, 20));
    expect(local).toEqual({ uri: u, range: { start: { line: 3, character: 0 }, end: { line: 3, character: 1 } } });
  });

  it("hovers an imported function with its signature", async () => {
    const hover = await client.request("textDocument/hover", at(uri("good.tns"), 4, 13));
    expect(hover.contents.value).toContain("fn softmax(X[n, m]) -> Y[n, m]");
  });

  it("completes tensors, functions, stdlib modules and keywords", async () => {
    const u = uri("good.tns");
    const labels = (await client.request("textDocument/completion", at(u, 5, 14))).map((c: any) => c.label);
    expect(labels).toEqual(expect.arrayContaining(["X", "S", "n", "softmax", "exp", "sum", "output", "layernorm"]));
    const imports = open("imports.tns", 'import "');
    const modules = (await client.request("textDocument/completion", at(imports, 0, 8))).map((c: any) => c.label);
    expect(modules).toEqual(expect.arrayContaining(["nn", "linalg"]));
  });

  it("lists document symbols", async () => {
    const symbols = await client.request("textDocument/documentSymbol", { textDocument: { uri: uri("good.tns") } });
    expect(symbols.map((s: any) => s.name)).toEqual(['import "nn"', "n", "d", "X", "S", "P", "R"]);
    expect(symbols.find((s: any) => s.name === "P").detail).toBe("output f32[8, 8]");
  });

  it("renames a tensor everywhere and a reduction's index only inside it", async () => {
    const u = uri("good.tns");
    const tensor = await client.request("textDocument/rename", { ...at(u, 3, 0), newName: "Gram" });
    expect(tensor.changes[u]).toHaveLength(4);
    // The j of `sum(j)` on line 5 is the reduction's own; the i of R is R's.
    const j = await client.request("textDocument/rename", { ...at(u, 5, 18), newName: "jj" });
    expect(j.changes[u].map((e: any) => e.range.start.character)).toEqual([18, 26]);
    await expect(client.request("textDocument/rename", { ...at(u, 4, 13), newName: "sm" })).rejects.toThrow(/defined in "nn"/);
  });
});

describe("tns lsp on the command line", () => {
  const tns = (...args: string[]) => spawnSync(process.execPath, ["bin/tns.js", ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });

  it("has --help, and refuses arguments it does not know with exit code 2", () => {
    const help = tns("lsp", "--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Usage: tns lsp");
    expect(tns("help", "lsp").stdout).toContain("--debounce");
    expect(tns("lsp", "file.tns").status).toBe(2);
    expect(tns("lsp", "--debounce", "soon").status).toBe(2);
  });
});

/**
 * The project's TextMate grammar (editors/tns.tmLanguage.json) loaded in the
 * engine VS Code and shiki use (vscode-textmate on vscode-oniguruma), and
 * the .tns files the grammar tests tokenize.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import vsctm from "vscode-textmate";
import oniguruma from "vscode-oniguruma";

/** The checkout's root folder, with a trailing slash. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The grammar file. */
export const GRAMMAR = `${ROOT}editors/tns.tmLanguage.json`;
const require = createRequire(import.meta.url);

/** The grammar of `source.tns`, ready to tokenize lines. */
export async function loadTnsGrammar(): Promise<vsctm.IGrammar> {
  const wasm = readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope: string) => (scope === "source.tns" ? vsctm.parseRawGrammar(readFileSync(GRAMMAR, "utf8"), GRAMMAR) : null),
  });
  return (await registry.loadGrammar("source.tns"))!;
}

/** Every example and stdlib file, as paths relative to {@link ROOT}. */
export const TNS_FILES: readonly string[] = [
  ...readdirSync(`${ROOT}examples`).filter((f) => f.endsWith(".tns")).map((f) => `examples/${f}`),
  ...readdirSync(`${ROOT}stdlib`).filter((f) => f.endsWith(".tns")).map((f) => `stdlib/${f}`),
];

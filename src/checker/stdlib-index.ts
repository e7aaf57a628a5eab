/**
 * Which stdlib module defines a function, for the hint on an unknown
 * function the user forgot to import. The stdlib is found and read through
 * the same {@link SourceLoader} as imports, parsed only when such a hint is
 * needed, and remembered per loader.
 *
 *     output P = softmax(S)       (no import)
 *     ->  TNS0104 unknown function 'softmax'
 *         hint: 'softmax' is in the standard library: add import "nn" (or import softmax from "nn")
 */
import { DiagnosticBag } from "../diagnostics/diagnostic.js";
import { parseModule } from "../parser/index.js";
import type { SourceLoader } from "./loader.js";
import { suggestion } from "./scope.js";

/** Function name -> stdlib module name, per loader (a loader serves one stdlib). */
const indexes = new WeakMap<SourceLoader, ReadonlyMap<string, string>>();

/**
 * The stdlib module (as written in an import, e.g. `"nn"`) that defines a
 * function named `name`, or null. Modules are listed with the loader's
 * optional `candidates`, so a loader without it knows no stdlib.
 *
 * @example
 * ```ts
 * stdlibModuleOf("softmax", nodeLoader()); // "nn"
 * stdlibModuleOf("matmul", nodeLoader());  // "linalg"
 * stdlibModuleOf("zzyzx", nodeLoader());   // null
 * ```
 */
export function stdlibModuleOf(name: string, loader: SourceLoader): string | null {
  let index = indexes.get(loader);
  if (index === undefined) {
    index = buildIndex(loader);
    indexes.set(loader, index);
  }
  return index.get(name) ?? null;
}

/**
 * The hint for an unknown function that a stdlib module defines, or null.
 *
 * @example
 * ```ts
 * stdlibImportHint("matmul", nodeLoader());
 * // "'matmul' is in the standard library: add import \"linalg\" (or import matmul from \"linalg\")"
 * ```
 */
export function stdlibImportHint(name: string, loader: SourceLoader): string | null {
  const module = stdlibModuleOf(name, loader);
  return module === null ? null : `'${name}' is in the standard library: add import "${module}" (or import ${name} from "${module}")`;
}

function buildIndex(loader: SourceLoader): ReadonlyMap<string, string> {
  const index = new Map<string, string>();
  // Any bare path lists the stdlib folder; the importing file does not matter for those.
  const modules = (loader.candidates?.("", "nn") ?? []).sort();
  for (const module of modules) {
    const file = loader.resolve("", module);
    const text = file === null ? null : loader.read(file);
    if (file === null || text === null) continue;
    // A broken stdlib file is reported when it is imported; here it just adds what parsed.
    const parsed = parseModule(text, file, new DiagnosticBag());
    for (const item of parsed.items) {
      if (item.kind === "fn" && !index.has(item.name.name)) index.set(item.name.name, module);
    }
  }
  return index;
}

/**
 * The hint of TNS0104 (unknown function): the stdlib import that brings it
 * in, else a near name among `known`, else how to get a function. An exact
 * stdlib name wins over a typo guess, since the user wrote that name.
 *
 * @example
 * ```ts
 * unknownFunctionHint("softmx", ["softmax"]);           // "did you mean 'softmax'?"
 * unknownFunctionHint("softmax", [], nodeLoader());     // "'softmax' is in the standard library: ..."
 * unknownFunctionHint("zzyzx", []);                     // "define it with fn, or import it"
 * ```
 */
export function unknownFunctionHint(name: string, known: Iterable<string>, loader?: SourceLoader): string {
  const std = loader === undefined ? null : stdlibImportHint(name, loader);
  if (std !== null) return std;
  const near = suggestion(name, known);
  return near === null ? "define it with fn, or import it" : `did you mean '${near}'?`;
}

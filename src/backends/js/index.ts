/** The JavaScript backend: code generation and loading. */
export { emitJs } from "./emit.js";
export { loadJs } from "./load.js";
export { jsName } from "./names.js";

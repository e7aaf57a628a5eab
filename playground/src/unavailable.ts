/**
 * What the playground's bundle gets for a module that exists only under Node
 * (Node's built-ins, the `webgpu` package's native Dawn bindings): importing
 * it fails, as it would in any page, and the compiler's callers of those
 * imports already treat a failed import as "not here".
 */
throw new Error("Cannot find package 'webgpu' or a Node built-in module: not available in a browser page");
